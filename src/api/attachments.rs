//! Evidence files on a case: size-limited, type-checked, stored outside the database
//! under their SHA-256, served only to those who can see the case.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use futures_util::StreamExt;
use serde::Serialize;

use super::extract::{QueryParams, parse_id};
use super::instant;
use super::pagination::{Page, PageQuery, PageRequest};
use crate::auth::CurrentUser;
use crate::casework::{self, Upload, scope_of};
use crate::error::{ApiError, msg};
use crate::model::attachment::{Attachment, AttachmentFile};
use crate::model::case::Case;
use crate::state::AppState;

/// The multipart form of an upload: one part named `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    id: String,
    case_id: String,
    file_name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    uploaded_by: String,
    created_at: String,
}

impl From<Attachment> for AttachmentView {
    fn from(a: Attachment) -> Self {
        AttachmentView {
            id: a.id,
            case_id: a.case_id,
            file_name: a.file_name,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by,
            created_at: instant(a.created_at),
        }
    }
}

/// Keeps only the last path component and printable characters; never empty.
fn clean_file_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() { "tep-dinh-kem".into() } else { cleaned.trim().to_string() }
}

/// The name a download is served under: the uploaded name, with an extension that matches
/// the checked type (a PDF uploaded as `bao-cao.exe` downloads as `bao-cao.exe.pdf`).
fn served_name(file_name: &str, content_type: &str) -> String {
    let Some(fitting) = mime_guess::get_mime_extensions_str(content_type) else { return file_name.to_string() };
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if ext.is_some_and(|e| fitting.contains(&e.as_str())) {
        return file_name.to_string();
    }
    // The first extension listed is not always the usual one (`jpe` for JPEG).
    let preferred = match content_type {
        "image/jpeg" => "jpg",
        "text/plain" => "txt",
        _ => fitting[0],
    };
    format!("{file_name}.{preferred}")
}

/// `POST /cases/{id}/attachments`, multipart with one part named `file`.
#[utoipa::path(tag = "cases", request_body(content = inline(UploadForm), content_type = "multipart/form-data"), responses((status = 201, description = "Stored", body = AttachmentView), (status = 409, description = "Not allowed in the case's state", content_type = "application/problem+json", body = crate::error::Problem)))]
#[post("/cases/{id}/attachments")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    // Nothing is read for a case the caller may not see.
    let (who, id) = (caller.clone(), path.clone());
    state.db(move |conn| casework::visible(conn, &who, &id).map(drop)).await?;
    let received = receive(form, state.settings.cases.attachment_max_bytes, 1).await?;
    let upload = received.files.into_iter().find(|(name, _)| name == "file").map(|(_, u)| u);
    let upload = upload.ok_or_else(|| ApiError::field("file", msg::file_field()))?;
    let attachment = state.op(move |conn, ctx| casework::attach(conn, ctx, &caller, &path, upload)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}/attachments/{}", attachment.case_id, attachment.id)))
        .json(AttachmentView::from(attachment)))
}

/// A multipart form as received: its text fields (NFC) and its files, by part name.
pub struct Received {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Upload)>,
}

/// The longest text field, and the most text fields, a multipart form may carry.
const FIELD_MAX_BYTES: usize = 64 * 1024;
const FIELDS_MAX: usize = 200;

/// Reads a multipart form: parts with a file name (or named `file`) are files, at most
/// `max_files` of `max_bytes` each (later ones are read past and dropped); the rest are
/// text fields.
pub async fn receive(mut form: Multipart, max_bytes: usize, max_files: usize) -> Result<Received, ApiError> {
    let mut received = Received { fields: Vec::new(), files: Vec::new() };
    while let Some(part) = form.next().await {
        let mut part = part.map_err(|e| multipart_error(e, max_bytes))?;
        let name = part.name().unwrap_or_default().to_string();
        let file_name = part.content_disposition().and_then(|d| d.get_filename()).map(str::to_string);
        let is_file = file_name.is_some() || name == "file";
        let wanted = if is_file { received.files.len() < max_files } else { received.fields.len() < FIELDS_MAX };
        let limit = if is_file { max_bytes } else { FIELD_MAX_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| multipart_error(e, max_bytes))?;
            if !wanted {
                continue;
            }
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { max_bytes: limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        if !wanted {
            continue;
        }
        if is_file {
            // A file input left empty arrives as a part with an empty name and no bytes.
            if file_name.as_deref() == Some("") && bytes.is_empty() {
                continue;
            }
            let content_type = part.content_type().map(|m| m.essence_str().to_string()).unwrap_or_default();
            let file_name = clean_file_name(file_name.as_deref());
            received.files.push((name, Upload { file_name, content_type, bytes }));
        } else {
            let text = String::from_utf8(bytes).map_err(|_| ApiError::BadRequest(msg::form_utf8()))?;
            received.fields.push((name, unicode_normalization::UnicodeNormalization::nfc(text.as_str()).collect()));
        }
    }
    Ok(received)
}

/// A multipart stream that could not be read; an overflow is said with the file limit.
fn multipart_error(err: actix_multipart::MultipartError, max_bytes: usize) -> ApiError {
    use actix_multipart::MultipartError as E;
    match err {
        E::ContentTypeMissing | E::ContentTypeParse | E::ContentTypeIncompatible | E::BoundaryMissing => {
            ApiError::UnsupportedMediaType(msg::send_multipart())
        }
        E::Payload(actix_web::error::PayloadError::Overflow) => ApiError::PayloadTooLarge { max_bytes },
        _ => ApiError::BadRequest(msg::form_unreadable()),
    }
}

#[utoipa::path(tag = "cases", params(PageQuery), responses((status = 200, description = "The case's attachments", body = Page<AttachmentView>)))]
#[get("/cases/{id}/attachments")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    q: QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let scope = scope_of(&caller)?;
    let id = parse_id(&path)?;
    let rows = state
        .db(move |conn| {
            Case::find_visible(conn, &id, &scope)?.ok_or(ApiError::NotFound)?;
            Ok(Attachment::of_case(conn, &id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.page_of_all(rows, |a| a.id.clone(), AttachmentView::from)))
}

#[utoipa::path(tag = "cases", responses((status = 200, description = "The file as uploaded", content_type = "application/octet-stream", body = Vec<u8>)))]
#[get("/cases/{id}/attachments/{aid}")]
pub async fn download(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope_of(&caller)?;
    let (id, aid) = (parse_id(&path.0)?, parse_id(&path.1)?);
    let a = state
        .db(move |conn| {
            Case::find_visible(conn, &id, &scope)?.ok_or(ApiError::NotFound)?;
            Attachment::find(conn, &id, &aid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    serve_file(&state, a).await
}

/// The stored file of an attachment, as a download under its checked name.
pub async fn serve_file(state: &AppState, a: Attachment) -> Result<HttpResponse, ApiError> {
    let sha256 = a.sha256.clone();
    let bytes = state
        .db(move |conn| {
            AttachmentFile::content(conn, &sha256)?
                .ok_or_else(|| ApiError::internal(format!("attachment file {sha256} is not stored")))
        })
        .await?;
    let name = served_name(&a.file_name, &a.content_type);
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20");
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, a.content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::ETAG, format!("\"{}\"", a.sha256)))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::served_name;

    #[test]
    fn a_download_is_named_for_its_checked_type() {
        assert_eq!(served_name("bien-ban.pdf", "application/pdf"), "bien-ban.pdf");
        assert_eq!(served_name("Biên bản.PDF", "application/pdf"), "Biên bản.PDF");
        assert_eq!(served_name("bao-cao.exe", "application/pdf"), "bao-cao.exe.pdf");
        assert_eq!(served_name("anh.jpeg", "image/jpeg"), "anh.jpeg");
        assert_eq!(served_name("anh.html", "image/jpeg"), "anh.html.jpg");
        assert_eq!(served_name("ghi-chu", "text/plain"), "ghi-chu.txt");
        assert_eq!(served_name("so-do.svg", "image/png"), "so-do.svg.png");
    }
}

//! Evidence files on a case: size-limited, type-checked, stored outside the database
//! under their SHA-256, served only to those who can see the case.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;

use super::instant;
use crate::auth::CurrentUser;
use crate::casework::{self, scope_of};
use crate::error::{Error, msg};
use crate::model::attachment::Attachment;
use crate::model::case::Case;
use crate::paging::{Page, PageQuery, PageRequest};
use crate::state::AppState;
use crate::web::extract::{QueryParams, parse_id};

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

/// `POST /cases/{id}/attachments`, multipart with one part named `file`.
#[utoipa::path(tag = "cases", request_body(content = inline(UploadForm), content_type = "multipart/form-data"), responses((status = 201, description = "Stored", body = AttachmentView), (status = 409, description = "Not allowed in the case's state", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/cases/{id}/attachments")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, Error> {
    // Nothing is read for a case the caller may not see.
    let (who, id) = (caller.clone(), path.clone());
    state.db(move |conn| casework::visible(conn, &who, &id).map(drop)).await?;
    let received = crate::web::files::receive(form, state.settings.cases.attachment_max_bytes, 1).await?;
    let upload = received.files.into_iter().find(|(name, _)| name == "file").map(|(_, u)| u);
    let upload = upload.ok_or_else(|| Error::field("file", msg::file_field()))?;
    let attachment = state.op(move |conn, ctx| casework::attach(conn, ctx, &caller, &path, upload)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}/attachments/{}", attachment.case_id, attachment.id)))
        .json(AttachmentView::from(attachment)))
}

#[utoipa::path(tag = "cases", params(PageQuery), responses((status = 200, description = "The case's attachments", body = Page<AttachmentView>)))]
#[get("/cases/{id}/attachments")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    q: QueryParams<PageQuery>,
) -> Result<HttpResponse, Error> {
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let scope = scope_of(&caller)?;
    let id = parse_id(&path)?;
    let rows = state
        .db(move |conn| {
            Case::find_visible(conn, &id, &scope)?.ok_or(Error::NotFound)?;
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
) -> Result<HttpResponse, Error> {
    let scope = scope_of(&caller)?;
    let (id, aid) = (parse_id(&path.0)?, parse_id(&path.1)?);
    let a = state
        .db(move |conn| {
            Case::find_visible(conn, &id, &scope)?.ok_or(Error::NotFound)?;
            Attachment::find(conn, &id, &aid)?.ok_or(Error::NotFound)
        })
        .await?;
    crate::web::files::serve_file(&state, a).await
}

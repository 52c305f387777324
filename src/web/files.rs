//! Files in and out over HTTP, the same for both faces: multipart forms received with
//! their limits, and stored evidence served under a checked name.

use actix_multipart::Multipart;
use actix_web::HttpResponse;
use actix_web::http::header;
use futures_util::StreamExt;

use crate::casework::Upload;
use crate::error::{Error, msg};
use crate::model::attachment::{Attachment, AttachmentFile};
use crate::state::AppState;

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
pub async fn receive(mut form: Multipart, max_bytes: usize, max_files: usize) -> Result<Received, Error> {
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
                return Err(Error::PayloadTooLarge { max_bytes: limit });
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
            let text = String::from_utf8(bytes).map_err(|_| Error::BadRequest(msg::form_utf8()))?;
            received.fields.push((name, unicode_normalization::UnicodeNormalization::nfc(text.as_str()).collect()));
        }
    }
    Ok(received)
}

/// A multipart stream that could not be read; an overflow is said with the file limit.
fn multipart_error(err: actix_multipart::MultipartError, max_bytes: usize) -> Error {
    use actix_multipart::MultipartError as E;
    match err {
        E::ContentTypeMissing | E::ContentTypeParse | E::ContentTypeIncompatible | E::BoundaryMissing => {
            Error::UnsupportedMediaType(msg::send_multipart())
        }
        E::Payload(actix_web::error::PayloadError::Overflow) => Error::PayloadTooLarge { max_bytes },
        _ => Error::BadRequest(msg::form_unreadable()),
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

/// The stored file of an attachment, as a download under its checked name.
pub async fn serve_file(state: &AppState, a: Attachment) -> Result<HttpResponse, Error> {
    let sha256 = a.sha256.clone();
    let bytes = state
        .db(move |conn| {
            AttachmentFile::content(conn, &sha256)?
                .ok_or_else(|| Error::internal(format!("attachment file {sha256} is not stored")))
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

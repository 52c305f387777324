//! The core's [`Error`] over HTTP: its status, and the RFC 9457 problem+json both faces send.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::Error;
use crate::i18n::Lang;

/// The longest path and query a request may have; every filter fits well within it.
pub const MAX_URL_BYTES: usize = 8192;

impl Error {
    /// The problem+json response in `lang`, with the headers its status calls for.
    pub fn render(&self, lang: Lang) -> HttpResponse {
        let (title, detail) = self.title_and_detail(lang);
        let errors = match self {
            Error::Validation(errors) => {
                errors.iter().map(|e| FieldProblem { field: e.field.clone(), message: e.message.text(lang) }).collect()
            }
            _ => Vec::new(),
        };
        let mut response = problem_response(self.status_code(), self.code(), lang, title, detail, errors);
        if let Error::Throttled { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after_secs));
        }
        if let Error::Unavailable(fault) = self {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(fault.retry_after_secs()));
        }
        if let Error::Unauthorized = self {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The problem+json document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One bad field in a problem, its message in the reader's language.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FieldError)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// Renders a problem+json response in `lang` (also used for errors actix raises itself).
pub fn problem_response(
    status: StatusCode,
    code: &str,
    lang: Lang,
    title: String,
    detail: String,
    errors: Vec<FieldProblem>,
) -> HttpResponse {
    let body =
        Problem { type_: format!("urn:casetrack:problem:{code}"), title, status: status.as_u16(), detail, errors };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .insert_header((header::VARY, "Accept-Language"))
        .json(body)
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// In Vietnamese; `web::middleware::speak_the_readers_language` says it again in the
    /// language the request asks for.
    fn error_response(&self) -> HttpResponse {
        if let Error::Internal(detail) = self {
            // Runs inside the request's span, so the log line carries its request id.
            tracing::error!(error = %detail, "request failed");
        }
        self.render(Lang::Vi)
    }
}

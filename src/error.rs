//! The one error type of the HTTP API, rendered as RFC 9457 problem+json.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use crate::db::fault::Fault;
use crate::db::fault::fault_of;
pub use crate::domain::validation::{FieldError, Invalid, Message, Validator, msg};
use crate::i18n::{Lang, catalogs};

/// The longest path and query a request may have; every filter fits well within it.
pub const MAX_URL_BYTES: usize = 8192;

/// Everything a request can fail with; each variant has one status and a stable `type`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unreadable request: {0}")]
    BadRequest(Message),
    #[error("not signed in")]
    Unauthorized,
    #[error("role not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// 409 with its own problem code (`username-taken`, `transition-not-allowed`, …).
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: Message },
    #[error("stale If-Match")]
    PreconditionFailed,
    /// 413: the body or a file is larger than `max_bytes`, which the message states.
    #[error("body too large (over {max_bytes} bytes)")]
    PayloadTooLarge { max_bytes: usize },
    #[error("URL too long")]
    UriTooLong,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(Message),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("throttled for {retry_after_secs}s")]
    Throttled { retry_after_secs: i64 },
    /// 503: the database is gone or its storage is full ([`Fault`]).
    #[error("service unavailable: {}", .0.as_str())]
    Unavailable(Fault),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 with a single bad field.
    pub fn field(field: &str, message: Message) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// A 409 whose problem `type` is the message's key, so clients can tell clashes apart.
    pub fn conflict(detail: Message) -> Self {
        ApiError::Conflict { code: detail.key, detail }
    }

    /// Any unexpected failure; the detail goes to the log, never to the client.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        ApiError::Internal(err.to_string())
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not-found",
            ApiError::Conflict { code, .. } => code,
            ApiError::PreconditionFailed => "stale-version",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UriTooLong => "uri-too-long",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Validation(_) => "validation-failed",
            ApiError::Throttled { .. } => "too-many-attempts",
            ApiError::Unavailable(Fault::Database) => "unavailable",
            ApiError::Unavailable(Fault::Storage) => "storage-full",
            ApiError::Internal(_) => "internal-error",
        }
    }

    /// The problem's title and detail in `lang`, from the catalogs (`problem-<code>`,
    /// `problem-<code>-detail`; a clash's detail is its own message).
    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        let c = catalogs();
        let general = match self {
            ApiError::Conflict { .. } => "conflict",
            other => other.code(),
        };
        let title = c.text(lang, &format!("problem-{general}"), &[]);
        let detail_key = format!("problem-{general}-detail");
        let detail = match self {
            ApiError::BadRequest(m) | ApiError::UnsupportedMediaType(m) | ApiError::Conflict { detail: m, .. } => {
                m.text(lang)
            }
            ApiError::UriTooLong => c.text(lang, &detail_key, &[("max", MAX_URL_BYTES.to_string())]),
            ApiError::PayloadTooLarge { max_bytes } => {
                c.text(lang, &detail_key, &[("size", crate::i18n::size(lang, *max_bytes))])
            }
            ApiError::Validation(errors) => {
                let fields = errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", ");
                c.text(lang, &detail_key, &[("count", errors.len().to_string()), ("fields", fields)])
            }
            ApiError::Throttled { retry_after_secs } => {
                c.text(lang, &detail_key, &[("seconds", retry_after_secs.to_string())])
            }
            _ => c.text(lang, &detail_key, &[]),
        };
        (title, detail)
    }

    /// The problem+json response in `lang`, with the headers its status calls for.
    pub fn render(&self, lang: Lang) -> HttpResponse {
        let (title, detail) = self.title_and_detail(lang);
        let errors = match self {
            ApiError::Validation(errors) => {
                errors.iter().map(|e| FieldProblem { field: e.field.clone(), message: e.message.text(lang) }).collect()
            }
            _ => Vec::new(),
        };
        let mut response = problem_response(self.status_code(), self.code(), lang, title, detail, errors);
        if let ApiError::Throttled { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after_secs));
        }
        if let ApiError::Unavailable(fault) = self {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(fault.retry_after_secs()));
        }
        if let ApiError::Unauthorized = self {
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

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// In Vietnamese; `api::middleware::speak_the_readers_language` says it again in the
    /// language the request asks for.
    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            // Runs inside the request's span, so the log line carries its request id.
            tracing::error!(error = %detail, "request failed");
        }
        self.render(Lang::Vi)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => ApiError::NotFound,
            // The checks before a write run under a lock (`db::lock`), so this is a safety
            // net: a clash the checks did not foresee is still a 409, never a 500.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::warn!(error = %info.message(), "uniqueness clash caught by the database");
                ApiError::conflict(msg::already_exists())
            }
            other => match fault_of(&other) {
                Some(fault) => ApiError::fault(fault, &other),
                None => ApiError::internal(format!("database: {other}")),
            },
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        ApiError::fault(Fault::Database, &err)
    }
}

impl ApiError {
    /// A 503 for `fault`, logged and counted.
    pub fn fault(fault: Fault, err: &dyn std::fmt::Display) -> Self {
        tracing::error!(fault = fault.as_str(), error = %err, "the database cannot serve this request");
        crate::metrics::METRICS.fault(fault);
        ApiError::Unavailable(fault)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::internal(format!("blocking task: {err}"))
    }
}

impl From<Invalid> for ApiError {
    fn from(Invalid(errors): Invalid) -> Self {
        ApiError::Validation(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of problem has its title and detail in every language, arguments filled.
    #[test]
    fn every_problem_is_worded_in_every_language() {
        let all = [
            ApiError::BadRequest(msg::body_json(3, 14)),
            ApiError::Unauthorized,
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::conflict(msg::transition_not_allowed("close", "open")),
            ApiError::conflict(msg::not_retryable("sent")),
            ApiError::PreconditionFailed,
            ApiError::PayloadTooLarge { max_bytes: 10 * 1024 * 1024 },
            ApiError::UriTooLong,
            ApiError::UnsupportedMediaType(msg::send_json()),
            ApiError::Validation(vec![FieldError::new("name", msg::too_long(200))]),
            ApiError::Throttled { retry_after_secs: 30 },
            ApiError::Unavailable(Fault::Database),
            ApiError::Unavailable(Fault::Storage),
            ApiError::internal("boom"),
        ];
        for lang in Lang::ALL {
            for e in &all {
                let (title, detail) = e.title_and_detail(lang);
                for text in [&title, &detail] {
                    assert!(!text.starts_with("problem-") && !text.starts_with("err-"), "{lang:?} {e:?}: {text}");
                    assert!(!text.contains('{'), "{lang:?} {e:?}: an argument left unfilled: {text}");
                }
            }
        }
        let (_, detail) = ApiError::conflict(msg::transition_not_allowed("close", "open")).title_and_detail(Lang::Vi);
        assert_eq!(detail, "Không thể “Kết luận” vụ việc đang ở trạng thái “Chờ tiếp nhận”.");
        for method in ["method-not-allowed", "no-address", "status"] {
            for lang in Lang::ALL {
                let key = format!("problem-{method}-detail");
                assert!(catalogs().has(lang, &key), "{key} in {lang:?}");
            }
        }
    }
}

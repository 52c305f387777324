//! The one error type of the HTTP API, rendered as RFC 9457 problem+json.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use crate::domain::validation::{FieldError, Invalid, Message, Validator, msg};

/// The longest path and query a request may have; every filter fits well within it.
pub const MAX_URL_BYTES: usize = 8192;

/// Everything a request can fail with; each variant has one status and a stable `type`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unreadable request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthorized,
    #[error("role not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// 409 with its own problem code (`username-taken`, `transition-not-allowed`, …).
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("stale If-Match")]
    PreconditionFailed,
    #[error("body too large")]
    PayloadTooLarge,
    #[error("URL too long")]
    UriTooLong,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("throttled for {retry_after_secs}s")]
    Throttled { retry_after_secs: i64 },
    #[error("database unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 with a single bad field.
    pub fn field(field: &str, message: impl Into<Message>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// A 409 whose problem `type` ends in `code`, so clients can tell clashes apart.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { code, detail: detail.into() }
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
            ApiError::PayloadTooLarge => "payload-too-large",
            ApiError::UriTooLong => "uri-too-long",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Validation(_) => "validation-failed",
            ApiError::Throttled { .. } => "too-many-attempts",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal-error",
        }
    }

    fn title_and_detail(&self) -> (&'static str, String) {
        match self {
            ApiError::BadRequest(d) => ("The request could not be read", d.clone()),
            ApiError::Unauthorized => (
                "Sign-in required",
                "You are not signed in, or your sign-in has expired or was ended. Please sign in again.".into(),
            ),
            ApiError::Forbidden => ("Not allowed", "Your role does not allow this action.".into()),
            ApiError::NotFound => ("Not found", "There is nothing here, or you do not have access to it.".into()),
            ApiError::Conflict { detail, .. } => ("Conflict", detail.clone()),
            ApiError::PreconditionFailed => (
                "Changed by someone else",
                "This record was changed since you loaded it. Reload it and apply your change again.".into(),
            ),
            ApiError::PayloadTooLarge => ("Too large", "The request body is larger than allowed.".into()),
            ApiError::UriTooLong => (
                "Address too long",
                format!(
                    "The address (path and query) may be at most {MAX_URL_BYTES} bytes; send fewer or shorter filters."
                ),
            ),
            ApiError::UnsupportedMediaType(d) => ("Unsupported content type", d.clone()),
            ApiError::Validation(errors) => (
                "Some fields are not valid",
                format!(
                    "{} field(s) need correcting: {}.",
                    errors.len(),
                    errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ),
            ApiError::Throttled { retry_after_secs } => {
                ("Too many attempts", format!("Too many failed attempts. Try again in {retry_after_secs} seconds."))
            }
            ApiError::Unavailable => {
                ("Service unavailable", "The service cannot reach its database right now. Try again shortly.".into())
            }
            ApiError::Internal(_) => (
                "Internal error",
                "Something went wrong on our side. The error was logged; please try again or \
                 contact the administrator."
                    .into(),
            ),
        }
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
    pub errors: Vec<FieldError>,
}

/// Renders a problem+json response (also used for errors actix raises itself).
pub fn problem_response(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> HttpResponse {
    let body = Problem {
        type_: format!("urn:casetrack:problem:{code}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors,
    };
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, "application/problem+json")).json(body)
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
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            // Runs inside the request's span, so the log line carries its request id.
            tracing::error!(error = %detail, "request failed");
        }
        let (title, detail) = self.title_and_detail();
        let errors = match self {
            ApiError::Validation(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let mut response = problem_response(self.status_code(), self.code(), title, detail, errors);
        if let ApiError::Throttled { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after_secs));
        }
        if let ApiError::Unauthorized = self {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
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
                ApiError::conflict("already-exists", "A record with the same identifying value already exists.")
            }
            other => ApiError::internal(format!("database: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %err, "no database connection available");
        ApiError::Unavailable
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

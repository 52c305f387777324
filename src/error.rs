//! Why an operation of the service did not happen: the one error of the core, worded in
//! every language. `web::problem` maps it to an HTTP status and RFC 9457 problem+json.

pub use crate::db::fault::Fault;
use crate::db::fault::fault_of;
pub use crate::domain::validation::{FieldError, Invalid, Message, Validator, msg};
use crate::i18n::{Lang, catalogs};

/// Everything an operation can fail with; each variant has one problem code (its `type`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    /// 414: the address is longer than `max_bytes`.
    #[error("URL too long (over {max_bytes} bytes)")]
    UriTooLong { max_bytes: usize },
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

impl Error {
    /// A 422 with a single bad field.
    pub fn field(field: &str, message: Message) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    /// A 409 whose problem `type` is the message's key, so clients can tell clashes apart.
    pub fn conflict(detail: Message) -> Self {
        Error::Conflict { code: detail.key, detail }
    }

    /// Any unexpected failure; the detail goes to the log, never to the client.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Error::Internal(err.to_string())
    }

    /// The stable problem code: the last part of the problem+json `type`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad-request",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden => "forbidden",
            Error::NotFound => "not-found",
            Error::Conflict { code, .. } => code,
            Error::PreconditionFailed => "stale-version",
            Error::PayloadTooLarge { .. } => "payload-too-large",
            Error::UriTooLong { .. } => "uri-too-long",
            Error::UnsupportedMediaType(_) => "unsupported-media-type",
            Error::Validation(_) => "validation-failed",
            Error::Throttled { .. } => "too-many-attempts",
            Error::Unavailable(Fault::Database) => "unavailable",
            Error::Unavailable(Fault::Storage) => "storage-full",
            Error::Internal(_) => "internal-error",
        }
    }

    /// The problem's title and detail in `lang`, from the catalogs (`problem-<code>`,
    /// `problem-<code>-detail`; a clash's detail is its own message).
    pub fn title_and_detail(&self, lang: Lang) -> (String, String) {
        let c = catalogs();
        let general = match self {
            Error::Conflict { .. } => "conflict",
            other => other.code(),
        };
        let title = c.text(lang, &format!("problem-{general}"), &[]);
        let detail_key = format!("problem-{general}-detail");
        let detail = match self {
            Error::BadRequest(m) | Error::UnsupportedMediaType(m) | Error::Conflict { detail: m, .. } => m.text(lang),
            Error::UriTooLong { max_bytes } => c.text(lang, &detail_key, &[("max", max_bytes.to_string())]),
            Error::PayloadTooLarge { max_bytes } => {
                c.text(lang, &detail_key, &[("size", crate::i18n::size(lang, *max_bytes))])
            }
            Error::Validation(errors) => {
                let fields = errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", ");
                c.text(lang, &detail_key, &[("count", errors.len().to_string()), ("fields", fields)])
            }
            Error::Throttled { retry_after_secs } => {
                c.text(lang, &detail_key, &[("seconds", retry_after_secs.to_string())])
            }
            _ => c.text(lang, &detail_key, &[]),
        };
        (title, detail)
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as Db};
        match err {
            Db::NotFound => Error::NotFound,
            // The checks before a write run under a lock (`db::lock`), so this is a safety
            // net: a clash the checks did not foresee is still a 409, never a 500.
            Db::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::warn!(error = %info.message(), "uniqueness clash caught by the database");
                Error::conflict(msg::already_exists())
            }
            other => match fault_of(&other) {
                Some(fault) => Error::fault(fault, &other),
                None => Error::internal(format!("database: {other}")),
            },
        }
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Error::fault(Fault::Database, &err)
    }
}

impl Error {
    /// A 503 for `fault`, logged and counted.
    pub fn fault(fault: Fault, err: &dyn std::fmt::Display) -> Self {
        tracing::error!(fault = fault.as_str(), error = %err, "the database cannot serve this request");
        crate::metrics::METRICS.fault(fault);
        Error::Unavailable(fault)
    }
}

impl From<tokio::task::JoinError> for Error {
    /// Blocking work that panicked or was cancelled ([`crate::state::AppState::db`]).
    fn from(err: tokio::task::JoinError) -> Self {
        Error::internal(format!("blocking task: {err}"))
    }
}

impl From<Invalid> for Error {
    fn from(Invalid(errors): Invalid) -> Self {
        Error::Validation(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of problem has its title and detail in every language, arguments filled.
    #[test]
    fn every_problem_is_worded_in_every_language() {
        let all = [
            Error::BadRequest(msg::body_json(3, 14)),
            Error::Unauthorized,
            Error::Forbidden,
            Error::NotFound,
            Error::conflict(msg::transition_not_allowed("close", "open")),
            Error::conflict(msg::not_retryable("sent")),
            Error::PreconditionFailed,
            Error::PayloadTooLarge { max_bytes: 10 * 1024 * 1024 },
            Error::UriTooLong { max_bytes: 8192 },
            Error::UnsupportedMediaType(msg::send_json()),
            Error::Validation(vec![FieldError::new("name", msg::too_long(200))]),
            Error::Throttled { retry_after_secs: 30 },
            Error::Unavailable(Fault::Database),
            Error::Unavailable(Fault::Storage),
            Error::internal("boom"),
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
        let (_, detail) = Error::conflict(msg::transition_not_allowed("close", "open")).title_and_detail(Lang::Vi);
        assert_eq!(detail, "Không thể “Kết luận” vụ việc đang ở trạng thái “Chờ tiếp nhận”.");
        for method in ["method-not-allowed", "no-address", "status"] {
            for lang in Lang::ALL {
                let key = format!("problem-{method}-detail");
                assert!(catalogs().has(lang, &key), "{key} in {lang:?}");
            }
        }
    }
}

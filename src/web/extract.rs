//! Request extractors that answer with problem+json naming the field at fault.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde::de::DeserializeOwned;

use crate::error::{Error, FieldError, Message, msg};

/// True when a JSON text holds the escape `\u0000` (raw NUL bytes are not valid JSON).
fn escapes_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// A JSON body: 415 for another content type, 413 past `server.body_limit_bytes`,
/// 400 when it is not JSON, 422 naming the field whose value has the wrong form.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let essence = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Box::pin(ready(Err(Error::UnsupportedMediaType(msg::send_json()))));
        }
        let bytes = web::Bytes::from_request(req, payload);
        let max_bytes = req
            .app_data::<web::Data<crate::state::AppState>>()
            .map(|s| s.settings.server.body_limit_bytes)
            .unwrap_or(262_144); // actix's own limit, where no state is mounted
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| match e.as_error::<actix_web::error::PayloadError>() {
                Some(actix_web::error::PayloadError::Overflow) => Error::PayloadTooLarge { max_bytes },
                _ if e.as_response_error().status_code() == 413 => Error::PayloadTooLarge { max_bytes },
                _ => Error::BadRequest(msg::body_unreadable()),
            })?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// Parses a JSON body with the same error rules as [`JsonBody`]; every field the
/// target does not know is listed in one 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if escapes_nul(bytes) {
        return Err(Error::BadRequest(msg::nul()));
    }
    // serde would also fill a struct from an array, by position; bodies are objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        return Err(Error::BadRequest(msg::body_object()));
    }
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut on_unknown = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let ignoring = serde_ignored::Deserializer::new(&mut de, &mut on_unknown);
    let result = serde_path_to_error::deserialize::<_, T>(ignoring);
    let value = match result {
        Ok(v) => v,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            return match inner.classify() {
                serde_json::error::Category::Data if path != "." => {
                    Err(Error::field(&path, describe_serde(&inner.to_string())))
                }
                serde_json::error::Category::Data => Err(Error::BadRequest(msg::body_object())),
                _ => Err(Error::BadRequest(msg::body_json(inner.line(), inner.column()))),
            };
        }
    };
    if unknown.is_empty() {
        Ok(value)
    } else {
        Err(Error::Validation(
            unknown.into_iter().map(|field| FieldError::new(&field, msg::not_recognised())).collect(),
        ))
    }
}

/// Turns serde's wording into a message for the person who filled the form: the kinds
/// of value serde names become words of the catalogs, anything else is quoted.
fn describe_serde(serde_says: &str) -> Message {
    use crate::domain::validation::Arg;
    let said = serde_says.split(" at line ").next().unwrap_or(serde_says);
    if let Some(rest) = said.strip_prefix("invalid type: ") {
        let expected = rest.split(", expected ").nth(1).unwrap_or("");
        let word = match expected {
            "a string" | "a borrowed string" | "a character" => Some("value-string"),
            "a boolean" => Some("value-boolean"),
            "a sequence" => Some("value-list"),
            "a map" => Some("value-object"),
            e if e.starts_with("struct ") => Some("value-object"),
            e if e.starts_with('i') || e.starts_with('u') || e.contains("integer") => Some("value-integer"),
            e if e.starts_with('f') || e.contains("number") => Some("value-number"),
            _ => None,
        };
        let expected = match word {
            Some(w) => Arg::Word(w.into()),
            None => Arg::Text(expected.to_string()),
        };
        return msg::wrong_kind(expected);
    }
    if said.starts_with("unknown field") {
        return msg::not_recognised();
    }
    msg::not_valid(said)
}

/// Query-string parameters: 422 naming the parameter whose value has the wrong form.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = form_urlencoded::parse(req.query_string().as_bytes());
        // PostgreSQL cannot store or compare text holding NUL; no user types one.
        if let Some((name, _)) = pairs.clone().find(|(_, v)| v.contains('\0')) {
            return ready(Err(Error::field(&name, msg::nul())));
        }
        let de = serde_urlencoded::Deserializer::new(pairs);
        ready(serde_path_to_error::deserialize::<_, T>(de).map(QueryParams).map_err(|err| {
            let path = err.path().to_string();
            let said = err.into_inner().to_string();
            let field = if path == "." {
                said.strip_prefix("unknown field `").and_then(|r| r.split('`').next()).unwrap_or("query").to_string()
            } else {
                path
            };
            Error::field(&field, describe_serde(&said))
        }))
    }
}

/// The version named by `If-Match`, when one was sent (`*` matches any).
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(raw) = req.headers().get(header::IF_MATCH) else {
            return ready(Ok(IfMatch(None)));
        };
        let text = raw.to_str().unwrap_or("").trim();
        if text == "*" {
            return ready(Ok(IfMatch(None)));
        }
        // An unreadable tag cannot match the current version.
        let version = text.trim_start_matches("W/").trim_matches('"').parse::<i64>().unwrap_or(-1);
        ready(Ok(IfMatch(Some(version))))
    }
}

impl IfMatch {
    /// 412 unless the request's If-Match (if any) names `current`.
    pub fn check(&self, current: i64) -> Result<(), Error> {
        match self.0 {
            Some(v) if v != current => Err(Error::PreconditionFailed),
            _ => Ok(()),
        }
    }
}

/// The strong ETag of a resource version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

pub use crate::web::client_addr;

pub use crate::domain::validation::double_option;
pub use crate::model::parse_id;

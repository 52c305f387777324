//! What every console response passes through: failures become pages in the reader's
//! language (a sign-in that is needed becomes a redirect that comes back), and every
//! page carries the security headers and a renewed session cookie when one was issued.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use tracing_actix_web::RequestId;

use super::render::Console;
use super::session::{self, Renewed};
use crate::error::Error;

/// A console request that failed; [`console_layer`] turns it into a page.
#[derive(Debug)]
pub struct Fail(pub Error);

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<Error>> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.into())
    }
}

impl ResponseError for Fail {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    /// A placeholder the layer replaces; HTML, so the API's problem rewriting leaves it be.
    fn error_response(&self) -> HttpResponse {
        if let Error::Internal(detail) = &self.0 {
            tracing::error!(error = %detail, "console request failed");
        }
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").finish()
    }
}

/// The default service's answer outside `/api`: the console's 404 page.
pub async fn not_found() -> Result<HttpResponse, Fail> {
    Err(Fail(Error::NotFound))
}

/// Is this address the console's (not the API's, the docs' or a probe's)?
fn is_console(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path == "/api"
        || path.starts_with("/docs")
        || path == "/healthz"
        || path == "/readyz")
}

/// The console's middleware; outside the API's, so it sees the console's failures first.
pub async fn console_layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.path().starts_with("/docs") {
        let mut res = next.call(req).await?.map_into_boxed_body();
        docs_headers(res.headers_mut());
        return Ok(res);
    }
    if !is_console(req.path()) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let res = next.call(req).await?;
    let failure = res.response().error().and_then(|e| e.as_error::<Fail>()).map(|f| page_for(res.request(), &f.0));
    let mut res = match failure {
        Some(page) => {
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, page)
        }
        None => res.map_into_boxed_body(),
    };
    let renewed = res.request().extensions().get::<Renewed>().cloned();
    if let Some(Renewed(cookie)) = renewed
        && let Ok(v) = HeaderValue::from_str(&cookie.to_string())
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    secure_headers(res.headers_mut());
    Ok(res)
}

/// The console's content policy: nothing but this server's own files.
const CONSOLE_CSP: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";
/// The API page's: the console's, plus the inline styles Swagger UI sets on its elements
/// (its scripts are still this server's files only).
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

fn set(h: &mut actix_web::http::header::HeaderMap, name: &'static str, value: &'static str) {
    h.insert(header::HeaderName::from_static(name), HeaderValue::from_static(value));
}

/// The headers every console response carries: nothing but this server's own files,
/// never framed, never sniffed, no referrer leaving the site.
fn secure_headers(h: &mut actix_web::http::header::HeaderMap) {
    set(h, "content-security-policy", CONSOLE_CSP);
    frame_and_sniff_headers(h);
}

/// What `/docs` and its files carry: the same protection, with [`DOCS_CSP`].
fn docs_headers(h: &mut actix_web::http::header::HeaderMap) {
    set(h, "content-security-policy", DOCS_CSP);
    frame_and_sniff_headers(h);
}

/// Never framed, never sniffed, no referrer leaving the site, not cached unless the
/// response says otherwise.
fn frame_and_sniff_headers(h: &mut actix_web::http::header::HeaderMap) {
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
}

/// To the sign-in form, coming back here after it (a GET) or to the start page; a
/// session that no longer counts is forgotten by the browser too.
fn to_sign_in(req: &HttpRequest) -> HttpResponse {
    let back = if req.method() == actix_web::http::Method::GET {
        req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into())
    } else {
        "/".into()
    };
    let target = format!("/sign-in?next={}", form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>());
    let mut res = HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
    if req.cookie(session::SESSION_COOKIE).is_some()
        && let Ok(v) = HeaderValue::from_str(&session::clear_cookie(req).to_string())
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The status and the page's wording key for a failure.
fn status_and_key(err: &Error) -> (StatusCode, &'static str) {
    match err {
        Error::NotFound => (StatusCode::NOT_FOUND, "not-found"),
        Error::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
        Error::PreconditionFailed | Error::Conflict { code: "concurrent-change", .. } => {
            (StatusCode::CONFLICT, "stale")
        }
        Error::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
        Error::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
        Error::BadRequest(_) | Error::Validation(_) | Error::UnsupportedMediaType(_) => {
            (StatusCode::BAD_REQUEST, "bad-request")
        }
        Error::UriTooLong { .. } => (StatusCode::URI_TOO_LONG, "bad-request"),
        Error::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
        Error::Unavailable(crate::error::Fault::Database) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Error::Unavailable(crate::error::Fault::Storage) => (StatusCode::SERVICE_UNAVAILABLE, "storage-full"),
        Error::Internal(_) | Error::Unauthorized => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

/// The page for a failure: sign-in (coming back here afterwards), or the error page.
fn page_for(req: &HttpRequest, err: &Error) -> HttpResponse {
    if matches!(err, Error::Unauthorized) {
        return to_sign_in(req);
    }
    let Some(console) = req.app_data::<web::Data<Console>>() else {
        return HttpResponse::InternalServerError().finish();
    };
    let lang = session::lang_of(req);
    let request_id = req.extensions().get::<RequestId>().map(|r| r.to_string()).unwrap_or_default();
    let (status, key) = status_and_key(err);
    let mut page = console.error_page(lang, status, key, &request_id, req.path());
    if let Error::Unavailable(fault) = err {
        page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(fault.retry_after_secs()));
    }
    page
}

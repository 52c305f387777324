//! Response middleware: request ids on every response, problem+json on every error.

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use tracing_actix_web::RequestId;

use crate::error::Error;
use crate::i18n::{Lang, catalogs};
use crate::web::problem::{MAX_URL_BYTES, problem_response};

/// Refuses, with a 414 problem, an address longer than any the service hands out or takes.
pub async fn refuse_long_urls(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URL_BYTES {
        let lang = crate::web::lang::preferred(&req);
        return Ok(req.into_response(Error::UriTooLong { max_bytes: MAX_URL_BYTES }.render(lang)));
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

/// Says a failure again in the language the request's `Accept-Language` prefers: an
/// [`Error`] first renders itself in Vietnamese, not knowing who asked.
pub async fn speak_the_readers_language(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = crate::web::lang::preferred(&req);
    let res = next.call(req).await?;
    let again = match lang {
        Lang::Vi => None,
        _ => res.response().error().and_then(|e| e.as_error::<Error>()).map(|e| e.render(lang)),
    };
    Ok(match again {
        Some(response) => {
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, response)
        }
        None => res.map_into_boxed_body(),
    })
}

/// Adds `X-Request-Id` (the id the logs carry) to every response.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().map(|r| r.to_string());
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// The account a request's token named, noted by the extractors for the access log.
#[derive(Clone)]
pub struct AccessUser(pub String);

impl AccessUser {
    /// Notes the user a request acts as.
    pub fn note(req: &actix_web::HttpRequest, user_id: &str) {
        req.extensions_mut().insert(AccessUser(user_id.to_string()));
    }
}

/// One log line per request: method, route template (never the address with its ids or
/// query), the names of the query's parameters (never their values), status, time, the
/// client's address as the service believes it, request id and user id. Tokens and
/// passwords never reach it.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = crate::domain::text::loggable(req.method().as_str(), 16);
    let params = param_names(req.query_string());
    let client = crate::web::client_addr(req.request());
    // The request itself is not kept: the router needs it unshared.
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
    let res = next.call(req).await;
    let (status, route, user_id) = match &res {
        Ok(r) => (
            r.status(),
            r.request().match_pattern().unwrap_or_else(|| "(no route)".into()),
            r.request().extensions().get::<AccessUser>().map(|u| u.0.clone()).unwrap_or_default(),
        ),
        Err(e) => (e.as_response_error().status_code(), "(refused)".into(), String::new()),
    };
    let seconds = started.elapsed().as_secs_f64();
    crate::metrics::METRICS.request(&route, &method, status.as_u16(), seconds);
    tracing::info!(
        target: "casetrack::access",
        method,
        route,
        params,
        status = status.as_u16(),
        ms = (seconds * 10_000.0).round() / 10.0,
        client,
        request_id,
        user_id,
        "request"
    );
    res
}

/// The names of a query's parameters, each [`loggable`], joined by commas (at most 16).
fn param_names(query: &str) -> String {
    let names: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .take(16)
        .map(|(name, _)| crate::domain::text::loggable(&name, 32))
        .collect();
    names.join(",")
}

/// Rewrites any error response that is not already problem+json (actix's own 404, 405, …).
pub fn problem_for_bare_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        // The console's own failures (HTML) become its pages in `console::console_layer`.
        let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
        });
        // `/readyz` answers its 503 with its own small JSON document, which probes read.
        if is_problem || res.request().path() == "/readyz" {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let code = match status.as_u16() {
            404 => "not-found",
            405 => "method-not-allowed",
            s if s >= 500 => "internal-error",
            _ => "bad-request",
        };
        let lang = crate::web::lang::preferred(res.request());
        let c = catalogs();
        let title = c.text(lang, &format!("problem-{code}"), &[]);
        let detail = match code {
            "not-found" => c.text(lang, "problem-no-address-detail", &[]),
            "bad-request" => c.text(lang, "problem-status-detail", &[("status", status.as_u16().to_string())]),
            _ => c.text(lang, &format!("problem-{code}-detail"), &[]),
        };
        let (req, _) = res.into_parts();
        let problem: actix_web::HttpResponse<BoxBody> = problem_response(status, code, lang, title, detail, Vec::new());
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, problem).map_into_right_body()))
    })
}

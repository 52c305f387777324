//! The span every request's log lines carry: its request id and nothing a client wrote.
//! (tracing-actix-web's default span holds the whole target, query string included, the
//! user agent and the address a client may claim in `Forwarded`; `?q=` holds people's names.)

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// Builds the request span: `request{id=…}`.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.extensions().get::<RequestId>().map(|r| r.to_string()).unwrap_or_default();
        tracing::info_span!("request", id = %id)
    }

    /// The outcome is the access log's to tell (`api::middleware::access_log`).
    fn on_request_end<B: MessageBody>(_: Span, _: &Result<ServiceResponse<B>, Error>) {}
}

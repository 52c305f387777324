//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::db::{migrate, write_tx};
use crate::error::{Error, Fault};
use crate::state::AppState;

/// The process is alive.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "The process is alive", body = Object)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Prometheus metrics in the text format, to the bearer of `server.metrics_token`; without
/// one configured, this listener has no metrics (404): they are read on the loopback
/// listener of `server.metrics_bind`, or not at all.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "Metrics, Prometheus text format", content_type = "text/plain", body = String), (status = 401, description = "The request does not carry server.metrics_token", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 404, description = "No server.metrics_token is configured: metrics are not served on this listener", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> Result<HttpResponse, Error> {
    let Some(token) = &state.settings.server.metrics_token else {
        return Err(Error::NotFound);
    };
    let given = req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let expected = format!("Bearer {}", secrecy::ExposeSecret::expose_secret(token));
    if !given.is_some_and(|g| crate::auth::constant_eq(g, &expected)) {
        return Err(Error::Unauthorized);
    }
    render_metrics(state).await
}

/// `GET /metrics` on the loopback listener of `server.metrics_bind`: no token asked.
pub async fn metrics_on_loopback(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    render_metrics(state).await
}

async fn render_metrics(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let pool = state.pool.clone();
    let text = state.db(move |conn| Ok(crate::metrics::METRICS.render(&pool, conn)?)).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

/// Every migration is applied and a write reaches the database: a row is written and
/// committed, so a full disk or a lost database says "not ready" before a person's write
/// meets it, and "ready" again as soon as writes go through.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "Ready", body = Object), (status = 503, description = "Database unreachable, its storage full, or migrations pending", body = Object)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let ready = state
        .op(|conn, _| {
            // A check that cannot run means the database cannot be read: not ready.
            if !migrate::is_up_to_date(conn).map_err(|e| Error::fault(Fault::Database, &e))? {
                return Ok(false);
            }
            write_tx(conn, crate::db::dialect::probe_write)?;
            Ok(true)
        })
        .await;
    let not_ready = |status: &str, retry: u32| {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", retry.to_string()))
            .json(json!({"status": status}))
    };
    match ready {
        Ok(true) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Ok(false) => Ok(not_ready("migrations pending", 5)),
        Err(Error::Unavailable(f @ Fault::Database)) => Ok(not_ready("database unreachable", f.retry_after_secs())),
        Err(Error::Unavailable(f @ Fault::Storage)) => Ok(not_ready("storage full", f.retry_after_secs())),
        Err(other) => Err(other),
    }
}

//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::db::migrate;
use crate::error::ApiError;
use crate::state::AppState;

/// The process is alive.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "The process is alive", body = Object)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Prometheus metrics in the text format; a bearer token when `server.metrics_token` is set.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "Metrics, Prometheus text format", content_type = "text/plain", body = String), (status = 401, description = "server.metrics_token is set and the request does not carry it", content_type = "application/problem+json", body = crate::error::Problem)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.settings.server.metrics_token {
        let given = req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let expected = format!("Bearer {}", secrecy::ExposeSecret::expose_secret(token));
        if !given.is_some_and(|g| crate::auth::constant_eq(g, &expected)) {
            return Err(ApiError::Unauthorized);
        }
    }
    let pool = state.pool.clone();
    let text = state.db(move |conn| Ok(crate::metrics::METRICS.render(&pool, conn)?)).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

/// The database answers and every migration is applied.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "Ready", body = Object), (status = 503, description = "Database unreachable or migrations pending", body = Object)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ready = state
        .db(|conn| migrate::is_up_to_date(conn).map_err(|e| ApiError::internal(format!("migration check: {e}"))))
        .await;
    match ready {
        Ok(true) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Ok(false) => Ok(HttpResponse::ServiceUnavailable().json(json!({"status": "migrations pending"}))),
        Err(ApiError::Unavailable) => {
            Ok(HttpResponse::ServiceUnavailable().json(json!({"status": "database unreachable"})))
        }
        Err(other) => Err(other),
    }
}

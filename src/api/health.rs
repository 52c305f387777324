//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::app::AppState;
use crate::db::migrate;
use crate::error::ApiError;

/// The process is alive.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "The process is alive", body = Object)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
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

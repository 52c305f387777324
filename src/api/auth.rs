//! Sign-in, token refresh and sign-out.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::extract::{JsonBody, client_addr};
use crate::auth::CurrentUser;
use crate::auth::token;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, Validator};
use crate::model::Actor;
use crate::model::audit::AuditEntry;
use crate::model::session::{RefreshToken, Session};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    username: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    refresh_token: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
}

/// Issues an access token and a fresh refresh token for a session.
fn issue_pair(
    state: &AppState,
    conn: &mut DbConn,
    session: &Session,
    now: NaiveDateTime,
) -> Result<TokenPair, ApiError> {
    let auth = &state.settings.auth;
    let (refresh_token, digest) = token::new_refresh_token();
    let expires_at = now + Duration::seconds(auth.refresh_token_ttl_secs);
    RefreshToken { token_hash: digest, session_id: session.id.clone(), issued_at: now, expires_at, used_at: None }
        .insert(conn)?;
    Session::extend(conn, &session.id, expires_at)?;
    let access = state
        .tokens
        .issue(&session.user_id, &session.id, now.and_utc().timestamp(), auth.access_token_ttl_secs)
        .map_err(ApiError::internal)?;
    Ok(TokenPair { access_token: access, token_type: "Bearer", expires_in: auth.access_token_ttl_secs, refresh_token })
}

#[utoipa::path(tag = "auth", security(()), request_body = LoginRequest, responses((status = 200, description = "Signed in", body = TokenPair), (status = 401, description = "Wrong user name or password", content_type = "application/problem+json", body = crate::error::Problem), (status = 429, description = "Too many failed attempts; see Retry-After", content_type = "application/problem+json", body = crate::error::Problem)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let st = state.clone().into_inner();
    let pair =
        crate::signin::sign_in(&state, body.username, body.password, client_addr(&req), move |conn, session, now| {
            issue_pair(&st, conn, session, now)
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(pair))
}

#[utoipa::path(tag = "auth", security(()), request_body = RefreshRequest, responses((status = 200, description = "A new pair; the presented refresh token is spent", body = TokenPair), (status = 401, description = "Unknown, spent or expired refresh token", content_type = "application/problem+json", body = crate::error::Problem)))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let mut v = Validator::new();
    let presented = v.require("refresh_token", body.0.refresh_token.filter(|t| !t.is_empty()));
    v.finish()?;
    let digest = token::digest(&presented.unwrap_or_default());
    let st = state.clone();
    let pair = state
        .op(move |conn, ctx| {
            let now = ctx.now();
            let outcome = write_tx(conn, |conn| -> Result<Result<TokenPair, &'static str>, ApiError> {
                let Some(stored) = RefreshToken::find(conn, &digest)? else { return Ok(Err("unknown")) };
                if !RefreshToken::spend(conn, &digest, now)? {
                    // A spent token presented again: someone holds a copy. End the whole sign-in.
                    Session::revoke(conn, &stored.session_id, now)?;
                    AuditEntry::record(
                        conn,
                        &Actor::system(),
                        now,
                        "refresh_reuse_revoked",
                        "session",
                        &stored.session_id,
                        None,
                        None,
                    )?;
                    return Ok(Err("reused"));
                }
                let session = Session::find(conn, &stored.session_id)?.ok_or(ApiError::Unauthorized)?;
                if stored.expires_at <= now || Session::active_user(conn, &session.id, &session.user_id, now)?.is_none()
                {
                    return Ok(Err("expired or revoked"));
                }
                Ok(Ok(issue_pair(&st, conn, &session, now)?))
            })?;
            outcome.map_err(|why| {
                tracing::warn!(reason = why, "refresh refused");
                ApiError::Unauthorized
            })
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(pair))
}

#[utoipa::path(tag = "auth", responses((status = 204, description = "The sign-in is ended")))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, ApiError> {
    state.op(move |conn, ctx| crate::signin::sign_out(conn, ctx, &user)).await?;
    Ok(HttpResponse::NoContent().finish())
}

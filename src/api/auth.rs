//! Sign-in, token refresh and sign-out.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::extract::{JsonBody, client_addr};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::auth::token;
use crate::db::{self, DbConn, write_tx};
use crate::error::{ApiError, Validator};
use crate::model::audit::AuditEntry;
use crate::model::login_failure::{self, FailureKey};
use crate::model::session::{RefreshToken, Session};
use crate::model::user::User;
use crate::model::{Actor, new_id};

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

/// 429 when the username or the address has too many failures in the window.
fn throttled(
    state: &AppState,
    conn: &mut DbConn,
    username: &str,
    addr: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let auth = &state.settings.auth;
    let window = Duration::seconds(auth.failure_window_secs);
    for (key, max) in [
        (FailureKey::Username(username), auth.max_failures_per_username),
        (FailureKey::Address(addr), auth.max_failures_per_address),
    ] {
        let (count, oldest) = login_failure::recent(conn, key, now - window)?;
        if count >= max {
            let free_at = oldest.unwrap_or(now) + window;
            return Err(ApiError::Throttled { retry_after_secs: (free_at - now).num_seconds().max(1) });
        }
    }
    Ok(())
}

/// How a checked password ends, decided under the throttle's lock.
enum Verdict {
    SignedIn(TokenPair),
    Failed,
}

#[utoipa::path(tag = "auth", security(()), request_body = LoginRequest, responses((status = 200, description = "Signed in", body = TokenPair), (status = 401, description = "Wrong user name or password", content_type = "application/problem+json", body = crate::error::Problem), (status = 429, description = "Too many failed attempts; see Retry-After", content_type = "application/problem+json", body = crate::error::Problem)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut v = Validator::new();
    let username = v.require("username", body.username.filter(|u| !u.trim().is_empty()));
    let password = v.require("password", body.password.filter(|p| !p.is_empty()));
    v.finish()?;
    let (username, password) = (username.unwrap_or_default().trim().to_lowercase(), password.unwrap_or_default());
    let addr = client_addr(&req);
    let now = state.clock.now_naive();
    // A first look at the throttle, so a throttled burst costs no hashing; then the
    // password is checked on the hashing threads with no connection held.
    let (name, from, st) = (username.clone(), addr.clone(), state.clone());
    let user = state
        .db(move |conn| {
            throttled(&st, conn, &name, &from, now)?;
            Ok(User::find_by_username(conn, &name)?)
        })
        .await?;
    let verified = state.hasher.verify(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    // The decision, atomically per username and per address: the throttle is checked
    // again under a lock, and a failure is recorded in the same step. Parallel guesses
    // are held to what the same guesses in sequence would get, right passwords included
    // (one checked after the limit was reached is refused like any other), while
    // sign-ins that succeed never wait for one another.
    let st = state.clone();
    let (name, from) = (username.clone(), addr.clone());
    let verdict = state
        .db(move |conn| {
            write_tx(conn, |conn| {
                // Always the username first, then the address: no two sign-ins wait on each other in turn.
                db::lock(conn, &[&format!("login-user:{name}"), &format!("login-addr:{from}")])?;
                throttled(&st, conn, &name, &from, now)?;
                let user = match user {
                    Some(u) if verified && u.active => u,
                    _ => {
                        let forget = now - Duration::seconds(st.settings.auth.failure_window_secs);
                        login_failure::record(conn, &name, &from, now, forget)?;
                        return Ok(Verdict::Failed);
                    }
                };
                login_failure::clear(conn, &name)?;
                let session = Session {
                    id: new_id(),
                    user_id: user.id.clone(),
                    client_addr: Some(from.clone()),
                    created_at: now,
                    expires_at: now,
                    revoked_at: None,
                };
                session.insert(conn)?;
                let actor = Actor { user_id: Some(user.id.clone()), client_addr: Some(from.clone()) };
                AuditEntry::record(conn, &actor, now, "login", "session", &session.id, None, None)?;
                Ok(Verdict::SignedIn(issue_pair(&st, conn, &session, now)?))
            })
        })
        .await?;
    let pair = match verdict {
        Verdict::SignedIn(pair) => pair,
        Verdict::Failed => {
            tracing::warn!(username = %username, client = %addr, "failed sign-in");
            return Err(ApiError::Unauthorized);
        }
    };
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
    state
        .op(move |conn, ctx| {
            let now = ctx.now();
            write_tx(conn, |conn| {
                Session::revoke(conn, &user.session_id, now)?;
                AuditEntry::record(conn, &user.actor(), now, "logout", "session", &user.session_id, None, None)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

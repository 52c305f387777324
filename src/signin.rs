//! Signing in with a username and password, and changing one's password, for the API
//! and the console alike: the throttle, the password checked on the hashing pool, and the
//! decision in one locked step.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use crate::auth::CurrentUser;
use crate::auth::token;
use crate::db::{self, DbConn, write_tx};
use crate::domain::text;
use crate::error::msg;
use crate::error::{Error, Validator};
use crate::model::audit::AuditEntry;
use crate::model::login_failure::{self, FailureKey};
use crate::model::session::{RefreshToken, Session};
use crate::model::user::User;
use crate::model::{Actor, new_id};
use crate::state::AppState;

/// 429 when the username or the address has too many failures in the window.
fn throttled_with(
    settings: &crate::config::Settings,
    conn: &mut DbConn,
    username: &str,
    addr: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let auth = &settings.auth;
    let window = Duration::seconds(auth.failure_window_secs);
    for (key, max) in [
        (FailureKey::Username(username), auth.max_failures_per_username),
        (FailureKey::Address(addr), auth.max_failures_per_address),
    ] {
        let (count, oldest) = login_failure::recent(conn, key, now - window)?;
        if count >= max {
            let free_at = oldest.unwrap_or(now) + window;
            return Err(Error::Throttled { retry_after_secs: (free_at - now).num_seconds().max(1) });
        }
    }
    Ok(())
}

/// Decides a password check that was `right` or not, inside the caller's transaction:
/// under the locks of the username and the address (always in that order, so no two
/// checks wait on each other in turn), the throttle is checked again (429), and a wrong
/// password is recorded as a failure. True when the check passed.
fn decide(
    settings: &crate::config::Settings,
    conn: &mut DbConn,
    username: &str,
    addr: &str,
    now: NaiveDateTime,
    right: bool,
) -> Result<bool, Error> {
    db::lock(conn, &[&format!("login-user:{username}"), &format!("login-addr:{addr}")])?;
    throttled_with(settings, conn, username, addr, now)?;
    if !right {
        let forget = now - Duration::seconds(settings.auth.failure_window_secs);
        login_failure::record(conn, username, addr, now, forget)?;
    }
    Ok(right)
}

/// How a checked password ends, decided under the throttle's lock.
enum Verdict<T> {
    SignedIn(T),
    Failed,
}

/// Checks `username` and `password` (422 naming each missing one, 401 when wrong, 429
/// when throttled) and opens a session from `addr`; `issue` runs in the same transaction
/// as the new session and its audit entry, and makes what the client is handed (a token
/// pair, a console cookie).
pub async fn sign_in<T, F>(
    state: &AppState,
    username: Option<String>,
    password: Option<String>,
    addr: String,
    issue: F,
) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &Session, NaiveDateTime) -> Result<T, Error> + Send + 'static,
{
    let mut v = Validator::new();
    let username = v.require("username", username.filter(|u| !u.trim().is_empty()));
    let password = v.require("password", password.filter(|p| !p.is_empty()));
    v.finish()?;
    let (username, password) = (username.unwrap_or_default().trim().to_lowercase(), password.unwrap_or_default());
    let now = state.clock.now_naive();
    // A first look at the throttle, so a throttled burst costs no hashing; then the
    // password is checked on the hashing threads with no connection held.
    let (name, from, st) = (username.clone(), addr.clone(), state.settings.clone());
    let user = state
        .db(move |conn| {
            throttled_with(&st, conn, &name, &from, now)?;
            Ok(User::find_by_username(conn, &name)?)
        })
        .await?;
    let known = user.is_some();
    let verified =
        state.hasher.verify(&format!("addr:{addr}"), password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    // The decision, atomically per username and per address: the throttle is checked
    // again under a lock, and a failure is recorded in the same step. Parallel guesses
    // are held to what the same guesses in sequence would get, right passwords included
    // (one checked after the limit was reached is refused like any other), while
    // sign-ins that succeed never wait for one another.
    let st = state.settings.clone();
    let (name, from) = (username.clone(), addr.clone());
    let verdict = state
        .op(move |conn, _| {
            write_tx(conn, |conn| {
                let user = user.filter(|u| verified && u.active);
                let user = match (decide(&st, conn, &name, &from, now, user.is_some())?, user) {
                    (true, Some(u)) => u,
                    _ => return Ok(Verdict::Failed),
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
                Ok(Verdict::SignedIn(issue(conn, &session, now)?))
            })
        })
        .await?;
    match verdict {
        Verdict::SignedIn(issued) => Ok(issued),
        Verdict::Failed => {
            // A name that is no account may be a password typed in the wrong field: it is
            // never written down, only that it named nobody.
            let account = if known { text::loggable(&username, 64) } else { "(no such account)".into() };
            tracing::warn!(account = %account, client = %addr, "failed sign-in");
            Err(Error::Unauthorized)
        }
    }
}

/// Changes the caller's password (422 naming each bad field, the current one included);
/// every other sign-in of the account ends, in the same transaction as its audit entry.
///
/// The current password is checked like a sign-in: a wrong one counts as a failed sign-in
/// of the account and of the address, and past either limit the check is refused (429)
/// before any hashing, so a stolen session cannot guess the password it was not given.
pub async fn change_password(
    state: &AppState,
    caller: CurrentUser,
    current: Option<String>,
    new: Option<String>,
) -> Result<(), Error> {
    let mut v = Validator::new();
    let current = v.require("current_password", current.filter(|p| !p.is_empty()));
    let new = v.require("new_password", new.filter(|p| !p.is_empty()));
    if let Some(new) = &new
        && let Err(m) = text::check_new_password(new, &caller.user.username)
    {
        v.add("new_password", m);
    }
    v.finish()?;
    let (current, new) = (current.unwrap_or_default(), new.unwrap_or_default());
    let now = state.clock.now_naive();
    let (name, from, st) = (caller.user.username.clone(), caller.client_addr.clone(), state.settings.clone());
    state.db(move |conn| throttled_with(&st, conn, &name, &from, now)).await?;
    let right = state.hasher.verify(&caller.lane(), current, Some(caller.user.password_hash.clone())).await?;
    // Decided under the same locks as a sign-in: a burst of guesses in parallel gets no
    // more tries than the same guesses one after another.
    let (name, from, st) = (caller.user.username.clone(), caller.client_addr.clone(), state.settings.clone());
    let verdict = state
        .op(move |conn, _| {
            write_tx(conn, |conn| {
                Ok(if decide(&st, conn, &name, &from, now, right)? { Verdict::SignedIn(()) } else { Verdict::Failed })
            })
        })
        .await?;
    if let Verdict::Failed = verdict {
        return Err(Error::field("current_password", msg::password_wrong()));
    }
    let hash = state.hasher.hash(&caller.lane(), new).await?;
    state
        .op(move |conn, ctx| {
            let now = ctx.now();
            write_tx(conn, |conn| {
                let mut user = caller.user.clone();
                user.password_hash = hash;
                user.password_changed_at = now;
                crate::accounts::store_change(conn, &mut user, caller.user.version, now)?;
                Session::revoke_all_of_user(conn, &user.id, Some(&caller.session_id), now)?;
                AuditEntry::record(conn, &caller.actor(), now, "change_password", "user", &user.id, None, None)?;
                Ok(())
            })
        })
        .await
}

/// Ends the caller's sign-in (the session record, so every token and cookie naming it),
/// with its audit entry.
pub fn sign_out(conn: &mut DbConn, ctx: &crate::casework::Ctx, caller: &CurrentUser) -> Result<(), Error> {
    let now = ctx.now();
    write_tx(conn, |conn| {
        Session::revoke(conn, &caller.session_id, now)?;
        AuditEntry::record(conn, &caller.actor(), now, "logout", "session", &caller.session_id, None, None)?;
        Ok(())
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
}

/// Issues an access token and a fresh refresh token for a session.
pub fn issue_pair(
    state: &AppState,
    conn: &mut DbConn,
    session: &Session,
    now: NaiveDateTime,
) -> Result<TokenPair, Error> {
    let auth = &state.settings.auth;
    let (refresh_token, digest) = token::new_refresh_token();
    let expires_at = now + Duration::seconds(auth.refresh_token_ttl_secs);
    RefreshToken { token_hash: digest, session_id: session.id.clone(), issued_at: now, expires_at, used_at: None }
        .insert(conn)?;
    Session::extend(conn, &session.id, expires_at)?;
    let access = state
        .tokens
        .issue(&session.user_id, &session.id, now.and_utc().timestamp(), auth.access_token_ttl_secs)
        .map_err(Error::internal)?;
    Ok(TokenPair { access_token: access, token_type: "Bearer", expires_in: auth.access_token_ttl_secs, refresh_token })
}

/// Trades a refresh token for a new pair and spends it. A token presented after it was
/// spent means someone holds a copy: the whole sign-in ends (audited). Unknown, spent or
/// expired tokens, and ended sign-ins, are one 401.
pub async fn refresh(state: Arc<AppState>, presented: String) -> Result<TokenPair, Error> {
    let digest = token::digest(&presented);
    let st = state.clone();
    state
        .op(move |conn, ctx| {
            let now = ctx.now();
            let outcome = write_tx(conn, |conn| -> Result<Result<TokenPair, &'static str>, Error> {
                let Some(stored) = RefreshToken::find(conn, &digest)? else { return Ok(Err("unknown")) };
                if !RefreshToken::spend(conn, &digest, now)? {
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
                let session = Session::find(conn, &stored.session_id)?.ok_or(Error::Unauthorized)?;
                if stored.expires_at <= now || Session::active_user(conn, &session.id, &session.user_id, now)?.is_none()
                {
                    return Ok(Err("expired or revoked"));
                }
                Ok(Ok(issue_pair(&st, conn, &session, now)?))
            })?;
            outcome.map_err(|why| {
                tracing::warn!(reason = why, "refresh refused");
                Error::Unauthorized
            })
        })
        .await
}

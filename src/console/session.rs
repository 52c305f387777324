//! The console's sign-in: an HttpOnly, SameSite=Strict cookie holding a signed token that
//! names a session record (the same records API tokens name, so sign-out, deactivation and
//! a password change end it at once), a CSRF token bound to that session, and the language.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Duration;
use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Fail;
use super::render::Console;
use crate::auth::constant_eq;
use crate::auth::{CurrentUser, TokenOnly};
use crate::error::Error;
use crate::i18n::Lang;
use crate::model::session::Session;
use crate::state::AppState;
use crate::web::extract::client_addr;

pub const SESSION_COOKIE: &str = "ct_session";
pub const LANG_COOKIE: &str = "ct_lang";
/// Before sign-in there is no session to bind a CSRF token to: the sign-in form carries
/// the value of this cookie instead (double submit).
pub const SIGN_IN_COOKIE: &str = "ct_signin";
/// The token kind of the console's cookie (never accepted as an API access token).
const KIND: &str = "console";

/// A signed-in person looking at the console.
pub struct Viewer {
    pub user: CurrentUser,
    /// The token every form of this session carries.
    pub csrf: String,
    pub lang: Lang,
    /// Unread notifications, shown beside the menu entry.
    pub unread: i64,
}

impl Viewer {
    /// A submitted form of this session: refused (403) unless it carries the session's
    /// CSRF token, so a handler cannot read a form it has not checked.
    pub fn form(&self, body: &[u8]) -> Result<super::form::FormData, Fail> {
        let form = super::form::FormData::parse(body);
        self.check_csrf(form.csrf().as_deref())?;
        Ok(form)
    }

    /// Refuses a state change whose form does not carry this session's CSRF token.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), Fail> {
        if presented.is_some_and(|p| constant_eq(p, &self.csrf)) { Ok(()) } else { Err(Fail(Error::Forbidden)) }
    }
}

/// A renewed session cookie, set on the response by the console's layer.
#[derive(Clone)]
pub struct Renewed(pub Cookie<'static>);

/// HMAC-SHA256 of `purpose` and `value` under the service's signing secret, hex.
pub fn mac(secret: &[u8], purpose: &str, value: &str) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(purpose.as_bytes());
    m.update(b"\0");
    m.update(value.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// The language a request asks for: its cookie, else Vietnamese.
pub fn lang_of(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())).unwrap_or(Lang::Vi)
}

/// A cookie of the console: HttpOnly, SameSite=Strict, for the whole site, Secure when
/// the public address is https.
pub fn cookie(console: &Console, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value).path("/").http_only(true).same_site(SameSite::Strict).secure(console.secure).finish()
}

/// The session cookie for a session just opened or renewed.
pub fn session_cookie(
    state: &AppState,
    console: &Console,
    session: &Session,
    now: i64,
) -> Result<Cookie<'static>, Error> {
    let token = state
        .tokens
        .issue_kind(KIND, &session.user_id, &session.id, now, state.settings.auth.console_idle_secs)
        .map_err(Error::internal)?;
    Ok(cookie(console, SESSION_COOKIE, token))
}

/// Tells the browser to forget its session cookie.
pub fn clear_cookie(req: &HttpRequest) -> Cookie<'static> {
    let secure = req.app_data::<web::Data<Console>>().is_some_and(|c| c.secure);
    let mut c =
        Cookie::build(SESSION_COOKIE, "").path("/").http_only(true).same_site(SameSite::Strict).secure(secure).finish();
    c.make_removal();
    c
}

impl FromRequest for Viewer {
    type Error = Fail;
    type Future = LocalBoxFuture<'static, Result<Self, Fail>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().cloned().ok_or(Error::internal("state missing"))?;
            let console = req.app_data::<web::Data<Console>>().cloned().ok_or(Error::internal("console missing"))?;
            let token = req.cookie(SESSION_COOKIE).ok_or(Fail(Error::Unauthorized))?;
            let now = state.clock.now().timestamp();
            let claims = state.tokens.verify_kind(KIND, token.value(), now).ok_or(Fail(Error::Unauthorized))?;
            let idle = state.settings.auth.console_idle_secs;
            // Past half its life, the sign-in is renewed: someone at work is not signed out mid-morning.
            let renew = claims.exp - now < idle / 2;
            let caller = TokenOnly::from_claims(claims, client_addr(&req));
            crate::web::middleware::AccessUser::note(&req, caller.user_id());
            let at = state.clock.now_naive();
            let (user, session, unread) = state
                .db(move |conn| {
                    let user = caller.resolve(conn, at)?;
                    let scope = crate::casework::scope_of(&user).unwrap_or(crate::model::case::CaseScope::Nothing);
                    let unread = crate::model::alert::Alert::count_unread(conn, &user.user.id, &scope, at)?;
                    let session = if renew {
                        crate::db::write_tx(conn, |conn| {
                            Session::extend(conn, &user.session_id, at + Duration::seconds(idle))
                        })?;
                        Session::find(conn, &user.session_id)?
                    } else {
                        None
                    };
                    Ok((user, session, unread))
                })
                .await?;
            if let Some(session) = session {
                let fresh = session_cookie(&state, &console, &session, now)?;
                req.extensions_mut().insert(Renewed(fresh));
            }
            let csrf = mac(&console.secret, "csrf", &user.session_id);
            Ok(Viewer { user, csrf, lang: lang_of(&req), unread })
        })
    }
}

/// A signed-in administrator: the console's administration pages take this extractor
/// instead of checking the role themselves (anyone else gets the 403 page).
pub struct Admin(pub Viewer);

impl FromRequest for Admin {
    type Error = Fail;
    type Future = LocalBoxFuture<'static, Result<Self, Fail>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        Box::pin(async move {
            let viewer = viewer.await?;
            viewer.user.require(&[crate::domain::role::Role::Admin])?;
            Ok(Admin(viewer))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_differ_by_session_and_key() {
        let a = mac(b"k1", "csrf", "s1");
        assert_eq!(a, mac(b"k1", "csrf", "s1"));
        assert_ne!(a, mac(b"k1", "csrf", "s2"));
        assert_ne!(a, mac(b"k2", "csrf", "s1"));
        assert!(constant_eq(&a, &a.clone()));
        assert!(!constant_eq(&a, &a[1..]));
    }
}

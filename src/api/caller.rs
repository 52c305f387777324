//! The caller as an extractor: a handler that takes [`CurrentUser`] cannot forget
//! authentication, and one that takes [`TokenOnly`] checks the session itself.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::auth::{CurrentUser, TokenOnly};
use crate::error::Error;
use crate::state::AppState;
use crate::web::extract::client_addr;

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Checks the bearer token of a request.
fn verify(req: &HttpRequest) -> Result<(TokenOnly, web::Data<AppState>), Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let state = state.ok_or_else(|| Error::internal("application state missing"))?;
    let token = bearer(req).ok_or(Error::Unauthorized)?;
    let now = state.clock.now().timestamp();
    let verified = TokenOnly::from_token(&state.tokens, &token, now, client_addr(req)).ok_or(Error::Unauthorized)?;
    crate::web::middleware::AccessUser::note(req, verified.user_id());
    Ok((verified, state))
}

impl FromRequest for TokenOnly {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(verify(req).map(|(v, _)| v))
    }
}

impl FromRequest for CurrentUser {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = verify(req);
        Box::pin(async move {
            let (verified, state) = verified?;
            let now = state.clock.now_naive();
            state.db(move |conn| verified.resolve(conn, now)).await
        })
    }
}

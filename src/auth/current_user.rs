//! The signed-in caller, as an extractor: a handler that takes it cannot forget authentication.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::api::extract::client_addr;
use crate::app::AppState;
use crate::domain::role::Role;
use crate::error::ApiError;
use crate::model::Actor;
use crate::model::session::Session;
use crate::model::user::User;

/// Who is calling: a live session of an active account, re-read on every request
/// so that deactivation, role changes and sign-out take effect at once.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub role: Role,
    pub session_id: String,
    pub client_addr: String,
}

impl CurrentUser {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// The caller as stamped on audit records.
    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.user.id.clone()), client_addr: Some(self.client_addr.clone()) }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        let addr = client_addr(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or(ApiError::Unauthorized)?;
            let now = state.clock.now();
            let claims = state.tokens.verify(&token, now.timestamp()).ok_or(ApiError::Unauthorized)?;
            let naive_now = now.naive_utc();
            let (sid, sub) = (claims.sid.clone(), claims.sub.clone());
            let user = state
                .db(move |conn| Ok(Session::active_user(conn, &sid, &sub, naive_now)?))
                .await?
                .ok_or(ApiError::Unauthorized)?;
            let role = Role::parse(&user.role).ok_or_else(|| ApiError::internal("stored role unknown"))?;
            Ok(CurrentUser { user, role, session_id: claims.sid, client_addr: addr })
        })
    }
}

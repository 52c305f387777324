//! The signed-in caller (`api::caller` makes it an extractor: a handler that takes it
//! cannot forget authentication).

use chrono::NaiveDateTime;

use crate::auth::token::TokenKeys;
use crate::db::DbConn;
use crate::domain::role::Role;
use crate::error::Error;
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
    /// The user's unit has ended (a reorganisation): they see nothing until moved.
    pub unit_ended: bool,
}

impl CurrentUser {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Error> {
        if roles.contains(&self.role) { Ok(()) } else { Err(Error::Forbidden) }
    }

    /// The caller as stamped on audit records.
    /// The caller's turn on the password hashing pool ([`crate::auth::password::Hasher`]).
    pub fn lane(&self) -> String {
        format!("user:{}", self.user.id)
    }

    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.user.id.clone()), client_addr: Some(self.client_addr.clone()) }
    }
}

/// A caller whose token is valid but whose session is not yet checked: for the hottest
/// reads, which check it with [`TokenOnly::resolve`] on the connection their own queries
/// use, in the same trip to the database pool.
#[derive(Debug, Clone)]
pub struct TokenOnly {
    session_id: String,
    user_id: String,
    client_addr: String,
}

impl TokenOnly {
    /// The account the token names (verified signature; the session may still be over).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The caller, if the session is still live and the account active (else 401).
    pub fn resolve(self, conn: &mut DbConn, now: NaiveDateTime) -> Result<CurrentUser, Error> {
        let (user, unit_ended) =
            Session::active_user(conn, &self.session_id, &self.user_id, now)?.ok_or(Error::Unauthorized)?;
        let role = Role::parse(&user.role).ok_or_else(|| Error::internal("stored role unknown"))?;
        Ok(CurrentUser { user, role, session_id: self.session_id, client_addr: self.client_addr, unit_ended })
    }

    /// The caller of a console request: the session and user its cookie names.
    pub fn from_claims(claims: crate::auth::token::AccessClaims, client_addr: String) -> TokenOnly {
        TokenOnly { session_id: claims.sid, user_id: claims.sub, client_addr }
    }

    /// The caller an access token names, if its signature and lifetime check out (at `now`,
    /// in Unix seconds); no database involved.
    pub fn from_token(keys: &TokenKeys, token: &str, now: i64, client_addr: String) -> Option<TokenOnly> {
        let claims = keys.verify(token, now)?;
        Some(TokenOnly { session_id: claims.sid, user_id: claims.sub, client_addr })
    }
}

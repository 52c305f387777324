//! Sign-ins (sessions) and their rotating refresh tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::User;
use crate::db::DbConn;
use crate::db::schema::{refresh_tokens, sessions, units, users};
use crate::per_backend;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub client_addr: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub token_hash: String,
    pub session_id: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl Session {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(sessions::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Session>> {
        sessions::table.find(id).select(Session::as_select()).first(conn).optional()
    }

    /// The user behind a live session: not revoked, not expired, account active.
    pub fn active_user(
        conn: &mut DbConn,
        session_id: &str,
        user_id: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<(User, bool)>> {
        // Every authenticated request runs this: on the concrete connection (see `per_backend`).
        // The user's unit comes along: an account of a unit that has ended sees nothing.
        let found: Option<(User, Option<chrono::NaiveDate>)> = per_backend!(conn, |c| sessions::table
            .inner_join(users::table.left_join(units::table))
            .filter(sessions::id.eq(session_id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .filter(users::active.eq(true))
            .select((User::as_select(), units::ended_on.nullable()))
            .first(c)
            .optional())?;
        Ok(found.map(|(user, ended)| (user, ended.is_some())))
    }

    /// Pushes a session's end forward when its refresh token is rotated.
    pub fn extend(conn: &mut DbConn, id: &str, until: NaiveDateTime) -> QueryResult<()> {
        diesel::update(sessions::table.find(id)).set(sessions::expires_at.eq(until)).execute(conn).map(drop)
    }

    pub fn revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
            .set(sessions::revoked_at.eq(now))
            .execute(conn)
            .map(drop)
    }

    /// Ends every sign-in of a user except `keep` (after a password change or deactivation).
    pub fn revoke_all_of_user(
        conn: &mut DbConn,
        user_id: &str,
        keep: Option<&str>,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let q = sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep.unwrap_or("").to_string()));
        diesel::update(q).set(sessions::revoked_at.eq(now)).execute(conn).map(drop)
    }
}

impl RefreshToken {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(refresh_tokens::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<RefreshToken>> {
        refresh_tokens::table.find(token_hash).select(RefreshToken::as_select()).first(conn).optional()
    }

    /// Marks the token spent; false when it already was (a replay, or a lost race).
    pub fn spend(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
        let n = diesel::update(refresh_tokens::table.find(token_hash).filter(refresh_tokens::used_at.is_null()))
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
        Ok(n == 1)
    }
}

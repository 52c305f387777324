//! Failed sign-ins, counted per username and per client address for throttling.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use super::new_id;
use crate::db::DbConn;
use crate::db::schema::login_failures;

/// Which failures to count: one username's, or one address's.
pub enum FailureKey<'a> {
    Username(&'a str),
    Address(&'a str),
}

/// Counts failures after `since` and returns the oldest of them, for `Retry-After`.
pub fn recent(
    conn: &mut DbConn,
    key: FailureKey<'_>,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let q = login_failures::table.filter(login_failures::failed_at.gt(since)).into_boxed();
    let q = match key {
        FailureKey::Username(u) => q.filter(login_failures::username.eq(u.to_string())),
        FailureKey::Address(a) => q.filter(login_failures::client_addr.eq(a.to_string())),
    };
    q.select((count_star(), min(login_failures::failed_at))).first(conn)
}

/// Records one failure, and forgets failures too old to matter.
pub fn record(
    conn: &mut DbConn,
    username: &str,
    client_addr: &str,
    at: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(forget_before))).execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(new_id()),
            login_failures::username.eq(username),
            login_failures::client_addr.eq(client_addr),
            login_failures::failed_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A successful sign-in clears that username's failures.
pub fn clear(conn: &mut DbConn, username: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::username.eq(username))).execute(conn)?;
    Ok(())
}

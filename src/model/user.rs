//! User accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::db::DbConn;
use crate::db::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct User {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: String,
    pub unit_id: Option<String>,
    pub active: bool,
    pub password_hash: String,
    pub password_changed_at: NaiveDateTime,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `HH:MM`: alerts come once a day at this local time; `None`: a digest each sweep.
    pub digest_daily_at: Option<String>,
}

/// Filters of `GET /users`.
#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    pub unit_id: Option<String>,
    pub active: Option<bool>,
}

impl User {
    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<User>> {
        users::table.find(id).select(User::as_select()).first(conn).optional()
    }

    /// The full names of these users, by id, in one query.
    pub fn names_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<std::collections::HashMap<String, String>> {
        let rows: Vec<(String, String)> =
            users::table.filter(users::id.eq_any(ids)).select((users::id, users::full_name)).load(conn)?;
        Ok(rows.into_iter().collect())
    }

    pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<User>> {
        users::table.filter(users::username.eq(username)).select(User::as_select()).first(conn).optional()
    }

    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(users::table).values(self).execute(conn).map(drop)
    }

    /// Writes `self` if the stored version is still `expected_version`; false when it moved on.
    pub fn update_if_version(&self, conn: &mut DbConn, expected_version: i64) -> QueryResult<bool> {
        let n = diesel::update(users::table.find(&self.id).filter(users::version.eq(expected_version)))
            .set(self)
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Keyset page in id order.
    /// Active accounts attached to a unit that has ended: they see nothing until an
    /// administrator moves them (at most `limit`, by username).
    pub fn of_ended_units(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<User>> {
        use crate::db::schema::units;
        users::table
            .inner_join(units::table.on(units::id.nullable().eq(users::unit_id)))
            .filter(units::ended_on.is_not_null())
            .filter(users::active.eq(true))
            .order(users::username)
            .limit(limit)
            .select(User::as_select())
            .load(conn)
    }

    pub fn list(conn: &mut DbConn, f: &UserFilter, after_id: Option<&str>, limit: i64) -> QueryResult<Vec<User>> {
        let mut q = users::table.select(User::as_select()).into_boxed();
        if let Some(role) = &f.role {
            q = q.filter(users::role.eq(role.clone()));
        }
        if let Some(unit) = &f.unit_id {
            q = q.filter(users::unit_id.eq(unit.clone()));
        }
        if let Some(active) = f.active {
            q = q.filter(users::active.eq(active));
        }
        if let Some(id) = after_id {
            q = q.filter(users::id.gt(id.to_string()));
        }
        q.order(users::id.asc()).limit(limit).load(conn)
    }

    /// Number of active administrators (the last one may not be removed).
    pub fn active_admins(conn: &mut DbConn) -> QueryResult<i64> {
        users::table.filter(users::role.eq("admin")).filter(users::active.eq(true)).count().get_result(conn)
    }

    /// What the audit log keeps of a user: everything but the password hash.
    pub fn audit_snapshot(&self) -> serde_json::Value {
        json!({
            "id": self.id, "username": self.username, "full_name": self.full_name,
            "email": self.email, "role": self.role, "unit_id": self.unit_id,
            "active": self.active, "version": self.version,
        })
    }
}

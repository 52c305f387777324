//! Units and their hierarchy (kept as a closure table: every ancestor–descendant pair).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::json;

use crate::db::DbConn;
use crate::db::schema::{unit_closure, units};

/// The query [`subtree_ids`] builds.
pub type SubtreeIds = diesel::dsl::Select<
    diesel::dsl::Filter<unit_closure::table, diesel::dsl::Eq<unit_closure::ancestor_id, String>>,
    unit_closure::descendant_id,
>;

/// The ids of `unit` and every unit under it, as a subquery (`… IN (subtree)`).
pub fn subtree_ids(unit: &str) -> SubtreeIds {
    unit_closure::table.filter(unit_closure::ancestor_id.eq(unit.to_string())).select(unit_closure::descendant_id)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = units, treat_none_as_null = true)]
pub struct Unit {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub head_user_id: Option<String>,
    pub email: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The day the unit was established; `None`: before the records begin.
    pub established_on: Option<NaiveDate>,
    /// The first day the unit no longer exists; `None` while it does.
    pub ended_on: Option<NaiveDate>,
}

/// Filters of `GET /units`.
#[derive(Debug, Default)]
pub struct UnitFilter {
    pub parent_id: Option<String>,
    pub kind: Option<String>,
    /// `Some(true)`: units that exist today; `Some(false)`: units that have ended.
    pub alive: Option<bool>,
}

impl Unit {
    /// Whether the unit existed on `day` (established by then and not yet ended).
    pub fn alive_on(&self, day: NaiveDate) -> bool {
        self.established_on.is_none_or(|e| e <= day) && self.ended_on.is_none_or(|e| day < e)
    }

    /// Every unit, by code: a city has a few thousand at most.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Unit>> {
        units::table.order(units::code).select(Unit::as_select()).load(conn)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Unit>> {
        units::table.find(id).select(Unit::as_select()).first(conn).optional()
    }

    pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Unit>> {
        units::table.filter(units::id.eq_any(ids)).select(Unit::as_select()).load(conn)
    }

    /// The units at the top of the tree (no parent), by code.
    pub fn roots(conn: &mut DbConn) -> QueryResult<Vec<Unit>> {
        units::table.filter(units::parent_id.is_null()).order(units::code).select(Unit::as_select()).load(conn)
    }

    pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Unit>> {
        units::table.filter(units::code.eq(code)).select(Unit::as_select()).first(conn).optional()
    }

    /// Inserts the unit and links it under every ancestor of its parent.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(units::table).values(self).execute(conn)?;
        diesel::insert_into(unit_closure::table)
            .values((
                unit_closure::ancestor_id.eq(&self.id),
                unit_closure::descendant_id.eq(&self.id),
                unit_closure::depth.eq(0),
            ))
            .execute(conn)?;
        if let Some(parent) = &self.parent_id {
            self.link_subtree_under(conn, parent)?;
        }
        Ok(())
    }

    /// Links this unit's subtree under `parent` and each of its ancestors:
    /// one INSERT … SELECT per ancestor, so the work stays in the database.
    fn link_subtree_under(&self, conn: &mut DbConn, parent: &str) -> QueryResult<()> {
        let ancestors: Vec<(String, i32)> = unit_closure::table
            .filter(unit_closure::descendant_id.eq(parent))
            .select((unit_closure::ancestor_id, unit_closure::depth))
            .load(conn)?;
        for (ancestor, depth) in ancestors {
            let rows = unit_closure::table.filter(unit_closure::ancestor_id.eq(&self.id)).select((
                ancestor.into_sql::<Text>(),
                unit_closure::descendant_id,
                unit_closure::depth + (depth + 1),
            ));
            diesel::insert_into(unit_closure::table)
                .values(rows)
                .into_columns((unit_closure::ancestor_id, unit_closure::descendant_id, unit_closure::depth))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Writes `self` if still at `expected_version`, re-linking the subtree when the parent changed.
    pub fn update_if_version(
        &self,
        conn: &mut DbConn,
        expected_version: i64,
        old_parent: Option<&str>,
    ) -> QueryResult<bool> {
        let n = diesel::update(units::table.find(&self.id).filter(units::version.eq(expected_version)))
            .set(self)
            .execute(conn)?;
        if n == 1 && old_parent != self.parent_id.as_deref() {
            self.relink_subtree(conn)?;
        }
        Ok(n == 1)
    }

    /// After a move: drop the links from the old ancestors to this subtree, add the new ones.
    fn relink_subtree(&self, conn: &mut DbConn) -> QueryResult<()> {
        let members: Vec<String> = unit_closure::table
            .filter(unit_closure::ancestor_id.eq(&self.id))
            .select(unit_closure::descendant_id)
            .load(conn)?;
        diesel::delete(
            unit_closure::table
                .filter(unit_closure::descendant_id.eq_any(&members))
                .filter(unit_closure::ancestor_id.ne_all(&members)),
        )
        .execute(conn)?;
        match &self.parent_id {
            Some(parent) => self.link_subtree_under(conn, parent),
            None => Ok(()),
        }
    }

    /// True when `candidate` is `root` or lies below it.
    pub fn is_in_subtree(conn: &mut DbConn, root: &str, candidate: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            unit_closure::table
                .filter(unit_closure::ancestor_id.eq(root))
                .filter(unit_closure::descendant_id.eq(candidate)),
        ))
        .get_result(conn)
    }

    /// The unit and everything below it, with each one's depth under `root`, shallowest first.
    pub fn subtree(conn: &mut DbConn, root: &str) -> QueryResult<Vec<(Unit, i32)>> {
        unit_closure::table
            .inner_join(units::table.on(units::id.eq(unit_closure::descendant_id)))
            .filter(unit_closure::ancestor_id.eq(root))
            .order((unit_closure::depth.asc(), units::code.asc()))
            .select((Unit::as_select(), unit_closure::depth))
            .load(conn)
    }

    /// Keyset page in id order.
    pub fn list(conn: &mut DbConn, f: &UnitFilter, after_id: Option<&str>, limit: i64) -> QueryResult<Vec<Unit>> {
        let mut q = units::table.select(Unit::as_select()).into_boxed();
        if let Some(parent) = &f.parent_id {
            q = q.filter(units::parent_id.eq(parent.clone()));
        }
        if let Some(kind) = &f.kind {
            q = q.filter(units::kind.eq(kind.clone()));
        }
        match f.alive {
            Some(true) => q = q.filter(units::ended_on.is_null()),
            Some(false) => q = q.filter(units::ended_on.is_not_null()),
            None => {}
        }
        if let Some(id) = after_id {
            q = q.filter(units::id.gt(id.to_string()));
        }
        q.order(units::id.asc()).limit(limit).load(conn)
    }

    /// What the audit log keeps of a unit.
    pub fn audit_snapshot(&self) -> serde_json::Value {
        json!({
            "id": self.id, "code": self.code, "name": self.name, "kind": self.kind,
            "parent_id": self.parent_id, "head_user_id": self.head_user_id,
            "email": self.email, "version": self.version,
            "established_on": self.established_on, "ended_on": self.ended_on,
        })
    }
}

//! Reorganisations as stored, and the lineage of units they leave: successors and the
//! names, kinds and places a unit had before each change.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{reorganisations, unit_history, unit_successors, units};
use crate::model::unit::Unit;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reorganisations)]
pub struct Reorganisation {
    pub id: String,
    pub effective_on: NaiveDate,
    pub basis_reference: String,
    pub basis_issued_on: Option<NaiveDate>,
    pub basis_title: String,
    /// The steps as asked for (JSON).
    pub steps: String,
    /// What applying them did (JSON, the plan the dry run shows).
    pub outcome: String,
    pub applied_by: String,
    pub applied_at: NaiveDateTime,
}

/// A unit as it was until `valid_until` (exclusive).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = unit_history)]
pub struct UnitPast {
    pub unit_id: String,
    pub valid_until: NaiveDate,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub reorganisation_id: Option<String>,
}

impl Reorganisation {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(reorganisations::table).values(self).execute(conn).map(drop)
    }

    /// Keyset page, newest effective date first.
    pub fn list(conn: &mut DbConn, before_id: Option<&str>, limit: i64) -> QueryResult<Vec<Reorganisation>> {
        let mut q = reorganisations::table.select(Reorganisation::as_select()).into_boxed();
        if let Some(id) = before_id {
            q = q.filter(reorganisations::id.lt(id.to_string()));
        }
        q.order(reorganisations::id.desc()).limit(limit).load(conn)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Reorganisation>> {
        reorganisations::table.find(id).select(Reorganisation::as_select()).first(conn).optional()
    }
}

impl UnitPast {
    /// Keeps the unit's state before a change that takes effect on `on`; a second change
    /// on the same day keeps the state the day began with.
    pub fn keep(conn: &mut DbConn, unit: &Unit, on: NaiveDate, reorganisation_id: Option<&str>) -> QueryResult<()> {
        let row = UnitPast {
            unit_id: unit.id.clone(),
            valid_until: on,
            name: unit.name.clone(),
            kind: unit.kind.clone(),
            parent_id: unit.parent_id.clone(),
            reorganisation_id: reorganisation_id.map(str::to_string),
        };
        crate::per_backend!(conn, |c| diesel::insert_into(unit_history::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)
            .map(drop))
    }

    /// A unit's earlier states, oldest first.
    pub fn of(conn: &mut DbConn, unit_id: &str) -> QueryResult<Vec<UnitPast>> {
        unit_history::table
            .filter(unit_history::unit_id.eq(unit_id))
            .order(unit_history::valid_until.asc())
            .select(UnitPast::as_select())
            .load(conn)
    }

    /// Every unit's earlier states, for cutting the tree as it stood on a date.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<UnitPast>> {
        unit_history::table
            .order((unit_history::unit_id, unit_history::valid_until))
            .select(UnitPast::as_select())
            .load(conn)
    }

    /// The name each of `unit_ids` had on `on`, where it differs from today's.
    pub fn names_on(
        conn: &mut DbConn,
        unit_ids: &[String],
        on: NaiveDate,
    ) -> QueryResult<std::collections::HashMap<String, String>> {
        let rows: Vec<(String, NaiveDate, String)> = unit_history::table
            .filter(unit_history::unit_id.eq_any(unit_ids))
            .filter(unit_history::valid_until.gt(on))
            .order((unit_history::unit_id, unit_history::valid_until.asc()))
            .select((unit_history::unit_id, unit_history::valid_until, unit_history::name))
            .load(conn)?;
        let mut out = std::collections::HashMap::new();
        for (unit, _, name) in rows {
            out.entry(unit).or_insert(name);
        }
        Ok(out)
    }
}

/// Records that `successors` (first one first) took over from `unit_id`.
pub fn add_successors(
    conn: &mut DbConn,
    unit_id: &str,
    successors: &[String],
    reorganisation_id: &str,
) -> QueryResult<()> {
    let rows: Vec<_> = successors
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                unit_successors::unit_id.eq(unit_id),
                unit_successors::successor_id.eq(s),
                unit_successors::position.eq(i as i32),
                unit_successors::reorganisation_id.eq(Some(reorganisation_id)),
            )
        })
        .collect();
    crate::per_backend!(conn, |c| diesel::insert_into(unit_successors::table).values(&rows).execute(c).map(drop))
}

/// The units that took over from `unit_id`, first successor first.
pub fn successors_of(conn: &mut DbConn, unit_id: &str) -> QueryResult<Vec<Unit>> {
    unit_successors::table
        .inner_join(units::table.on(units::id.eq(unit_successors::successor_id)))
        .filter(unit_successors::unit_id.eq(unit_id))
        .order(unit_successors::position)
        .select(Unit::as_select())
        .load(conn)
}

/// The units `unit_id` took over from.
pub fn predecessors_of(conn: &mut DbConn, unit_id: &str) -> QueryResult<Vec<Unit>> {
    unit_successors::table
        .inner_join(units::table.on(units::id.eq(unit_successors::unit_id)))
        .filter(unit_successors::successor_id.eq(unit_id))
        .order(units::code)
        .select(Unit::as_select())
        .load(conn)
}

/// Every (ended unit, first successor) pair, for cutting the tree as it stood on a date.
pub fn first_successors(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    unit_successors::table
        .filter(unit_successors::position.eq(0))
        .select((unit_successors::unit_id, unit_successors::successor_id))
        .load(conn)
}

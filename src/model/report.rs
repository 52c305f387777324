//! Report aggregates, computed in SQL over the cases a caller may see.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{case_when, count_star};
use diesel::prelude::*;

use super::case::{CaseFilter, CaseScope, case_indicator_predicate, case_predicate, overdue_at};
use crate::db::DbConn;
use crate::db::schema::{case_indicators, cases, unit_closure, units};
use crate::domain::report::Counts;

/// Everything the summary needs, grouped by key.
#[derive(Debug, Default)]
pub struct Aggregates {
    pub cases: Counts,
    pub subjects_detected: i64,
    pub subjects_unhandled: i64,
    pub by_indicator: HashMap<String, Counts>,
    pub by_unit: HashMap<String, Counts>,
    pub by_measure: Vec<(String, i64)>,
}

/// The scope a report can run with: a subtree that holds every unit is the same as
/// no unit restriction, and saying so spares the database two lookups per case.
fn widest_equivalent(conn: &mut DbConn, scope: &CaseScope) -> QueryResult<CaseScope> {
    let CaseScope::Subtree(unit) = scope else { return Ok(scope.clone()) };
    let outside: i64 = units::table
        .filter(diesel::dsl::not(units::id.eq_any(
            unit_closure::table.filter(unit_closure::ancestor_id.eq(unit.clone())).select(unit_closure::descendant_id),
        )))
        .count()
        .get_result(conn)?;
    Ok(if outside == 0 { CaseScope::All } else { scope.clone() })
}

/// Computes the summary aggregates; `unit_roots` are the units the by-unit rows are for.
///
/// Three passes over the visible cases (grouped by subject unit, status and measure;
/// distinct subjects; grouped by indicator) and two over the overdue ones, which the
/// `(status, deadline_at)` index finds without reading the rest. Totals, by-unit rows
/// and measures are all folded from the first pass. A by-unit row counts the cases
/// whose subject unit lies in that unit's subtree, so the rows of a unit's children
/// add up to the unit's own row.
pub fn summary(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    now: NaiveDateTime,
    unit_roots: &[String],
) -> QueryResult<Aggregates> {
    let scope = &widest_equivalent(conn, scope)?;
    let mut out = Aggregates::default();

    let groups: Vec<(String, String, Option<String>, i64)> = cases::table
        .group_by((cases::subject_unit_id, cases::status, cases::decision_measure))
        .select((cases::subject_unit_id, cases::status, cases::decision_measure, count_star()))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .load(conn)?;
    let overdue: Vec<(String, i64)> = cases::table
        .group_by(cases::subject_unit_id)
        .select((cases::subject_unit_id, count_star()))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .filter(overdue_at(now))
        .load(conn)?;
    let above = roots_above(conn, unit_roots)?;
    let mut measures: BTreeMap<String, i64> = BTreeMap::new();
    for (unit, status, measure, n) in groups {
        out.cases.add(&status, n);
        if status == "closed" {
            *measures.entry(measure.unwrap_or_default()).or_default() += n;
        }
        for root in above.get(&unit).into_iter().flatten() {
            out.by_unit.entry(root.clone()).or_default().add(&status, n);
        }
    }
    for (unit, n) in overdue {
        out.cases.overdue += n;
        for root in above.get(&unit).into_iter().flatten() {
            out.by_unit.entry(root.clone()).or_default().overdue += n;
        }
    }
    out.by_measure = measures.into_iter().collect();

    let not_handled: [&str; 2] = ["dismissed", "closed"];
    #[allow(deprecated)] // its replacement does not build for MultiBackend queries
    let subjects = cases::table
        .select((
            diesel::dsl::count_distinct(case_when(cases::status.ne("dismissed"), cases::subject_key)),
            diesel::dsl::count_distinct(case_when(cases::status.ne_all(not_handled), cases::subject_key)),
        ))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .first(conn)?;
    (out.subjects_detected, out.subjects_unhandled) = subjects;

    let rows: Vec<(String, String, i64)> = cases::table
        .inner_join(case_indicators::table)
        .group_by((case_indicators::indicator_id, cases::status))
        .select((case_indicators::indicator_id, cases::status, count_star()))
        .into_boxed()
        .filter(case_indicator_predicate(scope, f, now))
        .load(conn)?;
    for (indicator, status, n) in rows {
        out.by_indicator.entry(indicator).or_default().add(&status, n);
    }
    let rows: Vec<(String, i64)> = cases::table
        .inner_join(case_indicators::table)
        .group_by(case_indicators::indicator_id)
        .select((case_indicators::indicator_id, count_star()))
        .into_boxed()
        .filter(case_indicator_predicate(scope, f, now))
        .filter(overdue_at(now))
        .load(conn)?;
    for (indicator, n) in rows {
        out.by_indicator.entry(indicator).or_default().overdue = n;
    }
    Ok(out)
}

/// For each unit under any of `roots`, the roots its cases roll up to.
fn roots_above(conn: &mut DbConn, roots: &[String]) -> QueryResult<HashMap<String, Vec<String>>> {
    let mut above: HashMap<String, Vec<String>> = HashMap::new();
    let pairs: Vec<(String, String)> = unit_closure::table
        .filter(unit_closure::ancestor_id.eq_any(roots))
        .select((unit_closure::descendant_id, unit_closure::ancestor_id))
        .load(conn)?;
    for (unit, root) in pairs {
        above.entry(unit).or_default().push(root);
    }
    Ok(above)
}

/// A unit and its direct children: the rows a by-unit breakdown rolls up to.
pub fn unit_and_children(conn: &mut DbConn, unit_id: &str) -> QueryResult<Vec<String>> {
    let mut ids = vec![unit_id.to_string()];
    ids.extend(
        units::table.filter(units::parent_id.eq(unit_id)).order(units::code).select(units::id).load::<String>(conn)?,
    );
    Ok(ids)
}

/// Detected and handled cases per detection day (folded into months by the caller).
pub fn per_day(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    now: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDate, String, i64)>> {
    let scope = &widest_equivalent(conn, scope)?;
    cases::table
        .group_by((cases::detected_on, cases::status))
        .select((cases::detected_on, cases::status, count_star()))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .order(cases::detected_on)
        .load(conn)
}

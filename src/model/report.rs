//! Report aggregates, computed in SQL over the cases a caller may see.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
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

/// Case counts (by status, plus overdue) of the visible cases matching `f`.
fn counts(conn: &mut DbConn, scope: &CaseScope, f: &CaseFilter, now: NaiveDateTime) -> QueryResult<Counts> {
    let mut c = Counts::default();
    let rows: Vec<(String, i64)> = cases::table
        .group_by(cases::status)
        .select((cases::status, count_star()))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .load(conn)?;
    for (status, n) in rows {
        c.add(&status, n);
    }
    c.overdue = cases::table
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .filter(overdue_at(now))
        .count()
        .get_result(conn)?;
    Ok(c)
}

/// Counts per unit of `roots`, each over its whole subtree: the cases are grouped
/// by subject unit in SQL (two queries, whatever the number of roots), and each
/// group is added to the roots above it.
fn by_unit(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    now: NaiveDateTime,
    roots: &[String],
) -> QueryResult<HashMap<String, Counts>> {
    let mut above: HashMap<String, Vec<String>> = HashMap::new();
    let pairs: Vec<(String, String)> = unit_closure::table
        .filter(unit_closure::ancestor_id.eq_any(roots))
        .select((unit_closure::descendant_id, unit_closure::ancestor_id))
        .load(conn)?;
    for (unit, root) in pairs {
        above.entry(unit).or_default().push(root);
    }
    let by_status: Vec<(String, String, i64)> = cases::table
        .group_by((cases::subject_unit_id, cases::status))
        .select((cases::subject_unit_id, cases::status, count_star()))
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
    let mut out: HashMap<String, Counts> = HashMap::new();
    for (unit, status, n) in by_status {
        for root in above.get(&unit).into_iter().flatten() {
            out.entry(root.clone()).or_default().add(&status, n);
        }
    }
    for (unit, n) in overdue {
        for root in above.get(&unit).into_iter().flatten() {
            out.entry(root.clone()).or_default().overdue += n;
        }
    }
    Ok(out)
}

/// Computes the summary aggregates; `unit_roots` are the units the by-unit rows are for.
///
/// A by-unit row counts the cases whose subject unit lies in that unit's subtree, so
/// the rows of a unit's children add up to the unit's own row.
pub fn summary(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    now: NaiveDateTime,
    unit_roots: &[String],
) -> QueryResult<Aggregates> {
    let mut out = Aggregates { cases: counts(conn, scope, f, now)?, ..Aggregates::default() };

    #[allow(deprecated)] // its replacement does not build for MultiBackend queries
    let distinct_subjects = || diesel::dsl::count_distinct(cases::subject_key);
    out.subjects_detected = cases::table
        .select(distinct_subjects())
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .filter(cases::status.ne("dismissed"))
        .first(conn)?;
    let not_handled: [&str; 2] = ["dismissed", "closed"];
    out.subjects_unhandled = cases::table
        .select(distinct_subjects())
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .filter(cases::status.ne_all(not_handled))
        .first(conn)?;

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

    out.by_unit = by_unit(conn, scope, f, now, unit_roots)?;

    let measures: Vec<(Option<String>, i64)> = cases::table
        .group_by(cases::decision_measure)
        .select((cases::decision_measure, count_star()))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .filter(cases::status.eq("closed"))
        .load(conn)?;
    out.by_measure = measures.into_iter().map(|(m, n)| (m.unwrap_or_default(), n)).collect();
    Ok(out)
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
    cases::table
        .group_by((cases::detected_on, cases::status))
        .select((cases::detected_on, cases::status, count_star()))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .order(cases::detected_on)
        .load(conn)
}

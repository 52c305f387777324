//! Report aggregates, computed in SQL over the cases a caller may see.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{case_when, count, count_star};
use diesel::prelude::*;

use super::case::{
    CaseFilter, CaseScope, case_decision_predicate, case_indicator_predicate, case_predicate, overdue_at,
};
use super::rollup;
use super::unit::subtree_ids;
use crate::db::DbConn;
use crate::db::schema::{case_decisions, case_indicators, cases, unit_closure, units};
use crate::domain::report::{Counts, PeriodSplit, split_period};
use crate::domain::workflow::{HANDLED, NOT_STANDING};

/// Everything the summary needs, grouped by key.
#[derive(Debug, Default)]
pub struct Aggregates {
    pub cases: Counts,
    pub subjects_detected: i64,
    pub subjects_unhandled: i64,
    /// Subjects with more than one standing case in the cut (tái phạm).
    pub subjects_repeat: i64,
    pub by_indicator: HashMap<String, Counts>,
    pub by_unit: HashMap<String, Counts>,
    pub by_measure: Vec<(String, i64)>,
    /// Decisions in force on standing cases, by (system, measure).
    pub decisions: Vec<(String, String, i64)>,
}

/// The scope a report can run with: a subtree that holds every unit is the same as
/// no unit restriction, and saying so spares the database two lookups per case.
fn widest_equivalent(conn: &mut DbConn, scope: &CaseScope) -> QueryResult<CaseScope> {
    let CaseScope::Subtree(unit) = scope else { return Ok(scope.clone()) };
    let outside: i64 =
        units::table.filter(diesel::dsl::not(units::id.eq_any(subtree_ids(unit)))).count().get_result(conn)?;
    Ok(if outside == 0 { CaseScope::All } else { scope.clone() })
}

/// Computes the summary aggregates; `breakdown` names the by-unit rows and where each
/// unit's cases count.
///
/// Case and indicator counts come from the rollup (`case_stats`) for the whole months of
/// the period and from `cases` for the days around them. Overdue counts depend on the
/// clock, so they come from `cases`, where the `(status, deadline_at)` index finds the
/// overdue ones without reading the rest. Distinct subjects are not additive across
/// months: see [`subjects`]. Totals, by-unit rows and measures are folded from the
/// (subject unit, status, measure) groups. A by-unit row counts the cases whose subject
/// unit lies in that unit's subtree, so the rows of a unit's children add up to the
/// unit's own row.
pub fn summary(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    now: NaiveDateTime,
    breakdown: &Breakdown,
) -> QueryResult<Aggregates> {
    let scope = &widest_equivalent(conn, scope)?;
    let mut out = Aggregates::default();

    let split = if rollup::answers(f) {
        split_period(f.from, f.to)
    } else {
        PeriodSplit { months: None, days: vec![(f.from, f.to)] }
    };
    let mut groups = Vec::new();
    let mut cited = Vec::new();
    if let Some(months) = split.months {
        groups = rollup::case_groups(conn, scope, f, months)?;
        cited = rollup::indicator_groups(conn, scope, f, months)?;
    }
    for (from, to) in split.days {
        let f = &CaseFilter { from, to, ..f.clone() };
        let rows: Vec<(String, String, Option<String>, i64)> = cases::table
            .group_by((cases::subject_unit_id, cases::status, cases::decision_measure))
            .select((cases::subject_unit_id, cases::status, cases::decision_measure, count_star()))
            .into_boxed()
            .filter(case_predicate(scope, f, now))
            .load(conn)?;
        groups.extend(rows.into_iter().map(|(u, s, m, n)| (u, s, m.unwrap_or_default(), n)));
        cited.extend(
            cases::table
                .inner_join(case_indicators::table)
                .group_by((case_indicators::indicator_id, cases::status))
                .select((case_indicators::indicator_id, cases::status, count_star()))
                .into_boxed()
                .filter(case_indicator_predicate(scope, f, now))
                .load::<(String, String, i64)>(conn)?,
        );
    }
    let overdue: Vec<(String, i64)> = cases::table
        .group_by(cases::subject_unit_id)
        .select((cases::subject_unit_id, count_star()))
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .filter(overdue_at(now))
        .load(conn)?;
    let above = &breakdown.above;
    let mut measures: BTreeMap<String, i64> = BTreeMap::new();
    for (unit, status, measure, n) in groups {
        out.cases.add(&status, n);
        if status == HANDLED {
            *measures.entry(measure).or_default() += n;
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
    out.by_measure = measures.into_iter().filter(|(_, n)| *n != 0).collect();
    for (indicator, status, n) in cited {
        out.by_indicator.entry(indicator).or_default().add(&status, n);
    }

    (out.subjects_detected, out.subjects_unhandled) = subjects(conn, scope, f, now)?;
    out.subjects_repeat = repeat_subjects(conn, scope, f, now)?;
    out.decisions = cases::table
        .inner_join(case_decisions::table)
        .group_by((case_decisions::system, case_decisions::measure))
        .select((case_decisions::system, case_decisions::measure, count_star()))
        .into_boxed()
        .filter(case_decision_predicate(scope, f, now))
        .filter(case_decisions::superseded.eq(false))
        .filter(cases::status.ne(NOT_STANDING))
        .order((case_decisions::system, case_decisions::measure))
        .load(conn)?;

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

/// Distinct subjects with a standing violation, and those of them not yet handled.
///
/// Over all time, subjects come from the subject rollups. Otherwise
/// each figure is a distinct count over the cut's cases, which the database finds
/// through the index of whatever the cut names (a period, a campaign, units) with the
/// subject beside it. A subject is its record (`subjects`), wherever its cases were found.
/// For a subtree, the subjects found in its units are counted through their index, and
/// those reached through a responsible unit in it are added unless found inside too (a
/// subject unhandled in either part is unhandled): each subject once.
fn subjects(conn: &mut DbConn, scope: &CaseScope, f: &CaseFilter, now: NaiveDateTime) -> QueryResult<(i64, i64)> {
    // Both figures in one pass over the cut's standing cases.
    let counted = |conn: &mut DbConn, scope: &CaseScope, cut: &CaseFilter| -> QueryResult<(i64, i64)> {
        let unclosed = case_when(cases::status.ne(HANDLED), cases::subject_key);
        cases::table
            .select((count(cases::subject_key).aggregate_distinct(), count(unclosed).aggregate_distinct()))
            .into_boxed()
            .filter(case_predicate(scope, cut, now))
            .filter(cases::status.ne(NOT_STANDING))
            .first(conn)
    };
    let unit_cut = match scope {
        CaseScope::Subtree(unit) => Some((f.clone(), unit.clone())),
        CaseScope::All => f.unit_id.clone().map(|u| (CaseFilter { unit_id: None, ..f.clone() }, u)),
        _ => None,
    };
    let Some((rest, unit)) = unit_cut.filter(|_| f.subject_unit_id.is_none() && f.responsible_only_unit_id.is_none())
    else {
        if matches!(scope, CaseScope::All) && rollup::whole_history(f) {
            return rollup::subject_counts(conn, None);
        }
        return counted(conn, scope, f);
    };
    if rollup::whole_history(&rest) {
        let inside = rollup::subject_counts(conn, Some(&unit))?;
        let outside = rollup::responsible_only_subjects(conn, &unit)?;
        return beside(inside, outside, |conn, keys| rollup::found_within(conn, &unit, keys), conn);
    }
    let inside_cut = CaseFilter { subject_unit_id: Some(unit.clone()), ..rest.clone() };
    let inside = counted(conn, &CaseScope::All, &inside_cut)?;
    let statuses = |conn: &mut DbConn, cut: &CaseFilter, keys: Option<&[String]>| -> QueryResult<Vec<(String, bool)>> {
        let mut q = cases::table
            .filter(case_predicate(&CaseScope::All, cut, now))
            .filter(cases::status.ne(NOT_STANDING))
            .select((cases::subject_key, cases::status))
            .distinct()
            .into_boxed();
        if let Some(keys) = keys {
            q = q.filter(cases::subject_key.eq_any(keys.to_vec()));
        }
        Ok(q.load::<(String, String)>(conn)?.into_iter().map(|(k, s)| (k, s != HANDLED)).collect())
    };
    let outside = statuses(conn, &CaseFilter { responsible_only_unit_id: Some(unit), ..rest }, None)?;
    beside(inside, outside, |conn, keys| statuses(conn, &inside_cut, Some(keys)), conn)
}

/// `inside` (distinct subjects, and those unhandled) with the subjects of `outside` (each
/// row a subject and whether that case is unhandled) added that `found_inside` does not
/// already count: the union's two figures. Looked up in slices, as the outside part is
/// the small one.
fn beside(
    inside: (i64, i64),
    outside: Vec<(String, bool)>,
    mut found_inside: impl FnMut(&mut DbConn, &[String]) -> QueryResult<Vec<(String, bool)>>,
    conn: &mut DbConn,
) -> QueryResult<(i64, i64)> {
    let mut extra: HashMap<String, bool> = HashMap::new();
    for (key, unhandled) in outside {
        *extra.entry(key).or_default() |= unhandled;
    }
    let keys: Vec<String> = extra.keys().cloned().collect();
    let mut inside_unhandled: HashMap<String, bool> = HashMap::new();
    for slice in keys.chunks(500) {
        for (key, unhandled) in found_inside(conn, slice)? {
            *inside_unhandled.entry(key).or_default() |= unhandled;
        }
    }
    let (mut detected, mut unhandled) = inside;
    for (key, open) in extra {
        match inside_unhandled.get(&key) {
            None => {
                detected += 1;
                unhandled += open as i64;
            }
            Some(counted_open) => unhandled += (open && !counted_open) as i64,
        }
    }
    Ok((detected, unhandled))
}

/// Subjects with more than one standing case: over all time from the subject rollup (for
/// a subtree, the subjects found in its units), otherwise from the cut's cases.
fn repeat_subjects(conn: &mut DbConn, scope: &CaseScope, f: &CaseFilter, now: NaiveDateTime) -> QueryResult<i64> {
    use crate::db::schema::subject_stats as s;
    use diesel::dsl::sum;
    let unit = match scope {
        CaseScope::All => Some(None),
        CaseScope::Subtree(u) => Some(Some(u.clone())),
        _ => None,
    };
    if let Some(unit) = unit.filter(|_| rollup::whole_history(f)) {
        let mut q =
            s::table.group_by(s::subject_key).having(sum(s::detected).gt(1)).select(s::subject_key).into_boxed();
        if let Some(u) = unit {
            q = q.filter(s::subject_unit_id.eq_any(subtree_ids(&u)));
        }
        return Ok(q.load::<String>(conn)?.len() as i64);
    }
    let keys: Vec<String> = cases::table
        .group_by(cases::subject_key)
        .having(count_star().gt(1))
        .select(cases::subject_key)
        .into_boxed()
        .filter(case_predicate(scope, f, now))
        .filter(cases::status.ne(NOT_STANDING))
        .load(conn)?;
    Ok(keys.len() as i64)
}

/// The rows of a by-unit breakdown, and for each unit the rows its cases count in.
#[derive(Debug, Default)]
pub struct Breakdown {
    pub rows: Vec<String>,
    pub above: HashMap<String, Vec<String>>,
}

/// The breakdown of `root`: by its living children in today's tree (ended units count
/// in their successors), or, `as_of` a day, by the tree as it stood then.
pub fn breakdown(conn: &mut DbConn, root: Option<&str>, as_of: Option<chrono::NaiveDate>) -> QueryResult<Breakdown> {
    let Some(root) = root else { return Ok(Breakdown::default()) };
    match as_of {
        None => {
            let rows = unit_and_children(conn, root)?;
            let above = roots_above(conn, &rows)?;
            Ok(Breakdown { rows, above })
        }
        Some(day) => {
            let tree = super::tree_at::TreeAt::load(conn, day)?;
            let rows = tree.rows_of(root);
            let above = tree.rolls_into(&rows);
            Ok(Breakdown { rows, above })
        }
    }
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

/// A unit and its direct children that still exist: the rows a by-unit breakdown rolls
/// up to. Ended units sit under their successors, so their cases roll into them.
pub fn unit_and_children(conn: &mut DbConn, unit_id: &str) -> QueryResult<Vec<String>> {
    let mut ids = vec![unit_id.to_string()];
    ids.extend(
        units::table
            .filter(units::parent_id.eq(unit_id))
            .filter(units::ended_on.is_null())
            .order(units::code)
            .select(units::id)
            .load::<String>(conn)?,
    );
    Ok(ids)
}

/// Cases per month of detection (the month's first day) and status, from the rollup for
/// whole months and from the cases for the days at either end of the period.
pub fn per_month(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    now: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDate, String, i64)>> {
    if !rollup::answers(f) {
        return per_day(conn, scope, f, now);
    }
    let scope = &widest_equivalent(conn, scope)?;
    let split = split_period(f.from, f.to);
    let mut rows = match split.months {
        Some(months) => rollup::month_groups(conn, scope, f, months)?,
        None => Vec::new(),
    };
    for (from, to) in split.days {
        rows.extend(per_day(conn, scope, &CaseFilter { from, to, ..f.clone() }, now)?);
    }
    Ok(rows)
}

/// The cases `scope` sees, counted by status, and the overdue ones: a work queue's tabs.
pub fn status_counts(conn: &mut DbConn, scope: &CaseScope, now: NaiveDateTime) -> QueryResult<Counts> {
    let scope = &widest_equivalent(conn, scope)?;
    let f = CaseFilter::default();
    let mut counts = Counts::default();
    if let Some(months) = split_period(None, None).months {
        for (status, n) in rollup::status_groups(conn, scope, &f, months)? {
            counts.add(&status, n);
        }
    }
    counts.overdue = cases::table
        .into_boxed()
        .filter(case_predicate(scope, &f, now))
        .filter(overdue_at(now))
        .count()
        .get_result(conn)?;
    Ok(counts)
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

//! The report rollups, kept in step with `cases` inside each change's own transaction:
//! `case_stats` (case counts per detection month and per every column a report filters
//! or groups by), `status_stats` (the same over all time, per status and the columns a
//! scope looks at: a few hundred rows for the queue's counts), `subject_stats` (per subject over all time) and
//! `responsible_subject_stats` (per responsible unit and subject over all time), so that
//! a report reads a few thousand rows instead of every case.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::connection::SimpleConnection;
use diesel::dsl::{case_when, count, sum};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::case::{Case, CaseFilter, CaseScope, Db, scope_rule};
use super::unit::subtree_ids;
use crate::db::schema::{case_stats, responsible_subject_stats, status_stats, subject_stats};
use crate::db::{DbConn, dialect};
use crate::domain::report::Period;
use crate::domain::workflow::{HANDLED, NOT_STANDING};

/// One rollup row: `cases` counts the cases (indicator_id '') or the citations of one
/// indicator with these values; '' stands for a missing unit or measure.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Insertable)]
#[diesel(table_name = case_stats)]
struct StatRow {
    indicator_id: String,
    detected_month: NaiveDate,
    subject_unit_id: String,
    responsible_unit_id: String,
    campaign_id: String,
    directive_id: String,
    status: String,
    decision_measure: String,
    cases: i32,
    shard: i16,
}

/// An upsert that adds the given rows' counts to the rollup.
macro_rules! add_to {
    ($values:expr) => {{
        use case_stats::dsl as s;
        diesel::insert_into(s::case_stats)
            .values($values)
            .on_conflict((
                s::indicator_id,
                s::detected_month,
                s::subject_unit_id,
                s::responsible_unit_id,
                s::campaign_id,
                s::directive_id,
                s::status,
                s::decision_measure,
                s::shard,
            ))
            .do_update()
            .set(s::cases.eq(s::cases + excluded(s::cases)))
            .returning(s::cases)
    }};
}

/// Cases per status over all time, by the columns of a scope and an all-time filter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Insertable)]
#[diesel(table_name = status_stats)]
struct StatusRow {
    subject_unit_id: String,
    responsible_unit_id: String,
    campaign_id: String,
    directive_id: String,
    status: String,
    cases: i32,
    shard: i16,
}

/// An upsert that adds the given rows' counts to the status rollup.
macro_rules! add_to_statuses {
    ($values:expr) => {{
        use status_stats::dsl as s;
        diesel::insert_into(s::status_stats)
            .values($values)
            .on_conflict((
                s::subject_unit_id,
                s::responsible_unit_id,
                s::campaign_id,
                s::directive_id,
                s::status,
                s::shard,
            ))
            .do_update()
            .set(s::cases.eq(s::cases + excluded(s::cases)))
            .returning(s::cases)
    }};
}

/// One subject's standing cases (all but dismissed) and, of those, the ones not closed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Insertable)]
#[diesel(table_name = subject_stats)]
struct SubjectRow {
    subject_key: String,
    subject_unit_id: String,
    detected: i32,
    unhandled: i32,
}

/// An upsert that adds the given rows' counts to the subject rollup.
macro_rules! add_to_subjects {
    ($values:expr) => {{
        use subject_stats::dsl as s;
        diesel::insert_into(s::subject_stats)
            .values($values)
            .on_conflict((s::subject_unit_id, s::subject_key))
            .do_update()
            .set((
                s::detected.eq(s::detected + excluded(s::detected)),
                s::unhandled.eq(s::unhandled + excluded(s::unhandled)),
            ))
            .returning(s::detected)
    }};
}

/// The same counts per (responsible unit, subject), for cases that name a responsible unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Insertable)]
#[diesel(table_name = responsible_subject_stats)]
struct ResponsibleRow {
    responsible_unit_id: String,
    subject_key: String,
    subject_unit_id: String,
    detected: i32,
    unhandled: i32,
}

/// An upsert that adds the given rows' counts to the responsible-unit rollup.
macro_rules! add_to_responsible {
    ($values:expr) => {{
        use responsible_subject_stats::dsl as s;
        diesel::insert_into(s::responsible_subject_stats)
            .values($values)
            .on_conflict((s::responsible_unit_id, s::subject_key))
            .do_update()
            .set((
                s::detected.eq(s::detected + excluded(s::detected)),
                s::unhandled.eq(s::unhandled + excluded(s::unhandled)),
            ))
            .returning(s::detected)
    }};
}

/// Adds a change's standing and unhandled counts under `key` (a case whose `key` is
/// `None` counts nowhere) to `net`.
fn add_standing<K: Ord>(
    net: &mut BTreeMap<K, (i32, i32)>,
    before: Option<&Case>,
    after: &Case,
    key: impl Fn(&Case) -> Option<K>,
) {
    for (case, sign) in before.map(|c| (c, -1)).into_iter().chain([(after, 1)]) {
        let Some(k) = key(case) else { continue };
        let standing = case.status.stands();
        let unhandled = standing && !case.status.handled();
        let n = net.entry(k).or_default();
        (n.0, n.1) = (n.0 + sign * i32::from(standing), n.1 + sign * i32::from(unhandled));
    }
}

/// The net standing and unhandled counts per key, in key order, without the zeros.
fn nonzero<K: Ord>(net: BTreeMap<K, (i32, i32)>) -> impl Iterator<Item = (K, i32, i32)> {
    net.into_iter().filter(|(_, n)| *n != (0, 0)).map(|(k, (d, u))| (k, d, u))
}

/// The rows one case counts in, each with `cases` 0: the case itself and each indicator it cites.
fn keys_of<'a>(case: &'a Case, indicator_ids: &'a [String], shard: i16) -> impl Iterator<Item = StatRow> + 'a {
    std::iter::once("").chain(indicator_ids.iter().map(String::as_str)).map(move |indicator| StatRow {
        indicator_id: indicator.to_string(),
        detected_month: case.detected_on.with_day(1).expect("every month has a first day"),
        subject_unit_id: case.subject_unit_id.clone(),
        responsible_unit_id: case.responsible_unit_id.clone().unwrap_or_default(),
        campaign_id: case.campaign_id.clone(),
        directive_id: case.directive_id.clone(),
        status: case.status.into(),
        decision_measure: case.decision_measure.clone().unwrap_or_default(),
        cases: 0,
        shard,
    })
}

/// How many shards besides shard 0 the case and status rollups have on PostgreSQL.
const SHARDS: u128 = 8;

/// The shard a change adds its counts to. On PostgreSQL one of 1–[`SHARDS`] at random:
/// changes that count in the same rows (the same campaign, unit and month) then mostly
/// lock different ones, instead of each waiting for the last one's commit; [`fold`]
/// moves them back into shard 0. SQLite admits one writer at a time: always shard 0.
fn shard_for(conn: &DbConn) -> i16 {
    if dialect::writers_run_at_once(conn.backend()) { (1 + uuid::Uuid::new_v4().as_u128() % SHARDS) as i16 } else { 0 }
}

/// Moves a case's counts from what it was (`None` when new) to what it is now.
///
/// Only net changes are written, table by table in the order the module names them and
/// each in key order, so that concurrent changes lock rollup rows in one order and
/// cannot deadlock each other.
pub fn record(conn: &mut DbConn, before: Option<(&Case, &[String])>, after: (&Case, &[String])) -> QueryResult<()> {
    record_many(conn, &[(before, after)])
}

/// A case as it was (`None` when new) and as it is, each with the indicators it cites.
pub type Change<'a> = (Option<(&'a Case, &'a [String])>, (&'a Case, &'a [String]));

/// Moves the counts of many changed cases at once (a reorganisation hands thousands
/// over): their net changes are summed first and written as one set of rows.
pub fn record_many(conn: &mut DbConn, changes: &[Change<'_>]) -> QueryResult<()> {
    let shard = shard_for(conn);
    let mut net: BTreeMap<StatRow, i32> = BTreeMap::new();
    let mut by_subject = BTreeMap::new();
    let mut by_responsible = BTreeMap::new();
    for (before, after) in changes {
        for key in before.iter().flat_map(|(c, i)| keys_of(c, i, shard)) {
            *net.entry(key).or_default() -= 1;
        }
        for key in keys_of(after.0, after.1, shard) {
            *net.entry(key).or_default() += 1;
        }
        let before_case = before.map(|(c, _)| c);
        add_standing(&mut by_subject, before_case, after.0, |c| {
            Some((c.subject_key.clone(), c.subject_unit_id.clone()))
        });
        add_standing(&mut by_responsible, before_case, after.0, |c| {
            c.responsible_unit_id.clone().map(|r| (r, c.subject_key.clone(), c.subject_unit_id.clone()))
        });
    }
    let rows: Vec<StatRow> =
        net.into_iter().filter(|(_, n)| *n != 0).map(|(key, n)| StatRow { cases: n, ..key }).collect();
    // The case rows (not the citations) without month and measure, summed.
    let mut by_status: BTreeMap<StatusRow, i32> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.indicator_id.is_empty()) {
        let key = StatusRow {
            subject_unit_id: r.subject_unit_id.clone(),
            responsible_unit_id: r.responsible_unit_id.clone(),
            campaign_id: r.campaign_id.clone(),
            directive_id: r.directive_id.clone(),
            status: r.status.clone(),
            cases: 0,
            shard,
        };
        *by_status.entry(key).or_default() += r.cases;
    }
    let statuses: Vec<StatusRow> =
        by_status.into_iter().filter(|(_, n)| *n != 0).map(|(key, n)| StatusRow { cases: n, ..key }).collect();
    let subjects: Vec<SubjectRow> = nonzero(by_subject)
        .map(|((subject_key, subject_unit_id), detected, unhandled)| SubjectRow {
            subject_key,
            subject_unit_id,
            detected,
            unhandled,
        })
        .collect();
    // One row per (responsible unit, subject), the table's key: a subject found in two
    // units (a person who moved) sums into one, which keeps the unit it was first
    // counted with, as the upsert does.
    let mut per_key: BTreeMap<(String, String), ResponsibleRow> = BTreeMap::new();
    for ((responsible_unit_id, subject_key, subject_unit_id), detected, unhandled) in nonzero(by_responsible) {
        let row = per_key.entry((responsible_unit_id.clone(), subject_key.clone())).or_insert(ResponsibleRow {
            responsible_unit_id,
            subject_key,
            subject_unit_id,
            detected: 0,
            unhandled: 0,
        });
        (row.detected, row.unhandled) = (row.detected + detected, row.unhandled + unhandled);
    }
    let responsible: Vec<ResponsibleRow> =
        per_key.into_values().filter(|r| (r.detected, r.unhandled) != (0, 0)).collect();
    crate::upsert_rows!(&mut *conn, rows, add_to -> i32);
    crate::upsert_rows!(&mut *conn, statuses, add_to_statuses -> i32);
    crate::upsert_rows!(&mut *conn, subjects, add_to_subjects -> i32);
    crate::upsert_rows!(&mut *conn, responsible, add_to_responsible -> i32);
    Ok(())
}

/// Recounts the rollups from `cases`: after cases were loaded or repaired by hand in SQL.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<()> {
    // What `add_standing` counts per case, as sums over a group of cases.
    let standing = format!(
        "SUM(CASE WHEN status <> '{NOT_STANDING}' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status NOT IN ('{NOT_STANDING}', '{HANDLED}') THEN 1 ELSE 0 END)"
    );
    // Writers wait until the recount commits, then apply their change on top of it.
    let backend = conn.backend();
    let lock = dialect::exclusive_table_lock(
        backend,
        &["case_stats", "status_stats", "subject_stats", "responsible_subject_stats"],
    );
    let month = dialect::month_start(backend, "c.detected_on");
    let sql = format!(
        "{lock} DELETE FROM case_stats; \
         INSERT INTO case_stats \
           SELECT '', {month}, c.subject_unit_id, COALESCE(c.responsible_unit_id, ''), c.campaign_id, \
             c.directive_id, c.status, COALESCE(c.decision_measure, ''), COUNT(*), 0 \
           FROM cases c GROUP BY 2, 3, 4, 5, 6, 7, 8; \
         INSERT INTO case_stats \
           SELECT ci.indicator_id, {month}, c.subject_unit_id, COALESCE(c.responsible_unit_id, ''), c.campaign_id, \
             c.directive_id, c.status, COALESCE(c.decision_measure, ''), COUNT(*), 0 \
           FROM cases c JOIN case_indicators ci ON ci.case_id = c.id GROUP BY 1, 2, 3, 4, 5, 6, 7, 8; \
         DELETE FROM status_stats; \
         INSERT INTO status_stats \
           SELECT subject_unit_id, COALESCE(responsible_unit_id, ''), campaign_id, directive_id, status, COUNT(*), 0 \
           FROM cases GROUP BY 1, 2, 3, 4, 5; \
         DELETE FROM subject_stats; \
         INSERT INTO subject_stats \
           SELECT subject_unit_id, subject_key, {standing} FROM cases GROUP BY subject_unit_id, subject_key; \
         DELETE FROM responsible_subject_stats; \
         INSERT INTO responsible_subject_stats \
           SELECT responsible_unit_id, subject_key, MIN(subject_unit_id), {standing} \
           FROM cases WHERE responsible_unit_id IS NOT NULL GROUP BY responsible_unit_id, subject_key;"
    );
    crate::db::write_tx(conn, |conn| conn.batch_execute(&sql))
}

/// One fold at a time across every server on the database.
const FOLD_LOCK_KEY: i64 = 0x6361_7365_666f_6c64; // "casefold"

/// Moves what changes added to the case rollup's shards 1–8 into shard 0, summed per key.
/// Rows a change still holds are skipped, not waited for: they are folded next time.
const CASE_FOLD: &str = "WITH moved AS ( \
       DELETE FROM case_stats WHERE ctid = ANY(ARRAY( \
         SELECT ctid FROM case_stats WHERE shard <> 0 FOR UPDATE SKIP LOCKED)) \
       RETURNING indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id, \
         status, decision_measure, cases) \
     INSERT INTO case_stats (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, \
       directive_id, status, decision_measure, cases, shard) \
     SELECT indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, \
       decision_measure, SUM(cases)::integer, 0 \
     FROM moved GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 \
     ON CONFLICT (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id, \
       status, decision_measure, shard) \
     DO UPDATE SET cases = case_stats.cases + excluded.cases";

/// The same for the status rollup.
const STATUS_FOLD: &str = "WITH moved AS ( \
       DELETE FROM status_stats WHERE ctid = ANY(ARRAY( \
         SELECT ctid FROM status_stats WHERE shard <> 0 FOR UPDATE SKIP LOCKED)) \
       RETURNING subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, cases) \
     INSERT INTO status_stats (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, cases, shard) \
     SELECT subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, SUM(cases)::integer, 0 \
     FROM moved GROUP BY 1, 2, 3, 4, 5 \
     ON CONFLICT (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, shard) \
     DO UPDATE SET cases = status_stats.cases + excluded.cases";

/// Folds the case and status rollups' shards 1–8 back into shard 0 (see [`shard_for`]),
/// so that reports sum a few rows per key however long the servers run; the sweep calls
/// it. A fold never waits for a change, and changes write shard 0 on SQLite only, where
/// there is nothing to fold.
pub fn fold(conn: &mut DbConn) -> QueryResult<()> {
    if !dialect::writers_run_at_once(conn.backend()) {
        return Ok(());
    }
    crate::db::write_tx(conn, |conn| {
        if dialect::try_lock(conn, FOLD_LOCK_KEY)? {
            diesel::sql_query(CASE_FOLD).execute(conn)?;
            diesel::sql_query(STATUS_FOLD).execute(conn)?;
        }
        Ok(())
    })
}

/// Whether the rollup can answer a filter: it holds only the columns reports filter by.
pub fn answers(f: &CaseFilter) -> bool {
    f.responsible_only_unit_id.is_none()
        && f.indicator_id.is_none()
        && f.status.is_none()
        && f.overdue.is_none()
        && f.repeat.is_none()
        && f.q.as_deref().is_none_or(str::is_empty)
}

type Pred<'a> = Box<dyn BoxableExpression<case_stats::table, Db, SqlType = diesel::sql_types::Bool> + 'a>;
type StatusPred<'a> = Box<dyn BoxableExpression<status_stats::table, Db, SqlType = diesel::sql_types::Bool> + 'a>;

/// Scope and the unit, campaign and directive filters as a predicate over one rollup
/// table (`case_stats` or `status_stats`, which share those columns), meaning what
/// `case_predicate` means over `cases`.
macro_rules! scope_predicate {
    ($table:ident, $pred:ty, $scope:expr, $f:expr) => {{
        let in_subtree = |unit: &String| -> $pred {
            Box::new(
                $table::subject_unit_id
                    .eq_any(subtree_ids(unit))
                    .or($table::responsible_unit_id.eq_any(subtree_ids(unit))),
            )
        };
        let mut p: $pred = scope_rule!($scope, $pred, $table::campaign_id, in_subtree);
        let f: &CaseFilter = $f;
        if let Some(d) = &f.directive_id {
            p = Box::new(p.and($table::directive_id.eq(d.clone())));
        }
        if let Some(c) = &f.campaign_id {
            p = Box::new(p.and($table::campaign_id.eq(c.clone())));
        }
        if let Some(u) = &f.unit_id {
            p = Box::new(p.and(in_subtree(u)));
        }
        if let Some(u) = &f.subject_unit_id {
            p = Box::new(p.and($table::subject_unit_id.eq_any(subtree_ids(u))));
        }
        p
    }};
}

/// Scope, filters and whole months as a predicate over the rollup, meaning what
/// `case_predicate` means over `cases` (for the filters [`answers`] accepts).
fn predicate<'a>(scope: &CaseScope, f: &CaseFilter, (first, last): Period) -> Pred<'a> {
    let mut p = scope_predicate!(case_stats, Pred<'a>, scope, f);
    if let Some(m) = first {
        p = Box::new(p.and(case_stats::detected_month.ge(m)));
    }
    if let Some(m) = last {
        p = Box::new(p.and(case_stats::detected_month.le(m)));
    }
    p
}

/// Cases per status over whole `months`.
pub fn status_groups(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    months: Period,
) -> QueryResult<Vec<(String, i64)>> {
    if months == (None, None) {
        // All time: the status rollup answers with a few hundred rows.
        let rows: Vec<(String, Option<i64>)> = status_stats::table
            .group_by(status_stats::status)
            .select((status_stats::status, sum(status_stats::cases)))
            .into_boxed()
            .filter(scope_predicate!(status_stats, StatusPred<'_>, scope, f))
            .load(conn)?;
        return Ok(rows.into_iter().map(|(s, n)| (s, n.unwrap_or(0))).collect());
    }
    let rows: Vec<(String, Option<i64>)> = case_stats::table
        .filter(case_stats::indicator_id.eq(""))
        .group_by(case_stats::status)
        .select((case_stats::status, sum(case_stats::cases)))
        .into_boxed()
        .filter(predicate(scope, f, months))
        .load(conn)?;
    Ok(rows.into_iter().map(|(s, n)| (s, n.unwrap_or(0))).collect())
}

/// Cases per (month of detection, status) over whole `months`: the monthly series.
pub fn month_groups(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    months: Period,
) -> QueryResult<Vec<(NaiveDate, String, i64)>> {
    let rows: Vec<(NaiveDate, String, Option<i64>)> = case_stats::table
        .filter(case_stats::indicator_id.eq(""))
        .group_by((case_stats::detected_month, case_stats::status))
        .select((case_stats::detected_month, case_stats::status, sum(case_stats::cases)))
        .into_boxed()
        .filter(predicate(scope, f, months))
        .load(conn)?;
    Ok(rows.into_iter().map(|(m, s, n)| (m, s, n.unwrap_or(0))).collect())
}

/// Cases per (subject unit, status, measure) over whole `months`.
pub fn case_groups(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    months: Period,
) -> QueryResult<Vec<(String, String, String, i64)>> {
    let rows: Vec<(String, String, String, Option<i64>)> = case_stats::table
        .filter(case_stats::indicator_id.eq(""))
        .group_by((case_stats::subject_unit_id, case_stats::status, case_stats::decision_measure))
        .select((case_stats::subject_unit_id, case_stats::status, case_stats::decision_measure, sum(case_stats::cases)))
        .into_boxed()
        .filter(predicate(scope, f, months))
        .load(conn)?;
    // A group whose cases all moved elsewhere sums to 0: it is no group.
    Ok(rows.into_iter().filter_map(|(u, s, m, n)| n.filter(|n| *n != 0).map(|n| (u, s, m, n))).collect())
}

/// Citations per (indicator, status) over whole `months`.
pub fn indicator_groups(
    conn: &mut DbConn,
    scope: &CaseScope,
    f: &CaseFilter,
    months: Period,
) -> QueryResult<Vec<(String, String, i64)>> {
    let rows: Vec<(String, String, Option<i64>)> = case_stats::table
        .filter(case_stats::indicator_id.ne(""))
        .group_by((case_stats::indicator_id, case_stats::status))
        .select((case_stats::indicator_id, case_stats::status, sum(case_stats::cases)))
        .into_boxed()
        .filter(predicate(scope, f, months))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(i, s, n)| n.filter(|n| *n != 0).map(|n| (i, s, n))).collect())
}

/// Whether a filter cuts nothing (a unit cut comes as the scope): then subjects can be
/// counted over all time.
pub fn whole_history(f: &CaseFilter) -> bool {
    *f == CaseFilter::default()
}

/// Over all time: subjects with a standing case, and those with one not yet closed;
/// only subjects of units in `unit`'s subtree when given.
pub fn subject_counts(conn: &mut DbConn, unit: Option<&str>) -> QueryResult<(i64, i64)> {
    let mut q = subject_stats::table.into_boxed().filter(subject_stats::detected.gt(0));
    if let Some(u) = unit {
        q = q.filter(subject_stats::subject_unit_id.eq_any(subtree_ids(u)));
    }
    // A subject found in several units has a row in each: counted once, by its record.
    let unhandled = case_when(subject_stats::unhandled.gt(0), subject_stats::subject_key);
    q.select((count(subject_stats::subject_key).aggregate_distinct(), count(unhandled).aggregate_distinct()))
        .first(conn)
}

/// Over all time, the subjects outside `unit`'s subtree that a unit inside it was made
/// responsible for, each with whether a case of theirs there is still unhandled.
pub fn responsible_only_subjects(conn: &mut DbConn, unit: &str) -> QueryResult<Vec<(String, bool)>> {
    use responsible_subject_stats as r;
    let rows: Vec<(String, i32)> = r::table
        .filter(r::detected.gt(0))
        .filter(r::responsible_unit_id.eq_any(subtree_ids(unit)))
        .filter(diesel::dsl::not(r::subject_unit_id.eq_any(subtree_ids(unit))))
        .select((r::subject_key, r::unhandled))
        .load(conn)?;
    Ok(rows.into_iter().map(|(k, unhandled)| (k, unhandled > 0)).collect())
}

/// Over all time, which of `keys` were also found in `unit`'s subtree, each with whether
/// a case of theirs found there is still unhandled.
pub fn found_within(conn: &mut DbConn, unit: &str, keys: &[String]) -> QueryResult<Vec<(String, bool)>> {
    let rows: Vec<(String, i32)> = subject_stats::table
        .filter(subject_stats::detected.gt(0))
        .filter(subject_stats::subject_key.eq_any(keys))
        .filter(subject_stats::subject_unit_id.eq_any(subtree_ids(unit)))
        .select((subject_stats::subject_key, subject_stats::unhandled))
        .load(conn)?;
    Ok(rows.into_iter().map(|(k, unhandled)| (k, unhandled > 0)).collect())
}

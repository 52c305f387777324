//! Violation cases: rows, numbering, scoped queries, and their timeline.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::exists;
use diesel::prelude::*;

use super::new_id;
use super::unit::subtree_ids;
use crate::db::schema::{campaign_members, case_events, case_indicators, cases, unit_closure};
use crate::db::{Cached, DbConn};
use crate::domain::case_terms::SubjectKind;
use crate::domain::fold;
use crate::domain::workflow::{OVERDUE_STATES, Status};
use crate::per_backend;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = cases, treat_none_as_null = true)]
pub struct Case {
    pub id: String,
    pub number: String,
    pub campaign_id: String,
    pub directive_id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub subject_kind: SubjectKind,
    pub subject_unit_id: String,
    pub person_name: Option<String>,
    pub person_position: Option<String>,
    pub subject_key: String,
    pub title: String,
    pub description: String,
    pub detected_on: NaiveDate,
    /// A level of the handling catalog (`severity_levels`).
    pub severity: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: Status,
    pub responsible_unit_id: Option<String>,
    pub due_at: Option<NaiveDateTime>,
    pub deadline_at: Option<NaiveDateTime>,
    pub decision_measure: Option<String>,
    pub decision_decided_on: Option<NaiveDate>,
    pub decision_reference: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub search_text: String,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The subject's record (`subjects`); `subject_key` is the same id, what counts use.
    pub subject_id: Option<String>,
    /// For a case about a named body inside the unit, that body's name as logged.
    pub body_name: Option<String>,
}

/// Which cases a caller may see; applied inside every query that returns or counts cases.
#[derive(Debug, Clone)]
pub enum CaseScope {
    /// Inspectors: cases of the campaigns they belong to.
    CampaignsOf(String),
    /// Reviewers and unit heads: subject or responsible unit in this unit's subtree.
    Subtree(String),
    /// Callers who see no cases.
    Nothing,
    /// The service itself (the escalation sweep).
    All,
}

/// Filters of `GET /cases`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CaseFilter {
    pub directive_id: Option<String>,
    pub campaign_id: Option<String>,
    /// Subject or responsible unit in this unit's subtree.
    pub unit_id: Option<String>,
    /// Subject unit in this unit's subtree.
    pub subject_unit_id: Option<String>,
    /// Responsible unit in this unit's subtree and subject unit outside it: the cases a
    /// subtree holds only because one of its units handles them.
    pub responsible_only_unit_id: Option<String>,
    /// Responsible unit in this unit's subtree (a unit head's own cases).
    pub responsible_unit_id: Option<String>,
    pub indicator_id: Option<String>,
    pub status: Option<String>,
    /// Some(true): overdue only; Some(false): not overdue.
    pub overdue: Option<bool>,
    /// Some(true): the subject has another standing case found on or before this one (a
    /// repeat violation); Some(false): none.
    pub repeat: Option<bool>,
    pub q: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The orders the case list offers besides newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOrder {
    /// Nearest (or most overdue) deadline first; cases without one are left out.
    Deadline,
    /// Most recently changed first.
    Activity,
}

/// SQL for "overdue at `now`": an open or in-handling case whose deadline has passed.
#[diesel::dsl::auto_type]
pub fn overdue_at(now: NaiveDateTime) -> _ {
    let states: [&'static str; 2] = OVERDUE_STATES;
    cases::status.eq_any(states).and(cases::deadline_at.is_not_null()).and(cases::deadline_at.le(now).assume_not_null())
}

impl Case {
    /// Overdue at `now`: in a state that can be, with its deadline passed (the rule's one
    /// home for a loaded case; SQL lists compare `deadline_at` the same way).
    pub fn is_overdue(&self, now: NaiveDateTime) -> bool {
        crate::domain::deadline::is_overdue(self.status.can_be_overdue(), self.deadline_at, now)
    }

    /// Hands out the next number of `year` (`2024-000123`) from the pool of numbers counted
    /// out ahead: unique under concurrent creates, and returned if the create rolls back.
    pub fn next_number(conn: &mut DbConn, year: i32) -> QueryResult<String> {
        Ok(format!("{year}-{:06}", crate::db::next_case_number(conn, year)?))
    }

    /// The folded text `q` searches: title, description, subject names.
    pub fn search_text_of(&self, unit_name: &str) -> String {
        let parts = [
            self.title.as_str(),
            self.description.as_str(),
            self.person_name.as_deref().unwrap_or(""),
            self.person_position.as_deref().unwrap_or(""),
            self.body_name.as_deref().unwrap_or(""),
            unit_name,
            self.number.as_str(),
        ];
        fold::fold(&parts.join(" \u{1f} "))
    }

    /// Stores a new case with the indicators it cites. The report rollups are moved by
    /// the operation that calls this (`casework`), in the same transaction.
    pub fn insert(&self, conn: &mut DbConn, indicator_ids: &[String]) -> QueryResult<()> {
        diesel::insert_into(cases::table).values(self.clone()).execute(conn)?;
        Case::cite(conn, &self.id, indicator_ids)
    }

    /// Replaces the indicators a case cites.
    fn set_indicators(conn: &mut DbConn, case_id: &str, indicator_ids: &[String]) -> QueryResult<()> {
        diesel::delete(case_indicators::table.filter(case_indicators::case_id.eq(case_id))).execute(conn)?;
        Case::cite(conn, case_id, indicator_ids)
    }

    /// Adds citations of `indicator_ids` to a case that cites none of them yet.
    fn cite(conn: &mut DbConn, case_id: &str, indicator_ids: &[String]) -> QueryResult<()> {
        for i in indicator_ids {
            diesel::insert_into(case_indicators::table)
                .values((case_indicators::case_id.eq(case_id), case_indicators::indicator_id.eq(i)))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Compare-and-swap: writes `self` (citing `indicator_ids`) over `before` (citing `before_ids`) if the
    /// stored version is still `before`'s (the rollups are moved by the caller, as for
    /// `insert`). False, with nothing written, when someone else changed the case first.
    pub fn replace_if_version(
        &self,
        conn: &mut DbConn,
        (before, before_ids): (&Case, &[String]),
        indicator_ids: &[String],
    ) -> QueryResult<bool> {
        let written: Vec<i64> = Cached(
            diesel::update(cases::table.find(&self.id).filter(cases::version.eq(before.version)))
                .set(self.clone())
                .returning(cases::version),
        )
        .load(conn)?;
        if written.len() != 1 {
            return Ok(false);
        }
        if indicator_ids != before_ids {
            Case::set_indicators(conn, &self.id, indicator_ids)?;
        }
        Ok(true)
    }

    /// One case with the indicator ids it cites (in order), if `scope` may see it.
    ///
    /// One statement, the indicators joined in. The scope is spelled out per variant
    /// rather than boxed (as `case_predicate` does for lists) so that each variant's
    /// statement is prepared once per connection: this is the hottest read of the service.
    pub fn find_visible(conn: &mut DbConn, id: &str, scope: &CaseScope) -> QueryResult<Option<(Case, Vec<String>)>> {
        // On the concrete connection (see `per_backend`), so the body is compiled once per backend.
        let rows: Vec<(Case, Option<String>)> = per_backend!(conn, |c| {
            let by_id = cases::table
                .left_join(case_indicators::table)
                .filter(cases::id.eq(id))
                .order(case_indicators::indicator_id)
                .select((Case::as_select(), case_indicators::indicator_id.nullable()));
            match scope {
                CaseScope::CampaignsOf(user) => by_id
                    .filter(
                        cases::campaign_id.eq_any(
                            campaign_members::table
                                .filter(campaign_members::user_id.eq(user))
                                .select(campaign_members::campaign_id),
                        ),
                    )
                    .load(c)?,
                CaseScope::Subtree(unit) => {
                    // Two probes of the closure's primary key, instead of listing the subtree.
                    let under = || unit_closure::table.filter(unit_closure::ancestor_id.eq(unit));
                    by_id
                        .filter(exists(under().filter(unit_closure::descendant_id.eq(cases::subject_unit_id))).or(
                            exists(
                                under().filter(unit_closure::descendant_id.nullable().eq(cases::responsible_unit_id)),
                            ),
                        ))
                        .load(c)?
                }
                CaseScope::Nothing => Vec::new(),
                CaseScope::All => by_id.load(c)?,
            }
        });
        let mut rows = rows.into_iter();
        Ok(rows.next().map(|(case, first)| {
            let ids: Vec<String> = first.into_iter().chain(rows.filter_map(|(_, i)| i)).collect();
            (case, ids)
        }))
    }

    /// A keyset page of visible cases, newest first.
    pub fn list_visible(
        conn: &mut DbConn,
        scope: &CaseScope,
        f: &CaseFilter,
        now: NaiveDateTime,
        before_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Case>> {
        let mut q = cases::table.into_boxed().filter(case_predicate(scope, f, now));
        if let Some(id) = before_id {
            q = q.filter(cases::id.lt(id.to_string()));
        }
        q.order(cases::id.desc()).limit(limit).select(Case::as_select()).load(conn)
    }

    /// A keyset page of visible cases in `order`, after the case `after` names (its sort
    /// key and id, as the previous page ended).
    pub fn list_ordered(
        conn: &mut DbConn,
        scope: &CaseScope,
        f: &CaseFilter,
        now: NaiveDateTime,
        order: CaseOrder,
        after: Option<(NaiveDateTime, String)>,
        limit: i64,
    ) -> QueryResult<Vec<Case>> {
        let mut q = cases::table.into_boxed().filter(case_predicate(scope, f, now));
        match order {
            CaseOrder::Deadline => {
                q = q.filter(cases::deadline_at.is_not_null());
                if let Some((at, id)) = after {
                    q = q.filter(
                        cases::deadline_at.gt(at).or(cases::deadline_at.eq(at).and(cases::id.gt(id))).assume_not_null(),
                    );
                }
                q = q.order((cases::deadline_at.asc(), cases::id.asc()));
            }
            CaseOrder::Activity => {
                if let Some((at, id)) = after {
                    q = q.filter(cases::updated_at.lt(at).or(cases::updated_at.eq(at).and(cases::id.lt(id))));
                }
                q = q.order((cases::updated_at.desc(), cases::id.desc()));
            }
        }
        q.limit(limit).select(Case::as_select()).load(conn)
    }

    /// Indicator ids of each case, in one query.
    pub fn indicators_of(conn: &mut DbConn, case_ids: &[String]) -> QueryResult<HashMap<String, Vec<String>>> {
        let rows: Vec<(String, String)> = case_indicators::table
            .filter(case_indicators::case_id.eq_any(case_ids))
            .order((case_indicators::case_id, case_indicators::indicator_id))
            .select((case_indicators::case_id, case_indicators::indicator_id))
            .load(conn)?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (c, i) in rows {
            map.entry(c).or_default().push(i);
        }
        Ok(map)
    }
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_events)]
pub struct CaseEvent {
    pub id: String,
    pub case_id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub kind: String,
    pub detail: String,
}

impl CaseEvent {
    /// Appends to the timeline; call inside the change's transaction.
    pub fn record(
        conn: &mut DbConn,
        case_id: &str,
        actor_id: Option<&str>,
        at: NaiveDateTime,
        kind: &str,
        detail: serde_json::Value,
    ) -> QueryResult<()> {
        let event = CaseEvent {
            id: new_id(),
            case_id: case_id.to_string(),
            at,
            actor_id: actor_id.map(str::to_string),
            kind: kind.to_string(),
            detail: detail.to_string(),
        };
        // The seal order is the column's default on PostgreSQL and the rowid on SQLite.
        diesel::insert_into(case_events::table).values(&event).execute(conn).map(drop)
    }

    /// The timeline in order, keyset-paged.
    pub fn list(conn: &mut DbConn, case_id: &str, after_id: Option<&str>, limit: i64) -> QueryResult<Vec<CaseEvent>> {
        let mut q = case_events::table.filter(case_events::case_id.eq(case_id.to_string())).into_boxed();
        if let Some(id) = after_id {
            q = q.filter(case_events::id.gt(id.to_string()));
        }
        q.order(case_events::id.asc()).limit(limit).select(CaseEvent::as_select()).load(conn)
    }
}

/// A comment on a case (also an event on its timeline).
pub struct Comment;

impl Comment {
    pub fn insert(
        conn: &mut DbConn,
        id: &str,
        case_id: &str,
        author_id: &str,
        body: &str,
        at: NaiveDateTime,
    ) -> QueryResult<()> {
        use crate::db::schema::case_comments;
        diesel::insert_into(case_comments::table)
            .values((
                case_comments::id.eq(id),
                case_comments::case_id.eq(case_id),
                case_comments::author_id.eq(author_id),
                case_comments::body.eq(body),
                case_comments::created_at.eq(at),
            ))
            .execute(conn)
            .map(drop)
    }
}

/// The backend of [`DbConn`] queries.
pub type Db = <DbConn as Connection>::Backend;

// The indicator filter's subquery reads case_indicators under another name, so it
// stays valid in queries that join case_indicators themselves.
diesel::alias!(case_indicators as cited: CitedIndicators);
// The repeat filter's subquery reads cases under another name.
diesel::alias!(cases as earlier: EarlierCases);

/// Which cases a scope lets its holder see, as a boxed predicate over any table that
/// carries a case's campaign and units (`cases` and its joins, the rollups): the one
/// statement of the rule. An inspector sees the cases of the campaigns they are members
/// of; a unit's reviewer or head the cases found in or handed to a unit under theirs
/// (`$in_subtree`, which says how the table at hand tests that); an administrator all.
/// [`Case::find_visible`] probes the same rule for one case through the closure's key.
macro_rules! scope_rule {
    ($scope:expr, $pred:ty, $campaign:expr, $in_subtree:expr) => {{
        use $crate::db::schema::campaign_members as members;
        use $crate::model::case::CaseScope;
        let p: $pred = match $scope {
            CaseScope::CampaignsOf(user) => Box::new(
                $campaign.eq_any(members::table.filter(members::user_id.eq(user.clone())).select(members::campaign_id)),
            ),
            CaseScope::Subtree(unit) => $in_subtree(unit),
            CaseScope::Nothing => Box::new(::diesel::dsl::sql::<::diesel::sql_types::Bool>("1 = 0")),
            // A constant, not a column test: an index that covers the rest of a query
            // must not be given up for this.
            CaseScope::All => Box::new(::diesel::dsl::sql::<::diesel::sql_types::Bool>("1 = 1")),
        };
        p
    }};
}
pub(crate) use scope_rule;

/// Scope and filters as one boxed predicate, stamped out for each query source that
/// holds `cases` (plain, or joined for reports), so reports filter exactly like lists.
macro_rules! case_predicate {
    ($(#[$doc:meta])* $name:ident, $qs:ty) => {
        $(#[$doc])*
        pub fn $name<'a>(
            scope: &CaseScope,
            f: &CaseFilter,
            now: NaiveDateTime,
        ) -> Box<dyn BoxableExpression<$qs, Db, SqlType = diesel::sql_types::Bool> + 'a>
        {
            type Pred<'a> = Box<dyn BoxableExpression<$qs, Db, SqlType = diesel::sql_types::Bool> + 'a>;
            // Subject or responsible unit under `unit`.
            let in_subtree = |unit: &str| -> Pred<'a> {
                Box::new(
                    cases::subject_unit_id
                        .eq_any(subtree_ids(unit))
                        .or(cases::responsible_unit_id
                            .eq_any(subtree_ids(unit).select(unit_closure::descendant_id.nullable())))
                        .assume_not_null(),
                )
            };
            let mut p: Pred<'a> = scope_rule!(scope, Pred<'a>, cases::campaign_id, in_subtree);
            if let Some(d) = &f.directive_id {
                p = Box::new(p.and(cases::directive_id.eq(d.clone())));
            }
            if let Some(c) = &f.campaign_id {
                p = Box::new(p.and(cases::campaign_id.eq(c.clone())));
            }
            if let Some(u) = &f.unit_id {
                p = Box::new(p.and(in_subtree(u)));
            }
            if let Some(u) = &f.subject_unit_id {
                p = Box::new(p.and(cases::subject_unit_id.eq_any(subtree_ids(u))));
            }
            if let Some(u) = &f.responsible_only_unit_id {
                p = Box::new(
                    p.and(
                        cases::responsible_unit_id
                            .eq_any(subtree_ids(u).select(unit_closure::descendant_id.nullable()))
                            .assume_not_null(),
                    )
                    .and(diesel::dsl::not(cases::subject_unit_id.eq_any(subtree_ids(u)))),
                );
            }
            if let Some(u) = &f.responsible_unit_id {
                p = Box::new(
                    p.and(
                        cases::responsible_unit_id
                            .eq_any(subtree_ids(u).select(unit_closure::descendant_id.nullable()))
                            .assume_not_null(),
                    ),
                );
            }
            if let Some(i) = &f.indicator_id {
                // Aliased, so the filter also works where case_indicators is joined already.
                p = Box::new(
                    p.and(
                        cases::id.eq_any(
                            cited
                                .filter(cited.field(case_indicators::indicator_id).eq(i.clone()))
                                .select(cited.field(case_indicators::case_id)),
                        ),
                    ),
                );
            }
            if let Some(s) = &f.status {
                p = Box::new(p.and(cases::status.eq(s.clone())));
            }
            let overdue = move || {
                cases::status.eq_any(OVERDUE_STATES).and(cases::deadline_at.is_not_null()).and(cases::deadline_at.le(now).assume_not_null())
            };
            match f.overdue {
                Some(true) => p = Box::new(p.and(overdue())),
                Some(false) => p = Box::new(p.and(diesel::dsl::not(overdue()))),
                None => {}
            }
            if let Some(repeat) = f.repeat {
                let before = diesel::dsl::exists(
                    earlier
                        .filter(earlier.field(cases::subject_id).eq(cases::subject_id))
                        .filter(earlier.field(cases::id).ne(cases::id))
                        .filter(earlier.field(cases::status).ne(crate::domain::workflow::NOT_STANDING))
                        .filter(earlier.field(cases::detected_on).le(cases::detected_on)),
                );
                p = if repeat { Box::new(p.and(before)) } else { Box::new(p.and(diesel::dsl::not(before))) };
            }
            if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
                p = Box::new(p.and(cases::search_text.like(fold::like_pattern(text)).escape('\\')));
            }
            if let Some(from) = f.from {
                p = Box::new(p.and(cases::detected_on.ge(from)));
            }
            if let Some(to) = f.to {
                p = Box::new(p.and(cases::detected_on.le(to)));
            }
            p
        }
    };
}

case_predicate!(
    /// Visible, filtered cases.
    case_predicate,
    cases::table
);
case_predicate!(
    /// The same over alerts joined with their cases: a user's notifications show only the
    /// cases they may still see (after a move to another unit, the old unit's are gone).
    alert_case_predicate,
    diesel::dsl::InnerJoinQuerySource<crate::db::schema::alerts::table, cases::table>
);
case_predicate!(
    /// The same over cases joined with their decisions.
    case_decision_predicate,
    diesel::dsl::InnerJoinQuerySource<cases::table, crate::db::schema::case_decisions::table>
);
case_predicate!(
    /// The same over cases joined with the indicators they cite.
    case_indicator_predicate,
    diesel::dsl::InnerJoinQuerySource<cases::table, case_indicators::table>
);

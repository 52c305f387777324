//! Every operation on a case, in one place: log, edit, transition, comment, attach.
//!
//! Each takes the caller, a typed input, the moment it happens ([`Ctx`]) and a connection,
//! and does the whole job in one transaction: load in scope, check, apply, validate
//! (every bad field at once), write with the version check, cancel stale alerts, record
//! the timeline event and the audit entry. The JSON API, the command line, the demo and
//! the benchmark call these and nothing beneath them, so a rule exists once.

mod decide;
mod edit;
mod fields;
pub mod list;
mod log;
mod notes;
pub mod queue;
pub mod screen;
mod transition;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

pub use decide::{DecisionInput, decide, decisions};
pub(crate) use decide::{check as check_decision, show_on as show_decision};
pub use edit::edit;
pub(crate) use fields::derive;
pub use fields::{CaseInput, SubjectInput};
pub use log::{log, log_with_files};
pub use notes::{Upload, adopt_files, attach, attach_all, check_upload, comment};
pub(crate) use snapshot as snapshot_of;
pub use transition::{TransitionInput, actions_for, transition};

use crate::auth::CurrentUser;
use crate::config::Settings;
use crate::db::DbConn;
use crate::domain::dates::instant;
use crate::domain::role::Role;
use crate::error::{Error, Message, msg};
use crate::model::alert::Alert;
use crate::model::canonical_id;
use crate::model::case::{Case, CaseScope};
use crate::model::rollup;
use crate::model::unit::Unit;

/// What every operation needs besides its input: the settings, the moment it happens,
/// and the application's kept catalog reads.
#[derive(Clone)]
pub struct Ctx {
    pub settings: Arc<Settings>,
    pub now: DateTime<Utc>,
    pub memo: Arc<crate::memo::Memo>,
}

impl Ctx {
    /// A context with nothing kept yet (the command line, the demo).
    pub fn new(settings: Arc<Settings>, now: DateTime<Utc>) -> Self {
        Ctx { settings, now, memo: Arc::default() }
    }

    /// A context that shares the application's kept reads.
    pub fn sharing(settings: Arc<Settings>, now: DateTime<Utc>, memo: Arc<crate::memo::Memo>) -> Self {
        Ctx { settings, now, memo }
    }

    /// The moment, as stored.
    pub fn now(&self) -> NaiveDateTime {
        self.now.naive_utc()
    }

    /// The deployment's time zone (validated at startup).
    pub fn tz(&self) -> Result<Tz, Error> {
        self.settings.time_zone().map_err(Error::internal)
    }

    /// The working-day calendar deadlines are counted in, or `None` when
    /// `escalation.day_kind` counts calendar days.
    pub fn calendar(&self, conn: &mut DbConn) -> Result<Option<Arc<crate::domain::calendar::WorkingCalendar>>, Error> {
        let policy = &self.settings.escalation;
        if !policy.working_days() {
            return Ok(None);
        }
        Ok(Some(self.memo.calendar(conn, policy.week(), self.today()?)?))
    }

    /// Today in the deployment's time zone.
    pub fn today(&self) -> Result<NaiveDate, Error> {
        Ok(self.now.with_timezone(&self.tz()?).date_naive())
    }
}

/// The cases a caller may see; administrators do not work on cases.
pub fn scope_of(caller: &CurrentUser) -> Result<CaseScope, Error> {
    match caller.role {
        Role::Inspector => Ok(CaseScope::CampaignsOf(caller.user.id.clone())),
        Role::Reviewer | Role::UnitHead if caller.unit_ended => Ok(CaseScope::Nothing),
        Role::Reviewer | Role::UnitHead => {
            Ok(caller.user.unit_id.clone().map(CaseScope::Subtree).unwrap_or(CaseScope::Nothing))
        }
        Role::Admin => Err(Error::Forbidden),
    }
}

/// The units `caller` may make responsible for a case: their own unit's living subtree,
/// with each unit's depth under it (none for a caller without a unit).
pub fn responsible_choices(conn: &mut DbConn, caller: &CurrentUser) -> Result<Vec<(Unit, i32)>, Error> {
    let Some(root) = &caller.user.unit_id else { return Ok(Vec::new()) };
    Ok(Unit::subtree(conn, root)?.into_iter().filter(|(u, _)| u.ended_on.is_none()).collect())
}

/// A case the caller may see, with the indicator ids it cites; 404 otherwise (also
/// for a malformed id).
pub fn visible(conn: &mut DbConn, caller: &CurrentUser, id: &str) -> Result<(Case, Vec<String>), Error> {
    let scope = scope_of(caller)?;
    let id = parse_id(id)?;
    Case::find_visible(conn, &id, &scope)?.ok_or(Error::NotFound)
}

/// What `GET /cases/{id}` reads: the caller's session (401 unless live), then the case if
/// it is within their scope (404 otherwise), in one trip to the pool.
pub fn read(
    conn: &mut DbConn,
    caller: crate::auth::TokenOnly,
    id: &str,
    now: NaiveDateTime,
) -> Result<(Case, Vec<String>), Error> {
    let caller = caller.resolve(conn, now)?;
    visible(conn, &caller, id)
}

/// A path id: anything that is not a UUID cannot name a record, so it is a 404.
fn parse_id(raw: &str) -> Result<String, Error> {
    canonical_id(raw).ok_or(Error::NotFound)
}

/// The lock that orders case creation (shared) against changes to their campaign (exclusive).
pub fn campaign_lock(campaign_id: &str) -> String {
    format!("campaign:{campaign_id}")
}

/// 412 unless the version the client read (if it named one) is still `current`.
fn check_version(if_match: Option<i64>, current: i64) -> Result<(), Error> {
    match if_match {
        Some(v) if v != current => Err(Error::PreconditionFailed),
        _ => Ok(()),
    }
}

/// Another writer got in between our read and our versioned write: stale for a client
/// that named a version, a conflict for one that did not.
fn lost_race(if_match: Option<i64>) -> Error {
    if if_match.is_some() { Error::PreconditionFailed } else { Error::conflict(msg::concurrent_change()) }
}

/// Writes `after` over `before` as the next version (a compare-and-swap: a lost race is
/// 412 or 409), moves the report rollups, and cancels the alerts a changed deadline makes
/// stale: what closed, dismissed, remediated or re-dated cases had pending no longer
/// applies, and a new deadline starts a new series.
fn store_change(
    conn: &mut DbConn,
    (before, before_ids): (&Case, &[String]),
    (after, ids): (&mut Case, &[String]),
    if_match: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), Error> {
    after.version = before.version + 1;
    after.updated_at = now;
    if !after.replace_if_version(conn, (before, before_ids), ids)? {
        return Err(lost_race(if_match));
    }
    rollup::record(conn, Some((before, before_ids)), (after, ids))?;
    if after.deadline_at != before.deadline_at {
        Alert::cancel_pending_for_case(conn, &after.id)?;
    }
    Ok(())
}

/// The unit a request names, if the id is well-formed and exists.
fn find_unit(conn: &mut DbConn, raw: &str) -> Result<Option<Unit>, Error> {
    match canonical_id(raw) {
        Some(id) => Ok(Unit::find(conn, &id)?),
        None => Ok(None),
    }
}

/// The unit a write names, if it exists and the caller may act on it: a reviewer or unit
/// head only within their own unit's subtree (so a case is never handed to a unit whose
/// people the caller does not answer for). Otherwise the message for the field. Called
/// inside the write's transaction.
fn unit_in_reach(conn: &mut DbConn, caller: &CurrentUser, raw: &str) -> Result<Result<Unit, Message>, Error> {
    // Shared with a reorganisation, which ends units under the exclusive lock.
    crate::db::lock_shared(conn, crate::unit_tree::UNIT_TREE)?;
    let Some(unit) = find_unit(conn, raw)? else { return Ok(Err(msg::no_unit())) };
    if let Some(ended) = unit.ended_on {
        return Ok(Err(msg::unit_ended(&unit.code, &crate::i18n::date(ended))));
    }
    if !within_reach(conn, caller, &unit.id)? {
        return Ok(Err(msg::outside_scope()));
    }
    Ok(Ok(unit))
}

/// Whether `unit_id` lies where `caller` may act: a reviewer's or unit head's own subtree;
/// inspectors are held to their campaign's targets instead.
pub fn within_reach(conn: &mut DbConn, caller: &CurrentUser, unit_id: &str) -> Result<bool, Error> {
    match (caller.role, &caller.user.unit_id) {
        (Role::Reviewer | Role::UnitHead, _) if caller.unit_ended => Ok(false),
        (Role::Reviewer | Role::UnitHead, Some(own)) => Ok(Unit::is_in_subtree(conn, own, unit_id)?),
        (Role::Reviewer | Role::UnitHead, None) => Ok(false),
        _ => Ok(true),
    }
}

/// What the audit log keeps of a case.
pub(crate) fn snapshot(c: &Case, indicator_ids: &[String]) -> Value {
    json!({
        "number": c.number, "status": c.status, "title": c.title, "description": c.description,
        "subject_kind": c.subject_kind, "subject_unit_id": c.subject_unit_id, "person_name": c.person_name,
        "person_position": c.person_position, "body_name": c.body_name, "indicator_ids": indicator_ids, "detected_on": c.detected_on,
        "severity": c.severity, "responsible_unit_id": c.responsible_unit_id,
        "due_at": c.due_at.map(instant), "decision_measure": c.decision_measure,
        "decision_decided_on": c.decision_decided_on, "decision_reference": c.decision_reference,
        "version": c.version,
    })
}

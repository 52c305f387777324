//! Moving a case through the workflow: one row of `domain::workflow`'s table, applied.

use serde::Deserialize;
use serde_json::json;

use super::decide::{self, DecisionInput};
use super::{Ctx, check_version, snapshot, store_change, unit_in_reach, visible};
use crate::auth::CurrentUser;
use crate::db::{DbConn, write_tx};
use crate::domain::dates::instant;
use crate::domain::deadline::{in_working_days, parse_deadline};
use crate::domain::limits::{NOTE_MAX, WORKING_DAYS_MAX};
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::domain::workflow::{self, Action, Check, Need, Refusal, Status};
use crate::error::msg;
use crate::error::{Error, Validator};
use crate::model::audit::AuditEntry;
use crate::model::case::{Case, CaseEvent};
use crate::model::decision::Decision;
use crate::model::unit::Unit;

/// What a transition is given: the action and whatever its row of the table needs.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct TransitionInput {
    pub action: Option<String>,
    pub note: Option<String>,
    pub responsible_unit_id: Option<String>,
    pub due_at: Option<String>,
    /// Instead of `due_at`: the end of the day this many working days from today.
    pub due_in_working_days: Option<i64>,
    pub decision: Option<DecisionInput>,
}

/// Takes `input.action` on case `id` as `caller`: 403 for a role the row does not name
/// (or a unit head outside the responsible unit), 409 from a state it does not start
/// from, 412 for a stale `if_match`, 422 listing every missing or bad need.
pub fn transition(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    if_match: Option<i64>,
    input: TransitionInput,
) -> Result<(Case, Vec<String>), Error> {
    // In the order clients have always seen: an administrator is refused, an id that
    // names nothing is a 404, and only then is the body read.
    super::scope_of(caller)?;
    super::parse_id(id)?;
    let action = match input.action.as_deref() {
        None => return Err(Error::field("action", msg::required())),
        Some(a) => Action::parse(a).ok_or_else(|| Error::field("action", one_of(&Action::ALL.map(Action::as_str))))?,
    };
    let now = ctx.now();
    let tz = ctx.tz()?;
    write_tx(conn, |conn| {
        let (before, ids) = visible(conn, caller, id)?;
        let from = before.status;
        let rule = match permitted(conn, caller, action, &before, from)? {
            Err(Refusal::Role) => return Err(Error::Forbidden),
            Err(Refusal::State) => {
                check_version(if_match, before.version)?;
                return Err(Error::conflict(msg::transition_not_allowed(action.as_str(), from.as_str())));
            }
            Ok(rule) => rule,
        };
        check_version(if_match, before.version)?;

        let mut after = before.clone();
        let mut v = Validator::new();
        let mut decision: Option<Decision> = None;
        let note = input.note.as_deref().map(|n| text::clean_required(n, NOTE_MAX));
        // A unit named where the row does not need one is still checked (it may be used, or
        // ignored): no write names a unit its actor may not act on.
        if !rule.needs.contains(&Need::ResponsibleUnit)
            && let Some(u) = input.responsible_unit_id.as_deref()
            && let Err(m) = unit_in_reach(conn, caller, u)?
        {
            v.add("responsible_unit_id", m);
        }
        for need in rule.needs {
            let field = need.field();
            match need {
                Need::Note => match &note {
                    Some(Ok(_)) => {}
                    Some(Err(m)) => v.add(field, m.clone()),
                    None => v.add(field, msg::note_required()),
                },
                Need::ResponsibleUnit => match input.responsible_unit_id.as_deref() {
                    None => v.add(field, msg::name_responsible_unit()),
                    Some(u) => match unit_in_reach(conn, caller, u)? {
                        Ok(unit) => after.responsible_unit_id = Some(unit.id),
                        Err(m) => v.add(field, m),
                    },
                },
                Need::DueAt => match (input.due_at.as_deref(), input.due_in_working_days) {
                    (Some(_), Some(_)) => v.add("due_in_working_days", msg::one_deadline()),
                    (None, Some(n)) if !(1..=WORKING_DAYS_MAX).contains(&n) => {
                        v.add("due_in_working_days", msg::working_days_range(WORKING_DAYS_MAX))
                    }
                    (None, Some(n)) => {
                        // Counted on the calendar; with calendar days configured, on the working week.
                        let policy = &ctx.settings.escalation;
                        let calendar = match ctx.calendar(conn)? {
                            Some(c) => c,
                            None => {
                                std::sync::Arc::new(crate::domain::calendar::WorkingCalendar::new(policy.week(), []))
                            }
                        };
                        after.due_at = Some(in_working_days(ctx.today()?, n, tz, &calendar));
                    }
                    (None, None) => v.add(field, msg::set_deadline()),
                    (Some(raw), None) => match parse_deadline(raw, tz) {
                        Err(m) => v.add(field, m),
                        Ok(d) if d <= now => v.add(field, msg::must_be_future()),
                        Ok(d) => after.due_at = Some(d),
                    },
                },
                Need::Decision => match &input.decision {
                    // Closing on decisions recorded before: the latest stands for the case.
                    None => match Decision::current_of(conn, &before.id)?.pop() {
                        Some(d) => decide::show_on(&mut after, &d),
                        None => v.add(field, msg::record_decision()),
                    },
                    Some(d) => {
                        let (handling, categories) = decide::grounds(conn, &before)?;
                        decision =
                            decide::check(ctx, (&handling, &categories), caller, &before, d, "decision.", &mut v)?;
                    }
                },
            }
        }
        if rule.checks(Check::ResponsibleUnitWhenNone)
            && after.responsible_unit_id.is_none()
            && !v.has("responsible_unit_id")
        {
            match input.responsible_unit_id.as_deref() {
                Some(u) => match unit_in_reach(conn, caller, u)? {
                    Ok(unit) => after.responsible_unit_id = Some(unit.id),
                    Err(m) => v.add("responsible_unit_id", m),
                },
                None => v.add("responsible_unit_id", msg::no_responsible_unit()),
            }
        }
        v.finish()?;

        if let Some(d) = &decision {
            d.insert(conn)?;
            decide::show_on(&mut after, d);
        }
        let outcome = rule.apply(after.due_at, now);
        after.status = outcome.status;
        after.deadline_at = outcome.deadline_at;
        after.closed_at = outcome.closed_at;
        if !outcome.keeps_decision {
            after.decision_measure = None;
            after.decision_decided_on = None;
            after.decision_reference = None;
        }
        store_change(conn, (&before, &ids), (&mut after, &ids), if_match, now)?;
        let detail = json!({
            "action": action.as_str(), "from": from.as_str(), "to": rule.to.as_str(),
            "note": note.and_then(Result::ok), "responsible_unit_id": after.responsible_unit_id,
            "due_at": after.due_at.map(instant),
            "decision": decision.as_ref().map(Decision::snapshot).or_else(|| after.decision_measure.as_ref().map(|m| json!({
                "measure": m, "decided_on": after.decision_decided_on, "reference": after.decision_reference
            }))),
        });
        CaseEvent::record(conn, &after.id, Some(&caller.user.id), now, "transition", detail)?;
        AuditEntry::record(
            conn,
            &caller.actor(),
            now,
            action.as_str(),
            "case",
            &after.id,
            Some(snapshot(&before, &ids)),
            Some(snapshot(&after, &ids)),
        )?;
        Ok((after, ids))
    })
}

/// Whether `caller` may take `action` on `case` now: the row's roles and states, then its
/// extra checks (a unit head outside the responsible unit's subtree is refused as by role).
fn permitted(
    conn: &mut DbConn,
    caller: &CurrentUser,
    action: Action,
    case: &Case,
    from: Status,
) -> Result<Result<&'static workflow::Rule, Refusal>, Error> {
    let rule = match workflow::check(action, caller.role, from) {
        Ok(rule) => rule,
        refused => return Ok(refused),
    };
    if rule.checks(Check::UnitHeadHeadsResponsibleUnit) && caller.role == Role::UnitHead {
        let (Some(head_unit), Some(resp)) = (&caller.user.unit_id, &case.responsible_unit_id) else {
            return Ok(Err(Refusal::Role));
        };
        if !Unit::is_in_subtree(conn, head_unit, resp)? {
            return Ok(Err(Refusal::Role));
        }
    }
    Ok(Ok(rule))
}

/// The actions `caller` may take on `case` now, in the table's order: what a client offers.
pub fn actions_for(conn: &mut DbConn, caller: &CurrentUser, case: &Case) -> Result<Vec<Action>, Error> {
    let from = case.status;
    let mut allowed = Vec::new();
    for action in Action::ALL {
        if permitted(conn, caller, action, case, from)?.is_ok() {
            allowed.push(action);
        }
    }
    Ok(allowed)
}

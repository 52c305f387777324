//! Decisions on a case: checked against the handling catalog and the subject, recorded
//! beside one another (a party decision, then a state one), corrected by new versions.

use serde::Deserialize;
use serde_json::json;

use super::{Ctx, check_version, snapshot, store_change, visible};
use crate::auth::CurrentUser;
use crate::db::{DbConn, write_tx};
use crate::domain::dates;
use crate::domain::handling::{Category, System};
use crate::domain::limits::{AUTHORITY_MAX, DECISION_NOTE_MAX, REFERENCE_MAX};
use crate::domain::role::one_of;
use crate::domain::text;
use crate::domain::workflow::{self, Addition, Status};
use crate::error::{Error, Validator, msg};
use crate::model::audit::AuditEntry;
use crate::model::case::{Case, CaseEvent};
use crate::model::decision::Decision;
use crate::model::handling::Handling;
use crate::model::new_id;
use crate::model::subject::Subject;

/// A decision as a client gives it: inline when closing, or on its own.
#[derive(Deserialize, Clone, Default, utoipa::ToSchema)]
pub struct DecisionInput {
    /// `party`, `state` or `other`; by default the measure's own system.
    pub system: Option<String>,
    /// The body that decided (e.g. "Ủy ban Kiểm tra Thành ủy").
    pub authority: Option<String>,
    /// A measure code of the catalog (`GET /measures`); old codes are aliases.
    pub measure: Option<String>,
    pub decided_on: Option<String>,
    pub reference: Option<String>,
    pub note: Option<String>,
    /// Correcting: the id of the decision this version replaces (it is kept, superseded).
    pub corrects: Option<String>,
}

/// Checks `input` as a decision on `case` by `caller`, every bad field into `v` under
/// `prefix` (`decision.` inline); the decision to store when nothing is wrong.
pub(crate) fn check(
    ctx: &Ctx,
    (handling, categories): (&Handling, &[Category]),
    caller: &CurrentUser,
    case: &Case,
    input: &DecisionInput,
    prefix: &str,
    v: &mut Validator,
) -> Result<Option<Decision>, Error> {
    let at = |f: &str| format!("{prefix}{f}");
    let system = match input.system.as_deref().map(|s| (s, System::parse(s))) {
        None => None,
        Some((_, Some(s))) => Some(s),
        Some(_) => {
            v.add(&at("system"), one_of(&System::ALL.map(System::as_str)));
            None
        }
    };
    // Read first (a measure is judged on its date), reported after the measure.
    let (decided_on, date_problem) = match input.decided_on.as_deref().map(dates::parse_date) {
        Some(Ok(day)) if day > ctx.today()? => (None, Some(msg::not_future())),
        Some(Ok(day)) => (Some(day), None),
        Some(Err(m)) => (None, Some(m)),
        None => (None, Some(msg::required())),
    };
    let measure = match input.measure.as_deref() {
        None => {
            v.add(&at("measure"), msg::required());
            None
        }
        Some(code) => match handling.measure(code) {
            None => {
                v.add(&at("measure"), msg::unknown_measure());
                None
            }
            Some(m) => {
                let refusals = m.refusals(system, case.subject_kind, categories, decided_on);
                let fits = refusals.is_empty();
                for (field, message) in refusals {
                    v.add(&at(field), message);
                }
                fits.then_some(m)
            }
        },
    };
    if let Some(m) = date_problem {
        v.add(&at("decided_on"), m);
    }
    let optional = |v: &mut Validator, field: &str, value: &Option<String>, max: usize| match value
        .as_deref()
        .map(|s| text::clean_required(s, max))
    {
        Some(Ok(s)) => Some(s),
        Some(Err(m)) => {
            v.add(&at(field), m);
            None
        }
        None => None,
    };
    let authority = optional(v, "authority", &input.authority, AUTHORITY_MAX);
    let reference = optional(v, "reference", &input.reference, REFERENCE_MAX);
    let note = optional(v, "note", &input.note, DECISION_NOTE_MAX);
    let (Some(measure), Some(decided_on)) = (measure, decided_on) else { return Ok(None) };
    Ok(Some(Decision {
        id: new_id(),
        case_id: case.id.clone(),
        system: measure.system.as_str().to_string(),
        authority,
        measure: measure.code.clone(),
        decided_on,
        reference,
        note,
        corrects: None,
        superseded: false,
        recorded_by: Some(caller.user.id.clone()),
        recorded_at: ctx.now(),
    }))
}

/// What a decision on `case` is checked against: the handling catalog and the
/// categories of the case's subject (none known: any of its kind).
pub(super) fn grounds(conn: &mut DbConn, case: &Case) -> Result<(Handling, Vec<Category>), Error> {
    let categories = match &case.subject_id {
        Some(id) => Subject::find(conn, id)?.map(|s| s.category_list()).unwrap_or_default(),
        None => Vec::new(),
    };
    Ok((Handling::load(conn)?, categories))
}

/// Writes `d` onto a closed case as its latest decision (what `decision` serves and the
/// reports count it by).
pub(crate) fn show_on(case: &mut Case, d: &Decision) {
    case.decision_measure = Some(d.measure.clone());
    case.decision_decided_on = Some(d.decided_on);
    case.decision_reference = d.reference.clone();
}

/// Records a decision (or, with `corrects`, a new version of one) on case `id`: 403
/// for a role that does not decide, 404 outside scope, 409 on a case in a state that
/// takes no decision, 412 for a stale `if_match`, 422 listing every bad field.
pub fn decide(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    if_match: Option<i64>,
    input: DecisionInput,
) -> Result<(Case, Decision), Error> {
    super::scope_of(caller)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        let (before, ids) = visible(conn, caller, id)?;
        if !workflow::may_decide(caller.role) {
            return Err(Error::Forbidden);
        }
        check_version(if_match, before.version)?;
        if !workflow::accepts(Addition::Decision, before.status) {
            return Err(Error::conflict(msg::no_decision_now(before.status.as_str())));
        }
        let (handling, categories) = grounds(conn, &before)?;
        let mut v = Validator::new();
        let corrected = match input.corrects.as_deref() {
            None => None,
            Some(old) => match Decision::of_case(conn, &before.id)?.into_iter().find(|d| d.id == old) {
                None => {
                    v.add("corrects", msg::bad_id());
                    None
                }
                Some(d) if d.superseded => {
                    v.add("corrects", msg::decision_corrected());
                    None
                }
                Some(d) => Some(d),
            },
        };
        let decision = check(ctx, (&handling, &categories), caller, &before, &input, "", &mut v)?;
        v.finish()?;
        let Some(mut decision) = decision else { return Err(Error::internal("a checked decision is missing")) };
        decision.corrects = corrected.as_ref().map(|d| d.id.clone());
        decision.insert(conn)?;

        let mut after = before.clone();
        if after.status == Status::Closed {
            show_on(&mut after, &decision);
        }
        store_change(conn, (&before, &ids), (&mut after, &ids), if_match, now)?;
        let detail = json!({ "decision": decision.snapshot() });
        CaseEvent::record(conn, &after.id, Some(&caller.user.id), now, "decision", detail)?;
        let mut old = snapshot(&before, &ids);
        old["decision"] = corrected.map(|d| d.snapshot()).unwrap_or(serde_json::Value::Null);
        let mut new = snapshot(&after, &ids);
        new["decision"] = decision.snapshot();
        let action = if decision.corrects.is_some() { "correct_decision" } else { "decide" };
        AuditEntry::record(conn, &caller.actor(), now, action, "case", &after.id, Some(old), Some(new))?;
        Ok((after, decision))
    })
}

/// Every version of the decisions on case `id`, oldest first, if the caller may see it.
pub fn decisions(conn: &mut DbConn, caller: &CurrentUser, id: &str) -> Result<Vec<Decision>, Error> {
    let (case, _) = visible(conn, caller, id)?;
    Ok(Decision::of_case(conn, &case.id)?)
}

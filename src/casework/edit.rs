//! Editing a case's descriptive fields (and, for a reviewer while it is in handling,
//! who handles it and by when).

use serde_json::json;

use super::fields::{CaseInput, Draft, apply_fields, derive};
use super::{Ctx, check_version, snapshot, store_change, unit_in_reach, visible, within_reach};
use crate::auth::CurrentUser;
use crate::db::{DbConn, write_tx};
use crate::domain::deadline::parse_deadline;
use crate::domain::role::Role;
use crate::domain::workflow;
use crate::error::msg;
use crate::error::{Error, Validator};
use crate::model::audit::AuditEntry;
use crate::model::campaign::Campaign;
use crate::model::case::{Case, CaseEvent};

/// Applies `input` to case `id` as `caller`, if the version they read (`if_match`) is
/// still current and the workflow lets their role edit the case in its state.
pub fn edit(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    if_match: Option<i64>,
    input: CaseInput,
) -> Result<(Case, Vec<String>), Error> {
    caller.require(&[Role::Inspector, Role::Reviewer])?;
    let now = ctx.now();
    let tz = ctx.tz()?;
    write_tx(conn, |conn| {
        let (before, before_ids) = visible(conn, caller, id)?;
        let status = before.status;
        if caller.role == Role::Inspector && before.created_by != caller.user.id {
            return Err(Error::Forbidden);
        }
        check_version(if_match, before.version)?;
        if !super::screen::may_edit(caller, &before) {
            return Err(Error::conflict(msg::not_editable(status.as_str())));
        }
        let mut v = Validator::new();
        v.check(input.campaign_id.is_none(), "campaign_id", msg::campaign_fixed());
        let campaign = Campaign::find(conn, &before.campaign_id)?.ok_or(Error::NotFound)?;
        let mut draft =
            Draft { case: before.clone(), indicator_ids: before_ids.clone(), categories: Vec::new(), identifier: None };
        apply_fields(ctx, conn, &mut v, &mut draft, Some(&campaign), &input)?;
        // A reviewer moves a case's subject only to a unit they answer for (the campaign's
        // targets hold inspectors).
        if draft.case.subject_unit_id != before.subject_unit_id
            && !v.has("subject.unit_id")
            && !within_reach(conn, caller, &draft.case.subject_unit_id)?
        {
            v.add("subject.unit_id", msg::outside_scope());
        }
        if input.responsible_unit_id.is_some() || input.due_at.is_some() {
            if !workflow::may_reassign(caller.role, status) {
                v.add(if input.due_at.is_some() { "due_at" } else { "responsible_unit_id" }, msg::reviewer_only());
            } else {
                if let Some(u) = &input.responsible_unit_id {
                    match unit_in_reach(conn, caller, u)? {
                        Ok(unit) => draft.case.responsible_unit_id = Some(unit.id),
                        Err(m) => v.add("responsible_unit_id", m),
                    }
                }
                if let Some(raw) = &input.due_at {
                    match parse_deadline(raw, tz) {
                        Ok(d) if d > now => {
                            draft.case.due_at = Some(d);
                            draft.case.deadline_at = Some(d);
                        }
                        Ok(_) => v.add("due_at", msg::must_be_future()),
                        Err(m) => v.add("due_at", m),
                    }
                }
            }
        }
        v.finish()?;
        let Draft { case: mut after, indicator_ids, categories, identifier } = draft;
        derive(conn, &mut after, &categories, identifier.as_deref(), now)?;
        store_change(conn, (&before, &before_ids), (&mut after, &indicator_ids), if_match, now)?;
        let (b, a) = (snapshot(&before, &before_ids), snapshot(&after, &indicator_ids));
        let changed: Vec<&String> =
            a.as_object().map(|o| o.keys().filter(|k| a[*k] != b[*k] && *k != "version").collect()).unwrap_or_default();
        CaseEvent::record(conn, &after.id, Some(&caller.user.id), now, "updated", json!({"fields": changed}))?;
        AuditEntry::record(conn, &caller.actor(), now, "update", "case", &after.id, Some(b), Some(a))?;
        Ok((after, indicator_ids))
    })
}

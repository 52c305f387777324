//! Logging a case.

use chrono::{Datelike, NaiveDate};
use serde_json::json;

use super::fields::{CaseInput, Draft, apply_fields, derive};
use super::{Ctx, campaign_lock, snapshot};
use crate::auth::CurrentUser;
use crate::db::{self, DbConn, write_tx};
use crate::domain::case_terms::SubjectKind;
use crate::domain::deadline::review_deadline;
use crate::domain::role::Role;
use crate::domain::workflow::Status;
use crate::error::msg;
use crate::error::{Error, Validator};
use crate::model::audit::AuditEntry;
use crate::model::campaign::Campaign;
use crate::model::canonical_id;
use crate::model::case::{Case, CaseEvent};
use crate::model::{new_id, rollup};

/// Logs a case and attaches its evidence files in one transaction: a file that cannot be
/// kept leaves no case behind (the console's form, which sends both at once).
pub fn log_with_files(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    input: CaseInput,
    files: Vec<super::Upload>,
) -> Result<(Case, Vec<String>), Error> {
    // `attach` checks each file; a refused one rolls the case back with it.
    write_tx(conn, |conn| {
        let (case, ids) = log(conn, ctx, caller, input)?;
        for file in files {
            super::attach(conn, ctx, caller, &case.id, file)?;
        }
        Ok((case, ids))
    })
}

/// Logs a new case (inspectors, in a campaign they belong to): checks every field, then
/// in one transaction numbers, stores and records it.
pub fn log(conn: &mut DbConn, ctx: &Ctx, caller: &CurrentUser, input: CaseInput) -> Result<(Case, Vec<String>), Error> {
    caller.require(&[Role::Inspector])?;
    let now = ctx.now();
    let mut v = Validator::new();
    let campaign = match v.require("campaign_id", input.campaign_id.as_deref()) {
        Some(id) => {
            let found = match canonical_id(id) {
                Some(id) => Campaign::find_for_member(conn, &id, &caller.user.id)?,
                None => None,
            };
            if found.is_none() {
                v.add("campaign_id", msg::no_campaign());
            }
            found
        }
        None => None,
    };
    if let Some(c) = &campaign {
        v.check(c.status != "concluded", "campaign_id", msg::campaign_concluded());
    }
    if input.subject_id.is_none() {
        v.require("subject", input.subject.as_ref());
    }
    v.require("indicator_ids", input.indicator_ids.as_ref());
    v.require("title", input.title.as_ref());
    v.require("description", input.description.as_ref());
    v.require("detected_on", input.detected_on.as_ref());
    v.require("severity", input.severity.as_ref());
    // Without a campaign every other field is still checked, so one answer lists them all.
    let (campaign_id, directive_id, starts_on) = match &campaign {
        Some(c) => (c.id.clone(), c.directive_id.clone(), c.starts_on),
        None => (String::new(), String::new(), NaiveDate::MIN),
    };
    let mut draft = Draft {
        case: Case {
            id: new_id(),
            number: String::new(),
            campaign_id,
            directive_id,
            // Placeholders until the input's fields are applied (both are required).
            subject_kind: SubjectKind::Organization,
            subject_unit_id: String::new(),
            person_name: None,
            person_position: None,
            subject_key: String::new(),
            title: String::new(),
            description: String::new(),
            detected_on: starts_on,
            severity: String::new(),
            status: Status::Open,
            responsible_unit_id: None,
            due_at: None,
            deadline_at: Some(review_deadline(
                now,
                ctx.settings.escalation.review_days,
                ctx.tz()?,
                ctx.calendar(conn)?.as_deref(),
            )),
            decision_measure: None,
            decision_decided_on: None,
            decision_reference: None,
            closed_at: None,
            search_text: String::new(),
            created_by: caller.user.id.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
            subject_id: None,
            body_name: None,
        },
        indicator_ids: Vec::new(),
        categories: Vec::new(),
        identifier: None,
    };
    v.check(input.responsible_unit_id.is_none(), "responsible_unit_id", msg::set_on_acceptance());
    v.check(input.due_at.is_none(), "due_at", msg::set_on_acceptance());
    apply_fields(ctx, conn, &mut v, &mut draft, campaign.as_ref(), &input)?;
    v.finish()?;
    let year = ctx.today()?.year();
    write_tx(conn, |conn| {
        let Draft { mut case, indicator_ids, categories, identifier } = draft;
        // Concluding a campaign takes this lock exclusively: checked again here, the campaign
        // cannot be concluded between this check and the insert.
        db::lock_shared(conn, &campaign_lock(&case.campaign_id))?;
        if Campaign::find(conn, &case.campaign_id)?.is_none_or(|c| c.status == "concluded") {
            return Err(Error::field("campaign_id", msg::campaign_concluded()));
        }
        case.number = Case::next_number(conn, year)?;
        derive(conn, &mut case, &categories, identifier.as_deref(), now)?;
        case.insert(conn, &indicator_ids)?;
        let detail = json!({"number": case.number, "title": case.title});
        CaseEvent::record(conn, &case.id, Some(&caller.user.id), now, "created", detail)?;
        AuditEntry::record(
            conn,
            &caller.actor(),
            now,
            "create",
            "case",
            &case.id,
            None,
            Some(snapshot(&case, &indicator_ids)),
        )?;
        // Last: the creates of one campaign, unit and month add to the same rollup rows, and
        // on PostgreSQL each holds their locks from here until its commit.
        rollup::record(conn, None, (&case, &indicator_ids))?;
        Ok((case, indicator_ids))
    })
}

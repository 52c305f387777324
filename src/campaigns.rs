//! Planning and changing inspection campaigns: who may, what a campaign targets, who
//! belongs to it. Members read every case logged in a campaign, so these rules are what
//! keeps a campaign from granting more than its planner may read. The API and the
//! console call these; each runs in one transaction with its audit entry.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::casework::Ctx;
use crate::db::{self, DbConn, write_tx};
use crate::domain::dates;
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::error::msg;
use crate::error::{Error, Validator};
use crate::model::audit::AuditEntry;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::directive::Directive;
use crate::model::unit::Unit;
use crate::model::user::User;
use crate::model::{new_id, parse_id};

pub const KINDS: [&str; 3] = ["inspection", "supervision", "duty_audit"];
pub const STATUSES: [&str; 3] = ["planned", "active", "concluded"];

/// A campaign with its member and target unit ids.
pub type Planned = (Campaign, Vec<String>, Vec<String>);

/// Body of POST and PATCH: on PATCH every field is optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CampaignInput {
    pub title: Option<String>,
    pub kind: Option<String>,
    pub directive_id: Option<String>,
    /// A date, `YYYY-MM-DD`.
    #[schema(value_type = Option<NaiveDate>)]
    pub starts_on: Option<String>,
    /// A date, `YYYY-MM-DD`.
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<String>,
    pub status: Option<String>,
    pub lead_id: Option<String>,
    pub member_ids: Option<Vec<String>>,
    pub target_unit_ids: Option<Vec<String>>,
}

/// For a reviewer, the units their campaigns may target: their own unit's subtree. Members
/// of a campaign read every case logged in it, so a reviewer who could target other units
/// (or change a campaign that does) could let an inspector read cases the reviewer may not.
/// Administrators are not limited; an inspector who leads a campaign already reads all of
/// its cases, so the members they add see nothing the lead does not.
fn target_limit(caller: &CurrentUser) -> Option<&str> {
    match caller.role {
        Role::Reviewer => Some(caller.user.unit_id.as_deref().unwrap_or("")),
        _ => None,
    }
}

/// Whether `user` may lead or be a member of a campaign `caller` plans: an active inspector
/// or reviewer and, when the caller is a reviewer, a reviewer of their own subtree (a
/// reviewer elsewhere would be handed a campaign outside their own scope).
fn may_serve(conn: &mut DbConn, caller: &CurrentUser, user: &User) -> Result<bool, Error> {
    if !user.active {
        return Ok(false);
    }
    match user.role.as_str() {
        "inspector" => Ok(true),
        "reviewer" => match (target_limit(caller), &user.unit_id) {
            (None, _) => Ok(true),
            (Some(own), Some(unit)) => Ok(Unit::is_in_subtree(conn, own, unit)?),
            (Some(_), None) => Ok(false),
        },
        _ => Ok(false),
    }
}

/// Applies `input` onto `c` (and its member/target sets), recording every problem in `v`.
fn apply(
    conn: &mut DbConn,
    caller: &CurrentUser,
    v: &mut Validator,
    c: &mut Campaign,
    members: &mut Vec<String>,
    targets: &mut Vec<String>,
    input: CampaignInput,
) -> Result<(), Error> {
    if let Some(t) = input.title {
        match text::clean_required(&t, 300) {
            Ok(t) => c.title = t,
            Err(m) => v.add("title", m),
        }
    }
    if let Some(k) = input.kind {
        v.check(KINDS.contains(&k.as_str()), "kind", one_of(&KINDS));
        c.kind = k;
    }
    if let Some(d) = input.directive_id {
        let exists = parse_id(&d).is_ok() && Directive::find(conn, &d)?.is_some();
        v.check(exists, "directive_id", msg::no_directive());
        c.directive_id = d;
    }
    for (field, raw, day) in
        [("starts_on", &input.starts_on, &mut c.starts_on), ("ends_on", &input.ends_on, &mut c.ends_on)]
    {
        match raw.as_deref().map(dates::parse_date) {
            Some(Ok(d)) => *day = d,
            Some(Err(m)) => v.add(field, m),
            None => {}
        }
    }
    if !v.has("starts_on") && !v.has("ends_on") {
        v.check(c.ends_on >= c.starts_on, "ends_on", msg::not_before_start());
    }
    if let Some(s) = input.status {
        v.check(STATUSES.contains(&s.as_str()), "status", one_of(&STATUSES));
        c.status = s;
    }
    if let Some(l) = input.lead_id {
        c.lead_id = l;
    }
    match parse_id(&c.lead_id).ok().map(|id| User::find(conn, &id)).transpose()?.flatten() {
        Some(u) if may_serve(conn, caller, &u)? => {}
        // Already reported as missing.
        _ if c.lead_id.is_empty() && v.has("lead_id") => {}
        _ => v.add("lead_id", msg::lead_role()),
    }
    if let Some(m) = input.member_ids {
        *members = m;
    }
    if !c.lead_id.is_empty() && !members.contains(&c.lead_id) {
        members.push(c.lead_id.clone());
    }
    members.sort();
    members.dedup();
    for (i, m) in members.iter().enumerate() {
        let field = format!("member_ids[{i}]");
        if m == &c.lead_id && v.has("lead_id") {
            continue; // The lead, already refused as such.
        }
        match parse_id(m).ok().map(|id| User::find(conn, &id)).transpose()?.flatten() {
            Some(u) if !u.active => v.add(&field, msg::no_active_user()),
            Some(u) if may_serve(conn, caller, &u)? => {}
            Some(_) => v.add(&field, msg::member_role()),
            None => v.add(&field, msg::no_active_user()),
        }
    }
    if let Some(t) = input.target_unit_ids {
        *targets = t;
    }
    targets.sort();
    targets.dedup();
    v.check(!targets.is_empty(), "target_unit_ids", msg::campaign_needs_target());
    for (i, t) in targets.iter().enumerate() {
        let field = format!("target_unit_ids[{i}]");
        if !(parse_id(t).is_ok() && Unit::find(conn, t)?.is_some()) {
            v.add(&field, msg::no_unit());
        } else if let Some(own) = target_limit(caller)
            && !Unit::is_in_subtree(conn, own, t)?
        {
            v.add(&field, msg::outside_own_unit());
        }
    }
    Ok(())
}

/// Plans a campaign (administrators, reviewers, inspectors; an inspector who names no
/// lead leads it).
pub fn create(conn: &mut DbConn, ctx: &Ctx, caller: &CurrentUser, input: CampaignInput) -> Result<Planned, Error> {
    caller.require(&[Role::Admin, Role::Reviewer, Role::Inspector])?;
    let now = ctx.now();
    let mut v = Validator::new();
    v.require("title", input.title.as_ref());
    v.require("kind", input.kind.as_ref());
    v.require("directive_id", input.directive_id.as_ref());
    v.require("starts_on", input.starts_on.as_ref());
    v.require("ends_on", input.ends_on.as_ref());
    v.require("target_unit_ids", input.target_unit_ids.as_ref());
    let default_lead = if caller.role == Role::Inspector { Some(caller.user.id.clone()) } else { None };
    let lead = input.lead_id.clone().or(default_lead);
    v.require("lead_id", lead.as_ref());
    let mut c = Campaign {
        id: new_id(),
        title: String::new(),
        kind: String::new(),
        directive_id: String::new(),
        starts_on: NaiveDate::default(),
        ends_on: NaiveDate::default(),
        status: "planned".into(),
        lead_id: lead.unwrap_or_default(),
        created_by: caller.user.id.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let (mut members, mut targets) = (Vec::new(), Vec::new());
    write_tx(conn, |conn| {
        apply(conn, caller, &mut v, &mut c, &mut members, &mut targets, input)?;
        v.finish()?;
        c.insert(conn, &members, &targets)?;
        let after = c.audit_snapshot(&members, &targets);
        AuditEntry::record(conn, &caller.actor(), now, "create", "campaign", &c.id, None, Some(after))?;
        Ok((c, members, targets))
    })
}

/// Changes a campaign (administrators; reviewers when every target lies in their subtree;
/// the lead), compare-and-swap on `if_match` when given.
pub fn update(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    if_match: Option<i64>,
    input: CampaignInput,
) -> Result<Planned, Error> {
    caller.require(&[Role::Admin, Role::Reviewer, Role::Inspector])?;
    let id = parse_id(id)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        db::lock(conn, &[&crate::casework::campaign_lock(&id)])?;
        let before = find_visible(conn, caller, &id)?;
        if caller.role == Role::Inspector && before.lead_id != caller.user.id {
            return Err(Error::Forbidden);
        }
        if if_match.is_some_and(|v| v != before.version) {
            return Err(Error::PreconditionFailed);
        }
        let ids = [before.id.clone()];
        let old_members = Campaign::members_of(conn, &ids)?.remove(&before.id).unwrap_or_default();
        let old_targets = Campaign::targets_of(conn, &ids)?.remove(&before.id).unwrap_or_default();
        if let Some(own) = target_limit(caller) {
            for t in &old_targets {
                if !Unit::is_in_subtree(conn, own, t)? {
                    return Err(Error::Forbidden);
                }
            }
        }
        let (mut members, mut targets) = (old_members.clone(), old_targets.clone());
        let mut c = before.clone();
        let mut v = Validator::new();
        apply(conn, caller, &mut v, &mut c, &mut members, &mut targets, input)?;
        v.finish()?;
        c.version = before.version + 1;
        c.updated_at = now;
        if !c.update_if_version(conn, before.version, &members, &targets)? {
            return Err(Error::PreconditionFailed);
        }
        let (b, a) = (before.audit_snapshot(&old_members, &old_targets), c.audit_snapshot(&members, &targets));
        AuditEntry::record(conn, &caller.actor(), now, "update", "campaign", &c.id, Some(b), Some(a))?;
        Ok((c, members, targets))
    })
}

/// `filter` narrowed to the campaigns `caller` may see: inspectors only those they are
/// members of (the rule [`find_visible`] applies to one campaign).
pub fn visible_to(caller: &CurrentUser, filter: CampaignFilter) -> CampaignFilter {
    CampaignFilter { member: (caller.role == Role::Inspector).then(|| caller.user.id.clone()), ..filter }
}

/// The campaign if the caller may see it: inspectors only their own.
pub fn find_visible(conn: &mut DbConn, caller: &CurrentUser, id: &str) -> Result<Campaign, Error> {
    let c = Campaign::find(conn, id)?.ok_or(Error::NotFound)?;
    if caller.role == Role::Inspector && !Campaign::is_member(conn, id, &caller.user.id)? {
        return Err(Error::NotFound);
    }
    Ok(c)
}

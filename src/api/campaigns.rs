//! Campaigns: inspectors see those they belong to; reviewers, unit heads and admins see all.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::{IfMatch, JsonBody, QueryParams, etag, parse_id};
use super::instant;
use super::pagination::{Page, PageRequest};
use crate::auth::CurrentUser;
use crate::db::{self, DbConn, write_tx};
use crate::domain::dates;
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::error::msg;
use crate::error::{ApiError, Validator};
use crate::model::audit::AuditEntry;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::directive::Directive;
use crate::model::new_id;
use crate::model::unit::Unit;
use crate::model::user::User;
use crate::state::AppState;

pub const KINDS: [&str; 3] = ["inspection", "supervision", "duty_audit"];
pub const STATUSES: [&str; 3] = ["planned", "active", "concluded"];

#[derive(Serialize, utoipa::ToSchema)]
pub struct CampaignView {
    id: String,
    title: String,
    kind: String,
    directive_id: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    status: String,
    lead_id: String,
    member_ids: Vec<String>,
    target_unit_ids: Vec<String>,
    created_by: String,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl CampaignView {
    fn new(c: Campaign, member_ids: Vec<String>, target_unit_ids: Vec<String>) -> Self {
        CampaignView {
            id: c.id,
            title: c.title,
            kind: c.kind,
            directive_id: c.directive_id,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            status: c.status,
            lead_id: c.lead_id,
            member_ids,
            target_unit_ids,
            created_by: c.created_by,
            version: c.version,
            created_at: instant(c.created_at),
            updated_at: instant(c.updated_at),
        }
    }
}

/// Body of POST and PATCH: on PATCH every field is optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CampaignInput {
    title: Option<String>,
    kind: Option<String>,
    directive_id: Option<String>,
    /// A date, `YYYY-MM-DD`.
    #[schema(value_type = Option<NaiveDate>)]
    starts_on: Option<String>,
    /// A date, `YYYY-MM-DD`.
    #[schema(value_type = Option<NaiveDate>)]
    ends_on: Option<String>,
    status: Option<String>,
    lead_id: Option<String>,
    member_ids: Option<Vec<String>>,
    target_unit_ids: Option<Vec<String>>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    status: Option<String>,
    directive_id: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
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

/// Applies `input` onto `c` (and its member/target sets), recording every problem in `v`.
fn apply(
    conn: &mut DbConn,
    caller: &CurrentUser,
    v: &mut Validator,
    c: &mut Campaign,
    members: &mut Vec<String>,
    targets: &mut Vec<String>,
    input: CampaignInput,
) -> Result<(), ApiError> {
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
        Some(u) if u.active && (u.role == "inspector" || u.role == "reviewer") => {}
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
        let ok = parse_id(m).is_ok() && User::find(conn, m)?.is_some_and(|u| u.active);
        v.check(ok, &format!("member_ids[{i}]"), msg::no_active_user());
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

#[utoipa::path(tag = "campaigns", request_body = CampaignInput, responses((status = 201, description = "Created", body = CampaignView)))]
#[post("/campaigns")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<CampaignInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Reviewer, Role::Inspector])?;
    let input = body.0;
    let (c, members, targets) = state
        .op(move |conn, ctx| {
            let now = ctx.now();
            let mut v = Validator::new();
            v.require("title", input.title.as_ref());
            v.require("kind", input.kind.as_ref());
            v.require("directive_id", input.directive_id.as_ref());
            v.require("starts_on", input.starts_on.as_ref());
            v.require("ends_on", input.ends_on.as_ref());
            v.require("target_unit_ids", input.target_unit_ids.as_ref());
            // An inspector who plans a campaign leads it unless they name someone else.
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
                apply(conn, &caller, &mut v, &mut c, &mut members, &mut targets, input)?;
                v.finish()?;
                c.insert(conn, &members, &targets)?;
                let after = c.audit_snapshot(&members, &targets);
                AuditEntry::record(conn, &caller.actor(), now, "create", "campaign", &c.id, None, Some(after))?;
                Ok((c, members, targets))
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/campaigns/{}", c.id)))
        .insert_header(("ETag", etag(c.version)))
        .json(CampaignView::new(c, members, targets)))
}

/// The campaign if the caller may see it: inspectors only their own.
fn find_visible(conn: &mut DbConn, caller: &CurrentUser, id: &str) -> Result<Campaign, ApiError> {
    let c = Campaign::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if caller.role == Role::Inspector && !Campaign::is_member(conn, id, &caller.user.id)? {
        return Err(ApiError::NotFound);
    }
    Ok(c)
}

#[utoipa::path(tag = "campaigns", params(CampaignQuery), responses((status = 200, description = "A page of campaigns", body = Page<CampaignView>)))]
#[get("/campaigns")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<CampaignQuery>,
) -> Result<web::Json<Page<CampaignView>>, ApiError> {
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = CampaignFilter {
        status: q.status,
        directive_id: q.directive_id,
        member: (caller.role == Role::Inspector).then(|| caller.user.id.clone()),
    };
    let (after, fetch) = (page.after.clone(), page.fetch());
    let (rows, mut members, mut targets) = state
        .db(move |conn| {
            let rows = Campaign::list(conn, &filter, after.as_deref(), fetch)?;
            let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
            Ok((rows, Campaign::members_of(conn, &ids)?, Campaign::targets_of(conn, &ids)?))
        })
        .await?;
    Ok(web::Json(page.page(
        rows,
        |c| c.id.clone(),
        |c| {
            let (m, t) = (members.remove(&c.id).unwrap_or_default(), targets.remove(&c.id).unwrap_or_default());
            CampaignView::new(c, m, t)
        },
    )))
}

#[utoipa::path(tag = "campaigns", responses((status = 200, description = "The campaign", body = CampaignView, headers(("ETag" = String, description = "The version, for If-Match")))))]
#[get("/campaigns/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let (c, m, t) = state
        .db(move |conn| {
            let c = find_visible(conn, &caller, &id)?;
            let ids = [c.id.clone()];
            let m = Campaign::members_of(conn, &ids)?.remove(&c.id).unwrap_or_default();
            let t = Campaign::targets_of(conn, &ids)?.remove(&c.id).unwrap_or_default();
            Ok((c, m, t))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(c.version))).json(CampaignView::new(c, m, t)))
}

#[utoipa::path(tag = "campaigns", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = CampaignInput, responses((status = 200, description = "Updated", body = CampaignView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Conflicting change", content_type = "application/problem+json", body = crate::error::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::error::Problem)))]
#[patch("/campaigns/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<CampaignInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Reviewer, Role::Inspector])?;
    let id = parse_id(&path)?;
    let input = body.0;
    let (c, m, t) = state
        .op(move |conn, ctx| {
            let now = ctx.now();
            write_tx(conn, |conn| {
                db::lock(conn, &[&crate::casework::campaign_lock(&id)])?;
                let before = find_visible(conn, &caller, &id)?;
                if caller.role == Role::Inspector && before.lead_id != caller.user.id {
                    return Err(ApiError::Forbidden);
                }
                if_match.check(before.version)?;
                let ids = [before.id.clone()];
                let old_members = Campaign::members_of(conn, &ids)?.remove(&before.id).unwrap_or_default();
                let old_targets = Campaign::targets_of(conn, &ids)?.remove(&before.id).unwrap_or_default();
                if let Some(own) = target_limit(&caller) {
                    for t in &old_targets {
                        if !Unit::is_in_subtree(conn, own, t)? {
                            return Err(ApiError::Forbidden);
                        }
                    }
                }
                let (mut members, mut targets) = (old_members.clone(), old_targets.clone());
                let mut c = before.clone();
                let mut v = Validator::new();
                apply(conn, &caller, &mut v, &mut c, &mut members, &mut targets, input)?;
                v.finish()?;
                c.version = before.version + 1;
                c.updated_at = now;
                if !c.update_if_version(conn, before.version, &members, &targets)? {
                    return Err(ApiError::PreconditionFailed);
                }
                let (b, a) = (before.audit_snapshot(&old_members, &old_targets), c.audit_snapshot(&members, &targets));
                AuditEntry::record(conn, &caller.actor(), now, "update", "campaign", &c.id, Some(b), Some(a))?;
                Ok((c, members, targets))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(c.version))).json(CampaignView::new(c, m, t)))
}

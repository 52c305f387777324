//! Violation cases: logging, reading within scope, editing, the workflow, the timeline.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::extract::{IfMatch, JsonBody, QueryParams, etag, parse_id};
use super::instant;
use super::pagination::{Page, PageRequest};
use crate::app::AppState;
use crate::auth::{CurrentUser, Verified};
use crate::db::{self, DbConn, write_tx};
use crate::domain::dates;
use crate::domain::deadline::{is_overdue, parse_deadline, review_deadline};
use crate::domain::fold::fold;
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::domain::workflow::{self, Action, Need, Refusal, Status};
use crate::error::{ApiError, Validator};
use crate::model::alert::Alert;
use crate::model::audit::AuditEntry;
use crate::model::campaign::Campaign;
use crate::model::case::{Case, CaseEvent, CaseFilter, CaseScope};
use crate::model::directive::Indicator;
use crate::model::new_id;
use crate::model::unit::Unit;

pub const SEVERITIES: [&str; 3] = ["low", "medium", "high"];
pub const SUBJECT_KINDS: [&str; 2] = ["organization", "individual"];
const TITLE_MAX: usize = 300;
const DESCRIPTION_MAX: usize = 10_000;
const NOTE_MAX: usize = 5_000;
const CONCLUDED: &str = "This campaign is concluded; no more cases can be logged in it.";

/// The lock that orders case creation (shared) against changes to their campaign (exclusive).
pub fn campaign_lock(campaign_id: &str) -> String {
    format!("campaign:{campaign_id}")
}

/// The cases a caller may see; administrators do not work on cases.
pub fn scope_of(caller: &CurrentUser) -> Result<CaseScope, ApiError> {
    match caller.role {
        Role::Inspector => Ok(CaseScope::CampaignsOf(caller.user.id.clone())),
        Role::Reviewer | Role::UnitHead => {
            Ok(caller.user.unit_id.clone().map(CaseScope::Subtree).unwrap_or(CaseScope::Nothing))
        }
        Role::Admin => Err(ApiError::Forbidden),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubjectView {
    kind: String,
    unit_id: String,
    person_name: Option<String>,
    person_position: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    measure: String,
    decided_on: Option<NaiveDate>,
    reference: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseView {
    id: String,
    number: String,
    campaign_id: String,
    directive_id: String,
    subject: SubjectView,
    indicator_ids: Vec<String>,
    title: String,
    description: String,
    detected_on: NaiveDate,
    severity: String,
    status: String,
    responsible_unit_id: Option<String>,
    due_at: Option<String>,
    /// The deadline that counts now: the review deadline while open, `due_at` while in handling.
    deadline_at: Option<String>,
    overdue: bool,
    decision: Option<DecisionView>,
    created_by: String,
    created_at: String,
    updated_at: String,
    version: i64,
}

impl CaseView {
    pub fn new(c: Case, indicator_ids: Vec<String>, now: chrono::NaiveDateTime) -> Self {
        let status = Status::parse(&c.status);
        let overdue = is_overdue(status.is_some_and(Status::can_be_overdue), c.deadline_at, now);
        CaseView {
            subject: SubjectView {
                kind: c.subject_kind,
                unit_id: c.subject_unit_id,
                person_name: c.person_name,
                person_position: c.person_position,
            },
            decision: c.decision_measure.map(|measure| DecisionView {
                measure,
                decided_on: c.decision_decided_on,
                reference: c.decision_reference,
            }),
            id: c.id,
            number: c.number,
            campaign_id: c.campaign_id,
            directive_id: c.directive_id,
            indicator_ids,
            title: c.title,
            description: c.description,
            detected_on: c.detected_on,
            severity: c.severity,
            status: c.status,
            responsible_unit_id: c.responsible_unit_id,
            due_at: c.due_at.map(instant),
            deadline_at: c.deadline_at.map(instant),
            overdue,
            created_by: c.created_by,
            created_at: instant(c.created_at),
            updated_at: instant(c.updated_at),
            version: c.version,
        }
    }
}

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct SubjectInput {
    kind: Option<String>,
    unit_id: Option<String>,
    person_name: Option<String>,
    person_position: Option<String>,
}

/// Body of POST (all needed) and PATCH (any subset).
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CaseInput {
    campaign_id: Option<String>,
    subject: Option<SubjectInput>,
    indicator_ids: Option<Vec<String>>,
    title: Option<String>,
    description: Option<String>,
    detected_on: Option<String>,
    severity: Option<String>,
    responsible_unit_id: Option<String>,
    due_at: Option<String>,
}

/// A case plus the indicator ids it cites, while being edited.
struct Draft {
    case: Case,
    indicator_ids: Vec<String>,
}

/// Applies the descriptive fields of `input`, recording every problem in `v`.
fn apply_fields(
    st: &AppState,
    conn: &mut DbConn,
    v: &mut Validator,
    d: &mut Draft,
    campaign: Option<&Campaign>,
    input: &CaseInput,
) -> Result<(), ApiError> {
    let tz = st.settings.time_zone().map_err(ApiError::internal)?;
    if let Some(t) = &input.title {
        match text::clean_required(t, TITLE_MAX) {
            Ok(t) => d.case.title = t,
            Err(m) => v.add("title", m),
        }
    }
    if let Some(t) = &input.description {
        match text::clean_required(t, DESCRIPTION_MAX) {
            Ok(t) => d.case.description = t,
            Err(m) => v.add("description", m),
        }
    }
    if let Some(s) = &input.severity {
        v.check(SEVERITIES.contains(&s.as_str()), "severity", one_of(&SEVERITIES));
        d.case.severity = s.clone();
    }
    if let Some(raw) = &input.detected_on {
        let today = st.clock.now().with_timezone(&tz).date_naive();
        match dates::parse_date(raw) {
            Ok(date) if date > today => v.add("detected_on", "Must not be in the future."),
            Ok(date) if campaign.is_some_and(|c| date < c.starts_on) => {
                v.add("detected_on", "Must not be before the campaign starts.")
            }
            Ok(date) => d.case.detected_on = date,
            Err(m) => v.add("detected_on", m),
        }
    }
    if let Some(s) = &input.subject {
        match s.kind.as_deref() {
            Some(k) if SUBJECT_KINDS.contains(&k) => d.case.subject_kind = k.to_string(),
            Some(_) => v.add("subject.kind", one_of(&SUBJECT_KINDS)),
            None => v.add("subject.kind", "This field is required."),
        }
        match s.unit_id.as_deref() {
            None => v.add("subject.unit_id", "This field is required."),
            Some(u) if parse_id(u).is_err() || Unit::find(conn, u)?.is_none() => {
                v.add("subject.unit_id", "There is no unit with this id.")
            }
            Some(u)
                if match campaign {
                    Some(c) => !Campaign::targets_unit(conn, &c.id, u)?,
                    None => false,
                } =>
            {
                v.add("subject.unit_id", "This unit is not among the campaign's target units or below them.")
            }
            Some(u) => d.case.subject_unit_id = u.to_string(),
        }
        let name = s.person_name.as_deref().map(|n| text::clean_required(n, 200));
        let position = s.person_position.as_deref().map(|n| text::clean_required(n, 200));
        if d.case.subject_kind == "individual" {
            match name {
                Some(Ok(n)) => d.case.person_name = Some(n),
                Some(Err(m)) => v.add("subject.person_name", m),
                None => v.add("subject.person_name", "An individual subject needs a name."),
            }
            match position {
                Some(Ok(p)) => d.case.person_position = Some(p),
                Some(Err(m)) => v.add("subject.person_position", m),
                None => d.case.person_position = None,
            }
        } else {
            d.case.person_name = None;
            d.case.person_position = None;
        }
    }
    if let Some(ids) = &input.indicator_ids {
        v.check(!ids.is_empty(), "indicator_ids", "Cite at least one indicator.");
        let mut ids = ids.clone();
        ids.sort();
        ids.dedup();
        let valid: Vec<String> = ids.iter().filter(|i| parse_id(i).is_ok()).cloned().collect();
        let found = Indicator::find_many(conn, &valid)?;
        for (i, id) in ids.iter().enumerate() {
            match found.iter().find(|f| &f.id == id) {
                None => v.add(&format!("indicator_ids[{i}]"), "There is no indicator with this id."),
                Some(f) if campaign.is_some_and(|c| f.directive_id != c.directive_id) => v.add(
                    &format!("indicator_ids[{i}]"),
                    "This indicator belongs to another directive than the campaign's.",
                ),
                Some(f) if f.retired => v.add(&format!("indicator_ids[{i}]"), "This indicator has been retired."),
                Some(_) => {}
            }
        }
        d.indicator_ids = ids;
    }
    Ok(())
}

/// Recomputes what is derived from the fields: who the subject is, and the search text.
fn derive(conn: &mut DbConn, case: &mut Case) -> Result<(), ApiError> {
    case.subject_key = match (&case.subject_kind[..], &case.person_name) {
        ("individual", Some(name)) => format!("person:{}:{}", case.subject_unit_id, fold(name)),
        _ => format!("org:{}", case.subject_unit_id),
    };
    let unit_name = Unit::find(conn, &case.subject_unit_id)?.map(|u| u.name).unwrap_or_default();
    case.search_text = case.search_text_of(&unit_name);
    Ok(())
}

fn snapshot(c: &Case, indicator_ids: &[String]) -> Value {
    json!({
        "number": c.number, "status": c.status, "title": c.title, "description": c.description,
        "subject_kind": c.subject_kind, "subject_unit_id": c.subject_unit_id, "person_name": c.person_name,
        "person_position": c.person_position, "indicator_ids": indicator_ids, "detected_on": c.detected_on,
        "severity": c.severity, "responsible_unit_id": c.responsible_unit_id,
        "due_at": c.due_at.map(instant), "decision_measure": c.decision_measure,
        "decision_decided_on": c.decision_decided_on, "decision_reference": c.decision_reference,
        "version": c.version,
    })
}

#[utoipa::path(tag = "cases", request_body = CaseInput, responses((status = 201, description = "Logged", body = CaseView)))]
#[post("/cases")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<CaseInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Inspector])?;
    let input = body.0;
    let st = state.clone();
    let (case, indicator_ids) = state.db(move |conn| log_case(&st, conn, &caller, input)).await?;
    let now = state.clock.now_naive();
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}", case.id)))
        .insert_header(("ETag", etag(case.version)))
        .json(CaseView::new(case, indicator_ids, now)))
}

/// What `POST /cases` does once the request is read: checks the input and, in one
/// transaction, numbers, stores and records the new case (also run by the benchmark
/// without HTTP, to compare the two).
pub fn log_case(
    st: &AppState,
    conn: &mut DbConn,
    caller: &CurrentUser,
    input: CaseInput,
) -> Result<(Case, Vec<String>), ApiError> {
    let now = st.clock.now_naive();
    let mut v = Validator::new();
    let campaign = match v.require("campaign_id", input.campaign_id.as_deref()) {
        Some(id) if parse_id(id).is_ok() && Campaign::is_member(conn, id, &caller.user.id)? => {
            Campaign::find(conn, id)?
        }
        Some(_) => {
            v.add("campaign_id", "There is no campaign with this id that you belong to.");
            None
        }
        None => None,
    };
    if let Some(c) = &campaign {
        v.check(c.status != "concluded", "campaign_id", CONCLUDED);
    }
    v.require("subject", input.subject.as_ref());
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
            subject_kind: String::new(),
            subject_unit_id: String::new(),
            person_name: None,
            person_position: None,
            subject_key: String::new(),
            title: String::new(),
            description: String::new(),
            detected_on: starts_on,
            severity: String::new(),
            status: Status::Open.as_str().into(),
            responsible_unit_id: None,
            due_at: None,
            deadline_at: Some(review_deadline(now, st.settings.escalation.review_days)),
            decision_measure: None,
            decision_decided_on: None,
            decision_reference: None,
            closed_at: None,
            search_text: String::new(),
            created_by: caller.user.id.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        },
        indicator_ids: Vec::new(),
    };
    v.check(
        input.responsible_unit_id.is_none(),
        "responsible_unit_id",
        "Is set by a reviewer when accepting the case.",
    );
    v.check(input.due_at.is_none(), "due_at", "Is set by a reviewer when accepting the case.");
    apply_fields(st, conn, &mut v, &mut draft, campaign.as_ref(), &input)?;
    v.finish()?;
    let tz = st.settings.time_zone().map_err(ApiError::internal)?;
    let year = st.clock.now().with_timezone(&tz).year();
    write_tx(conn, |conn| {
        let Draft { mut case, indicator_ids } = draft;
        // Concluding a campaign takes this lock exclusively: checked again here, the campaign
        // cannot be concluded between this check and the insert.
        db::lock_shared(conn, &campaign_lock(&case.campaign_id))?;
        if Campaign::find(conn, &case.campaign_id)?.is_none_or(|c| c.status == "concluded") {
            return Err(ApiError::field("campaign_id", CONCLUDED));
        }
        case.number = Case::next_number(conn, year)?;
        derive(conn, &mut case)?;
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
        Ok((case, indicator_ids))
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    campaign_id: Option<String>,
    unit_id: Option<String>,
    indicator_id: Option<String>,
    status: Option<String>,
    overdue: Option<bool>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    /// `csv` or `xlsx` exports every matching case instead of a page.
    format: Option<String>,
}

/// Validates the list filters (shared by the list and its export).
pub fn case_filter(q: &CaseQuery) -> Result<CaseFilter, ApiError> {
    let mut v = Validator::new();
    let (from, to) = super::parse_period(&mut v, q.from.as_deref(), q.to.as_deref());
    if let Some(s) = &q.status {
        v.check(Status::parse(s).is_some(), "status", one_of(&Status::ALL.map(Status::as_str)));
    }
    if let Some(q) = &q.q {
        v.check(q.chars().count() <= 200, "q", "Must be at most 200 characters.");
    }
    v.finish()?;
    Ok(CaseFilter {
        directive_id: None,
        campaign_id: q.campaign_id.clone(),
        unit_id: q.unit_id.clone(),
        subject_unit_id: None,
        responsible_only_unit_id: None,
        indicator_id: q.indicator_id.clone(),
        status: q.status.clone(),
        overdue: q.overdue,
        q: q.q.clone(),
        from,
        to,
    })
}

#[utoipa::path(tag = "cases", params(CaseQuery), responses((status = 200, description = "A page of the cases the caller may see; with format=csv|xlsx (or Accept) every matching case as a file", content((Page<CaseView> = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/cases")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    req: actix_web::HttpRequest,
    q: QueryParams<CaseQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope_of(&caller)?;
    let q = q.0;
    let accept = req.headers().get(actix_web::http::header::ACCEPT).and_then(|v| v.to_str().ok());
    if let Some(format) = super::export::FileFormat::pick(q.format.as_deref(), accept)? {
        return super::case_export::export(state, scope, case_filter(&q)?, format).await;
    }
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = case_filter(&q)?;
    let now = state.clock.now_naive();
    let (after, fetch) = (page.after.clone(), page.fetch());
    let (rows, mut indicators) = state
        .db(move |conn| {
            let rows = Case::list_visible(conn, &scope, &filter, now, after.as_deref(), fetch)?;
            let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
            Ok((rows, Case::indicators_of(conn, &ids)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.page(
        rows,
        |c| c.id.clone(),
        |c| {
            let ids = indicators.remove(&c.id).unwrap_or_default();
            CaseView::new(c, ids, now)
        },
    )))
}

/// The unit a request names, if the id is well-formed and exists.
fn find_unit(conn: &mut DbConn, raw: &str) -> Result<Option<Unit>, ApiError> {
    match parse_id(raw) {
        Ok(id) => Ok(Unit::find(conn, &id)?),
        Err(_) => Ok(None),
    }
}

/// Another writer got in between our read and our versioned write: stale for a
/// client that named a version, a conflict for one that did not.
fn lost_race(if_match: &IfMatch) -> ApiError {
    if if_match.0.is_some() {
        ApiError::PreconditionFailed
    } else {
        ApiError::conflict(
            "concurrent-change",
            "The case was changed by someone else at the same moment. Reload it and try again.",
        )
    }
}

/// Loads a visible case with its indicator ids, or 404.
fn load(conn: &mut DbConn, scope: &CaseScope, id: &str) -> Result<(Case, Vec<String>), ApiError> {
    Case::find_visible(conn, id, scope)?.ok_or(ApiError::NotFound)
}

/// What `GET /cases/{id}` reads: the caller's session (401 unless live), then the case
/// if it is within the caller's scope (404 otherwise). Public for the benchmark, which
/// runs it without HTTP.
pub fn read_case(
    conn: &mut DbConn,
    caller: Verified,
    id: &str,
    now: NaiveDateTime,
) -> Result<(Case, Vec<String>), ApiError> {
    let scope = scope_of(&caller.resolve(conn, now)?)?;
    load(conn, &scope, &parse_id(id)?)
}

#[utoipa::path(tag = "cases", responses((status = 200, description = "The case", body = CaseView, headers(("ETag" = String, description = "The version, for If-Match")))))]
#[get("/cases/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Verified,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now_naive();
    // The session check and the reads share one trip to the pool: this is the hottest read.
    let (case, ids) = state.db(move |conn| read_case(conn, caller, &path, now)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(case.version))).json(CaseView::new(case, ids, now)))
}

#[utoipa::path(tag = "cases", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = CaseInput, responses((status = 200, description = "Updated", body = CaseView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Not allowed in the case's state, or a concurrent change", content_type = "application/problem+json", body = crate::error::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::error::Problem)))]
#[patch("/cases/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<CaseInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Inspector, Role::Reviewer])?;
    let scope = scope_of(&caller)?;
    let id = parse_id(&path)?;
    let input = body.0;
    let st = state.clone();
    let (case, ids) = state
        .db(move |conn| {
            let now = st.clock.now_naive();
            let tz = st.settings.time_zone().map_err(ApiError::internal)?;
            write_tx(conn, |conn| {
                let (before, before_ids) = load(conn, &scope, &id)?;
                let status =
                    Status::parse(&before.status).ok_or_else(|| ApiError::internal("stored status unknown"))?;
                if caller.role == Role::Inspector && before.created_by != caller.user.id {
                    return Err(ApiError::Forbidden);
                }
                if_match.check(before.version)?;
                let editable = match caller.role {
                    Role::Inspector => status == Status::Open,
                    _ => matches!(status, Status::Open | Status::InHandling | Status::Remediated),
                };
                if !editable {
                    return Err(ApiError::conflict(
                        "not-editable",
                        format!("A case that is {} can no longer be edited.", status.as_str()),
                    ));
                }
                let mut v = Validator::new();
                v.check(input.campaign_id.is_none(), "campaign_id", "A case cannot move to another campaign.");
                let campaign = Campaign::find(conn, &before.campaign_id)?.ok_or(ApiError::NotFound)?;
                let mut draft = Draft { case: before.clone(), indicator_ids: before_ids.clone() };
                apply_fields(&st, conn, &mut v, &mut draft, Some(&campaign), &input)?;
                if input.responsible_unit_id.is_some() || input.due_at.is_some() {
                    if caller.role != Role::Reviewer || status != Status::InHandling {
                        v.add(
                            if input.due_at.is_some() { "due_at" } else { "responsible_unit_id" },
                            "Only a reviewer can change this, while the case is in handling.",
                        );
                    } else {
                        if let Some(u) = &input.responsible_unit_id {
                            match find_unit(conn, u)? {
                                Some(unit) => draft.case.responsible_unit_id = Some(unit.id),
                                None => v.add("responsible_unit_id", "There is no unit with this id."),
                            }
                        }
                        if let Some(raw) = &input.due_at {
                            match parse_deadline(raw, tz) {
                                Ok(d) if d > now => {
                                    draft.case.due_at = Some(d);
                                    draft.case.deadline_at = Some(d);
                                }
                                Ok(_) => v.add("due_at", "Must be in the future."),
                                Err(m) => v.add("due_at", m),
                            }
                        }
                    }
                }
                v.finish()?;
                let Draft { case: mut after, indicator_ids } = draft;
                derive(conn, &mut after)?;
                after.version = before.version + 1;
                after.updated_at = now;
                if !after.replace(conn, (&before, &before_ids), &indicator_ids)? {
                    return Err(lost_race(&if_match));
                }
                if after.deadline_at != before.deadline_at {
                    Alert::cancel_pending_for_case(conn, &after.id)?;
                }
                let (b, a) = (snapshot(&before, &before_ids), snapshot(&after, &indicator_ids));
                let changed: Vec<&String> = a
                    .as_object()
                    .map(|o| o.keys().filter(|k| a[*k] != b[*k] && *k != "version").collect())
                    .unwrap_or_default();
                CaseEvent::record(conn, &after.id, Some(&caller.user.id), now, "updated", json!({"fields": changed}))?;
                AuditEntry::record(conn, &caller.actor(), now, "update", "case", &after.id, Some(b), Some(a))?;
                Ok((after, indicator_ids))
            })
        })
        .await?;
    let now = state.clock.now_naive();
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(case.version))).json(CaseView::new(case, ids, now)))
}

#[derive(Deserialize, Clone, utoipa::ToSchema)]
pub struct DecisionInput {
    measure: Option<String>,
    decided_on: Option<String>,
    reference: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TransitionRequest {
    action: Option<String>,
    note: Option<String>,
    responsible_unit_id: Option<String>,
    due_at: Option<String>,
    decision: Option<DecisionInput>,
}

#[utoipa::path(tag = "cases", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = TransitionRequest, responses((status = 200, description = "The case in its new state", body = CaseView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Not allowed in the case's state, or a concurrent change", content_type = "application/problem+json", body = crate::error::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::error::Problem)))]
#[post("/cases/{id}/transitions")]
pub async fn transition(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope_of(&caller)?;
    let id = parse_id(&path)?;
    let req = body.0;
    let action = match req.action.as_deref() {
        None => return Err(ApiError::field("action", "This field is required.")),
        Some(a) => {
            Action::parse(a).ok_or_else(|| ApiError::field("action", one_of(&Action::ALL.map(Action::as_str))))?
        }
    };
    let st = state.clone();
    let (case, ids) = state
        .db(move |conn| {
            let now = st.clock.now_naive();
            let tz = st.settings.time_zone().map_err(ApiError::internal)?;
            write_tx(conn, |conn| {
                let (before, ids) = load(conn, &scope, &id)?;
                let from = Status::parse(&before.status).ok_or_else(|| ApiError::internal("stored status unknown"))?;
                let rule = match workflow::check(action, caller.role, from) {
                    Err(Refusal::Role) => return Err(ApiError::Forbidden),
                    Err(Refusal::State) => {
                        if_match.check(before.version)?;
                        return Err(ApiError::conflict(
                            "transition-not-allowed",
                            format!(
                                "The action \"{}\" is not possible on a case that is {}.",
                                action.as_str(),
                                from.as_str()
                            ),
                        ));
                    }
                    Ok(rule) => rule,
                };
                if caller.role == Role::UnitHead {
                    // A unit head acts only for a unit they head (or one below it).
                    let (Some(head_unit), Some(resp)) = (&caller.user.unit_id, &before.responsible_unit_id) else {
                        return Err(ApiError::Forbidden);
                    };
                    if !Unit::is_in_subtree(conn, head_unit, resp)? {
                        return Err(ApiError::Forbidden);
                    }
                }
                if_match.check(before.version)?;

                let mut after = before.clone();
                let mut v = Validator::new();
                let note = req.note.as_deref().map(|n| text::clean_required(n, NOTE_MAX));
                for need in rule.needs {
                    let field = need.field();
                    match need {
                        Need::Note => match &note {
                            Some(Ok(_)) => {}
                            Some(Err(m)) => v.add(field, m.clone()),
                            None => v.add(field, "A note is required for this action."),
                        },
                        Need::ResponsibleUnit => match req.responsible_unit_id.as_deref() {
                            None => v.add(field, "Name the unit responsible for handling the case."),
                            Some(u) => match find_unit(conn, u)? {
                                Some(unit) => after.responsible_unit_id = Some(unit.id),
                                None => v.add(field, "There is no unit with this id."),
                            },
                        },
                        Need::DueAt => match req.due_at.as_deref().map(|raw| parse_deadline(raw, tz)) {
                            None => v.add(field, "Set the deadline for handling."),
                            Some(Err(m)) => v.add(field, m),
                            Some(Ok(d)) if d <= now => v.add(field, "Must be in the future."),
                            Some(Ok(d)) => after.due_at = Some(d),
                        },
                        Need::Decision => match &req.decision {
                            None => v.add(field, "Record the decision: its measure and the date it was taken."),
                            Some(d) => {
                                let measures = &st.settings.cases.measures;
                                match d.measure.as_deref() {
                                    Some(m) if measures.iter().any(|x| x.code == m) => {
                                        after.decision_measure = Some(m.into())
                                    }
                                    Some(_) => v.add(
                                        "decision.measure",
                                        one_of(&measures.iter().map(|m| m.code.as_str()).collect::<Vec<_>>()),
                                    ),
                                    None => v.add("decision.measure", "This field is required."),
                                }
                                let today = st.clock.now().with_timezone(&tz).date_naive();
                                match d.decided_on.as_deref().map(dates::parse_date) {
                                    Some(Ok(day)) if day > today => {
                                        v.add("decision.decided_on", "Must not be in the future.")
                                    }
                                    Some(Ok(day)) => after.decision_decided_on = Some(day),
                                    Some(Err(m)) => v.add("decision.decided_on", m),
                                    None => v.add("decision.decided_on", "This field is required."),
                                }
                                match d.reference.as_deref().map(|r| text::clean_required(r, 100)) {
                                    Some(Ok(r)) => after.decision_reference = Some(r),
                                    Some(Err(m)) => v.add("decision.reference", m),
                                    None => after.decision_reference = None,
                                }
                            }
                        },
                    }
                }
                if action == Action::Reopen && after.responsible_unit_id.is_none() {
                    // Dismissed straight from open: nobody was ever made responsible.
                    match req.responsible_unit_id.as_deref() {
                        Some(u) => match find_unit(conn, u)? {
                            Some(unit) => after.responsible_unit_id = Some(unit.id),
                            None => v.add("responsible_unit_id", "There is no unit with this id."),
                        },
                        None => v.add("responsible_unit_id", "This case has no responsible unit yet; name one."),
                    }
                }
                v.finish()?;

                after.status = rule.to.as_str().into();
                after.deadline_at = if rule.to == Status::InHandling { after.due_at } else { None };
                match rule.to {
                    Status::Closed | Status::Dismissed => after.closed_at = Some(now),
                    _ => {
                        after.closed_at = None;
                        if action == Action::Reopen {
                            after.decision_measure = None;
                            after.decision_decided_on = None;
                            after.decision_reference = None;
                        }
                    }
                }
                after.version = before.version + 1;
                after.updated_at = now;
                if !after.replace(conn, (&before, &ids), &ids)? {
                    return Err(lost_race(&if_match));
                }
                if after.deadline_at != before.deadline_at {
                    // Closed, dismissed, remediated or given a new deadline: what was not sent
                    // about the old deadline no longer applies; a new deadline starts a new series.
                    Alert::cancel_pending_for_case(conn, &after.id)?;
                }
                let detail = json!({
                    "action": action.as_str(), "from": from.as_str(), "to": rule.to.as_str(),
                    "note": note.and_then(Result::ok), "responsible_unit_id": after.responsible_unit_id,
                    "due_at": after.due_at.map(instant),
                    "decision": after.decision_measure.as_ref().map(|m| json!({
                        "measure": m, "decided_on": after.decision_decided_on, "reference": after.decision_reference
                    })),
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
        })
        .await?;
    let now = state.clock.now_naive();
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(case.version))).json(CaseView::new(case, ids, now)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    id: String,
    at: String,
    actor_id: Option<String>,
    kind: String,
    detail: Value,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(tag = "cases", params(PageQuery), responses((status = 200, description = "The case's timeline, oldest first", body = Page<EventView>)))]
#[get("/cases/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    q: QueryParams<PageQuery>,
) -> Result<web::Json<Page<EventView>>, ApiError> {
    let scope = scope_of(&caller)?;
    let id = parse_id(&path)?;
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state
        .db(move |conn| {
            Case::find_visible(conn, &id, &scope)?.ok_or(ApiError::NotFound)?;
            Ok(CaseEvent::list(conn, &id, after.as_deref(), fetch)?)
        })
        .await?;
    Ok(web::Json(page.page(
        rows,
        |e| e.id.clone(),
        |e| EventView {
            id: e.id,
            at: instant(e.at),
            actor_id: e.actor_id,
            kind: e.kind,
            detail: serde_json::from_str(&e.detail).unwrap_or(Value::Null),
        },
    )))
}

/// A comment as stored; it also appears on the timeline as a `comment` event.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CommentView {
    id: String,
    case_id: String,
    author_id: String,
    body: String,
    created_at: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CommentRequest {
    body: Option<String>,
}

#[utoipa::path(tag = "cases", request_body = CommentRequest, responses((status = 201, description = "The comment", body = CommentView)))]
#[post("/cases/{id}/comments")]
pub async fn comment(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    body: JsonBody<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope_of(&caller)?;
    let id = parse_id(&path)?;
    let text = match body.0.body.as_deref().map(|b| text::clean_required(b, NOTE_MAX)) {
        Some(Ok(t)) => t,
        Some(Err(m)) => return Err(ApiError::field("body", m)),
        None => return Err(ApiError::field("body", "This field is required.")),
    };
    let st = state.clone();
    let view = state
        .db(move |conn| {
            let now = st.clock.now_naive();
            write_tx(conn, |conn| {
                Case::find_visible(conn, &id, &scope)?.ok_or(ApiError::NotFound)?;
                let comment_id = new_id();
                crate::model::case::Comment::insert(conn, &comment_id, &id, &caller.user.id, &text, now)?;
                let detail = json!({"comment_id": comment_id, "body": text});
                CaseEvent::record(conn, &id, Some(&caller.user.id), now, "comment", detail.clone())?;
                AuditEntry::record(conn, &caller.actor(), now, "comment", "case", &id, None, Some(detail))?;
                Ok::<_, ApiError>(CommentView {
                    id: comment_id,
                    case_id: id,
                    author_id: caller.user.id.clone(),
                    body: text,
                    created_at: instant(now),
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

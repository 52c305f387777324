//! Violation cases: logging, reading within scope, editing, the workflow, the timeline.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::instant;
use crate::auth::{CurrentUser, TokenOnly};
use crate::casework::list::{CaseQuery, case_filter};
use crate::casework::{self, CaseInput, Ctx, TransitionInput};
use crate::error::Error;
use crate::model::case::{Case, CaseEvent};
use crate::paging::{Page, PageQuery, PageRequest};
use crate::state::AppState;
use crate::table::FileFormat;
use crate::web::extract::{IfMatch, JsonBody, QueryParams, etag, parse_id};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubjectView {
    /// The subject's record (`GET /subjects/{id}`).
    id: Option<String>,
    kind: String,
    unit_id: String,
    person_name: Option<String>,
    person_position: Option<String>,
    /// For an organisation: the named body inside the unit, as logged.
    body_name: Option<String>,
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
    /// For a deadline given as a date: that date (`due_at` is the local midnight after it).
    due_on: Option<NaiveDate>,
    /// The deadline that counts now: the review deadline while open, `due_at` while in handling.
    deadline_at: Option<String>,
    /// `deadline_at` as the date it ends with, when it ends at a local midnight.
    deadline_on: Option<NaiveDate>,
    overdue: bool,
    decision: Option<DecisionView>,
    created_by: String,
    created_at: String,
    updated_at: String,
    version: i64,
}

impl CaseView {
    pub fn new(c: Case, indicator_ids: Vec<String>, now: chrono::NaiveDateTime, tz: chrono_tz::Tz) -> Self {
        let overdue = c.is_overdue(now);
        CaseView {
            subject: SubjectView {
                id: c.subject_id,
                kind: c.subject_kind.into(),
                unit_id: c.subject_unit_id,
                person_name: c.person_name,
                person_position: c.person_position,
                body_name: c.body_name,
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
            status: c.status.into(),
            responsible_unit_id: c.responsible_unit_id,
            due_at: c.due_at.map(instant),
            due_on: c.due_at.and_then(|d| crate::domain::deadline::as_date(d, tz)),
            deadline_at: c.deadline_at.map(instant),
            deadline_on: c.deadline_at.and_then(|d| crate::domain::deadline::as_date(d, tz)),
            overdue,
            created_by: c.created_by,
            created_at: instant(c.created_at),
            updated_at: instant(c.updated_at),
            version: c.version,
        }
    }
}

#[utoipa::path(tag = "cases", request_body = CaseInput, responses((status = 201, description = "Logged", body = CaseView)))]
#[post("/cases")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<CaseInput>,
) -> Result<HttpResponse, Error> {
    let (case, indicator_ids, now) =
        state.op(move |conn, ctx| case_op(ctx, casework::log(conn, ctx, &caller, body.0))).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}", case.id)))
        .insert_header(("ETag", etag(case.version)))
        .json(CaseView::new(case, indicator_ids, now, zone(&state)?)))
}

/// The deployment's time zone (validated at startup), which date-only deadlines end in.
fn zone(state: &AppState) -> Result<chrono_tz::Tz, Error> {
    state.settings.time_zone().map_err(Error::internal)
}

/// A case an operation returned, with the moment it ran (what `overdue` is judged at).
fn case_op(ctx: &Ctx, done: Result<(Case, Vec<String>), Error>) -> Result<(Case, Vec<String>, NaiveDateTime), Error> {
    done.map(|(case, ids)| (case, ids, ctx.now()))
}

/// The response to an operation that changed a case.
fn changed(state: &AppState, case: Case, ids: Vec<String>, now: NaiveDateTime) -> Result<HttpResponse, Error> {
    let view = CaseView::new(case, ids, now, zone(state)?);
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(view.version))).json(view))
}

#[utoipa::path(tag = "cases", params(CaseQuery), responses((status = 200, description = "A page of the cases the caller may see; with format=csv|xlsx (or Accept) every matching case as a file", content((Page<CaseView> = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/cases")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    req: actix_web::HttpRequest,
    q: QueryParams<CaseQuery>,
) -> Result<HttpResponse, Error> {
    let scope = casework::scope_of(&caller)?;
    let q = q.0;
    let accept = req.headers().get(actix_web::http::header::ACCEPT).and_then(|v| v.to_str().ok());
    if let Some(format) = FileFormat::pick(q.format.as_deref(), accept)? {
        let lang = crate::web::lang::preferred(&req);
        return crate::web::download::cases(&state, scope, case_filter(&q)?, format, lang).await;
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
    let tz = zone(&state)?;
    Ok(HttpResponse::Ok().json(page.page(
        rows,
        |c| c.id.clone(),
        |c| {
            let ids = indicators.remove(&c.id).unwrap_or_default();
            CaseView::new(c, ids, now, tz)
        },
    )))
}

#[utoipa::path(tag = "cases", responses((status = 200, description = "The case", body = CaseView, headers(("ETag" = String, description = "The version, for If-Match")))))]
#[get("/cases/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: TokenOnly,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let now = state.clock.now_naive();
    // The session check and the reads share one trip to the pool: this is the hottest read.
    let (case, ids) = state.db(move |conn| casework::read(conn, caller, &path, now)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(case.version))).json(CaseView::new(
        case,
        ids,
        now,
        zone(&state)?,
    )))
}

#[utoipa::path(tag = "cases", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = CaseInput, responses((status = 200, description = "Updated", body = CaseView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Not allowed in the case's state, or a concurrent change", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[patch("/cases/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<CaseInput>,
) -> Result<HttpResponse, Error> {
    let (case, ids, now) =
        state.op(move |conn, ctx| case_op(ctx, casework::edit(conn, ctx, &caller, &path, if_match.0, body.0))).await?;
    changed(&state, case, ids, now)
}

#[utoipa::path(tag = "cases", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = TransitionInput, responses((status = 200, description = "The case in its new state", body = CaseView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Not allowed in the case's state, or a concurrent change", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/cases/{id}/transitions")]
pub async fn transition(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<TransitionInput>,
) -> Result<HttpResponse, Error> {
    let (case, ids, now) = state
        .op(move |conn, ctx| case_op(ctx, casework::transition(conn, ctx, &caller, &path, if_match.0, body.0)))
        .await?;
    changed(&state, case, ids, now)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    id: String,
    at: String,
    actor_id: Option<String>,
    kind: String,
    detail: Value,
}

#[utoipa::path(tag = "cases", params(PageQuery), responses((status = 200, description = "The case's timeline, oldest first", body = Page<EventView>)))]
#[get("/cases/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    q: QueryParams<PageQuery>,
) -> Result<web::Json<Page<EventView>>, Error> {
    let scope = casework::scope_of(&caller)?;
    let id = parse_id(&path)?;
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state
        .db(move |conn| {
            Case::find_visible(conn, &id, &scope)?.ok_or(Error::NotFound)?;
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
) -> Result<HttpResponse, Error> {
    let author_id = caller.user.id.clone();
    let (id, text, case_id, at) = state
        .op(move |conn, ctx| {
            let (id, text) = casework::comment(conn, ctx, &caller, &path, body.0.body.as_deref())?;
            Ok((id, text, parse_id(&path)?, ctx.now()))
        })
        .await?;
    Ok(HttpResponse::Created().json(CommentView { id, case_id, author_id, body: text, created_at: instant(at) }))
}

//! The decisions on a case: party, state and other handling, side by side.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Serialize;

use super::instant;
use crate::auth::CurrentUser;
use crate::casework::{self, DecisionInput};
use crate::error::Error;
use crate::model::decision::Decision;
use crate::paging::{Page, PageQuery, PageRequest};
use crate::state::AppState;
use crate::web::extract::{IfMatch, JsonBody, QueryParams, etag};

#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionRecord {
    id: String,
    case_id: String,
    /// `party`, `state` or `other`.
    system: String,
    authority: Option<String>,
    /// A measure code of `GET /measures`.
    measure: String,
    decided_on: NaiveDate,
    reference: Option<String>,
    note: Option<String>,
    /// The decision this version corrects.
    corrects: Option<String>,
    /// True once a newer version corrects this one.
    superseded: bool,
    recorded_by: Option<String>,
    recorded_at: String,
}

impl From<Decision> for DecisionRecord {
    fn from(d: Decision) -> Self {
        DecisionRecord {
            id: d.id,
            case_id: d.case_id,
            system: d.system,
            authority: d.authority,
            measure: d.measure,
            decided_on: d.decided_on,
            reference: d.reference,
            note: d.note,
            corrects: d.corrects,
            superseded: d.superseded,
            recorded_by: d.recorded_by,
            recorded_at: instant(d.recorded_at),
        }
    }
}

/// Records a decision on a case, or (with `corrects`) a new version of one.
#[utoipa::path(tag = "cases", params(("If-Match" = Option<String>, Header, description = "The case version you read (its ETag); a stale one gets 412")), request_body = DecisionInput, responses((status = 201, description = "Recorded; ETag is the case's new version", body = DecisionRecord), (status = 409, description = "The case is in a state that takes no decision (open, dismissed)", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 422, description = "A measure of another system, one that does not apply to the subject or was not in force on the date", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/cases/{id}/decisions")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<DecisionInput>,
) -> Result<HttpResponse, Error> {
    let (case, decision) =
        state.op(move |conn, ctx| casework::decide(conn, ctx, &caller, &path, if_match.0, body.0)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}/decisions", case.id)))
        .insert_header(("ETag", etag(case.version)))
        .json(DecisionRecord::from(decision)))
}

/// Every version of a case's decisions, oldest first; those in force have `superseded: false`.
#[utoipa::path(tag = "cases", params(PageQuery), responses((status = 200, description = "The decisions, oldest first", body = Page<DecisionRecord>)))]
#[get("/cases/{id}/decisions")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    q: QueryParams<PageQuery>,
) -> Result<HttpResponse, Error> {
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let rows = state.db(move |conn| casework::decisions(conn, &caller, &path)).await?;
    Ok(HttpResponse::Ok().json(page.page_of_all(rows, |d| d.id.clone(), DecisionRecord::from)))
}

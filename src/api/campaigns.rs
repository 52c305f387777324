//! Campaigns: inspectors see those they belong to; reviewers, unit heads and admins see all.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::instant;
use crate::auth::CurrentUser;
use crate::campaigns;
use crate::error::Error;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::paging::{Page, PageRequest};
use crate::state::AppState;
use crate::web::extract::{IfMatch, JsonBody, QueryParams, etag, parse_id};

pub use crate::campaigns::{CampaignInput, KINDS, STATUSES};

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

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    status: Option<String>,
    directive_id: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(tag = "campaigns", request_body = CampaignInput, responses((status = 201, description = "Created", body = CampaignView)))]
#[post("/campaigns")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<CampaignInput>,
) -> Result<HttpResponse, Error> {
    let input = body.0;
    let (c, members, targets) = state.op(move |conn, ctx| campaigns::create(conn, ctx, &caller, input)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/campaigns/{}", c.id)))
        .insert_header(("ETag", etag(c.version)))
        .json(CampaignView::new(c, members, targets)))
}

#[utoipa::path(tag = "campaigns", params(CampaignQuery), responses((status = 200, description = "A page of campaigns", body = Page<CampaignView>)))]
#[get("/campaigns")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<CampaignQuery>,
) -> Result<web::Json<Page<CampaignView>>, Error> {
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = crate::campaigns::visible_to(
        &caller,
        CampaignFilter { status: q.status, directive_id: q.directive_id, member: None },
    );
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
) -> Result<HttpResponse, Error> {
    let id = parse_id(&path)?;
    let (c, m, t) = state
        .db(move |conn| {
            let c = campaigns::find_visible(conn, &caller, &id)?;
            let ids = [c.id.clone()];
            let m = Campaign::members_of(conn, &ids)?.remove(&c.id).unwrap_or_default();
            let t = Campaign::targets_of(conn, &ids)?.remove(&c.id).unwrap_or_default();
            Ok((c, m, t))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(c.version))).json(CampaignView::new(c, m, t)))
}

#[utoipa::path(tag = "campaigns", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = CampaignInput, responses((status = 200, description = "Updated", body = CampaignView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Conflicting change", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[patch("/campaigns/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<CampaignInput>,
) -> Result<HttpResponse, Error> {
    let (id, input) = (path.into_inner(), body.0);
    let (c, m, t) = state.op(move |conn, ctx| campaigns::update(conn, ctx, &caller, &id, if_match.0, input)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(c.version))).json(CampaignView::new(c, m, t)))
}

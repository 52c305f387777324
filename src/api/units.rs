//! The unit hierarchy: every signed-in user reads it, administrators change it.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};

use super::instant;
use crate::auth::CurrentUser;
use crate::domain::role::{UnitKind, one_of};
use crate::error::Error;
use crate::model::unit::{Unit, UnitFilter};
use crate::paging::{Page, PageRequest};
use crate::state::AppState;
use crate::unit_tree;
use crate::web::extract::{IfMatch, JsonBody, QueryParams, etag, parse_id};

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub head_user_id: Option<String>,
    pub email: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The day it was established; none: before the records begin.
    pub established_on: Option<chrono::NaiveDate>,
    /// The first day it no longer existed; none while it exists.
    pub ended_on: Option<chrono::NaiveDate>,
}

impl From<Unit> for UnitView {
    fn from(u: Unit) -> Self {
        UnitView {
            id: u.id,
            code: u.code,
            name: u.name,
            kind: u.kind,
            parent_id: u.parent_id,
            head_user_id: u.head_user_id,
            email: u.email,
            version: u.version,
            created_at: instant(u.created_at),
            updated_at: instant(u.updated_at),
            established_on: u.established_on,
            ended_on: u.ended_on,
        }
    }
}

/// A unit with the units below it, as `GET /units/{id}/tree` serves it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitTree {
    #[serde(flatten)]
    unit: UnitView,
    #[schema(no_recursion)]
    children: Vec<UnitTree>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    parent_id: Option<String>,
    kind: Option<String>,
    /// `true`: units that exist today; `false`: units that have ended.
    alive: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(tag = "units", request_body = crate::unit_tree::NewUnit, responses((status = 201, description = "Created", body = UnitView), (status = 409, description = "The code is taken", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/units")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<unit_tree::NewUnit>,
) -> Result<HttpResponse, Error> {
    let unit = state.op(move |conn, ctx| unit_tree::create(conn, ctx, &caller, body.0)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/units/{}", unit.id)))
        .insert_header(("ETag", etag(unit.version)))
        .json(UnitView::from(unit)))
}

#[utoipa::path(tag = "units", params(UnitQuery), responses((status = 200, description = "A page of units", body = Page<UnitView>)))]
#[get("/units")]
pub async fn list(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    q: QueryParams<UnitQuery>,
) -> Result<web::Json<Page<UnitView>>, Error> {
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    if let Some(k) = &q.kind
        && UnitKind::parse(k).is_none()
    {
        return Err(Error::field("kind", one_of(&UnitKind::ALL.map(UnitKind::as_str))));
    }
    let filter = UnitFilter { parent_id: q.parent_id, kind: q.kind, alive: q.alive };
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state.db(move |conn| Ok(Unit::list(conn, &filter, after.as_deref(), fetch)?)).await?;
    Ok(web::Json(page.page(rows, |u| u.id.clone(), UnitView::from)))
}

#[utoipa::path(tag = "units", responses((status = 200, description = "The unit", body = UnitView, headers(("ETag" = String, description = "The version, for If-Match")))))]
#[get("/units/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let id = parse_id(&path)?;
    let unit = state.db(move |conn| Unit::find(conn, &id)?.ok_or(Error::NotFound)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(unit.version))).json(UnitView::from(unit)))
}

#[utoipa::path(tag = "units", responses((status = 200, description = "The unit and everything under it", body = UnitTree)))]
#[get("/units/{id}/tree")]
pub async fn tree(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<UnitTree>, Error> {
    let id = parse_id(&path)?;
    let rows = state.db(move |conn| Ok(Unit::subtree(conn, &id)?)).await?;
    build_tree(rows).map(web::Json).ok_or(Error::NotFound)
}

/// Nests the subtree rows (root first, shallowest first) under their parents.
fn build_tree(rows: Vec<(Unit, i32)>) -> Option<UnitTree> {
    use std::collections::HashMap;
    let root_id = rows.first()?.0.id.clone();
    let mut children: HashMap<String, Vec<Unit>> = HashMap::new();
    let mut root = None;
    for (unit, depth) in rows {
        if depth == 0 {
            root = Some(unit);
        } else if let Some(parent) = unit.parent_id.clone() {
            children.entry(parent).or_default().push(unit);
        }
    }
    fn attach(unit: Unit, children: &mut HashMap<String, Vec<Unit>>) -> UnitTree {
        let kids = children.remove(&unit.id).unwrap_or_default();
        UnitTree { children: kids.into_iter().map(|k| attach(k, children)).collect(), unit: unit.into() }
    }
    let root = root.filter(|r| r.id == root_id)?;
    Some(attach(root, &mut children))
}

#[utoipa::path(tag = "units", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = crate::unit_tree::UnitChange, responses((status = 200, description = "Updated", body = UnitView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Conflicting change (a cycle, a taken code)", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[patch("/units/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<unit_tree::UnitChange>,
) -> Result<HttpResponse, Error> {
    let unit = state.op(move |conn, ctx| unit_tree::update(conn, ctx, &caller, &path, if_match.0, body.0)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(unit.version))).json(UnitView::from(unit)))
}

/// A unit's earlier name, kind and parent, up to the day before `until`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FormerState {
    name: String,
    kind: String,
    parent_id: Option<String>,
    until: chrono::NaiveDate,
}

/// Where a unit came from and went: the units it took over, those that took it over
/// (first one first), and its former names and places.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitLineage {
    predecessors: Vec<UnitView>,
    successors: Vec<UnitView>,
    former: Vec<FormerState>,
}

#[utoipa::path(tag = "units", responses((status = 200, description = "The unit's predecessors, successors and former names", body = UnitLineage)))]
#[get("/units/{id}/lineage")]
pub async fn lineage(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<UnitLineage>, Error> {
    let id = parse_id(&path)?;
    let l = state.db(move |conn| crate::unit_tree::lineage(conn, &id)).await?;
    Ok(web::Json(UnitLineage {
        predecessors: l.predecessors.into_iter().map(UnitView::from).collect(),
        successors: l.successors.into_iter().map(UnitView::from).collect(),
        former: l
            .former
            .into_iter()
            .map(|f| FormerState { name: f.name, kind: f.kind, parent_id: f.parent_id, until: f.valid_until })
            .collect(),
    }))
}

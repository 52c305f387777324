//! The unit hierarchy: every signed-in user reads it, administrators change it.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};

use super::extract::{IfMatch, JsonBody, QueryParams, double_option, etag, parse_id};
use super::instant;
use super::pagination::{Page, PageRequest};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::db::{self, DbConn, write_tx};
use crate::domain::role::{Role, UnitKind, one_of};
use crate::domain::text;
use crate::error::msg;
use crate::error::{ApiError, Validator};
use crate::model::audit::AuditEntry;
use crate::model::new_id;
use crate::model::unit::{Unit, UnitFilter};
use crate::model::user::User;

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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewUnitRequest {
    code: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    parent_id: Option<String>,
    head_user_id: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UnitPatch {
    code: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    parent_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    head_user_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    parent_id: Option<String>,
    kind: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The lock every change to units takes: a move is checked against the tree as it is
/// (no cycle), and a code against every other unit's, without another change in between.
const UNIT_TREE: &str = "unit-tree";

/// Field rules shared by create and update; records problems in `v`.
fn check_fields(conn: &mut DbConn, v: &mut Validator, unit: &mut Unit) -> Result<(), ApiError> {
    match text::clean_code(&unit.code) {
        Ok(c) => unit.code = c,
        Err(m) => v.add("code", m),
    }
    match text::clean_required(&unit.name, 200) {
        Ok(n) => unit.name = n,
        Err(m) => v.add("name", m),
    }
    if UnitKind::parse(&unit.kind).is_none() {
        v.add("kind", one_of(&UnitKind::ALL.map(UnitKind::as_str)));
    }
    if let Some(e) = &unit.email {
        match text::clean_email(e) {
            Ok(e) => unit.email = Some(e),
            Err(m) => v.add("email", m),
        }
    }
    if let Some(p) = &unit.parent_id {
        if parse_id(p).is_err() || Unit::find(conn, p)?.is_none() {
            v.add("parent_id", msg::no_unit());
        } else if p == &unit.id || Unit::is_in_subtree(conn, &unit.id, p)? {
            v.add("parent_id", "A unit cannot be placed under itself or under one of its own sub-units.");
        }
    }
    if let Some(h) = &unit.head_user_id {
        let head = if parse_id(h).is_ok() { User::find(conn, h)? } else { None };
        match head {
            None => v.add("head_user_id", "There is no user with this id."),
            Some(u) if !u.active => v.add("head_user_id", "This user is deactivated."),
            Some(_) => {}
        }
    }
    if v.is_ok()
        && let Some(other) = Unit::find_by_code(conn, &unit.code)?
        && other.id != unit.id
    {
        return Err(ApiError::conflict(
            "unit-code-taken",
            format!("Another unit already has the code \"{}\".", unit.code),
        ));
    }
    Ok(())
}

#[utoipa::path(tag = "units", request_body = NewUnitRequest, responses((status = 201, description = "Created", body = UnitView), (status = 409, description = "The code is taken", content_type = "application/problem+json", body = crate::error::Problem)))]
#[post("/units")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<NewUnitRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let b = body.0;
    let unit = state
        .op(move |conn, ctx| {
            let now = ctx.now();
            let mut v = Validator::new();
            let code = v.require("code", b.code);
            let name = v.require("name", b.name);
            let kind = v.require("kind", b.kind);
            let mut unit = Unit {
                id: new_id(),
                code: code.unwrap_or_else(|| "-".into()),
                name: name.unwrap_or_else(|| "-".into()),
                kind: kind.unwrap_or_else(|| "other".into()),
                parent_id: b.parent_id,
                head_user_id: b.head_user_id,
                email: b.email,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            write_tx(conn, |conn| {
                db::lock(conn, &[UNIT_TREE])?;
                check_fields(conn, &mut v, &mut unit)?;
                v.finish()?;
                unit.insert(conn)?;
                AuditEntry::record(
                    conn,
                    &caller.actor(),
                    now,
                    "create",
                    "unit",
                    &unit.id,
                    None,
                    Some(unit.audit_snapshot()),
                )?;
                Ok(unit)
            })
        })
        .await?;
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
) -> Result<web::Json<Page<UnitView>>, ApiError> {
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    if let Some(k) = &q.kind
        && UnitKind::parse(k).is_none()
    {
        return Err(ApiError::field("kind", one_of(&UnitKind::ALL.map(UnitKind::as_str))));
    }
    let filter = UnitFilter { parent_id: q.parent_id, kind: q.kind };
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
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let unit = state.db(move |conn| Unit::find(conn, &id)?.ok_or(ApiError::NotFound)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(unit.version))).json(UnitView::from(unit)))
}

#[utoipa::path(tag = "units", responses((status = 200, description = "The unit and everything under it", body = UnitTree)))]
#[get("/units/{id}/tree")]
pub async fn tree(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<UnitTree>, ApiError> {
    let id = parse_id(&path)?;
    let rows = state.db(move |conn| Ok(Unit::subtree(conn, &id)?)).await?;
    build_tree(rows).map(web::Json).ok_or(ApiError::NotFound)
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

#[utoipa::path(tag = "units", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = UnitPatch, responses((status = 200, description = "Updated", body = UnitView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Conflicting change (a cycle, a taken code)", content_type = "application/problem+json", body = crate::error::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::error::Problem)))]
#[patch("/units/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<UnitPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(&path)?;
    let p = body.0;
    let unit = state
        .op(move |conn, ctx| {
            let now = ctx.now();
            write_tx(conn, |conn| {
                db::lock(conn, &[UNIT_TREE])?;
                let before = Unit::find(conn, &id)?.ok_or(ApiError::NotFound)?;
                if_match.check(before.version)?;
                let mut after = before.clone();
                if let Some(c) = p.code {
                    after.code = c;
                }
                if let Some(n) = p.name {
                    after.name = n;
                }
                if let Some(k) = p.kind {
                    after.kind = k;
                }
                if let Some(parent) = p.parent_id {
                    after.parent_id = parent;
                }
                if let Some(head) = p.head_user_id {
                    after.head_user_id = head;
                }
                if let Some(email) = p.email {
                    after.email = email;
                }
                let mut v = Validator::new();
                check_fields(conn, &mut v, &mut after)?;
                v.finish()?;
                after.version = before.version + 1;
                after.updated_at = now;
                if !after.update_if_version(conn, before.version, before.parent_id.as_deref())? {
                    return Err(ApiError::PreconditionFailed);
                }
                AuditEntry::record(
                    conn,
                    &caller.actor(),
                    now,
                    "update",
                    "unit",
                    &after.id,
                    Some(before.audit_snapshot()),
                    Some(after.audit_snapshot()),
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(unit.version))).json(UnitView::from(unit)))
}

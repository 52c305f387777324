//! Reorganisations of the unit tree (administrators): a dry run, the apply, the list.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::instant;
use crate::auth::CurrentUser;
use crate::domain::role::Role;
use crate::error::Error;
use crate::model::reorganisation::Reorganisation;
use crate::paging::{Page, PageQuery, PageRequest};
use crate::reorganisation::{self, Plan, ReorganisationInput};
use crate::state::AppState;
use crate::web::extract::{JsonBody, QueryParams};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplyQuery {
    /// `true`: check and describe, change nothing.
    dry_run: Option<bool>,
}

/// Checks a reorganisation and applies it (all steps or none), or with `dry_run=true`
/// only says what it would do. A refused one is a 422 naming each bad step.
#[utoipa::path(tag = "units", params(ApplyQuery), request_body = ReorganisationInput, responses((status = 200, description = "What the dry run would do", body = Plan), (status = 201, description = "Applied", body = Plan)))]
#[post("/reorganisations")]
pub async fn apply(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<ApplyQuery>,
    body: JsonBody<ReorganisationInput>,
) -> Result<HttpResponse, Error> {
    let dry_run = q.0.dry_run.unwrap_or(false);
    let plan = state.op(move |conn, ctx| reorganisation::reorganise(conn, ctx, &caller, body.0, dry_run)).await?;
    Ok(match &plan.id {
        Some(id) => {
            HttpResponse::Created().insert_header(("Location", format!("/api/v1/reorganisations/{id}"))).json(plan)
        }
        None => HttpResponse::Ok().json(plan),
    })
}

/// A reorganisation as applied.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReorganisationView {
    id: String,
    effective_on: NaiveDate,
    basis_reference: String,
    basis_issued_on: Option<NaiveDate>,
    basis_title: String,
    applied_by: String,
    applied_at: String,
    /// What it did (the plan its dry run showed).
    outcome: serde_json::Value,
}

impl From<Reorganisation> for ReorganisationView {
    fn from(r: Reorganisation) -> Self {
        ReorganisationView {
            outcome: serde_json::from_str(&r.outcome).unwrap_or(serde_json::Value::Null),
            id: r.id,
            effective_on: r.effective_on,
            basis_reference: r.basis_reference,
            basis_issued_on: r.basis_issued_on,
            basis_title: r.basis_title,
            applied_by: r.applied_by,
            applied_at: instant(r.applied_at),
        }
    }
}

/// The reorganisations applied, newest first (administrators).
#[utoipa::path(tag = "units", params(PageQuery), responses((status = 200, description = "A page of reorganisations", body = Page<ReorganisationView>)))]
#[get("/reorganisations")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<PageQuery>,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin])?;
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state.db(move |conn| Ok(Reorganisation::list(conn, after.as_deref(), fetch)?)).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.clone(), ReorganisationView::from)))
}

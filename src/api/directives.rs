//! Directives, their indicators, and catalog import.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::instant;
use crate::auth::CurrentUser;
use crate::domain::catalog::Catalog;
use crate::error::Error;
use crate::model::directive::{Directive, ImportSummary, Indicator};
use crate::paging::{Page, PageQuery, PageRequest};
use crate::state::AppState;
use crate::web::extract::{JsonBody, QueryParams, etag, parse_id};

#[derive(Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    id: String,
    directive_id: String,
    code: String,
    group: String,
    group_title: String,
    title: String,
    description: String,
    retired: bool,
}

impl From<Indicator> for IndicatorView {
    fn from(i: Indicator) -> Self {
        IndicatorView {
            id: i.id,
            directive_id: i.directive_id,
            code: i.code,
            group: i.group_code,
            group_title: i.group_title,
            title: i.title,
            description: i.description,
            retired: i.retired,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DirectiveView {
    id: String,
    code: String,
    kind: String,
    title: String,
    issued_on: Option<chrono::NaiveDate>,
    issuer: Option<String>,
    catalog_version: String,
    note: Option<String>,
    version: i64,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    indicators: Option<Vec<IndicatorView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import: Option<ImportSummary>,
}

impl DirectiveView {
    fn new(d: Directive, with_indicators: Option<Vec<Indicator>>) -> Self {
        DirectiveView {
            id: d.id,
            code: d.code,
            kind: d.kind,
            title: d.title,
            issued_on: d.issued_on,
            issuer: d.issuer,
            catalog_version: d.catalog_version,
            note: d.note,
            version: d.version,
            updated_at: instant(d.updated_at),
            indicators: with_indicators.map(|v| v.into_iter().map(IndicatorView::from).collect()),
            import: None,
        }
    }
}

#[utoipa::path(tag = "catalog", params(PageQuery), responses((status = 200, description = "The directives", body = Page<DirectiveView>)))]
#[get("/directives")]
pub async fn list(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    q: QueryParams<PageQuery>,
) -> Result<HttpResponse, Error> {
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let rows = state.db(|conn| Ok(Directive::list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(page.page_of_all(rows, |d| d.id.clone(), |d| DirectiveView::new(d, None))))
}

#[utoipa::path(tag = "catalog", responses((status = 200, description = "The directive with its indicators", body = DirectiveView, headers(("ETag" = String, description = "The version, for If-Match")))))]
#[get("/directives/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let id = parse_id(&path)?;
    let (d, inds) = state
        .db(move |conn| {
            let d = Directive::find(conn, &id)?.ok_or(Error::NotFound)?;
            let inds = Indicator::of_directive(conn, &d.id, true)?;
            Ok((d, inds))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(d.version))).json(DirectiveView::new(d, Some(inds))))
}

/// Imports a whole catalog (the shape of the files in `config/catalogs/`, as JSON).
#[utoipa::path(tag = "catalog", request_body = Catalog, responses((status = 200, description = "An existing directive was updated", body = DirectiveView), (status = 201, description = "A new directive was loaded", body = DirectiveView), (status = 409, description = "Conflicts with cases already logged", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/directives")]
pub async fn import(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<Catalog>,
) -> Result<HttpResponse, Error> {
    let (d, summary, inds) =
        state.op(move |conn, ctx| crate::administration::import_catalog(conn, ctx, &caller, body.0)).await?;
    let status = if summary.created { actix_web::http::StatusCode::CREATED } else { actix_web::http::StatusCode::OK };
    let mut view = DirectiveView::new(d, Some(inds));
    view.import = Some(summary);
    Ok(HttpResponse::build(status).json(view))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    directive_id: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(tag = "catalog", params(IndicatorQuery), responses((status = 200, description = "Indicators, in catalog order", body = Page<IndicatorView>)))]
#[get("/indicators")]
pub async fn list_indicators(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    q: QueryParams<IndicatorQuery>,
) -> Result<HttpResponse, Error> {
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let directive = q.0.directive_id;
    let rows = state.db(move |conn| Ok(Indicator::list(conn, directive.as_deref())?)).await?;
    Ok(HttpResponse::Ok().json(page.page_of_all(rows, |i| i.id.clone(), IndicatorView::from)))
}

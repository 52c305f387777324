//! Registers brought in from spreadsheets: the template, the import (dry run first), and
//! the list of past imports. Administrators import anywhere, reviewers into their scope.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::domain::role::Role;
use crate::error::{Error, msg};
use crate::i18n::{Lang, catalogs};
use crate::import::register::{self, Options, Outcome};
use crate::import::sheet;
use crate::model::imports::ImportRecord;
use crate::paging::{Page, PageQuery, PageRequest};
use crate::state::AppState;
use crate::web::extract::{QueryParams, parse_id};

/// The multipart form of an import: one part named `file` (XLSX, or CSV in UTF-8).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct RegisterForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The register template: the columns with drop-down lists of the catalogs as they stand
/// today, and a sheet that explains each column with an example.
#[utoipa::path(tag = "imports", responses((status = 200, description = "The template workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
#[get("/imports/cases/template.xlsx")]
pub async fn template(
    state: web::Data<AppState>,
    caller: CurrentUser,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin, Role::Reviewer])?;
    crate::web::download::register_template(&state, crate::web::lang::preferred(&req)).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: read and check the whole file, say what it would create, change nothing.
    dry_run: Option<bool>,
    /// `true`: import the good rows and return the others; by default one bad row
    /// refuses the whole file.
    skip_invalid: Option<bool>,
}

/// A refused import: the problem, with the dry run's whole answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Refused {
    #[serde(rename = "type")]
    type_: String,
    title: String,
    status: u16,
    detail: String,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Imports a register (multipart, part `file`). A dry run answers 200 with every problem
/// and what the import would create; the import answers 201, or 422 with the same answer
/// when a row is bad (nothing is written) unless `skip_invalid=true`.
#[utoipa::path(tag = "imports", params(ImportQuery), request_body(content = inline(RegisterForm), content_type = "multipart/form-data"), responses((status = 200, description = "The dry run's answer", body = Outcome), (status = 201, description = "Imported", body = Outcome), (status = 422, description = "Refused: a problem document; a refused file (`import-refused`) adds the dry run's fields beside it (the `Refused` schema), nothing written", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/imports/cases")]
pub async fn import(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<ImportQuery>,
    req: HttpRequest,
    form: Multipart,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin, Role::Reviewer])?;
    let lang = crate::web::lang::preferred(&req);
    let opts = Options { dry_run: q.0.dry_run.unwrap_or(false), skip_invalid: q.0.skip_invalid.unwrap_or(false) };
    let mut received = crate::web::files::receive(form, sheet::MAX_BYTES, 1).await?;
    let Some((_, file)) = received.files.pop() else {
        return Err(Error::field("file", msg::file_field()));
    };
    let outcome = state
        .op(move |conn, ctx| register::import(conn, ctx, &caller, &file.file_name, &file.bytes, opts, lang))
        .await?;
    Ok(respond(outcome, lang))
}

/// The HTTP answer to an import's outcome: 200 for a dry run, 201 once applied, 422 when
/// refused.
pub fn respond(outcome: Outcome, lang: Lang) -> HttpResponse {
    if let Some(id) = &outcome.id {
        return HttpResponse::Created().insert_header(("Location", format!("/api/v1/imports/{id}"))).json(outcome);
    }
    if outcome.dry_run || outcome.problems.is_empty() {
        return HttpResponse::Ok().json(outcome);
    }
    let c = catalogs();
    let n = outcome.problems.len().to_string();
    let body = Refused {
        type_: "urn:casetrack:problem:import-refused".into(),
        title: c.text(lang, "import-refused-title", &[]),
        status: 422,
        detail: c.text(lang, "import-refused-detail", &[("count", n)]),
        outcome,
    };
    HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY)
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .json(body)
}

/// Past imports, newest first: every one for an administrator, a reviewer's own.
#[utoipa::path(tag = "imports", params(PageQuery), responses((status = 200, description = "A page of imports", body = Page<ImportRecord>)))]
#[get("/imports")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<PageQuery>,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin, Role::Reviewer])?;
    let page = PageRequest::parse(q.0.limit, q.0.cursor.as_deref())?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let by = (caller.role != Role::Admin).then(|| caller.user.id.clone());
    let rows = state.db(move |conn| Ok(ImportRecord::list(conn, by.as_deref(), after.as_deref(), fetch)?)).await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id.clone(), |r| r)))
}

/// One import: its file, digest, who ran it and what it created.
#[utoipa::path(tag = "imports", responses((status = 200, description = "The import", body = ImportRecord), (status = 404, description = "No such import, or another reviewer's")))]
#[get("/imports/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<ImportRecord>, Error> {
    caller.require(&[Role::Admin, Role::Reviewer])?;
    let id = parse_id(&path)?;
    let found = state.db(move |conn| Ok(ImportRecord::find(conn, &id)?)).await?;
    match found {
        Some(r) if caller.role == Role::Admin || r.imported_by == caller.user.id => Ok(web::Json(r)),
        _ => Err(Error::NotFound),
    }
}

//! Importing a register from the console (administrators, and reviewers into their
//! scope): upload the file, read the dry run as a table of the problems and of what it
//! would create, then confirm. The same operation as `POST /api/v1/imports/cases`; the
//! file waits between the two steps in the data folder, under its digest.

use std::path::PathBuf;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};

use super::form::FormData;
use super::session::Viewer;
use super::{Console, Fail};
use crate::domain::role::Role;
use crate::error::{Error, msg};
use crate::import::register::{self, Options, Outcome};
use crate::import::sheet;
use crate::model::imports::ImportRecord;
use crate::state::AppState;

const ROLES: &[Role] = &[Role::Admin, Role::Reviewer];

/// Where a previewed file waits for its confirmation: per user, named by its digest.
fn waiting(state: &AppState, user_id: &str, digest: &str) -> Result<PathBuf, Error> {
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::field("digest", msg::bad_id()));
    }
    let dir = state.settings.data_dir().map_err(Error::internal)?.join("imports");
    std::fs::create_dir_all(&dir).map_err(Error::internal)?;
    Ok(dir.join(format!("{user_id}-{digest}")))
}

/// The page: the upload form, the preview or the result, and past imports.
async fn page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    extra: Value,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let by = (viewer.user.role != Role::Admin).then(|| viewer.user.user.id.clone());
    let past = state.db(move |conn| Ok(ImportRecord::list(conn, by.as_deref(), None, 20)?)).await?;
    let past: Vec<Value> = past
        .into_iter()
        .map(|r| {
            context! {
                file_name => r.file_name, at => super::render::instant(r.imported_at), cases => r.cases_created,
                decisions => r.decisions_created, already => r.already_imported, skipped => r.rows_skipped,
                digest => r.digest[..12].to_string(),
            }
        })
        .collect();
    let ctx =
        context! { past => past, max_rows => sheet::MAX_ROWS, max_mb => sheet::MAX_BYTES / (1024 * 1024), ..extra };
    console.page_with_status(status, Some(viewer), viewer.lang, "imports.html", ctx)
}

fn shown(o: &Outcome) -> Value {
    const ROWS: usize = 500;
    context! {
        file_name => o.file_name.clone(), digest => o.digest.clone(), rows => o.rows, cases => o.cases,
        subjects_new => o.subjects_new, subjects_matched => o.subjects_matched, decisions => o.decisions,
        already => Value::from(minijinja::value::Serde(o.already_imported.clone())),
        problems => Value::from(minijinja::value::Serde(o.problems.iter().take(ROWS).cloned().collect::<Vec<_>>())),
        problem_count => o.problems.len(), more => ROWS, skipped => o.skipped_rows.len(),
        converted_from => o.converted_from.clone(), case_numbers => o.case_numbers.iter().take(20).cloned().collect::<Vec<_>>(),
        bad_rows => o.problems.iter().map(|p| p.row).collect::<std::collections::BTreeSet<_>>().len(),
    }
}

/// `GET /imports`
pub async fn index(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
) -> Result<HttpResponse, Fail> {
    viewer.user.require(ROLES)?;
    page(&state, &console, &viewer, context! { errors => context! {} }, StatusCode::OK).await
}

/// `GET /imports/template.xlsx`: the template, as the API gives it.
pub async fn template_file(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, Fail> {
    viewer.user.require(ROLES)?;
    Ok(crate::web::download::register_template(&state, viewer.lang).await?)
}

/// `POST /imports/preview`: the file read and checked as a dry run; kept for the confirmation.
pub async fn preview(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    multipart: Multipart,
) -> Result<HttpResponse, Fail> {
    viewer.user.require(ROLES)?;
    let received = crate::web::files::receive(multipart, sheet::MAX_BYTES, 1).await?;
    let form = FormData::from_pairs(received.fields);
    viewer.check_csrf(form.csrf().as_deref())?;
    let lang = viewer.lang;
    let Some((_, file)) = received.files.into_iter().next() else {
        let errors = context! { file => msg::required().text(lang) };
        return page(&state, &console, &viewer, context! { errors => errors }, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let caller = viewer.user.clone();
    let opts = Options { dry_run: true, skip_invalid: false };
    let bytes = file.bytes.clone();
    let outcome = state
        .op(move |conn, ctx| register::import(conn, ctx, &caller, &file.file_name, &file.bytes, opts, lang))
        .await?;
    // A file that cannot be read at all is said beside the field.
    if outcome.problems.iter().any(|p| p.row == 0) {
        let errors = context! { file => outcome.problems[0].text.clone() };
        return page(&state, &console, &viewer, context! { errors => errors }, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    std::fs::write(waiting(&state, &viewer.user.user.id, &outcome.digest)?, bytes).map_err(Error::internal)?;
    page(&state, &console, &viewer, context! { errors => context! {}, plan => shown(&outcome) }, StatusCode::OK).await
}

/// `POST /imports/apply`: the previewed file imported (the valid rows only, when asked).
pub async fn apply(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    viewer.user.require(ROLES)?;
    let form = FormData::parse(&body);
    viewer.check_csrf(form.csrf().as_deref())?;
    let lang = viewer.lang;
    let digest = form.get("digest").unwrap_or_default();
    let path = waiting(&state, &viewer.user.user.id, &digest)?;
    let Ok(bytes) = std::fs::read(&path) else {
        // Imported already, or never previewed: start again.
        let errors = context! { file => console.text(lang, "import-upload-again") };
        return page(&state, &console, &viewer, context! { errors => errors }, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let file_name = form.get("file_name").unwrap_or_default();
    let opts = Options { dry_run: false, skip_invalid: form.get("skip_invalid").is_some_and(|v| v == "true") };
    let caller = viewer.user.clone();
    let outcome =
        state.op(move |conn, ctx| register::import(conn, ctx, &caller, &file_name, &bytes, opts, lang)).await?;
    let status = if outcome.id.is_some() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    if outcome.id.is_some() {
        let _ = std::fs::remove_file(&path);
        return page(&state, &console, &viewer, context! { errors => context! {}, done => shown(&outcome) }, status)
            .await;
    }
    page(&state, &console, &viewer, context! { errors => context! {}, plan => shown(&outcome) }, status).await
}

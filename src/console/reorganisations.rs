//! Reorganising the unit tree from the console (administrators): upload a mapping with
//! its effective date and legal basis, read the dry run as a preview, apply it. The same
//! operation as `POST /api/v1/reorganisations`.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};

use super::form::FormData;
use super::session::{Admin, Viewer};
use super::{Console, Fail};
use crate::error::Error;
use crate::i18n::Lang;
use crate::model::reorganisation::Reorganisation;
use crate::reorganisation::mapping::{self, HEADERS};
use crate::reorganisation::{Basis, Plan, ReorganisationInput, Step, reorganise};
use crate::state::AppState;

/// The largest mapping file taken (Hanoi's 2025 mapping is about 60 KB as CSV).
const FILE_MAX: usize = 4 * 1024 * 1024;

/// What the form holds besides the file (also carried from the preview to the apply).
fn input_of(form: &FormData, steps: Vec<Step>) -> ReorganisationInput {
    let some = |k: &str| form.get(k).filter(|v| !v.trim().is_empty());
    ReorganisationInput {
        effective_on: some("effective_on"),
        basis: Some(Basis {
            reference: some("basis_reference"),
            issued_on: some("basis_issued_on"),
            title: some("basis_title"),
        }),
        steps: Some(steps),
    }
}

/// The refusal's messages by form field: the basis and date beside their fields; a
/// step's problems beside the file, with the spreadsheet rows behind the step.
fn problems(lang: Lang, console: &Console, e: Error, lines: &[Vec<usize>]) -> Result<BTreeMap<String, String>, Fail> {
    let Error::Validation(errors) = e else { return Err(Fail(e)) };
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut file = Vec::new();
    for e in &errors {
        let text = e.message.text(lang);
        let step =
            e.field.strip_prefix("steps[").and_then(|r| r.split(']').next()).and_then(|n| n.parse::<usize>().ok());
        match step {
            Some(i) => {
                let rows = lines.get(i).map(|l| l.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "));
                file.push(match rows {
                    Some(rows) => console.text_with(lang, "reorg-rows-problem", &[("rows", rows), ("message", text)]),
                    None => text,
                });
            }
            None if e.field == "steps" => file.push(text),
            None => {
                out.entry(e.field.replace('.', "_")).or_insert(text);
            }
        }
    }
    if !file.is_empty() {
        out.insert("file".into(), file.join(" · "));
    }
    Ok(out)
}

/// The page: the form, an optional preview or result, and the reorganisations applied.
async fn page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    extra: Value,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let applied = state.db(move |conn| Ok(Reorganisation::list(conn, None, 50)?)).await?;
    let applied: Vec<Value> = applied
        .into_iter()
        .map(|r| {
            let outcome: serde_json::Value = serde_json::from_str(&r.outcome).unwrap_or_default();
            let count = |k: &str| outcome[k].as_array().map(Vec::len).unwrap_or(0);
            context! {
                effective_on => crate::i18n::date(r.effective_on), reference => r.basis_reference,
                title => r.basis_title, established => count("established"), ended => count("ended"),
                renamed => count("renamed"), moved => count("moved_cases"),
            }
        })
        .collect();
    let ctx = context! { applied => applied, headers => HEADERS, ..extra };
    console.page_with_status(status, Some(viewer), viewer.lang, "admin_reorganisations.html", ctx)
}

/// A plan as the preview shows it (the first rows of long lists).
fn shown(plan: &Plan) -> Value {
    const ROWS: usize = 200;
    let v = serde_json::to_value(plan).unwrap_or_default();
    let head = |k: &str| v[k].as_array().map(|a| a.iter().take(ROWS).cloned().collect::<Vec<_>>()).unwrap_or_default();
    context! {
        counts => context! {
            established => plan.established.len(), ended => plan.ended.len(), renamed => plan.renamed.len(),
            moved => plan.moved_cases.len(), campaigns => plan.campaigns.len(), users => plan.users.len(),
            heads => plan.alerts.heads_released.len(), pending => plan.alerts.pending_levels_moved,
        },
        effective_on => crate::i18n::date(plan.effective_on),
        established => Value::from(minijinja::value::Serde(head("established"))), ended => Value::from(minijinja::value::Serde(head("ended"))),
        renamed => Value::from(minijinja::value::Serde(head("renamed"))), moved => Value::from(minijinja::value::Serde(head("moved_cases"))),
        campaigns => Value::from(minijinja::value::Serde(head("campaigns"))), users => Value::from(minijinja::value::Serde(head("users"))),
        heads => plan.alerts.heads_released.clone(), more => ROWS,
    }
}

/// `GET /admin/reorganisations`
pub async fn index(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
) -> Result<HttpResponse, Fail> {
    page(&state, &console, &viewer, context! { errors => context! {}, values => context! {} }, StatusCode::OK).await
}

/// `GET /admin/reorganisations/template.csv`: the columns and two example rows.
pub async fn template(_: Admin) -> Result<HttpResponse, Fail> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let rows: [[&str; 5]; 3] = [
        HEADERS,
        ["BD-PHUC-XA", "P-HONG-HA", "Phường Hồng Hà", "ward", "HN"],
        ["HK-CHUONG-DUONG", "P-HONG-HA", "Phường Hồng Hà", "ward", "HN"],
    ];
    for r in rows {
        w.write_record(r).map_err(Error::internal)?;
    }
    let body = w.into_inner().map_err(Error::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"mau-sap-xep-don-vi.csv\""))
        .body(body))
}

/// The uploaded mapping as steps, or what is wrong with the file (each cell), in `lang`.
async fn translated(
    state: &AppState,
    console: &Console,
    lang: Lang,
    file: Option<(String, crate::casework::Upload)>,
) -> Result<Result<mapping::Translated, String>, Error> {
    let Some((_, file)) = file else { return Ok(Err(crate::error::msg::required().text(lang))) };
    let rows = match mapping::read(&file.bytes) {
        Ok(rows) => rows,
        Err(m) => return Ok(Err(m.text(lang))),
    };
    let translated = state.db(move |conn| mapping::translate(conn, &rows)).await?;
    if translated.problems.is_empty() {
        return Ok(Ok(translated));
    }
    let text: Vec<String> = translated
        .problems
        .iter()
        .map(|(line, column, m)| {
            let at = [("row", line.to_string()), ("column", column.to_string()), ("message", m.text(lang))];
            console.text_with(lang, "reorg-cell-problem", &at)
        })
        .collect();
    Ok(Err(text.join(" · ")))
}

/// `POST /admin/reorganisations/preview`: the mapping read and checked as a dry run.
pub async fn preview(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    multipart: Multipart,
) -> Result<HttpResponse, Fail> {
    let received = crate::web::files::receive(multipart, FILE_MAX, 1).await?;
    let form = FormData::from_pairs(received.fields);
    viewer.check_csrf(form.csrf().as_deref())?;
    let lang = viewer.lang;
    let values = Value::from(minijinja::value::Serde(form.values()));
    let refused = |errors: BTreeMap<String, String>| {
        let extra = context! { errors => errors, values => values.clone() };
        page(&state, &console, &viewer, extra, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let translated = match translated(&state, &console, lang, received.files.into_iter().next()).await? {
        Ok(t) => t,
        Err(why) => return refused(BTreeMap::from([("file".into(), why)])).await,
    };
    let lines = translated.lines.clone();
    let steps_json = serde_json::to_string(&translated.steps).map_err(Error::internal)?;
    let input = input_of(&form, translated.steps);
    let caller = viewer.user.clone();
    match state.op(move |conn, ctx| reorganise(conn, ctx, &caller, input, true)).await {
        Ok(plan) => {
            let extra = context! {
                errors => context! {}, values => values.clone(), plan => shown(&plan), steps => steps_json,
            };
            page(&state, &console, &viewer, extra, StatusCode::OK).await
        }
        Err(e) => refused(problems(lang, &console, e, &lines)?).await,
    }
}

/// `POST /admin/reorganisations/apply`: the previewed steps applied, all or none.
pub async fn apply(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = FormData::parse(&body);
    viewer.check_csrf(form.csrf().as_deref())?;
    let lang = viewer.lang;
    let steps: Vec<Step> = form
        .get("steps")
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| Error::field("steps", crate::error::msg::required()))?;
    let input = input_of(&form, steps);
    let caller = viewer.user.clone();
    let values = Value::from(minijinja::value::Serde(form.values()));
    match state.op(move |conn, ctx| reorganise(conn, ctx, &caller, input, false)).await {
        Ok(plan) => {
            let extra = context! { errors => context! {}, values => context! {}, done => shown(&plan) };
            page(&state, &console, &viewer, extra, StatusCode::OK).await
        }
        Err(e) => {
            let errors = problems(lang, &console, e, &[])?;
            page(
                &state,
                &console,
                &viewer,
                context! { errors => errors, values => values },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

//! A subject's record in the console (with its correction and, for administrators, the
//! merge of a duplicate), and the names the log form suggests as one is typed. All go
//! through `crate::subjects`, so scope, the rules and the audit of reads are the API's.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::form::field_errors;
use super::render::see_other;
use super::session::Viewer;
use super::{Console, Fail};
use crate::domain::handling::Category;
use crate::error::Error;
use crate::i18n::Lang;
use crate::model::handling::Handling;
use crate::model::unit::Unit;
use crate::state::AppState;
use crate::subjects::{Offers, Record, SubjectPatch};

/// How many names the log form suggests at once.
const SUGGESTED: i64 = 8;

#[derive(Deserialize)]
pub struct SuggestQuery {
    q: Option<String>,
}

/// `GET /subjects/suggest?q=`: people within the reader's reach whose name starts with
/// `q`, with where they are and their earlier cases, as JSON for the log form's script.
pub async fn suggest(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<SuggestQuery>,
) -> Result<HttpResponse, Fail> {
    let typed = q.into_inner().q.unwrap_or_default();
    if crate::domain::fold::fold(&typed).chars().count() < 2 || typed.chars().count() > 200 {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "items": [] })));
    }
    let (caller, lang, now) = (viewer.user.clone(), viewer.lang, state.clock.now_naive());
    let items = state
        .db(move |conn| {
            let found =
                crate::subjects::search(conn, &caller, Some(&typed), None, Some("individual"), None, SUGGESTED)?;
            let units: std::collections::HashMap<String, String> =
                Unit::find_many(conn, &found.iter().map(|s| s.unit_id.clone()).collect::<Vec<_>>())?
                    .into_iter()
                    .map(|u| (u.id, u.name))
                    .collect();
            let handling = Handling::load(conn)?;
            let scope = crate::casework::scope_of(&caller).ok();
            let mut items = Vec::new();
            for s in found {
                let cases = match &scope {
                    Some(scope) => crate::model::subject::Subject::cases_of(conn, &s.id, scope, now)?,
                    None => Vec::new(),
                };
                let last = crate::model::subject::latest_measure(&cases);
                items.push(serde_json::json!({
                    "id": s.id, "name": s.name, "position": s.position,
                    "unit": units.get(&s.unit_id), "unit_id": s.unit_id,
                    "record": record_line(lang, cases.len(), last.map(|(m, d)| (handling.measure_name(&m, lang), d))),
                }));
            }
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// "Đã có 2 vụ việc, lần gần nhất khiển trách 03/2025", or "Chưa có vụ việc".
fn record_line(lang: Lang, cases: usize, last: Option<(String, chrono::NaiveDate)>) -> String {
    if cases == 0 {
        return crate::i18n::catalogs().text(lang, "subject-no-cases", &[]);
    }
    earlier_line("subject-earlier", lang, cases, last.as_ref())
}

/// A count of earlier cases in the words of `key` (`repeat-line`, `subject-earlier`),
/// with the latest measure (already named) and its month.
pub(super) fn earlier_line(key: &str, lang: Lang, cases: usize, last: Option<&(String, chrono::NaiveDate)>) -> String {
    let c = crate::i18n::catalogs();
    let last = last
        .map(|(m, d)| {
            c.text(lang, "repeat-last", &[("measure", m.to_lowercase()), ("month", d.format("%m/%Y").to_string())])
        })
        .unwrap_or_default();
    c.text(lang, key, &[("count", cases.to_string()), ("last", last)])
}

#[derive(Deserialize)]
pub struct RecordQuery {
    /// An administrator's search for the record this one duplicates.
    merge_q: Option<String>,
}

/// `GET /subjects/{id}`: the record, its former units and positions, and its cases the
/// reader may see with the measures taken; for reviewers and administrators the form that
/// corrects it, for administrators the search that merges a duplicate. The read is audited.
pub async fn page(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    q: web::Query<RecordQuery>,
) -> Result<HttpResponse, Fail> {
    let merge_q = q.into_inner().merge_q;
    record_page(&state, &console, &viewer, path.into_inner(), merge_q, BTreeMap::new(), StatusCode::OK).await
}

/// The units a record page names: the subject's, its former ones, its cases' and the
/// merge candidates'.
fn units_named(r: &Record, offers: &Offers) -> Vec<String> {
    let mut ids: Vec<String> = vec![r.subject.unit_id.clone()];
    ids.extend(r.history.iter().map(|f| f.unit_id.clone()));
    ids.extend(r.cases.iter().map(|c| c.subject_unit_id.clone()));
    ids.extend(offers.candidates.iter().map(|c| c.unit_id.clone()));
    ids
}

/// A subject's record as the page shows it, with what the reader may do to it.
fn record_view(
    record: &Record,
    offers: &Offers,
    units: &HashMap<String, String>,
    handling: &Handling,
    lang: Lang,
) -> minijinja::Value {
    let unit = |id: &str| units.get(id).cloned().unwrap_or_default();
    let s = &record.subject;
    context! {
        subject => context! {
            id => s.id.clone(), kind => s.kind.as_str(), name => s.name.clone(), unit => unit(&s.unit_id),
            unit_id => s.unit_id.clone(), position => s.position.clone(), version => s.version,
            categories => s.category_list().iter().map(|c| format!("category-{}", c.as_str())).collect::<Vec<_>>(),
            codes => s.category_list().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            identifier => s.identifier.clone(),
        },
        history => record.history.iter().map(|f| context! {
            unit => unit(&f.unit_id), position => f.position.clone(), until => crate::domain::dates::instant(f.ended_at),
        }).collect::<Vec<_>>(),
        cases => record.cases.iter().map(|c| context! {
            id => c.id.clone(), number => c.number.clone(), title => c.title.clone(), status => c.status.clone(),
            detected_on => c.detected_on.to_string(), unit => unit(&c.subject_unit_id),
            measures => c.measures.iter().map(|(m, d)| format!("{} ({})", handling.measure_name(m, lang), crate::i18n::date(*d))).collect::<Vec<_>>(),
        }).collect::<Vec<_>>(),
        may_correct => offers.may_correct,
        may_merge => offers.may_merge,
        offered_categories => Category::of_kind(s.kind).iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        destinations => offers.destinations.iter().map(|(u, depth)| context! {
            id => u.id.clone(), name => u.name.clone(), depth => depth, folded => crate::domain::fold::fold(&u.name),
        }).collect::<Vec<_>>(),
        candidates => offers.candidates.iter().map(|c| context! {
            id => c.id.clone(), name => c.name.clone(), unit => unit(&c.unit_id), position => c.position.clone(),
            identifier => c.identifier.clone(),
        }).collect::<Vec<_>>(),
    }
}

/// The record page as stored, with an administrator's search for a duplicate and the
/// messages of a refused correction or merge beside their fields.
async fn record_page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    id: String,
    merge_q: Option<String>,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let caller = viewer.user.clone();
    let lang = viewer.lang;
    let search = merge_q.clone();
    let (record, offers, units, handling) = state
        .op(move |conn, ctx| {
            let r = crate::subjects::read(conn, ctx, &caller, &id)?;
            let offers = crate::subjects::offers(conn, &caller, &r.subject, search.as_deref())?;
            let units: HashMap<String, String> =
                Unit::find_many(conn, &units_named(&r, &offers))?.into_iter().map(|u| (u.id, u.name)).collect();
            Ok((r, offers, units, Handling::load(conn)?))
        })
        .await?;
    let ctx =
        context! { merge_q => merge_q, errors => errors, ..record_view(&record, &offers, &units, &handling, lang) };
    console.page_with_status(status, Some(viewer), lang, "subject.html", ctx)
}

/// `POST /subjects/{id}/edit`: the same correction as `PATCH /subjects/{id}`, against the
/// version the form showed; refused, the page again with the messages beside the fields.
pub async fn correct(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let patch = SubjectPatch {
        name: form.get("name"),
        categories: Some(form.all("categories")),
        unit_id: form.get("unit_id"),
        position: form.get("position"),
        identifier: form.get("identifier"),
    };
    let if_match = form.version();
    let (caller, target) = (viewer.user.clone(), id.clone());
    match state.op(move |conn, ctx| crate::subjects::correct(conn, ctx, &caller, &target, if_match, patch)).await {
        Ok(_) => Ok(see_other(format!("/subjects/{id}"))),
        Err(e) => refused(&state, &console, &viewer, id, e).await,
    }
}

/// `POST /subjects/{id}/merge`: merges this record into the one chosen (administrators);
/// then the record kept.
pub async fn merge(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let into = form.get("into");
    let (caller, target) = (viewer.user.clone(), id.clone());
    match state.op(move |conn, ctx| crate::subjects::merge(conn, ctx, &caller, &target, into.as_deref())).await {
        Ok((kept, _)) => Ok(see_other(format!("/subjects/{}", kept.id))),
        Err(e) => refused(&state, &console, &viewer, id, e).await,
    }
}

/// A refused correction or merge: the page again with each message beside its field (a
/// stale version beside the form), or the error's own page.
async fn refused(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    id: String,
    e: Error,
) -> Result<HttpResponse, Fail> {
    let errors = match e {
        Error::PreconditionFailed | Error::Conflict { .. } => {
            BTreeMap::from([("version".to_string(), console.text(viewer.lang, "subject-stale"))])
        }
        Error::Validation(_) => field_errors(viewer.lang, e)?,
        e => return Err(Fail(e)),
    };
    record_page(state, console, viewer, id, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

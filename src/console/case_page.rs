//! The case page: what the case is, where it stands, what the reader may do now (only the
//! actions the workflow allows them), its timeline, comments and evidence.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde_json::Value as Json;

use super::form::{FormData, field_errors};
use super::render::{deadline_view, instant};
use super::session::Viewer;
use super::{Console, Fail};
use crate::casework::screen::CaseScreen;
use crate::casework::{self, DecisionInput, TransitionInput};
use crate::domain::case_terms::SubjectKind;
use crate::domain::handling::{Category, System};
use crate::error::Error;
use crate::i18n::Lang;
use crate::model::attachment::Attachment;
use crate::model::handling::Handling;
use crate::state::AppState;
use chrono::NaiveDateTime;

/// What a refused action leaves on the page: which form, what was typed, what was wrong.
#[derive(Default)]
struct Refused {
    action: Option<String>,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    stale: bool,
}

/// Renders the case page for `viewer` (404 for a case outside their scope).
async fn render(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    id: String,
    refused: Refused,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let (caller, now, tz, lang) = (viewer.user.clone(), state.clock.now_naive(), console.tz, viewer.lang);
    let s = state.db(move |conn| casework::screen::case_screen(conn, &caller, &id, now)).await?;
    let actions: Vec<Value> = s
        .allowed
        .actions
        .iter()
        .map(|a| context! { action => a.action.as_str(), needs => a.needs.clone(), asks_unit => a.asks_unit })
        .collect();
    let ctx = context! {
        case => case_view(&s, now, tz, lang),
        campaign => s.campaign_title.clone(),
        indicators => s.indicators.iter().map(|i| context! { code => i.code.clone(), title => i.title.clone() }).collect::<Vec<_>>(),
        timeline => timeline(&s),
        attachments => s.attachments.iter().map(|a| context! {
            id => a.id.clone(), file_name => a.file_name.clone(), size_kb => (a.size_bytes + 1023) / 1024, at => instant(a.created_at),
        }).collect::<Vec<_>>(),
        actions => actions,
        measures => measure_choices(&s.handling, s.case.subject_kind, lang),
        decisions => decision_rows(&s, lang),
        may_decide => s.allowed.decide,
        units => s.unit_choices.iter().map(|(u, depth)| super::cases::unit_choice(u, *depth)).collect::<Vec<_>>(),
        today => now.and_utc().with_timezone(&tz).date_naive().to_string(),
        refused_action => refused.action, values => refused.values, errors => refused.errors, stale => refused.stale,
    };
    console.page_with_status(status, Some(viewer), lang, "case.html", ctx)
}

/// The case itself, as the page's header and fields show it.
fn case_view(s: &CaseScreen, now: NaiveDateTime, tz: chrono_tz::Tz, lang: Lang) -> Value {
    let (case, handling) = (&s.case, &s.handling);
    context! {
        id => case.id.clone(), number => case.number.clone(), title => case.title.clone(), description => case.description.clone(),
        status => case.status.as_str(), severity => handling.level_name(&case.severity, lang),
        subject_kind => case.subject_kind.as_str(),
        repeat => (s.repeat.earlier > 0).then(|| repeat_line(&s.repeat, handling, lang)),
        person_name => case.person_name.clone(), person_position => case.person_position.clone(),
        subject_id => case.subject_id.clone(), body_name => case.body_name.clone(),
        subject_unit => s.subject_unit.clone(), responsible_unit => s.responsible_unit.clone(),
        detected_on => case.detected_on.to_string(),
        deadline => case.deadline_at.map(|d| deadline_view(d, now, tz)),
        overdue => s.overdue,
        created_by => s.names.get(&case.created_by).cloned(),
        created_at => instant(case.created_at),
        version => case.version,
        takes_evidence => s.allowed.evidence,
        editable => s.allowed.edit,
    }
}

/// The timeline's rows: when, what, who, and the details each kind of event carries.
fn timeline(s: &CaseScreen) -> Vec<Value> {
    s.events
        .iter()
        .map(|e| {
            let detail: Json = serde_json::from_str(&e.detail).unwrap_or(Json::Null);
            let text = |k: &str| detail.get(k).and_then(Json::as_str).map(str::to_string);
            context! {
                at => instant(e.at), kind => e.kind.clone(),
                actor => e.actor_id.as_ref().and_then(|a| s.names.get(a).cloned()),
                action => text("action"), to => text("to"), note => text("note"), body => text("body"),
                file_name => text("file_name"), from_name => text("from_name"), to_name => text("to_name"), basis => text("basis"), line => text("line"),
            }
        })
        .collect()
}

/// The decisions' rows, with their measures named in the reader's language.
fn decision_rows(s: &CaseScreen, lang: Lang) -> Vec<Value> {
    s.decisions
        .iter()
        .map(|d| context! {
            id => d.id.clone(), system => d.system.clone(), measure => s.handling.measure_name(&d.measure, lang),
            authority => d.authority.clone(), decided_on => d.decided_on.to_string(), reference => d.reference.clone(),
            note => d.note.clone(), superseded => d.superseded, corrects => d.corrects.is_some(),
            recorded_by => d.recorded_by.as_ref().and_then(|u| s.names.get(u).cloned()),
        })
        .collect()
}

/// `GET /cases/{id}`: also where every alert email links.
pub async fn page(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    render(&state, &console, &viewer, path.into_inner(), Refused::default(), StatusCode::OK).await
}

fn back_to(id: &str) -> HttpResponse {
    super::render::see_other(format!("/cases/{id}"))
}

/// After a refused change: the page again with the reason beside the fields (422), or
/// with word that someone else changed the case first (409); anything else is its page.
async fn refused(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    id: String,
    action: Option<String>,
    form: &FormData,
    err: Error,
) -> Result<HttpResponse, Fail> {
    let stale = matches!(err, Error::PreconditionFailed | Error::Conflict { code: "concurrent-change", .. });
    let (errors, status) = if stale {
        (BTreeMap::new(), StatusCode::CONFLICT)
    } else {
        (field_errors(viewer.lang, err)?, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let r = Refused { action, values: form.values(), errors, stale };
    render(state, console, viewer, id, r, status).await
}

/// `POST /cases/{id}/transition`: one action of the workflow, through the same operation as the API.
pub async fn transition(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let action = form.get("action");
    let decision = form.get("measure").is_some() || form.get("decided_on").is_some();
    let input = TransitionInput {
        action: action.clone(),
        note: form.get("note"),
        responsible_unit_id: form.get("responsible_unit_id"),
        due_at: form.get("due_at"),
        // Something that is not a whole number is out of range, and said so beside the field.
        due_in_working_days: form.get("due_in_working_days").map(|n| n.trim().parse().unwrap_or(0)),
        decision: decision.then(|| decision_input(&form)),
    };
    let (caller, case_id, if_match) = (viewer.user.clone(), id.clone(), form.version());
    let done = state.op(move |conn, ctx| casework::transition(conn, ctx, &caller, &case_id, if_match, input)).await;
    settle(&state, &console, &viewer, id, action, &form, done.map(drop)).await
}

/// After a change that may be refused for its fields or its timing: back to the case, or
/// the page again with the refusal beside `action`'s form.
async fn settle(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    id: String,
    action: Option<String>,
    form: &FormData,
    done: Result<(), Error>,
) -> Result<HttpResponse, Fail> {
    match done {
        Ok(()) => Ok(back_to(&id)),
        Err(e @ (Error::Validation(_) | Error::PreconditionFailed | Error::Conflict { .. })) => {
            refused(state, console, viewer, id, action, form, e).await
        }
        Err(e) => Err(Fail(e)),
    }
}

/// "Tái phạm: 2 vụ việc trước, lần gần nhất khiển trách 03/2025".
fn repeat_line(r: &crate::subjects::Repeat, handling: &Handling, lang: Lang) -> String {
    let last = r.last.as_ref().map(|(m, d)| (handling.measure_name(m, lang), *d));
    super::subjects::earlier_line("repeat-line", lang, r.earlier, last.as_ref())
}

/// The decision fields of a submitted form.
fn decision_input(form: &FormData) -> DecisionInput {
    DecisionInput {
        system: None,
        authority: form.get("authority"),
        measure: form.get("measure"),
        decided_on: form.get("decided_on"),
        reference: form.get("reference"),
        note: form.get("decision_note"),
        corrects: form.get("corrects"),
    }
}

/// The measures a decision on a subject of `kind` may take, grouped by system, with
/// the last day of those no longer in force.
fn measure_choices(handling: &Handling, kind: SubjectKind, lang: Lang) -> Vec<Value> {
    let fits = Category::of_kind(kind);
    System::ALL
        .iter()
        .map(|system| {
            let items: Vec<Value> = handling
                .measures
                .iter()
                .filter(|m| {
                    !m.retired && m.entry.system == *system && m.entry.applies_to.iter().any(|c| fits.contains(c))
                })
                .map(|m| {
                    context! {
                        code => m.entry.code.clone(), label => handling.measure_name(&m.entry.code, lang),
                        until => m.entry.valid_until.map(|d| d.to_string()),
                    }
                })
                .collect();
            context! { system => system.as_str(), items => items }
        })
        .collect()
}

/// `POST /cases/{id}/decisions`: a party, state or other decision (or a correction of one),
/// through the same operation as the API.
pub async fn decide(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let (caller, case_id, if_match, input) = (viewer.user.clone(), id.clone(), form.version(), decision_input(&form));
    let done = state.op(move |conn, ctx| casework::decide(conn, ctx, &caller, &case_id, if_match, input)).await;
    settle(&state, &console, &viewer, id, Some("decision".into()), &form, done.map(drop)).await
}

/// `POST /cases/{id}/comments`
pub async fn comment(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let (caller, case_id, text) = (viewer.user.clone(), id.clone(), form.get("body"));
    let done = state.op(move |conn, ctx| casework::comment(conn, ctx, &caller, &case_id, text.as_deref())).await;
    match done {
        Ok(_) => Ok(back_to(&id)),
        Err(e @ Error::Validation(_)) => refused(&state, &console, &viewer, id, Some("comment".into()), &form, e).await,
        Err(e) => Err(Fail(e)),
    }
}

/// `POST /cases/{id}/evidence`: a multipart form with the CSRF token and one or more files.
pub async fn upload(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    multipart: Multipart,
) -> Result<HttpResponse, Fail> {
    let id = path.into_inner();
    let (form, outcome) =
        match crate::web::files::receive(multipart, state.settings.cases.attachment_max_bytes, 10).await {
            Ok(received) => {
                let form = FormData::from_pairs(received.fields);
                viewer.check_csrf(form.csrf().as_deref())?;
                let outcome = attach_received(&state, &viewer, &id, received.files).await;
                (form, outcome)
            }
            Err(e @ Error::PayloadTooLarge { .. }) => (FormData::default(), Err(e)),
            Err(e) => return Err(Fail(e)),
        };
    match outcome {
        Ok(()) => Ok(back_to(&id)),
        Err(e @ (Error::Validation(_) | Error::PayloadTooLarge { .. })) => {
            let e = too_large_as_field(e);
            refused(&state, &console, &viewer, id, Some("evidence".into()), &form, e).await
        }
        Err(e) => Err(Fail(e)),
    }
}

/// Adds the files in one transaction (`attach_all` checks each: one refused file keeps none).
async fn attach_received(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    files: Vec<(String, casework::Upload)>,
) -> Result<(), Error> {
    if files.is_empty() {
        return Err(Error::field("file", crate::error::msg::required()));
    }
    let (caller, case_id) = (viewer.user.clone(), id.to_string());
    let files: Vec<_> = files.into_iter().map(|(_, file)| file).collect();
    state.op(move |conn, ctx| casework::attach_all(conn, ctx, &caller, &case_id, files)).await.map(drop)
}

/// A file over the size limit, said beside the file field.
pub fn too_large_as_field(e: Error) -> Error {
    match e {
        Error::PayloadTooLarge { max_bytes } => Error::field("file", crate::error::msg::file_too_large(max_bytes)),
        other => other,
    }
}

/// `GET /cases/{id}/evidence/{attachment}`: the file, to those who may see the case.
pub async fn download(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Fail> {
    let (id, aid) = path.into_inner();
    let aid = crate::web::extract::parse_id(&aid)?;
    let caller = viewer.user;
    let a = state
        .db(move |conn| {
            let (case, _) = casework::visible(conn, &caller, &id)?;
            Attachment::find(conn, &case.id, &aid)?.ok_or(Error::NotFound)
        })
        .await?;
    Ok(crate::web::files::serve_file(&state, a).await?)
}

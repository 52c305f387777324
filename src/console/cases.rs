//! The case list: every filter the API offers, kept in the address, and its export.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use minijinja::{Value, context};
use serde::Deserialize;

use super::render::deadline_view;
use super::session::Viewer;
use super::{Console, Fail};
use crate::casework::list::{CaseQuery, ListPage, case_filter};
use crate::casework::scope_of;
use crate::db::DbConn;
use crate::domain::workflow::Status;
use crate::error::Error;
use crate::model::case::{Case, CaseOrder};
use crate::model::unit::Unit;
use crate::state::AppState;

/// One unit of a picker: its id, name, depth for indenting, and the day an ended unit
/// ended (a filter offers ended units too, marked, so their history is still found; a
/// picker for a new responsibility offers living units only).
pub fn unit_choice(u: &Unit, depth: i32) -> Value {
    context! { id => u.id.clone(), name => u.name.clone(), depth => depth, ended => u.ended_on.map(crate::i18n::date) }
}

/// Cases as list rows, with their units' names (one query for all of them).
pub fn rows(conn: &mut DbConn, cases: Vec<Case>, now: NaiveDateTime, tz: chrono_tz::Tz) -> Result<Vec<Value>, Error> {
    let mut ids: Vec<String> = cases.iter().map(|c| c.subject_unit_id.clone()).collect();
    ids.extend(cases.iter().filter_map(|c| c.responsible_unit_id.clone()));
    ids.sort();
    ids.dedup();
    let names: HashMap<String, String> = Unit::find_many(conn, &ids)?.into_iter().map(|u| (u.id, u.name)).collect();
    Ok(cases
        .into_iter()
        .map(|c| {
            let overdue = c.is_overdue(now);
            context! {
                id => c.id, number => c.number, title => c.title, status => c.status.as_str(), severity => c.severity.as_str(),
                subject_kind => c.subject_kind.as_str(), person_name => c.person_name, body_name => c.body_name,
                subject_unit => names.get(&c.subject_unit_id).cloned().unwrap_or_default(),
                responsible_unit => c.responsible_unit_id.as_ref().and_then(|u| names.get(u).cloned()),
                detected_on => c.detected_on.to_string(),
                deadline => c.deadline_at.map(|d| deadline_view(d, now, tz)),
                overdue => overdue,
            }
        })
        .collect())
}

/// The list's address parameters, all optional; unknown ones are ignored (old links work).
#[derive(Deserialize, Default, Clone, serde::Serialize)]
pub struct ListQuery {
    campaign_id: Option<String>,
    unit_id: Option<String>,
    indicator_id: Option<String>,
    status: Option<String>,
    overdue: Option<String>,
    repeat: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    format: Option<String>,
    /// `deadline` (nearest first) or `activity` (last changed first); newest first otherwise.
    sort: Option<String>,
}

/// The order a list asks for: newest first (the API's order), or one of the console's.
fn order_of(q: &ListQuery) -> Option<CaseOrder> {
    match q.sort.as_deref() {
        Some("deadline") => Some(CaseOrder::Deadline),
        Some("activity") => Some(CaseOrder::Activity),
        _ => None,
    }
}

/// A yes/no filter of the form: blank is no filter.
fn yes_no(v: Option<&str>) -> Option<bool> {
    match v {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    }
}

impl ListQuery {
    /// The API's query for the same filters (blank fields are no filter).
    fn api(&self) -> CaseQuery {
        let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        CaseQuery {
            campaign_id: some(&self.campaign_id),
            unit_id: some(&self.unit_id),
            indicator_id: some(&self.indicator_id),
            status: some(&self.status),
            overdue: yes_no(self.overdue.as_deref()),
            repeat: yes_no(self.repeat.as_deref()),
            q: some(&self.q),
            from: some(&self.from),
            to: some(&self.to),
            limit: None,
            cursor: some(&self.cursor),
            format: some(&self.format),
        }
    }

    /// The filters as an address query, without the cursor.
    fn encoded(&self) -> String {
        let mut q = self.clone();
        q.cursor = None;
        q.format = None;
        if order_of(&q).is_none() {
            q.sort = None;
        }
        let pairs: Vec<(String, String)> = serde_json::to_value(&q)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().filter(|s| !s.is_empty()).map(|s| (k, s.to_string())))
            .collect();
        form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }
}

const PAGE: i64 = 50;

/// The list page saying which filter is wrong, listing nothing (422).
fn refused(console: &Console, viewer: &Viewer, q: &ListQuery, e: Error) -> Result<HttpResponse, Fail> {
    let errors = super::form::field_errors(viewer.lang, e)?;
    let ctx = context! {
        items => Vec::<Value>::new(), q => Value::from(minijinja::value::Serde(q)), errors => errors,
        filters => q.encoded(),
    };
    console.page_with_status(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        Some(viewer),
        viewer.lang,
        "cases.html",
        ctx,
    )
}

/// The filters' choices as the form offers them.
fn pickers_view(pick: crate::casework::list::Pickers) -> Value {
    let campaigns: Vec<Value> = pick.campaigns.into_iter().map(|c| context! { id => c.id, title => c.title }).collect();
    let units: Vec<Value> = pick.units.iter().map(|(u, d)| unit_choice(u, *d)).collect();
    let indicators: Vec<Value> =
        pick.indicators.into_iter().map(|i| context! { id => i.id, code => i.code, title => i.title }).collect();
    context! { campaigns => campaigns, units => units, indicators => indicators }
}

/// `GET /cases?…`: a page of the cases the reader may see, newest first, as filtered.
pub async fn list(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, Fail> {
    let q = q.into_inner();
    let scope = scope_of(&viewer.user)?;
    let lang = viewer.lang;
    let api = q.api();
    let order = order_of(&q);
    let checked = case_filter(&api).and_then(|f| Ok((f, ListPage::parse(order, api.cursor.as_deref(), PAGE)?)));
    let (filter, page) = match checked {
        Ok(ok) => ok,
        // A filter typed wrong in the address: the list page says which, and lists nothing.
        Err(e) => return refused(&console, &viewer, &q, e),
    };
    let (now, tz) = (state.clock.now_naive(), console.tz);
    let caller = viewer.user.clone();
    let (items, next, pick) = state
        .db(move |conn| {
            let (found, next) = page.read(conn, &scope, &filter, now)?;
            Ok((rows(conn, found, now, tz)?, next, crate::casework::list::pickers(conn, &caller)?))
        })
        .await?;
    let ctx = context! {
        items => items, q => Value::from(minijinja::value::Serde(&q)), filters => q.encoded(), next => next,
        statuses => Status::ALL.map(Status::as_str), errors => context! {}, ..pickers_view(pick)
    };
    console.page(Some(&viewer), lang, "cases.html", ctx)
}

/// `GET /cases/export?format=csv|xlsx&…`: every case of the list as filtered, as the API exports it.
pub async fn export(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, Fail> {
    let api = q.into_inner().api();
    let scope = scope_of(&viewer.user)?;
    let format = crate::table::FileFormat::pick(api.format.as_deref(), None)?
        .ok_or_else(|| Error::field("format", crate::error::msg::one_of(&["csv", "xlsx"])))?;
    Ok(crate::web::download::cases(&state, scope, case_filter(&api)?, format, viewer.lang).await?)
}

/// The most cases one bulk action takes.
const BULK_MAX: usize = 100;

/// `POST /cases/bulk-accept`: the selected open cases accepted with one responsible unit
/// and due date, each through the same transition as the API, each in its own transaction;
/// the queue again with a result per case.
pub async fn bulk_accept(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let lang = viewer.lang;
    let mut ids = form.all("case_ids");
    ids.dedup();
    if ids.len() > BULK_MAX {
        return Err(Fail(Error::field("case_ids", crate::error::msg::too_long(BULK_MAX))));
    }
    let mut results = Vec::new();
    for id in ids {
        let input = crate::casework::TransitionInput {
            action: Some("accept".into()),
            responsible_unit_id: form.get("responsible_unit_id"),
            due_at: form.get("due_at"),
            ..Default::default()
        };
        let (caller, case_id) = (viewer.user.clone(), id.clone());
        let done =
            state.op(move |conn, ctx| crate::casework::transition(conn, ctx, &caller, &case_id, None, input)).await;
        results.push(match done {
            Ok((case, _)) => context! { id => case.id, number => case.number, ok => true },
            Err(e) => context! { id => id, ok => false, message => refusal(&console, lang, e) },
        });
    }
    let status = if results.iter().all(|r| r.get_attr("ok").is_ok_and(|v| v.is_true())) {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    super::home::render(&state, &console, &viewer, Some("open".into()), Some(results), status).await
}

/// Why an operation refused, in a sentence for the reader.
fn refusal(console: &Console, lang: crate::i18n::Lang, e: Error) -> String {
    match e {
        Error::Validation(errors) => errors.iter().map(|f| f.message.text(lang)).collect::<Vec<_>>().join(" "),
        Error::Conflict { .. } => console.text(lang, "bulk-not-open"),
        Error::NotFound => console.text(lang, "error-not-found-text"),
        Error::Forbidden => console.text(lang, "error-forbidden-text"),
        _ => console.text(lang, "error-internal-text"),
    }
}

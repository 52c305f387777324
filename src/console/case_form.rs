//! Logging a case (campaign first, then what was found) and editing one, through the
//! same operations as the API; evidence files go with the new case.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::form::{FormData, field_errors};
use super::session::Viewer;
use super::{Console, Fail};
use crate::casework::{self, CaseInput, SubjectInput};
use crate::db::DbConn;
use crate::domain::role::Role;
use crate::error::Error;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::directive::Indicator;
use crate::model::unit::Unit;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NewQuery {
    campaign_id: Option<String>,
    unit_id: Option<String>,
}

/// What the form offers for a campaign: its target units with their subtrees, and the
/// indicators of its directive, grouped as the directive groups them.
async fn choices(state: &AppState, viewer: &Viewer, campaign_id: Option<String>) -> Result<Value, Error> {
    let (user_id, lang) = (viewer.user.user.id.clone(), viewer.lang);
    state
        .db(move |conn| {
            let f = CampaignFilter { member: Some(user_id.clone()), ..Default::default() };
            let campaigns: Vec<Campaign> =
                Campaign::list(conn, &f, None, 200)?.into_iter().filter(|c| c.status != "concluded").collect();
            let chosen = campaign_id.and_then(|id| campaigns.iter().find(|c| c.id == id).cloned());
            let handling = crate::model::handling::Handling::load(conn)?;
            let severities: Vec<Value> = handling
                .levels
                .iter()
                .filter(|l| !l.retired)
                .map(|l| context! { code => l.entry.code.clone(), name => handling.level_name(&l.entry.code, lang) })
                .collect();
            let (units, groups) = match &chosen {
                Some(c) => (target_units(conn, c)?, indicator_groups(conn, &c.directive_id)?),
                None => (Vec::new(), Vec::new()),
            };
            let campaigns: Vec<Value> =
                campaigns.into_iter().map(|c| context! { id => c.id, title => c.title }).collect();
            Ok(context! {
                campaigns => campaigns, campaign => chosen.map(|c| context! { id => c.id, title => c.title }),
                units => units, groups => groups, severities => severities,
                categories => crate::domain::handling::Category::ALL.map(|c| c.as_str()),
            })
        })
        .await
}

/// A campaign's target units with their subtrees, each once, in tree order.
fn target_units(conn: &mut DbConn, c: &Campaign) -> Result<Vec<Value>, Error> {
    let targets = Campaign::targets_of(conn, std::slice::from_ref(&c.id))?.remove(&c.id).unwrap_or_default();
    let (mut units, mut seen) = (Vec::new(), std::collections::HashSet::new());
    for t in targets {
        for (u, depth) in Unit::subtree(conn, &t)? {
            if seen.insert(u.id.clone()) {
                let folded = crate::domain::fold::fold(&u.name);
                let ended = u.ended_on.map(crate::i18n::date);
                units.push(context! { id => u.id, name => u.name, depth => depth, folded => folded, ended => ended });
            }
        }
    }
    Ok(units)
}

/// A directive's indicators, grouped as the directive groups them.
fn indicator_groups(conn: &mut DbConn, directive_id: &str) -> Result<Vec<Value>, Error> {
    let groups = Indicator::grouped(Indicator::of_directive(conn, directive_id, false)?);
    Ok(groups
        .into_iter()
        .map(|(code, title, items)| {
            let items: Vec<Value> =
                items.into_iter().map(|i| context! { id => i.id, code => i.code, title => i.title }).collect();
            context! { code, title, items }
        })
        .collect())
}

/// The form, new or for editing, with what was typed and what was wrong.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    campaign_id: Option<String>,
    editing: Option<(String, String, i64)>,
    values: BTreeMap<String, String>,
    checked: Vec<String>,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let offered = choices(state, viewer, campaign_id).await?;
    let today = state.clock.now().with_timezone(&console.tz).date_naive().to_string();
    let ctx = context! {
        offered => offered, values => values, checked => checked, errors => errors, today => today,
        editing => editing.map(|(id, number, version)| context! { id => id, number => number, version => version }),
        logged => None::<String>,
    };
    console.page_with_status(status, Some(viewer), viewer.lang, "case_form.html", ctx)
}

/// `GET /cases/new[?campaign_id=…&unit_id=…]`
pub async fn new_form(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, Fail> {
    viewer.user.require(&[Role::Inspector])?;
    let mut values = BTreeMap::new();
    if let Some(u) = &q.unit_id {
        values.insert("subject_unit_id".to_string(), u.clone());
    }
    let campaign = q.campaign_id.clone();
    form_page(&state, &console, &viewer, campaign, None, values, Vec::new(), BTreeMap::new(), StatusCode::OK).await
}

/// What a refused form had ticked: its indicators and the subject's categories.
fn checked(form: &FormData) -> Vec<String> {
    let mut ticked = form.all("indicator_ids");
    ticked.extend(form.all("categories"));
    ticked
}

/// The case fields of a submitted form, as the operations take them.
fn input(form: &FormData) -> CaseInput {
    // A subject picked from the registry, or the one described.
    let subject_id = form.get("subject_id").filter(|s| !s.trim().is_empty());
    CaseInput {
        campaign_id: form.get("campaign_id"),
        subject: subject_id.is_none().then(|| SubjectInput {
            kind: form.get("subject_kind"),
            unit_id: form.get("subject_unit_id"),
            person_name: form.get("person_name"),
            person_position: form.get("person_position"),
            categories: Some(form.all("categories")).filter(|c| !c.is_empty()),
            body_name: form.get("body_name"),
            identifier: form.get("identifier"),
        }),
        subject_id,
        indicator_ids: Some(form.all("indicator_ids")),
        title: form.get("title"),
        description: form.get("description"),
        detected_on: form.get("detected_on"),
        severity: form.get("severity"),
        responsible_unit_id: None,
        due_at: None,
    }
}

/// `POST /cases/new`: checks the files, logs the case, keeps the files with it; then the
/// case, or (with "save and log another") a fresh form keeping campaign and unit.
pub async fn create(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    multipart: Multipart,
) -> Result<HttpResponse, Fail> {
    let received = crate::web::files::receive(multipart, state.settings.cases.attachment_max_bytes, 10).await;
    let (form, files, file_error) = match received {
        Ok(r) => (FormData::from_pairs(r.fields), r.files, None),
        Err(e @ Error::PayloadTooLarge { .. }) => (FormData::default(), Vec::new(), Some(e)),
        Err(e) => return Err(Fail(e)),
    };
    if file_error.is_none() {
        viewer.check_csrf(form.csrf().as_deref())?;
    }
    let lang = viewer.lang;
    let refused = file_error
        .or_else(|| files.iter().find_map(|(_, file)| casework::check_upload(&state.settings.cases, file).err()));
    if let Some(e) = refused {
        return again(&state, &console, &viewer, &form, field_errors(lang, super::case_page::too_large_as_field(e))?)
            .await;
    }
    let (caller, case_input) = (viewer.user.clone(), input(&form));
    let files: Vec<_> = files.into_iter().map(|(_, file)| file).collect();
    let logged = state.op(move |conn, ctx| casework::log_with_files(conn, ctx, &caller, case_input, files)).await;
    let case = match logged {
        Ok((case, _)) => case,
        Err(e @ Error::Validation(_)) => return again(&state, &console, &viewer, &form, field_errors(lang, e)?).await,
        Err(e) => return Err(Fail(e)),
    };
    if form.get("another").is_some() {
        return another(&state, &console, &viewer, &form, &case).await;
    }
    Ok(super::render::see_other(format!("/cases/{}", case.id)))
}

/// The form again with what was typed and the messages beside the fields (422).
async fn again(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    form: &FormData,
    errors: BTreeMap<String, String>,
) -> Result<HttpResponse, Fail> {
    let (campaign, values, checked) = (form.get("campaign_id"), form.values(), checked(form));
    form_page(state, console, viewer, campaign, None, values, checked, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// "Save and log another": a blank form in the same campaign and unit, saying which case
/// was just logged (201).
async fn another(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    form: &FormData,
    case: &crate::model::case::Case,
) -> Result<HttpResponse, Fail> {
    let mut values = BTreeMap::new();
    values.extend(form.get("subject_unit_id").map(|u| ("subject_unit_id".to_string(), u)));
    let offered = choices(state, viewer, form.get("campaign_id")).await?;
    let today = state.clock.now().with_timezone(&console.tz).date_naive().to_string();
    let ctx = context! {
        offered => offered, values => values, checked => Vec::<String>::new(), errors => context! {},
        today => today, editing => None::<String>,
        logged => context! { id => &case.id, number => &case.number },
    };
    console.page_with_status(StatusCode::CREATED, Some(viewer), viewer.lang, "case_form.html", ctx)
}

/// `GET /cases/{id}/edit`: the form filled from the case.
pub async fn edit_form(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let caller = viewer.user.clone();
    let id = path.into_inner();
    let (case, ids) = state.db(move |conn| casework::visible(conn, &caller, &id)).await?;
    let mut values = BTreeMap::new();
    for (k, v) in [
        ("subject_kind", Some(case.subject_kind.to_string())),
        ("subject_unit_id", Some(case.subject_unit_id.clone())),
        ("person_name", case.person_name.clone()),
        ("person_position", case.person_position.clone()),
        ("body_name", case.body_name.clone()),
        ("title", Some(case.title.clone())),
        ("description", Some(case.description.clone())),
        ("detected_on", Some(case.detected_on.to_string())),
        ("severity", Some(case.severity.to_string())),
    ] {
        values.extend(v.map(|v| (k.to_string(), v)));
    }
    let editing = Some((case.id.clone(), case.number.clone(), case.version));
    form_page(&state, &console, &viewer, Some(case.campaign_id), editing, values, ids, BTreeMap::new(), StatusCode::OK)
        .await
}

/// `POST /cases/{id}/edit`: the same edit as the API's, against the version the form showed.
pub async fn update(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let mut case_input = input(&form);
    case_input.campaign_id = None;
    let if_match = form.version();
    let (caller, case_id) = (viewer.user.clone(), id.clone());
    let done = state.op(move |conn, ctx| casework::edit(conn, ctx, &caller, &case_id, if_match, case_input)).await;
    match done {
        Ok(_) => Ok(super::render::see_other(format!("/cases/{id}"))),
        Err(e @ Error::Validation(_)) => {
            let errors = field_errors(viewer.lang, e)?;
            let number = form.get("number").unwrap_or_default();
            let editing = Some((id, number, if_match.unwrap_or_default()));
            form_page(
                &state,
                &console,
                &viewer,
                form.get("campaign_id"),
                editing,
                form.values(),
                checked(&form),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(Fail(e)),
    }
}

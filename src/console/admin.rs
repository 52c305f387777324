//! Administration: accounts (the generated password shown once), the unit tree, catalog
//! import, the mail outbox and the audit log, through the same operations as the API.

use std::collections::{BTreeMap, HashMap};

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::form::{FormData, field_errors};
use super::render::{instant, see_other};
use super::session::{Admin, Viewer};
use super::{Console, Fail};
use crate::accounts::{self, AccountChange, NewAccount, UnitRef};
use crate::domain::role::{Role, UnitKind};
use crate::error::Error;
use crate::i18n::Lang;
use crate::model::alert::OutboxMessage;
use crate::model::audit::{AuditEntry, AuditFilter, AuditRecord};
use crate::model::unit::Unit;
use crate::model::user::{User, UserFilter};
use crate::state::AppState;
use crate::unit_tree::{NewUnit, UnitChange};

const PAGE: i64 = 100;

/// Every unit, as the tree shows it: each root followed by its subtree, with depths.
fn unit_tree(conn: &mut crate::db::DbConn) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for root in Unit::roots(conn)? {
        for (u, depth) in Unit::subtree(conn, &root.id)? {
            out.push(context! {
                id => u.id, code => u.code, name => u.name, kind => u.kind, depth => depth,
                email => u.email, head_user_id => u.head_user_id, parent_id => u.parent_id, version => u.version,
                ended => u.ended_on.map(crate::i18n::date),
            });
        }
    }
    Ok(out)
}

/// A refusal that belongs beside a field (422, or a clash on a unique name) as field
/// messages; anything else becomes its page.
fn form_errors(console: &Console, viewer: &Viewer, e: Error) -> Result<BTreeMap<String, String>, Fail> {
    let lang = viewer.lang;
    let clash = |field: &str, key: &str| BTreeMap::from([(field.to_string(), console.text(lang, key))]);
    match e {
        Error::Conflict { code: "username-taken", .. } => Ok(clash("username", "admin-username-taken")),
        Error::Conflict { code: "unit-code-taken", .. } => Ok(clash("code", "admin-code-taken")),
        Error::Conflict { code: "last-admin", .. } => Ok(clash("role", "admin-last-admin")),
        Error::Conflict { code: "own-admin-account", .. } => Ok(clash("role", "admin-own-account")),
        Error::PreconditionFailed => Ok(clash("version", "stale-text")),
        e => Ok(field_errors(lang, e)?),
    }
}

#[derive(Deserialize)]
pub struct UsersQuery {
    role: Option<String>,
    cursor: Option<String>,
}

/// One account as the users page lists it, with its unit's name.
fn user_row(u: User, names: &BTreeMap<String, String>) -> Value {
    context! {
        id => u.id, username => u.username, full_name => u.full_name, role => u.role, active => u.active,
        unit => u.unit_id.as_ref().and_then(|id| names.get(id).cloned()),
    }
}

/// The users page: the list (by role), the form for a new one, and what was just done.
async fn users_page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    role: Option<String>,
    cursor: Option<String>,
    extra: Value,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let role = role.filter(|r| Role::parse(r).is_some());
    let filter = UserFilter { role: role.clone(), unit_id: None, active: None };
    let after = cursor.as_deref().and_then(crate::model::canonical_id);
    let (users, units, stranded) = state
        .db(move |conn| {
            let users = User::list(conn, &filter, after.as_deref(), PAGE + 1)?;
            Ok((users, unit_tree(conn)?, User::of_ended_units(conn, PAGE)?))
        })
        .await?;
    let more = users.len() as i64 > PAGE;
    let names: BTreeMap<String, String> = units
        .iter()
        .filter_map(|u| Some((u.get_attr("id").ok()?.to_string(), u.get_attr("name").ok()?.to_string())))
        .collect();
    let rows: Vec<Value> = users.into_iter().take(PAGE as usize).map(|u| user_row(u, &names)).collect();
    let next = if more { rows.last().and_then(|r| r.get_attr("id").ok()).map(|v| v.to_string()) } else { None };
    let stranded: Vec<Value> = stranded.into_iter().map(|u| user_row(u, &names)).collect();
    let ctx = context! {
        users => rows, stranded => stranded, units => units, roles => Role::ALL.map(Role::as_str), role => role, next => next, ..extra
    };
    console.page_with_status(status, Some(viewer), viewer.lang, "admin_users.html", ctx)
}

/// `GET /admin/users`
pub async fn users(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    q: web::Query<UsersQuery>,
) -> Result<HttpResponse, Fail> {
    let q = q.into_inner();
    let extra = context! { errors => context! {}, values => context! {} };
    users_page(&state, &console, &viewer, q.role, q.cursor, extra, StatusCode::OK).await
}

/// Checks a new account, hashes its password on the hashing pool and stores it; the
/// password (typed or generated) comes back to be shown once.
async fn create_account(
    state: &AppState,
    viewer: &Viewer,
    account: NewAccount,
) -> Result<(crate::model::user::User, String), Error> {
    let caller = viewer.user.clone();
    let checked = state.db(move |conn| accounts::check(conn, account)).await?;
    let hash = state.hasher.hash(&viewer.user.lane(), checked.password.clone()).await?;
    let password = checked.password.clone();
    let user =
        state.op(move |conn, ctx| accounts::create(conn, &caller.actor(), checked.input, hash, ctx.now())).await?;
    Ok((user, password))
}

/// `POST /admin/users`: a new account, its generated password shown this once.
pub async fn create_user(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let account = NewAccount {
        username: form.get("username"),
        full_name: form.get("full_name"),
        email: form.get("email"),
        role: form.get("role"),
        unit: form.get("unit_id").map(UnitRef::Id),
        password: None,
    };
    let done = create_account(&state, &viewer, account).await;
    let (extra, status) = match done {
        Ok((user, password)) => (
            context! {
                errors => context! {}, values => context! {},
                created => context! { id => user.id, username => user.username, password => password },
            },
            StatusCode::CREATED,
        ),
        Err(e) => (
            context! { errors => form_errors(&console, &viewer, e)?, values => form.values() },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let mut res = users_page(&state, &console, &viewer, None, None, extra, status).await?;
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

/// One user's page: the edit form, and a new password when one was just set.
async fn user_page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    id: String,
    extra: Value,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let id = crate::web::extract::parse_id(&id)?;
    let (user, units) =
        state.db(move |conn| Ok((User::find(conn, &id)?.ok_or(Error::NotFound)?, unit_tree(conn)?))).await?;
    let ctx = context! {
        user => context! {
            id => user.id, username => user.username, full_name => user.full_name, email => user.email,
            role => user.role, unit_id => user.unit_id, active => user.active, version => user.version,
        },
        units => units, roles => Role::ALL.map(Role::as_str), ..extra
    };
    console.page_with_status(status, Some(viewer), viewer.lang, "admin_user.html", ctx)
}

/// `GET /admin/users/{id}`
pub async fn user(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    user_page(&state, &console, &viewer, path.into_inner(), context! { errors => context! {} }, StatusCode::OK).await
}

/// `POST /admin/users/{id}`: role, unit, name, email, active; or (`reset`) a new password.
pub async fn update_user(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let if_match = form.version();
    let reset = form.get("reset").is_some();
    let password = reset.then(crate::auth::password::generate);
    let change = if reset {
        AccountChange { password: password.clone(), ..Default::default() }
    } else {
        AccountChange {
            full_name: form.get("full_name"),
            email: Some(form.get("email")),
            role: form.get("role"),
            unit_id: Some(form.get("unit_id")),
            active: Some(form.get("active").is_some()),
            password: None,
        }
    };
    match accounts::change(&state, viewer.user.clone(), &id, if_match, change).await {
        Ok(_) if reset => {
            let extra = context! { errors => context! {}, new_password => password };
            let mut res = user_page(&state, &console, &viewer, id, extra, StatusCode::OK).await?;
            res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Ok(_) => Ok(see_other(format!("/admin/users/{id}"))),
        Err(e @ (Error::NotFound | Error::Forbidden)) => Err(Fail(e)),
        Err(e) => {
            let extra = context! { errors => form_errors(&console, &viewer, e)? };
            user_page(&state, &console, &viewer, id, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The units page: the whole tree and the form for a new unit.
async fn units_page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    extra: Value,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let units = state.db(unit_tree).await?;
    let ctx = context! { units => units, kinds => UnitKind::ALL.map(UnitKind::as_str), ..extra };
    console.page_with_status(status, Some(viewer), viewer.lang, "admin_units.html", ctx)
}

/// `GET /admin/units`
pub async fn units(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
) -> Result<HttpResponse, Fail> {
    units_page(&state, &console, &viewer, context! { errors => context! {}, values => context! {} }, StatusCode::OK)
        .await
}

/// `POST /admin/units`
pub async fn create_unit(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let new = NewUnit {
        code: form.get("code"),
        name: form.get("name"),
        kind: form.get("kind"),
        parent_id: form.get("parent_id"),
        head_user_id: None,
        email: form.get("email"),
    };
    let caller = viewer.user.clone();
    match state.op(move |conn, ctx| crate::unit_tree::create(conn, ctx, &caller, new)).await {
        Ok(unit) => Ok(see_other(format!("/admin/units/{}", unit.id))),
        Err(e) => {
            let extra = context! { errors => form_errors(&console, &viewer, e)?, values => form.values() };
            units_page(&state, &console, &viewer, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// One unit's page: its fields, where it sits (moving it), its head and alert address.
async fn unit_page(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    id: String,
    extra: Value,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let id = crate::web::extract::parse_id(&id)?;
    let (unit, units, people, lineage) = state
        .db(move |conn| {
            let unit = Unit::find(conn, &id)?.ok_or(Error::NotFound)?;
            let l = crate::unit_tree::lineage(conn, &unit.id)?;
            let brief = |u: Unit| context! { id => u.id, name => u.name, code => u.code };
            let lineage = context! {
                predecessors => l.predecessors.into_iter().map(brief).collect::<Vec<_>>(),
                successors => l.successors.into_iter().map(brief).collect::<Vec<_>>(),
                former => l.former.into_iter()
                    .map(|f| context! { name => f.name, until => crate::i18n::date(f.valid_until) })
                    .collect::<Vec<_>>(),
            };
            let f = UserFilter { role: None, unit_id: Some(unit.id.clone()), active: Some(true) };
            let people: Vec<Value> = User::list(conn, &f, None, 500)?
                .into_iter()
                .map(|u| context! { id => u.id, name => u.full_name, role => u.role })
                .collect();
            Ok((unit, unit_tree(conn)?, people, lineage))
        })
        .await?;
    let ctx = context! {
        unit => context! {
            id => unit.id, code => unit.code, name => unit.name, kind => unit.kind, parent_id => unit.parent_id,
            head_user_id => unit.head_user_id, email => unit.email, version => unit.version,
            established => unit.established_on.map(crate::i18n::date), ended => unit.ended_on.map(crate::i18n::date),
        },
        lineage => lineage, units => units, people => people, kinds => UnitKind::ALL.map(UnitKind::as_str), ..extra
    };
    console.page_with_status(status, Some(viewer), viewer.lang, "admin_unit.html", ctx)
}

/// `GET /admin/units/{id}`
pub async fn unit(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    unit_page(&state, &console, &viewer, path.into_inner(), context! { errors => context! {} }, StatusCode::OK).await
}

/// `POST /admin/units/{id}`: the same change as `PATCH /units/{id}`, moves included.
pub async fn update_unit(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = path.into_inner();
    let change = UnitChange {
        code: form.get("code"),
        name: form.get("name"),
        kind: form.get("kind"),
        parent_id: Some(form.get("parent_id")),
        head_user_id: Some(form.get("head_user_id")),
        email: Some(form.get("email")),
    };
    let if_match = form.version();
    let (caller, target) = (viewer.user.clone(), id.clone());
    match state.op(move |conn, ctx| crate::unit_tree::update(conn, ctx, &caller, &target, if_match, change)).await {
        Ok(_) => Ok(see_other(format!("/admin/units/{id}"))),
        Err(e @ (Error::NotFound | Error::Forbidden)) => Err(Fail(e)),
        Err(e) => {
            let extra = context! { errors => form_errors(&console, &viewer, e)? };
            unit_page(&state, &console, &viewer, id, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
    cursor: Option<String>,
}

/// A withheld key of a case's audit record in the reader's words ("Họ và tên" for
/// `person_name`); a key without words yet is shown as it is stored.
fn withheld_label(console: &Console, lang: crate::i18n::Lang, key: &str) -> String {
    let words = format!("audit-key-{key}");
    if crate::i18n::catalogs().has(lang, &words) { console.text(lang, &words) } else { key.to_string() }
}

/// `GET /admin/outbox?status=`: messages newest first, each failed one with a retry.
pub async fn outbox(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    q: web::Query<OutboxQuery>,
) -> Result<HttpResponse, Fail> {
    let q = q.into_inner();
    let status = q.status.filter(|s| crate::model::alert::OUTBOX_STATUSES.contains(&s.as_str()));
    let after = q.cursor.as_deref().and_then(crate::model::canonical_id);
    let shown = status.clone();
    let rows =
        state.db(move |conn| Ok(OutboxMessage::list(conn, shown.as_deref(), after.as_deref(), PAGE + 1)?)).await?;
    let more = rows.len() as i64 > PAGE;
    let items: Vec<Value> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|m| {
            context! {
                id => m.id, to => m.recipient_email, name => m.recipient_name, status => m.status,
                attempts => m.attempts, last_error => m.last_error, subject => m.subject,
                created_at => instant(m.created_at), sent_at => m.sent_at.map(instant),
            }
        })
        .collect();
    let next = if more { items.last().and_then(|r| r.get_attr("id").ok()).map(|v| v.to_string()) } else { None };
    let ctx = context! {
        items => items, status => status, statuses => crate::model::alert::OUTBOX_STATUSES, next => next,
    };
    console.page(Some(&viewer), viewer.lang, "admin_outbox.html", ctx)
}

/// `POST /admin/outbox/{id}/retry`
pub async fn retry(
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    viewer.form(&body)?;
    let caller = viewer.user.clone();
    state.op(move |conn, ctx| crate::administration::retry_message(conn, ctx, &caller, &path)).await?;
    Ok(see_other("/admin/outbox?status=pending"))
}

#[derive(Deserialize, Default, serde::Serialize)]
pub struct AuditQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
}

/// The audit filter the form asks for; blank fields ask for nothing.
fn audit_filter(q: &AuditQuery) -> Result<AuditFilter, Error> {
    let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    AuditFilter::parse(
        some(&q.entity_type),
        some(&q.entity_id),
        some(&q.actor_id),
        some(&q.from).as_deref(),
        some(&q.to).as_deref(),
    )
}

/// One audit entry as an administrator reads it: what a case held is withheld.
fn audit_row(console: &Console, lang: Lang, e: AuditEntry, names: &HashMap<String, String>) -> Value {
    let AuditRecord { entry: e, before, after, withheld } = AuditRecord::for_admin(e);
    context! {
        id => e.id, at => instant(e.at), actor => e.actor_id.as_ref().and_then(|a| names.get(a).cloned()),
        actor_id => e.actor_id, client_addr => e.client_addr, action => e.action,
        entity_type => e.entity_type, entity_id => e.entity_id,
        before => before.map(|v| v.to_string()), after => after.map(|v| v.to_string()),
        withheld => withheld.iter().map(|k| withheld_label(console, lang, k)).collect::<Vec<_>>(),
    }
}

/// `GET /admin/audit?entity_type=&entity_id=&actor_id=&from=&to=`: newest first.
pub async fn audit(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, Fail> {
    let q = q.into_inner();
    let (filter, errors) = match audit_filter(&q) {
        Ok(f) => (f, BTreeMap::new()),
        Err(e) => (AuditFilter::default(), field_errors(viewer.lang, e)?),
    };
    let after = q.cursor.as_deref().and_then(crate::model::canonical_id);
    let ok = errors.is_empty();
    let (rows, names) = state
        .db(move |conn| {
            let rows = if ok { AuditEntry::list(conn, &filter, after.as_deref(), PAGE + 1)? } else { Vec::new() };
            let mut ids: Vec<String> = rows.iter().filter_map(|e| e.actor_id.clone()).collect();
            ids.sort();
            ids.dedup();
            Ok((rows, User::names_of(conn, &ids)?))
        })
        .await?;
    let more = rows.len() as i64 > PAGE;
    let items: Vec<Value> =
        rows.into_iter().take(PAGE as usize).map(|e| audit_row(&console, viewer.lang, e, &names)).collect();
    let next = if more { items.last().and_then(|r| r.get_attr("id").ok()).map(|v| v.to_string()) } else { None };
    let status = if ok { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let ctx =
        context! { items => items, q => Value::from(minijinja::value::Serde(&q)), errors => errors, next => next };
    console.page_with_status(status, Some(&viewer), viewer.lang, "admin_audit.html", ctx)
}

/// `GET /admin/catalog`
pub async fn catalog(console: web::Data<Console>, Admin(viewer): Admin) -> Result<HttpResponse, Fail> {
    console.page(Some(&viewer), viewer.lang, "admin_catalog.html", context! { errors => context! {} })
}

/// The catalog an administrator uploaded, or what is wrong with the file, in `lang`.
fn uploaded_catalog(
    console: &Console,
    lang: crate::i18n::Lang,
    file: Option<(String, crate::casework::Upload)>,
) -> Result<crate::domain::catalog::Catalog, String> {
    let Some((_, file)) = file else { return Err(crate::error::msg::required().text(lang)) };
    toml::from_str(&String::from_utf8_lossy(&file.bytes))
        .map_err(|e| format!("{}: {e}", console.text(lang, "admin-catalog-unreadable")))
}

/// `POST /admin/catalog`: a catalog file (TOML, as under config/catalogs/) imported as
/// the CLI and the API import it; the summary of what changed.
pub async fn import_catalog(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
    multipart: Multipart,
) -> Result<HttpResponse, Fail> {
    let received = crate::web::files::receive(multipart, 1024 * 1024, 1).await?;
    let form = FormData::from_pairs(received.fields);
    viewer.check_csrf(form.csrf().as_deref())?;
    let lang = viewer.lang;
    // What is wrong with the file, beside it.
    let refused = |why: String| {
        let ctx = context! { errors => context! { file => why } };
        console.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, Some(&viewer), lang, "admin_catalog.html", ctx)
    };
    let catalog = match uploaded_catalog(&console, lang, received.files.into_iter().next()) {
        Ok(c) => c,
        Err(why) => return refused(why),
    };
    let caller = viewer.user.clone();
    match state.op(move |conn, ctx| crate::administration::import_catalog(conn, ctx, &caller, catalog)).await {
        Ok((d, summary, indicators)) => {
            let ctx = context! {
                errors => context! {},
                imported => context! {
                    code => d.code, title => d.title, version => d.catalog_version, created => summary.created,
                    added => summary.indicators_added, updated => summary.indicators_updated,
                    retired => summary.indicators_retired, total => indicators.len(),
                },
            };
            console.page(Some(&viewer), lang, "admin_catalog.html", ctx)
        }
        Err(Error::Validation(errors)) => {
            // A catalog's problems name entries deep in the file: all of them, beside the file.
            let text = errors.iter().map(|e| format!("{}: {}", e.field, e.message.text(lang))).collect::<Vec<_>>();
            refused(text.join("; "))
        }
        Err(e) => Err(Fail(e)),
    }
}

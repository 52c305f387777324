//! Alerts as users see them, and the mail outbox as administrators manage it.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::instant;
use crate::auth::CurrentUser;
use crate::casework::scope_of;
use crate::domain::role::{Role, one_of};
use crate::error::Error;
use crate::model::alert::{Alert, OutboxMessage};
use crate::model::case::CaseScope;
use crate::paging::{Page, PageRequest};
use crate::state::AppState;
use crate::web::extract::{QueryParams, parse_id};

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    id: String,
    case_id: String,
    case_number: String,
    case_title: String,
    level: String,
    deadline_at: String,
    status: String,
    read: bool,
    created_at: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    unread: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The caller's alerts, newest first (`?unread=true` for unread only).
#[utoipa::path(tag = "notifications", params(NotificationQuery), responses((status = 200, description = "The caller's alerts, newest first", body = Page<NotificationView>)))]
#[get("/me/notifications")]
pub async fn mine(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<NotificationQuery>,
) -> Result<web::Json<Page<NotificationView>>, Error> {
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let (after, fetch, unread) = (page.after.clone(), page.fetch(), q.unread.unwrap_or(false));
    // Alerts outlive a move to another unit; the cases they name stay behind the caller's scope.
    let scope = scope_of(&caller).unwrap_or(CaseScope::Nothing);
    let now = state.clock.now_naive();
    let rows = state
        .db(move |conn| Ok(Alert::of_user(conn, &caller.user.id, &scope, now, unread, after.as_deref(), fetch)?))
        .await?;
    Ok(web::Json(page.page(
        rows,
        |(a, _, _)| a.id.clone(),
        |(a, number, title)| NotificationView {
            id: a.id,
            case_id: a.case_id,
            case_number: number,
            case_title: title,
            level: a.level,
            deadline_at: instant(a.deadline_at),
            status: a.status,
            read: a.read_at.is_some(),
            created_at: instant(a.created_at),
        },
    )))
}

#[utoipa::path(tag = "notifications", responses((status = 204, description = "Marked as read")))]
#[post("/me/notifications/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let id = parse_id(&path)?;
    state
        .op(move |conn, ctx| {
            let now = ctx.now();
            if Alert::mark_read(conn, &caller.user.id, &id, now)? { Ok(()) } else { Err(Error::NotFound) }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxView {
    id: String,
    recipient_email: String,
    recipient_name: String,
    status: String,
    attempts: i32,
    next_attempt_at: String,
    last_error: Option<String>,
    message_id: String,
    subject: Option<String>,
    created_at: String,
    sent_at: Option<String>,
    /// Set on a mailed copy of a signed audit checkpoint: the checkpoint's size.
    checkpoint_size: Option<i64>,
}

impl From<OutboxMessage> for OutboxView {
    fn from(m: OutboxMessage) -> Self {
        OutboxView {
            id: m.id,
            recipient_email: m.recipient_email,
            recipient_name: m.recipient_name,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: instant(m.next_attempt_at),
            last_error: m.last_error,
            message_id: m.message_id,
            subject: m.subject,
            created_at: instant(m.created_at),
            sent_at: m.sent_at.map(instant),
            checkpoint_size: m.checkpoint_size,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub use crate::model::alert::OUTBOX_STATUSES;

#[utoipa::path(tag = "notifications", params(OutboxQuery), responses((status = 200, description = "A page of outgoing e-mails", body = Page<OutboxView>)))]
#[get("/admin/outbox")]
pub async fn outbox(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<OutboxQuery>,
) -> Result<web::Json<Page<OutboxView>>, Error> {
    caller.require(&[Role::Admin])?;
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    if let Some(s) = &q.status
        && !OUTBOX_STATUSES.contains(&s.as_str())
    {
        return Err(Error::field("status", one_of(&OUTBOX_STATUSES)));
    }
    let (after, fetch, status) = (page.after.clone(), page.fetch(), q.status);
    let rows = state.db(move |conn| Ok(OutboxMessage::list(conn, status.as_deref(), after.as_deref(), fetch)?)).await?;
    Ok(web::Json(page.page(rows, |m| m.id.clone(), OutboxView::from)))
}

/// Requeues a failed message for immediate delivery.
#[utoipa::path(tag = "notifications", responses((status = 200, description = "Requeued", body = OutboxView), (status = 409, description = "Only failed messages can be retried", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/admin/outbox/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let msg = state.op(move |conn, ctx| crate::administration::retry_message(conn, ctx, &caller, &path)).await?;
    Ok(HttpResponse::Ok().json(OutboxView::from(msg)))
}

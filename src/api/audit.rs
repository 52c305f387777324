//! Reading the audit log (administrators).

use actix_web::{get, web};
use serde::{Deserialize, Serialize};

use super::instant;
use crate::auth::CurrentUser;
use crate::domain::role::Role;
use crate::error::Error;
use crate::model::audit::{AuditEntry, AuditFilter, AuditRecord};
use crate::paging::{Page, PageRequest};
use crate::state::AppState;
use crate::web::extract::QueryParams;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditView {
    id: String,
    at: String,
    actor_id: Option<String>,
    client_addr: Option<String>,
    action: String,
    entity_type: String,
    entity_id: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    /// Keys of `before` and `after` withheld from administrators (a case's content).
    withheld: Vec<String>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        let AuditRecord { entry: e, before, after, withheld } = AuditRecord::for_admin(e);
        AuditView {
            id: e.id,
            at: instant(e.at),
            actor_id: e.actor_id,
            client_addr: e.client_addr,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before,
            after,
            withheld,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Newest first.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, description = "A page of audit records, newest first", body = Page<AuditView>)))]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<AuditQuery>,
) -> Result<web::Json<Page<AuditView>>, Error> {
    caller.require(&[Role::Admin])?;
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter::parse(q.entity_type, q.entity_id, q.actor_id, q.from.as_deref(), q.to.as_deref())?;
    let (before, fetch) = (page.after.clone(), page.fetch());
    let rows = state.db(move |conn| Ok(AuditEntry::list(conn, &filter, before.as_deref(), fetch)?)).await?;
    Ok(web::Json(page.page(rows, |e| e.id.clone(), AuditView::from)))
}

//! What only administrators do besides accounts and units: importing a directive's
//! catalog and retrying a failed email. The API, the console and the CLI call these.

use crate::auth::CurrentUser;
use crate::casework::Ctx;
use crate::db::{DbConn, write_tx};
use crate::domain::catalog::Catalog;
use crate::domain::role::Role;
use crate::error::ApiError;
use crate::model::alert::OutboxMessage;
use crate::model::audit::AuditEntry;
use crate::model::canonical_id;
use crate::model::directive::{Directive, ImportSummary, Indicator};

/// Loads or updates the directive `catalog` describes (422 listing every bad entry);
/// returns the directive, what changed, and all its indicators.
pub fn import_catalog(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    catalog: Catalog,
) -> Result<(Directive, ImportSummary, Vec<Indicator>), ApiError> {
    caller.require(&[Role::Admin])?;
    catalog.validate().map_err(ApiError::Validation)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        let (d, summary) = Directive::import(conn, &catalog, &caller.actor(), now)?;
        let inds = Indicator::of_directive(conn, &d.id, true)?;
        Ok((d, summary, inds))
    })
}

/// Requeues a failed message for immediate delivery (409 for one that has not failed).
pub fn retry_message(conn: &mut DbConn, ctx: &Ctx, caller: &CurrentUser, id: &str) -> Result<OutboxMessage, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = canonical_id(id).ok_or(ApiError::NotFound)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        let before = OutboxMessage::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        if !OutboxMessage::requeue(conn, &id, now)? {
            return Err(ApiError::conflict(
                "not-retryable",
                format!("Only failed messages can be retried; this one is {}.", before.status),
            ));
        }
        let after = OutboxMessage::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let snap = |m: &OutboxMessage| serde_json::json!({"status": m.status, "attempts": m.attempts});
        AuditEntry::record(
            conn,
            &caller.actor(),
            now,
            "retry",
            "outbox",
            &id,
            Some(snap(&before)),
            Some(snap(&after)),
        )?;
        Ok(after)
    })
}

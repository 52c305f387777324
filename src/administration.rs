//! What only administrators do besides accounts and units: importing a directive's
//! catalog, replacing a year of the working-day calendar, retrying a failed email. The
//! API, the console and the CLI call these.

use crate::auth::CurrentUser;
use crate::casework::Ctx;
use crate::db::{DbConn, write_tx};
use crate::domain::catalog::Catalog;
use crate::domain::role::Role;
use crate::error::Error;
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
) -> Result<(Directive, ImportSummary, Vec<Indicator>), Error> {
    caller.require(&[Role::Admin])?;
    catalog.validate().map_err(Error::Validation)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        let (d, summary) = Directive::import(conn, &catalog, &caller.actor(), now)?;
        let inds = Indicator::of_directive(conn, &d.id, true)?;
        Ok((d, summary, inds))
    })
}

/// Replaces the handling catalog (severity levels and measures) with `catalog` (422
/// listing every bad entry); returns what changed.
pub fn import_handling(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    catalog: crate::domain::handling::HandlingCatalog,
) -> Result<(crate::model::handling::HandlingImport, crate::model::handling::Handling), Error> {
    caller.require(&[Role::Admin])?;
    catalog.validate().map_err(Error::Validation)?;
    let now = ctx.now();
    let done = write_tx(conn, |conn| {
        let summary = crate::model::handling::Handling::import(conn, &catalog, &caller.actor(), now)?;
        Ok::<_, Error>((summary, crate::model::handling::Handling::load(conn)?))
    })?;
    ctx.memo.forget();
    Ok(done)
}

/// Requeues a failed message for immediate delivery (409 for one that has not failed).
pub fn retry_message(conn: &mut DbConn, ctx: &Ctx, caller: &CurrentUser, id: &str) -> Result<OutboxMessage, Error> {
    caller.require(&[Role::Admin])?;
    let id = canonical_id(id).ok_or(Error::NotFound)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        let before = OutboxMessage::find(conn, &id)?.ok_or(Error::NotFound)?;
        if !OutboxMessage::requeue(conn, &id, now)? {
            return Err(Error::conflict(crate::error::msg::not_retryable(&before.status)));
        }
        let after = OutboxMessage::find(conn, &id)?.ok_or(Error::NotFound)?;
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

/// Replaces `year` of the working-day calendar (422 naming each bad entry), audited with
/// the year before and after. Deadlines already set do not move.
pub fn replace_calendar_year(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &crate::model::Actor,
    year: i32,
    days: crate::domain::calendar::CalendarYear,
) -> Result<crate::domain::calendar::CalendarYear, Error> {
    if !(crate::domain::dates::MIN_YEAR..=crate::domain::dates::MAX_YEAR).contains(&year) {
        return Err(Error::NotFound);
    }
    days.validate(year, &ctx.settings.escalation.week()).map_err(Error::Validation)?;
    let now = ctx.now();
    let after = write_tx(conn, |conn| {
        let before = crate::model::calendar::year(conn, year)?;
        crate::model::calendar::replace_year(conn, year, &days)?;
        let after = crate::model::calendar::year(conn, year)?;
        let snap = |y: &crate::domain::calendar::CalendarYear| serde_json::to_value(y).unwrap_or_default();
        AuditEntry::record(
            conn,
            actor,
            now,
            "replace",
            "calendar",
            &year.to_string(),
            Some(snap(&before)),
            Some(snap(&after)),
        )?;
        Ok::<_, Error>(after)
    })?;
    ctx.memo.forget();
    Ok(after)
}

//! The audit trail's integrity for administrators: the latest signed checkpoint, the key
//! that signs them, what is not sealed yet, and a verification run in the background.

use actix_web::{HttpResponse, web};
use minijinja::context;

use super::render::{instant, see_other};
use super::session::Admin;
use super::{Console, Fail};
use crate::ledger::checkpoint;
use crate::ledger::run::LastCheck;
use crate::state::AppState;

/// The last verification this server ran, as the page shows it.
fn check_view(c: crate::ledger::run::LastCheck) -> minijinja::Value {
    let (ok, error, kind, seq, size, held) = match &c.outcome {
        None => (None, None, None, None, None, None),
        Some(Err(e)) => (Some(false), Some(e.clone()), None, None, None, None),
        Some(Ok(r)) => (
            Some(r.ok()),
            None,
            r.first_break.as_ref().map(|b| b.kind.as_str()),
            r.first_break.as_ref().and_then(|b| b.seq),
            Some(r.size),
            Some(r.held.len()),
        ),
    };
    // Each restore of a backup, with how many earlier checkpoints it superseded.
    let restores: Vec<_> = match &c.outcome {
        Some(Ok(r)) => r
            .restores
            .iter()
            .map(|(at, epoch, taken)| {
                let superseded = r.superseded.iter().filter(|s| s.2 == *at && s.1 < *epoch).count();
                let taken_at = chrono::DateTime::parse_from_rfc3339(taken).ok().map(|t| instant(t.naive_utc()));
                context! { size => at, taken => taken, taken_at => taken_at, superseded => superseded }
            })
            .collect(),
        _ => Vec::new(),
    };
    context! {
        started_at => instant(c.started_at), running => c.outcome.is_none(), ok => ok, error => error,
        kind => kind, seq => seq, size => size, held => held, restores => restores,
    }
}

/// `GET /admin/ledger`
pub async fn page(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    Admin(viewer): Admin,
) -> Result<HttpResponse, Fail> {
    let (latest, unsealed) = state.db(|conn| Ok((checkpoint::latest(conn)?, crate::ledger::unsealed(conn)?))).await?;
    let key = crate::ledger::run::verifier_key(&state.settings).ok();
    let fingerprint = key.as_deref().and_then(|k| k.split('+').nth(1)).map(str::to_string);
    let check = state.audit_check.lock().clone().map(check_view);
    let latest = latest.map(|k| {
        context! { size => k.size, made_at => instant(k.made_at), root => k.root, note => k.note }
    });
    let ctx = context! {
        latest => latest, key => key, fingerprint => fingerprint, unsealed => unsealed, check => check,
    };
    console.page(Some(&viewer), viewer.lang, "admin_ledger.html", ctx)
}

/// `POST /admin/ledger/verify`: starts a verification against every kept checkpoint
/// (unless one is running) and comes back to the page, which shows its progress.
pub async fn verify(state: web::Data<AppState>, Admin(viewer): Admin, body: web::Bytes) -> Result<HttpResponse, Fail> {
    viewer.form(&body)?;
    {
        let mut slot = state.audit_check.lock();
        if slot.as_ref().is_some_and(|c| c.outcome.is_none()) {
            return Ok(see_other("/admin/ledger"));
        }
        *slot = Some(LastCheck { started_at: state.clock.now_naive(), outcome: None });
    }
    let (pool, settings, slot, started_at) =
        (state.pool.clone(), state.settings.clone(), state.audit_check.clone(), state.clock.now_naive());
    tokio::task::spawn_blocking(move || {
        let outcome = match pool.get() {
            Ok(mut conn) => crate::ledger::run::verify_kept(&mut conn, &settings),
            Err(e) => Err(e.to_string()),
        };
        *slot.lock() = Some(LastCheck { started_at, outcome: Some(outcome) });
    });
    Ok(see_other("/admin/ledger"))
}

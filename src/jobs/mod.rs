//! Background work: the overdue sweep and the outbox sender.

pub mod recipients;
pub mod sender;
pub mod sweep;

use std::time::Duration;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::DbPool;
use crate::mail::Mailer;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The domain put into Message-IDs: the sender address's.
pub fn mail_domain(settings: &Settings) -> String {
    settings.mail.from.rsplit('@').next().unwrap_or("casetrack").trim_end_matches('>').to_string()
}

/// One sweep at the clock's moment, then a fold of the report rollups' shards.
pub async fn sweep_once(pool: &DbPool, settings: &Settings, clock: &Clock) -> Result<sweep::SweepReport, BoxError> {
    let (pool, policy, now, domain) =
        (pool.clone(), settings.escalation.clone(), clock.now_naive(), mail_domain(settings));
    let tz = settings.time_zone()?;
    let report = tokio::task::spawn_blocking(move || -> Result<sweep::SweepReport, BoxError> {
        let mut conn = pool.get()?;
        let started = std::time::Instant::now();
        let report = sweep::sweep(&mut conn, &policy, tz, now, &domain)?;
        if report.ran {
            crate::metrics::METRICS.sweep(started.elapsed().as_secs_f64(), report.alerts as u64);
        }
        crate::model::rollup::fold(&mut conn)?;
        // The audit trail's new entries, sealed in order (signed by the checkpoint loop).
        crate::ledger::seal_all(&mut conn, now)?;
        Ok(report)
    })
    .await??;
    Ok(report)
}

/// One delivery pass over the due messages.
pub async fn deliver_once(
    pool: &DbPool,
    settings: &Settings,
    mailer: &Mailer,
    clock: &Clock,
) -> Result<sender::DeliveryReport, BoxError> {
    let clock = clock.clone();
    let report = sender::deliver(pool, settings, mailer, move || clock.now()).await?;
    crate::metrics::METRICS.delivered(
        report.sent as u64,
        report.retried as u64,
        report.failed as u64,
        report.cancelled as u64,
    );
    Ok(report)
}

/// One sweep and one delivery pass (what `escalate --once` does).
pub async fn run_once(
    pool: &DbPool,
    settings: &Settings,
    mailer: &Mailer,
    clock: &Clock,
) -> Result<(sweep::SweepReport, sender::DeliveryReport), BoxError> {
    let swept = sweep_once(pool, settings, clock).await?;
    let delivered = deliver_once(pool, settings, mailer, clock).await?;
    Ok((swept, delivered))
}

/// Sweeps and delivers every `escalation.interval_secs` until the process stops, each in
/// a loop of its own: a mail server that stalls delays neither the next sweep nor any
/// request (a delivery is bounded by `mail.send_timeout_secs` per message besides).
pub fn spawn_background(pool: DbPool, settings: Settings, mailer: Mailer, clock: Clock) {
    let every = Duration::from_secs(settings.escalation.interval_secs);
    let (p, s, c) = (pool.clone(), settings.clone(), clock.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(s.audit.checkpoint_every_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (p, s, now) = (p.clone(), s.clone(), c.now_naive());
            let made = tokio::task::spawn_blocking(move || -> Result<_, String> {
                let mut conn = p.get().map_err(|e| e.to_string())?;
                crate::ledger::run::checkpoint_now(&mut conn, &s, now, crate::ledger::checkpoint::Mail::WhenDue)
            })
            .await;
            match made {
                Ok(Ok(k)) => tracing::info!(size = k.size, "audit checkpoint"),
                Ok(Err(e)) => tracing::error!(error = %e, "audit checkpoint failed"),
                Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
            }
        }
    });
    let (p, s, c) = (pool.clone(), settings.clone(), clock.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_once(&p, &s, &c).await {
                Ok(r) if r.steps > 0 => tracing::info!(steps = r.steps, alerts = r.alerts, "escalation sweep"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "escalation sweep failed"),
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match deliver_once(&pool, &settings, &mailer, &clock).await {
                Ok(d) if d.sent + d.failed + d.retried > 0 => {
                    tracing::info!(sent = d.sent, retried = d.retried, failed = d.failed, "outbox delivery")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox delivery failed"),
            }
        }
    });
}

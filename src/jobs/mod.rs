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

/// One sweep and one delivery pass (what `escalate --once` does, and `serve` periodically).
pub async fn run_once(
    pool: &DbPool,
    settings: &Settings,
    mailer: &Mailer,
    clock: &Clock,
) -> Result<(sweep::SweepReport, sender::DeliveryReport), BoxError> {
    let swept = {
        let (pool, policy, now, domain) =
            (pool.clone(), settings.escalation.clone(), clock.now_naive(), mail_domain(settings));
        tokio::task::spawn_blocking(move || -> Result<sweep::SweepReport, BoxError> {
            let mut conn = pool.get()?;
            Ok(sweep::sweep(&mut conn, &policy, now, &domain)?)
        })
        .await??
    };
    let clock = clock.clone();
    let delivered = sender::deliver(pool, settings, mailer, move || clock.now()).await?;
    Ok((swept, delivered))
}

/// Runs [`run_once`] every `escalation.interval_secs` until the process stops.
pub fn spawn_background(pool: DbPool, settings: Settings, mailer: Mailer, clock: Clock) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(settings.escalation.interval_secs));
        loop {
            tick.tick().await;
            match run_once(&pool, &settings, &mailer, &clock).await {
                Ok((s, d)) if s.steps + d.sent + d.failed + d.retried > 0 => {
                    tracing::info!(
                        steps = s.steps,
                        alerts = s.alerts,
                        sent = d.sent,
                        retried = d.retried,
                        failed = d.failed,
                        "escalation pass"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "escalation pass failed"),
            }
        }
    });
}

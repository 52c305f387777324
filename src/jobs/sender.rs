//! The outbox sender: claims due messages, renders them, delivers, retries with backoff.

use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use serde_json::json;

use crate::config::Settings;
use crate::db::{DbPool, write_tx};
use crate::mail::{
    AlertItem, CheckpointMail, Digest, Mailer, build_checkpoint_message, build_message, render_alert, render_checkpoint,
};
use crate::model::alert::{Alert, OutboxMessage};
use crate::model::case::CaseEvent;
use crate::model::unit::Unit;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub cancelled: usize,
    /// True when nothing was sent because of the sending window.
    pub outside_window: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What one message will say, or nothing if all its alerts were cancelled.
fn compose(
    pool: &DbPool,
    settings: &Settings,
    tz: Tz,
    msg: &OutboxMessage,
    now: NaiveDateTime,
) -> Result<Option<(lettre::Message, String)>, BoxError> {
    let mut conn = pool.get()?;
    if let Some(size) = msg.checkpoint_size {
        return compose_checkpoint(&mut conn, settings, tz, msg, size);
    }
    let pending = Alert::pending_of_message(&mut conn, &msg.id)?;
    if pending.is_empty() {
        return Ok(None);
    }
    let base = settings.server.public_url.trim_end_matches('/');
    // One lookup for every unit the digest names, not one per line.
    let unit_ids: Vec<String> = pending.iter().map(|(_, c)| c.subject_unit_id.clone()).collect();
    let names: std::collections::HashMap<String, String> =
        Unit::find_many(&mut conn, &unit_ids)?.into_iter().map(|u| (u.id, u.name)).collect();
    let mut items = Vec::new();
    for (alert, case) in pending {
        let unit_name = names.get(&case.subject_unit_id).cloned().unwrap_or_default();
        let subject = match (&case.person_name, &case.person_position, &case.body_name) {
            (Some(n), Some(p), _) => format!("{n}, {p}"),
            (Some(n), None, _) => n.clone(),
            (None, _, Some(b)) => format!("{b}, {unit_name}"),
            _ => unit_name.clone(),
        };
        let level = settings.escalation.levels.iter().find(|l| l.name == alert.level);
        let label = level
            .map(|l| if l.label.is_empty() { l.name.clone() } else { l.label.clone() })
            .unwrap_or(alert.level.clone());
        items.push(AlertItem {
            level_label: label,
            number: case.number.clone(),
            title: case.title.clone(),
            subject,
            unit: unit_name,
            deadline: crate::domain::deadline::shown(alert.deadline_at, tz),
            days_overdue: (now - alert.deadline_at).num_days().max(0),
            link: format!("{base}/cases/{}", case.id),
        });
    }
    // Most overdue first; a long digest lists the first ones and says how many more.
    items.sort_by_key(|i| std::cmp::Reverse(i.days_overdue));
    let cap = settings.escalation.digest_max_items;
    let more = items.len().saturating_sub(cap);
    items.truncate(cap);
    let digest = Digest { items: &items, more, list_link: format!("{base}/cases?overdue=true&sort=deadline") };
    let rendered = render_alert(&msg.recipient_name, &digest)?;
    let message =
        build_message(&settings.mail.from, &msg.recipient_name, &msg.recipient_email, &msg.message_id, &rendered)?;
    Ok(Some((message, rendered.subject)))
}

/// A mailed checkpoint: the one kept at `size`, with the deployment's verifier key.
fn compose_checkpoint(
    conn: &mut crate::db::DbConn,
    settings: &Settings,
    tz: Tz,
    msg: &OutboxMessage,
    size: i64,
) -> Result<Option<(lettre::Message, String)>, BoxError> {
    use crate::ledger::{checkpoint, run};
    let kept = checkpoint::at_size(conn, size)?.ok_or_else(|| format!("no checkpoint of {size} entries is kept"))?;
    let vkey = run::verifier_key(settings)?;
    let opened = checkpoint::open(kept.note.as_bytes(), &vkey, &settings.audit.origin).map_err(|e| e.to_string())?;
    let m = CheckpointMail {
        recipient: if msg.recipient_name.is_empty() { msg.recipient_email.clone() } else { msg.recipient_name.clone() },
        origin: settings.audit.origin.clone(),
        made_at: kept.made_at.and_utc().with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
        size: crate::i18n::number(crate::i18n::Lang::Vi, kept.size),
        root: kept.root.clone(),
        fingerprint: vkey.split('+').nth(1).unwrap_or_default().to_string(),
        vkey,
        restored_from: opened.restored_from,
        file_name: format!("checkpoint-{}.txt", kept.size),
        note: kept.note,
    };
    let (subject, text) = render_checkpoint(&m)?;
    let message = build_checkpoint_message(
        &settings.mail.from,
        &msg.recipient_name,
        &msg.recipient_email,
        &msg.message_id,
        &subject,
        &text,
        &m,
    )?;
    Ok(Some((message, subject)))
}

/// One delivery pass over the due messages.
pub async fn deliver(
    pool: &DbPool,
    settings: &Settings,
    mailer: &Mailer,
    now_fn: impl Fn() -> chrono::DateTime<chrono::Utc>,
) -> Result<DeliveryReport, BoxError> {
    let tz = settings.time_zone()?;
    let mut report = DeliveryReport::default();
    let now = now_fn();
    if let Some((start, end)) = settings.escalation.window()? {
        let local = now.with_timezone(&tz);
        // A sending window is a working day's: weekends and the calendar's holidays have none.
        let working_day = if settings.escalation.working_days() {
            let (pool, week, day) = (pool.clone(), settings.escalation.week(), local.date_naive());
            tokio::task::spawn_blocking(move || -> Result<bool, BoxError> {
                let mut conn = pool.get()?;
                Ok(crate::model::calendar::around(&mut conn, week, day)?.is_working(day))
            })
            .await??
        } else {
            true
        };
        if !working_day || local.time() < start || local.time() >= end {
            report.outside_window = true;
            return Ok(report);
        }
    }
    let now = now.naive_utc();
    loop {
        let claimed = {
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || -> Result<Vec<OutboxMessage>, BoxError> {
                let mut conn = pool.get()?;
                Ok(write_tx(&mut conn, |c| OutboxMessage::claim_due(c, now, now + Duration::minutes(10), 20))?)
            })
            .await??
        };
        if claimed.is_empty() {
            return Ok(report);
        }
        for msg in claimed {
            let composed = {
                let (pool, settings, msg) = (pool.clone(), settings.clone(), msg.clone());
                tokio::task::spawn_blocking(move || compose(&pool, &settings, tz, &msg, now)).await?
            };
            let outcome = match composed {
                Ok(None) => Outcome::Cancelled,
                Ok(Some((message, subject))) => match mailer.send(message).await {
                    Ok(()) => Outcome::Sent(subject),
                    Err(e) => Outcome::Failed(e),
                },
                Err(e) => Outcome::Failed(format!("could not compose the message: {e}")),
            };
            let (pool, policy) = (pool.clone(), settings.escalation.clone());
            let msg_id = msg.id.clone();
            let attempts = msg.attempts;
            let kind = tokio::task::spawn_blocking(move || -> Result<&'static str, BoxError> {
                let mut conn = pool.get()?;
                Ok(write_tx(&mut conn, |conn| -> diesel::QueryResult<&'static str> {
                    match outcome {
                        Outcome::Cancelled => {
                            OutboxMessage::mark_cancelled(conn, &msg_id)?;
                            Ok("cancelled")
                        }
                        Outcome::Sent(subject) => {
                            OutboxMessage::mark_sent(conn, &msg_id, &subject, now)?;
                            for a in Alert::settle_message(conn, &msg_id, "sent")? {
                                let detail = json!({"level": a.level, "recipient": a.recipient_name, "email": a.recipient_email});
                                CaseEvent::record(conn, &a.case_id, None, now, "alert_sent", detail)?;
                            }
                            Ok("sent")
                        }
                        Outcome::Failed(error) => {
                            let give_up = attempts + 1 >= policy.max_attempts;
                            let backoff = policy.retry_base_secs.saturating_mul(1i64 << attempts.clamp(0, 20));
                            OutboxMessage::mark_attempt_failed(conn, &msg_id, &error, now + Duration::seconds(backoff), give_up)?;
                            if give_up {
                                Alert::settle_message(conn, &msg_id, "failed")?;
                                tracing::error!(outbox = %msg_id, error = %error, "giving up on an alert email");
                                Ok("failed")
                            } else {
                                tracing::warn!(outbox = %msg_id, error = %error, "alert email not delivered; will retry");
                                Ok("retried")
                            }
                        }
                    }
                })?)
            })
            .await??;
            match kind {
                "sent" => report.sent += 1,
                "cancelled" => report.cancelled += 1,
                "failed" => report.failed += 1,
                _ => report.retried += 1,
            }
        }
    }
}

enum Outcome {
    Sent(String),
    Failed(String),
    Cancelled,
}

//! The overdue sweep: decides which escalation steps are due and queues their alerts.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::recipients::{Recipient, Resolver};
use crate::config::EscalationSettings;
use crate::db::schema::{alerts, case_events, escalation_steps, outbox};
use crate::db::{DbConn, write_tx};
use crate::domain::deadline::level_threshold;
use crate::model::alert::{Alert, OutboxMessage, Step};
use crate::model::case::CaseEvent;
use crate::model::new_id;
use crate::per_backend;

/// Advisory-lock key that lets one sweeper at a time work on PostgreSQL.
const SWEEP_LOCK_KEY: i64 = 0x6361_7365_7377_6570; // "casesweep"

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// False when another instance was sweeping.
    pub ran: bool,
    pub steps: usize,
    pub alerts: usize,
    pub messages: usize,
}

/// One sweep at `now`, in one transaction: steps, alerts, outbox rows and timeline
/// events are written together or not at all.
pub fn sweep(
    conn: &mut DbConn,
    policy: &EscalationSettings,
    tz: chrono_tz::Tz,
    now: NaiveDateTime,
    mail_domain: &str,
) -> QueryResult<SweepReport> {
    write_tx(conn, |conn| {
        // Only one sweeper at a time on PostgreSQL; SQLite's write lock already serialises.
        if !crate::db::try_lock(conn, SWEEP_LOCK_KEY)? {
            return Ok(SweepReport::default());
        }
        let mut report = SweepReport { ran: true, ..SweepReport::default() };
        // One outbox message per recipient in this sweep when digesting.
        let mut digests: HashMap<String, String> = HashMap::new();
        let mut resolver = Resolver::default();
        // Level offsets count working days when deadlines do.
        let calendar = if policy.working_days() {
            let today = now.and_utc().with_timezone(&tz).date_naive();
            Some(crate::model::calendar::around(conn, policy.week(), today)?)
        } else {
            None
        };
        // Highest level first. A case found past several levels at once (first swept far
        // overdue: imported data, an outage) fires every level it has reached that has not
        // fired yet, and each person those levels name is alerted once, under the highest
        // level that names them; so the responsible head always learns of their overdue
        // case. Each level's rows are written before the next level looks for its due
        // cases, so those see them and do not fire twice.
        for (index, level) in policy.levels.iter().enumerate().rev() {
            let threshold = level_threshold(now, level.offset_days, tz, calendar.as_ref());
            let due = Step::due_cases(conn, &level.name, threshold)?;
            let ids: Vec<String> = due.iter().map(|c| c.id.clone()).collect();
            let decided = Step::decided_for(conn, &ids)?;
            let mut rows = Rows::default();
            for case in &due {
                let Some(deadline) = case.deadline_at else { continue };
                let step = |level: &str| Step {
                    case_id: case.id.clone(),
                    deadline_at: deadline,
                    level: level.to_string(),
                    fired: true,
                    decided_at: now,
                };
                // This level, then the lower ones reached but not yet fired, highest first.
                let mut reached = vec![level];
                reached.extend(
                    policy.levels[..index]
                        .iter()
                        .rev()
                        .filter(|lower| !decided.contains(&(case.id.clone(), deadline, lower.name.clone()))),
                );
                let mut recipients: Vec<(&str, Recipient)> = Vec::new();
                for l in &reached {
                    rows.steps.push(step(&l.name));
                    report.steps += 1;
                    let found = resolver.resolve(conn, case, &l.notify)?;
                    if found.is_empty() {
                        tracing::warn!(case = %case.number, level = %l.name, "escalation level has nobody to alert");
                    }
                    for r in found {
                        if !recipients.iter().any(|(_, seen)| seen.email.eq_ignore_ascii_case(&r.email)) {
                            recipients.push((l.name.as_str(), r));
                        }
                    }
                }
                for (level_name, r) in &recipients {
                    let key = r.email.to_lowercase();
                    // Someone who takes their alerts once a day gets them in the message
                    // already waiting for their next daily time, or a new one set for it.
                    let daily = r.daily_at.filter(|_| policy.digest).map(|at| next_daily(now, at, tz));
                    if daily.is_some()
                        && !digests.contains_key(&key)
                        && let Some(waiting) = OutboxMessage::waiting_for(conn, &r.email, now)?
                    {
                        digests.insert(key.clone(), waiting);
                    }
                    let outbox_id = match digests.get(&key).filter(|_| policy.digest) {
                        Some(id) => id.clone(),
                        None => {
                            let mut message = message_to(r, now, mail_domain);
                            if let Some(send_at) = daily {
                                message.next_attempt_at = send_at;
                            }
                            digests.insert(key, message.id.clone());
                            report.messages += 1;
                            let id = message.id.clone();
                            rows.messages.push(message);
                            id
                        }
                    };
                    rows.alerts.push(Alert {
                        id: new_id(),
                        case_id: case.id.clone(),
                        deadline_at: deadline,
                        level: level_name.to_string(),
                        recipient_user_id: r.user_id.clone(),
                        recipient_email: r.email.clone(),
                        recipient_name: r.name.clone(),
                        outbox_id,
                        status: "pending".into(),
                        created_at: now,
                        read_at: None,
                    });
                    report.alerts += 1;
                }
                let names: Vec<&str> = recipients.iter().map(|(_, r)| r.name.as_str()).collect();
                let levels: Vec<&str> = reached.iter().map(|l| l.name.as_str()).collect();
                let detail = json!({
                    "level": level.name, "levels": levels,
                    "deadline_at": crate::domain::dates::instant(deadline), "recipients": names,
                });
                rows.events.push(CaseEvent {
                    id: new_id(),
                    case_id: case.id.clone(),
                    at: now,
                    actor_id: None,
                    kind: "alert".into(),
                    detail: detail.to_string(),
                });
            }
            rows.write(conn)?;
        }
        Ok(report)
    })
}

/// What one level of a sweep writes, inserted a few hundred rows per statement.
#[derive(Default)]
struct Rows {
    steps: Vec<Step>,
    messages: Vec<OutboxMessage>,
    alerts: Vec<Alert>,
    events: Vec<CaseEvent>,
}

/// Rows per INSERT: well under both backends' limits on bound parameters.
const CHUNK: usize = 400;

/// Inserts `rows` into `table` in multi-row statements (on the concrete connection, since
/// the multi-backend connection only inserts one row at a time).
macro_rules! insert_chunked {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(CHUNK) {
            per_backend!(&mut *$conn, |c| diesel::insert_into($table).values(chunk).execute(c))?;
        }
    };
}

impl Rows {
    /// Outbox messages before the alerts that point at them.
    fn write(&self, conn: &mut DbConn) -> QueryResult<()> {
        insert_chunked!(conn, escalation_steps::table, self.steps);
        insert_chunked!(conn, outbox::table, self.messages);
        insert_chunked!(conn, alerts::table, self.alerts);
        insert_chunked!(conn, case_events::table, self.events);
        Ok(())
    }
}

/// The next time, after `now`, that it is `at` o'clock local time.
fn next_daily(now: NaiveDateTime, at: chrono::NaiveTime, tz: chrono_tz::Tz) -> NaiveDateTime {
    use chrono::TimeZone;
    let local = now.and_utc().with_timezone(&tz);
    let mut day = local.date_naive();
    if local.time() >= at {
        day = day.succ_opt().unwrap_or(day);
    }
    tz.from_local_datetime(&day.and_time(at))
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc).naive_utc())
        .unwrap_or(now)
}

fn message_to(r: &Recipient, now: NaiveDateTime, mail_domain: &str) -> OutboxMessage {
    let id = new_id();
    OutboxMessage {
        message_id: format!("<{id}@{mail_domain}>"),
        id,
        recipient_email: r.email.clone(),
        recipient_name: r.name.clone(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        claimed_until: None,
        last_error: None,
        subject: None,
        created_at: now,
        sent_at: None,
        checkpoint_size: None,
    }
}

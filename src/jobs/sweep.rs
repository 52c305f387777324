//! The overdue sweep: decides which escalation steps are due and queues their alerts.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::recipients::{self, Recipient};
use crate::config::EscalationSettings;
use crate::db::{DbConn, write_tx};
use crate::model::alert::{Alert, OutboxMessage, Step};
use crate::model::case::{Case, CaseEvent};
use crate::model::new_id;

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
    now: NaiveDateTime,
    mail_domain: &str,
) -> QueryResult<SweepReport> {
    write_tx(conn, |conn| {
        // Only one sweeper at a time on PostgreSQL; SQLite's write lock already serialises.
        if let DbConn::Pg(pg) = conn {
            #[derive(QueryableByName)]
            struct Locked {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                locked: bool,
            }
            let got: Locked =
                diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({SWEEP_LOCK_KEY}) AS locked"))
                    .get_result(pg)?;
            if !got.locked {
                return Ok(SweepReport::default());
            }
        }
        let mut report = SweepReport { ran: true, ..SweepReport::default() };
        // One outbox message per recipient in this sweep when digesting.
        let mut digests: HashMap<String, String> = HashMap::new();
        // Highest level first: a case that is already far overdue gets that level only,
        // and the lower ones are recorded as passed over.
        for (index, level) in policy.levels.iter().enumerate().rev() {
            for case_id in Step::due_cases(conn, &level.name, level.offset_days, now)? {
                let Some(case) = Case::find_visible(conn, &case_id, &crate::model::case::CaseScope::All)? else {
                    continue;
                };
                let Some(deadline) = case.deadline_at else { continue };
                Step {
                    case_id: case.id.clone(),
                    deadline_at: deadline,
                    level: level.name.clone(),
                    fired: true,
                    decided_at: now,
                }
                .insert(conn)?;
                for lower in &policy.levels[..index] {
                    if !Step::exists(conn, &case.id, deadline, &lower.name)? {
                        Step {
                            case_id: case.id.clone(),
                            deadline_at: deadline,
                            level: lower.name.clone(),
                            fired: false,
                            decided_at: now,
                        }
                        .insert(conn)?;
                    }
                }
                report.steps += 1;
                let recipients = recipients::resolve(conn, &case, &level.notify)?;
                for r in &recipients {
                    let outbox_id = if policy.digest {
                        match digests.get(&r.email.to_lowercase()) {
                            Some(id) => id.clone(),
                            None => {
                                let id = queue_message(conn, r, now, mail_domain)?;
                                digests.insert(r.email.to_lowercase(), id.clone());
                                report.messages += 1;
                                id
                            }
                        }
                    } else {
                        report.messages += 1;
                        queue_message(conn, r, now, mail_domain)?
                    };
                    Alert {
                        id: new_id(),
                        case_id: case.id.clone(),
                        deadline_at: deadline,
                        level: level.name.clone(),
                        recipient_user_id: r.user_id.clone(),
                        recipient_email: r.email.clone(),
                        recipient_name: r.name.clone(),
                        outbox_id,
                        status: "pending".into(),
                        created_at: now,
                        read_at: None,
                    }
                    .insert(conn)?;
                    report.alerts += 1;
                }
                let names: Vec<&str> = recipients.iter().map(|r| r.name.as_str()).collect();
                let detail =
                    json!({"level": level.name, "deadline_at": crate::api::instant(deadline), "recipients": names});
                CaseEvent::record(conn, &case.id, None, now, "alert", detail)?;
                if recipients.is_empty() {
                    tracing::warn!(case = %case.number, level = %level.name, "escalation step has nobody to alert");
                }
            }
        }
        Ok(report)
    })
}

fn queue_message(conn: &mut DbConn, r: &Recipient, now: NaiveDateTime, mail_domain: &str) -> QueryResult<String> {
    let id = new_id();
    OutboxMessage {
        id: id.clone(),
        recipient_email: r.email.clone(),
        recipient_name: r.name.clone(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        claimed_until: None,
        last_error: None,
        message_id: format!("<{id}@{mail_domain}>"),
        subject: None,
        created_at: now,
        sent_at: None,
    }
    .insert(conn)?;
    Ok(id)
}

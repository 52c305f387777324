//! Escalation steps, alerts and the outbox they are delivered through.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{alerts, cases, escalation_steps, outbox};
use crate::model::case::{Case, CaseFilter, CaseScope, alert_case_predicate};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = escalation_steps)]
pub struct Step {
    pub case_id: String,
    pub deadline_at: NaiveDateTime,
    pub level: String,
    pub fired: bool,
    pub decided_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alerts)]
pub struct Alert {
    pub id: String,
    pub case_id: String,
    pub deadline_at: NaiveDateTime,
    pub level: String,
    pub recipient_user_id: Option<String>,
    pub recipient_email: String,
    pub recipient_name: String,
    pub outbox_id: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// Every state an outgoing message can be in.
pub const OUTBOX_STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "cancelled"];

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: String,
    pub recipient_email: String,
    pub recipient_name: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub message_id: String,
    pub subject: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The size of the signed checkpoint this message sends; `None` for an alert digest.
    pub checkpoint_size: Option<i64>,
}

impl Step {
    /// The unfinished cases whose deadline is at or before `threshold` (the latest deadline
    /// `level` is due for now) and for which `level` is not yet decided, by id.
    pub fn due_cases(conn: &mut DbConn, level: &str, threshold: NaiveDateTime) -> QueryResult<Vec<Case>> {
        cases::table
            .filter(cases::status.eq_any(crate::domain::workflow::OVERDUE_STATES))
            .filter(cases::deadline_at.le(threshold))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                escalation_steps::table
                    .filter(escalation_steps::case_id.eq(cases::id))
                    .filter(escalation_steps::deadline_at.nullable().eq(cases::deadline_at))
                    .filter(escalation_steps::level.eq(level.to_string())),
            )))
            .select(Case::as_select())
            .load(conn)
            .map(|mut due: Vec<Case>| {
                // Sorted here: asked of SQLite, the order makes it walk every case by id
                // instead of seeking the (status, deadline_at) index.
                due.sort_unstable_by(|a, b| a.id.cmp(&b.id));
                due
            })
    }

    /// The (case, deadline, level) steps already decided for any of `case_ids`.
    pub fn decided_for(
        conn: &mut DbConn,
        case_ids: &[String],
    ) -> QueryResult<HashSet<(String, NaiveDateTime, String)>> {
        let mut out = HashSet::new();
        for chunk in case_ids.chunks(500) {
            let rows: Vec<(String, NaiveDateTime, String)> = escalation_steps::table
                .filter(escalation_steps::case_id.eq_any(chunk))
                .select((escalation_steps::case_id, escalation_steps::deadline_at, escalation_steps::level))
                .load(conn)?;
            out.extend(rows);
        }
        Ok(out)
    }
}

impl Alert {
    /// Pending alerts of one outbox message, with their cases, oldest first.
    pub fn pending_of_message(
        conn: &mut DbConn,
        outbox_id: &str,
    ) -> QueryResult<Vec<(Alert, crate::model::case::Case)>> {
        alerts::table
            .inner_join(cases::table)
            .filter(alerts::outbox_id.eq(outbox_id))
            .filter(alerts::status.eq("pending"))
            .order(alerts::id.asc())
            .select((Alert::as_select(), crate::model::case::Case::as_select()))
            .load(conn)
    }

    /// Marks the message's pending alerts with `status` (sent or failed).
    pub fn settle_message(conn: &mut DbConn, outbox_id: &str, status: &str) -> QueryResult<Vec<Alert>> {
        let settled: Vec<Alert> = alerts::table
            .filter(alerts::outbox_id.eq(outbox_id))
            .filter(alerts::status.eq("pending"))
            .select(Alert::as_select())
            .load(conn)?;
        diesel::update(alerts::table.filter(alerts::outbox_id.eq(outbox_id)).filter(alerts::status.eq("pending")))
            .set(alerts::status.eq(status))
            .execute(conn)?;
        Ok(settled)
    }

    /// Cancels what has not been sent for a case (closed, dismissed, remediated, or a new
    /// deadline); a message left with nothing to say is cancelled too.
    pub fn cancel_pending_for_case(conn: &mut DbConn, case_id: &str) -> QueryResult<usize> {
        let outbox_ids: Vec<String> = alerts::table
            .filter(alerts::case_id.eq(case_id))
            .filter(alerts::status.eq("pending"))
            .select(alerts::outbox_id)
            .distinct()
            .load(conn)?;
        let n = diesel::update(alerts::table.filter(alerts::case_id.eq(case_id)).filter(alerts::status.eq("pending")))
            .set(alerts::status.eq("cancelled"))
            .execute(conn)?;
        for id in outbox_ids {
            let remaining: i64 = alerts::table
                .filter(alerts::outbox_id.eq(&id))
                .filter(alerts::status.eq("pending"))
                .count()
                .get_result(conn)?;
            if remaining == 0 {
                diesel::update(outbox::table.find(&id).filter(outbox::status.eq_any(["pending", "sending"])))
                    .set(outbox::status.eq("cancelled"))
                    .execute(conn)?;
            }
        }
        Ok(n)
    }

    /// A user's alerts about cases `scope` still shows them, newest first, with the case
    /// number and title.
    pub fn of_user(
        conn: &mut DbConn,
        user_id: &str,
        scope: &CaseScope,
        now: NaiveDateTime,
        unread_only: bool,
        before_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<(Alert, String, String)>> {
        let mut q = alerts::table
            .inner_join(cases::table)
            .filter(alerts::recipient_user_id.eq(user_id.to_string()))
            .filter(alert_case_predicate(scope, &CaseFilter::default(), now))
            .filter(alerts::status.ne("cancelled"))
            .into_boxed();
        if unread_only {
            q = q.filter(alerts::read_at.is_null());
        }
        if let Some(id) = before_id {
            q = q.filter(alerts::id.lt(id.to_string()));
        }
        q.order(alerts::id.desc()).limit(limit).select((Alert::as_select(), cases::number, cases::title)).load(conn)
    }

    /// How many of the user's alerts about cases `scope` still shows them are unread.
    pub fn count_unread(conn: &mut DbConn, user_id: &str, scope: &CaseScope, now: NaiveDateTime) -> QueryResult<i64> {
        alerts::table
            .inner_join(cases::table)
            .filter(alerts::recipient_user_id.eq(user_id.to_string()))
            .filter(alert_case_predicate(scope, &CaseFilter::default(), now))
            .filter(alerts::status.ne("cancelled"))
            .filter(alerts::read_at.is_null())
            .count()
            .get_result(conn)
    }

    /// Marks one of the user's alerts read; false when there is no such alert of theirs.
    pub fn mark_read(conn: &mut DbConn, user_id: &str, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
        let n = diesel::update(alerts::table.find(id).filter(alerts::recipient_user_id.eq(user_id)))
            .set(alerts::read_at.eq(now))
            .execute(conn)?;
        Ok(n == 1)
    }
}

impl OutboxMessage {
    /// The message to `email` still waiting for a later send time (a daily digest), if any.
    pub fn waiting_for(conn: &mut DbConn, email: &str, now: NaiveDateTime) -> QueryResult<Option<String>> {
        outbox::table
            .filter(outbox::recipient_email.eq(email))
            .filter(outbox::status.eq("pending"))
            .filter(outbox::attempts.eq(0))
            .filter(outbox::checkpoint_size.is_null())
            .filter(outbox::next_attempt_at.gt(now))
            .order(outbox::next_attempt_at.asc())
            .select(outbox::id)
            .first(conn)
            .optional()
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OutboxMessage>> {
        outbox::table.find(id).select(OutboxMessage::as_select()).first(conn).optional()
    }

    /// Claims up to `limit` messages due at `now` (or whose previous claim lapsed) until
    /// `lease_until`; two senders never claim the same row. Call inside a write transaction.
    pub fn claim_due(
        conn: &mut DbConn,
        now: NaiveDateTime,
        lease_until: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<OutboxMessage>> {
        let ids = crate::db::dialect::due_outbox_ids(conn, now, limit)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((outbox::status.eq("sending"), outbox::claimed_until.eq(lease_until)))
            .execute(conn)?;
        outbox::table.filter(outbox::id.eq_any(&ids)).select(OutboxMessage::as_select()).load(conn)
    }

    pub fn mark_sent(conn: &mut DbConn, id: &str, subject: &str, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq("sent"),
                outbox::sent_at.eq(now),
                outbox::subject.eq(subject),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::claimed_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Records a failed attempt: retried at `retry_at`, or `failed` when `give_up`.
    pub fn mark_attempt_failed(
        conn: &mut DbConn,
        id: &str,
        error: &str,
        retry_at: NaiveDateTime,
        give_up: bool,
    ) -> QueryResult<()> {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(if give_up { "failed" } else { "pending" }),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::next_attempt_at.eq(retry_at),
                outbox::claimed_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)
            .map(drop)
    }

    pub fn mark_cancelled(conn: &mut DbConn, id: &str) -> QueryResult<()> {
        diesel::update(outbox::table.find(id)).set(outbox::status.eq("cancelled")).execute(conn).map(drop)
    }

    /// Requeues a failed message for immediate delivery (its alerts too); false for any other status.
    pub fn requeue(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
        let n = diesel::update(outbox::table.find(id).filter(outbox::status.eq("failed")))
            .set((outbox::status.eq("pending"), outbox::attempts.eq(0), outbox::next_attempt_at.eq(now)))
            .execute(conn)?;
        if n == 1 {
            diesel::update(alerts::table.filter(alerts::outbox_id.eq(id)).filter(alerts::status.eq("failed")))
                .set(alerts::status.eq("pending"))
                .execute(conn)?;
        }
        Ok(n == 1)
    }

    /// Newest first, optionally of one status.
    pub fn list(
        conn: &mut DbConn,
        status: Option<&str>,
        before_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<OutboxMessage>> {
        let mut q = outbox::table.select(OutboxMessage::as_select()).into_boxed();
        if let Some(s) = status {
            q = q.filter(outbox::status.eq(s.to_string()));
        }
        if let Some(id) = before_id {
            q = q.filter(outbox::id.lt(id.to_string()));
        }
        q.order(outbox::id.desc()).limit(limit).load(conn)
    }
}

//! The append-only audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Actor, new_id};
use crate::db::DbConn;
use crate::db::schema::audit_log;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub client_addr: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What an administrator reads of a case's audit record: which case, what was done, by
/// whom and when, its state and deadlines — never what it says about whom (titles,
/// descriptions, names, positions, notes, comments, file names, measures and decision
/// references). Administrators manage the service, not cases (docs/OPERATIONS.md); keys
/// not listed here are withheld, so a field added later is withheld until it is listed.
const CASE_KEYS_AN_ADMIN_READS: &[&str] = &[
    "number",
    "status",
    "subject_kind",
    "subject_unit_id",
    "indicator_ids",
    "detected_on",
    "severity",
    "responsible_unit_id",
    "due_at",
    "decision_decided_on",
    "version",
    "action",
    "from",
    "to",
    "fields",
    "comment_id",
    "attachment_id",
    "size_bytes",
    "sha256",
    "source",
];

/// An audit record as an administrator reads it: before and after parsed, with the case
/// content withheld and the withheld keys named.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub entry: AuditEntry,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// The keys withheld from `before` and `after`, sorted.
    pub withheld: Vec<String>,
}

impl AuditRecord {
    /// `entry` as an administrator reads it.
    pub fn for_admin(entry: AuditEntry) -> AuditRecord {
        let mut withheld = std::collections::BTreeSet::new();
        let case = entry.entity_type == "case";
        let mut parse = |text: &Option<String>| {
            let mut value: serde_json::Value = serde_json::from_str(text.as_deref()?).ok()?;
            if case && let Some(object) = value.as_object_mut() {
                object.retain(|k, _| {
                    let shown = CASE_KEYS_AN_ADMIN_READS.contains(&k.as_str());
                    if !shown {
                        withheld.insert(k.clone());
                    }
                    shown
                });
            }
            Some(value)
        };
        let (before, after) = (parse(&entry.before), parse(&entry.after));
        AuditRecord { entry, before, after, withheld: withheld.into_iter().collect() }
    }
}

/// Filters of `GET /audit`.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

impl AuditFilter {
    /// The audit log's filters, checked (422 naming a bad `from` or `to`).
    pub fn parse(
        entity_type: Option<String>,
        entity_id: Option<String>,
        actor_id: Option<String>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<AuditFilter, crate::error::Error> {
        let mut v = crate::error::Validator::new();
        let (from, to) = (v.instant("from", from), v.instant("to", to));
        v.finish()?;
        Ok(AuditFilter { entity_type, entity_id, actor_id, from, to })
    }
}

impl AuditEntry {
    /// Records one write; call it inside the write's transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        conn: &mut DbConn,
        actor: &Actor,
        at: NaiveDateTime,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> QueryResult<()> {
        let entry = AuditEntry {
            id: new_id(),
            at,
            actor_id: actor.user_id.clone(),
            client_addr: actor.client_addr.clone(),
            action: action.to_string(),
            entity_type: entity_type.to_string(),
            entity_id: entity_id.to_string(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
        };
        // The seal order is the column's default on PostgreSQL and the rowid on SQLite.
        diesel::insert_into(audit_log::table).values(&entry).execute(conn)?;
        Ok(())
    }

    /// Newest first, keyset-paginated by id (ids are time-ordered).
    pub fn list(
        conn: &mut DbConn,
        f: &AuditFilter,
        before_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<AuditEntry>> {
        let mut q = audit_log::table.select(AuditEntry::as_select()).into_boxed();
        if let Some(v) = &f.entity_type {
            q = q.filter(audit_log::entity_type.eq(v.clone()));
        }
        if let Some(v) = &f.entity_id {
            q = q.filter(audit_log::entity_id.eq(v.clone()));
        }
        if let Some(v) = &f.actor_id {
            q = q.filter(audit_log::actor_id.eq(v.clone()));
        }
        if let Some(v) = f.from {
            q = q.filter(audit_log::at.ge(v));
        }
        if let Some(v) = f.to {
            q = q.filter(audit_log::at.lt(v));
        }
        if let Some(id) = before_id {
            q = q.filter(audit_log::id.lt(id.to_string()));
        }
        q.order(audit_log::id.desc()).limit(limit).load(conn)
    }
}

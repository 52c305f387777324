//! What is sealed: the three streams and the bytes each entry is hashed as.
//!
//! An entry's bytes are a JSON array of the stream's name and every stored column but
//! the seal mark, times written to the microsecond, so that changing any column of a
//! sealed entry changes its record hash.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::db::DbConn;
use crate::db::dialect::mark_column;
use crate::db::schema::{audit_log, case_attachments, case_events};
use crate::model::attachment::Attachment;
use crate::model::audit::AuditEntry;
use crate::model::case::CaseEvent;

/// A table whose rows are sealed, in the order the sealer takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The audit log: who changed what, with the before and after.
    Audit,
    /// Case timelines.
    Event,
    /// Evidence files: name, type, size and SHA-256 of the content.
    File,
}

/// An entry as sealed: its id, its mark, and the bytes hashed.
pub struct Record {
    pub id: String,
    pub mark: i64,
    pub data: Vec<u8>,
}

fn at(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn audit_bytes(e: &AuditEntry) -> Vec<u8> {
    json!(["audit", e.id, at(e.at), e.actor_id, e.client_addr, e.action, e.entity_type, e.entity_id, e.before, e.after])
        .to_string()
        .into_bytes()
}

fn event_bytes(e: &CaseEvent) -> Vec<u8> {
    json!(["event", e.id, e.case_id, at(e.at), e.actor_id, e.kind, e.detail]).to_string().into_bytes()
}

fn file_bytes(a: &Attachment) -> Vec<u8> {
    json!([
        "file",
        a.id,
        a.case_id,
        a.uploaded_by,
        a.file_name,
        a.content_type,
        a.size_bytes,
        a.sha256,
        at(a.created_at)
    ])
    .to_string()
    .into_bytes()
}

impl Stream {
    pub const ALL: [Stream; 3] = [Stream::Audit, Stream::Event, Stream::File];

    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Audit => "audit",
            Stream::Event => "event",
            Stream::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<Stream> {
        Stream::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Up to `limit` entries past `after` (mark, id) with a mark below `horizon`, in order.
    pub fn unsealed(
        self,
        conn: &mut DbConn,
        after: Option<&(i64, String)>,
        horizon: i64,
        limit: i64,
    ) -> QueryResult<Vec<Record>> {
        let (m, i) = after.cloned().unwrap_or((i64::MIN, String::new()));
        let backend = conn.backend();
        macro_rules! page {
            ($t:ident, $row:ty, $bytes:expr) => {{
                let mark = || mark_column(backend, stringify!($t));
                let rows: Vec<($row, i64)> = $t::table
                    .filter(mark().lt(horizon))
                    .filter(mark().gt(m).or(mark().eq(m).and($t::id.gt(&i))))
                    .order((mark(), $t::id))
                    .limit(limit)
                    .select((<$row>::as_select(), mark()))
                    .load(conn)?;
                rows.into_iter().map(|(e, mark)| Record { data: $bytes(&e), id: e.id, mark }).collect()
            }};
        }
        Ok(match self {
            Stream::Audit => page!(audit_log, AuditEntry, audit_bytes),
            Stream::Event => page!(case_events, CaseEvent, event_bytes),
            Stream::File => page!(case_attachments, Attachment, file_bytes),
        })
    }

    /// The entries `ids` of this stream as they are stored now, by id, with their marks.
    pub fn by_ids(self, conn: &mut DbConn, ids: &[&str]) -> QueryResult<HashMap<String, Record>> {
        let backend = conn.backend();
        macro_rules! read {
            ($t:ident, $row:ty, $bytes:expr) => {{
                let mark = mark_column(backend, stringify!($t));
                let rows: Vec<($row, i64)> =
                    $t::table.filter($t::id.eq_any(ids)).select((<$row>::as_select(), mark)).load(conn)?;
                rows.into_iter().map(|(e, mark)| (e.id.clone(), Record { data: $bytes(&e), id: e.id, mark })).collect()
            }};
        }
        Ok(match self {
            Stream::Audit => read!(audit_log, AuditEntry, audit_bytes),
            Stream::Event => read!(case_events, CaseEvent, event_bytes),
            Stream::File => read!(case_attachments, Attachment, file_bytes),
        })
    }

    /// Entries whose mark says they were written before `last` (the last sealed entry's
    /// mark and id) but that are not sealed:
    /// put in among the sealed ones after the fact. At most `limit` ids.
    pub fn slipped_in(self, conn: &mut DbConn, last: &(i64, String), limit: i64) -> QueryResult<Vec<String>> {
        use crate::db::schema::ledger;
        let kind = self.as_str();
        let (last_mark, id) = last;
        let backend = conn.backend();
        macro_rules! find {
            ($t:ident) => {{
                let mark = || mark_column(backend, stringify!($t));
                $t::table
                    .filter(mark().lt(*last_mark).or(mark().eq(*last_mark).and($t::id.lt(id))))
                    .filter(diesel::dsl::not(diesel::dsl::exists(
                        ledger::table.filter(ledger::stream.eq(kind)).filter(ledger::entry_id.eq($t::id)),
                    )))
                    .order((mark(), $t::id))
                    .limit(limit)
                    .select($t::id)
                    .load(conn)
            }};
        }
        match self {
            Stream::Audit => find!(audit_log),
            Stream::Event => find!(case_events),
            Stream::File => find!(case_attachments),
        }
    }

    /// How many entries are written but not sealed yet.
    pub fn unsealed_count(self, conn: &mut DbConn, after_mark: Option<(i64, String)>) -> QueryResult<i64> {
        let (m, i) = after_mark.unwrap_or((i64::MIN, String::new()));
        let backend = conn.backend();
        macro_rules! count {
            ($t:ident) => {{
                let mark = || mark_column(backend, stringify!($t));
                $t::table.filter(mark().gt(m).or(mark().eq(m).and($t::id.gt(&i)))).count().get_result(conn)
            }};
        }
        match self {
            Stream::Audit => count!(audit_log),
            Stream::Event => count!(case_events),
            Stream::File => count!(case_attachments),
        }
    }
}

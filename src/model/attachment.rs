//! Evidence attached to cases, and the files themselves, stored once per content under
//! their SHA-256 in the database, where every instance and every backup finds them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{attachment_files, case_attachments};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_attachments)]
pub struct Attachment {
    pub id: String,
    pub case_id: String,
    pub uploaded_by: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: NaiveDateTime,
}

impl Attachment {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        // The seal order is the column's default on PostgreSQL and the rowid on SQLite.
        diesel::insert_into(case_attachments::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, case_id: &str, id: &str) -> QueryResult<Option<Attachment>> {
        case_attachments::table
            .filter(case_attachments::id.eq(id))
            .filter(case_attachments::case_id.eq(case_id))
            .select(Attachment::as_select())
            .first(conn)
            .optional()
    }

    pub fn of_case(conn: &mut DbConn, case_id: &str) -> QueryResult<Vec<Attachment>> {
        case_attachments::table
            .filter(case_attachments::case_id.eq(case_id))
            .order(case_attachments::id.asc())
            .select(Attachment::as_select())
            .load(conn)
    }
}

/// A stored file's bytes, by digest.
pub struct AttachmentFile;

impl AttachmentFile {
    /// Stores `content` under `sha256` unless the same content is stored already.
    pub fn put(conn: &mut DbConn, sha256: &str, content: &[u8], now: NaiveDateTime) -> QueryResult<()> {
        let row = (
            attachment_files::sha256.eq(sha256),
            attachment_files::content.eq(content),
            attachment_files::size_bytes.eq(content.len() as i64),
            attachment_files::created_at.eq(now),
        );
        crate::per_backend!(conn, |c| diesel::insert_into(attachment_files::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)
            .map(drop))
    }

    pub fn content(conn: &mut DbConn, sha256: &str) -> QueryResult<Option<Vec<u8>>> {
        attachment_files::table
            .filter(attachment_files::sha256.eq(sha256))
            .select(attachment_files::content)
            .first(conn)
            .optional()
    }

    /// Digests that attachments name but no stored file holds (files an earlier version
    /// kept in a folder), at most `limit`.
    pub fn missing(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<String>> {
        case_attachments::table
            .left_join(attachment_files::table.on(attachment_files::sha256.eq(case_attachments::sha256)))
            .filter(attachment_files::sha256.nullable().is_null())
            .select(case_attachments::sha256)
            .distinct()
            .limit(limit)
            .load(conn)
    }
}

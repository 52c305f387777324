//! Imports of registers and the rows they brought in (`imports`, `import_rows`).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{cases, import_rows, imports};

/// One import as applied: the file, who ran it, and what it created.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = imports)]
pub struct ImportRecord {
    pub id: String,
    pub file_name: String,
    /// SHA-256 of the file, hex.
    pub digest: String,
    pub imported_by: String,
    #[schema(value_type = String)]
    pub imported_at: NaiveDateTime,
    pub rows_read: i64,
    pub cases_created: i64,
    pub subjects_created: i64,
    pub subjects_matched: i64,
    pub decisions_created: i64,
    pub already_imported: i64,
    pub rows_skipped: i64,
    /// The legacy encoding the file's text was converted from, if any.
    pub encoding: Option<String>,
}

impl ImportRecord {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(imports::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ImportRecord>> {
        imports::table.find(id).select(ImportRecord::as_select()).first(conn).optional()
    }

    /// Keyset page, newest first (ids are time-ordered); only `by`'s imports when given.
    pub fn list(
        conn: &mut DbConn,
        by: Option<&str>,
        before_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<ImportRecord>> {
        let mut q = imports::table.select(ImportRecord::as_select()).into_boxed();
        if let Some(by) = by {
            q = q.filter(imports::imported_by.eq(by.to_string()));
        }
        if let Some(id) = before_id {
            q = q.filter(imports::id.lt(id.to_string()));
        }
        q.order(imports::id.desc()).limit(limit).load(conn)
    }

    /// What the audit log keeps of it.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// A row an import brought in, by its key.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_rows)]
pub struct ImportedRow {
    pub row_key: String,
    pub import_id: String,
    pub line: i64,
    pub case_id: String,
}

impl ImportedRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(import_rows::table).values(self).execute(conn).map(drop)
    }

    /// Of `keys`, those imported before: key → (case id, case number).
    pub fn known(conn: &mut DbConn, keys: &[String]) -> QueryResult<HashMap<String, (String, String)>> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(500) {
            let found: Vec<(String, String, String)> = import_rows::table
                .inner_join(cases::table.on(cases::id.eq(import_rows::case_id)))
                .filter(import_rows::row_key.eq_any(chunk))
                .select((import_rows::row_key, cases::id, cases::number))
                .load(conn)?;
            out.extend(found.into_iter().map(|(k, id, n)| (k, (id, n))));
        }
        Ok(out)
    }
}

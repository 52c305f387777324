//! Evidence attached to cases (the bytes live on disk under their SHA-256).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::case_attachments;

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

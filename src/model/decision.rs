//! The decisions recorded on a case: party and state ones side by side, corrected by
//! new versions, never deleted.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::case_decisions;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = case_decisions)]
pub struct Decision {
    pub id: String,
    pub case_id: String,
    pub system: String,
    pub authority: Option<String>,
    pub measure: String,
    pub decided_on: NaiveDate,
    pub reference: Option<String>,
    pub note: Option<String>,
    /// The decision this one corrects.
    pub corrects: Option<String>,
    /// True once a newer version corrects it.
    pub superseded: bool,
    pub recorded_by: Option<String>,
    pub recorded_at: NaiveDateTime,
}

impl Decision {
    /// Every version of a case's decisions, oldest first.
    pub fn of_case(conn: &mut DbConn, case_id: &str) -> QueryResult<Vec<Decision>> {
        case_decisions::table
            .filter(case_decisions::case_id.eq(case_id))
            .order((case_decisions::recorded_at.asc(), case_decisions::id.asc()))
            .select(Decision::as_select())
            .load(conn)
    }

    /// The case's decisions in force (no newer version), oldest first.
    pub fn current_of(conn: &mut DbConn, case_id: &str) -> QueryResult<Vec<Decision>> {
        Ok(Decision::of_case(conn, case_id)?.into_iter().filter(|d| !d.superseded).collect())
    }

    /// Stores a decision; when it corrects another, marks that one superseded. Call
    /// inside the change's transaction.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        if let Some(old) = &self.corrects {
            diesel::update(case_decisions::table.find(old)).set(case_decisions::superseded.eq(true)).execute(conn)?;
        }
        diesel::insert_into(case_decisions::table).values(self).execute(conn).map(drop)
    }

    /// What the timeline and the audit log keep of it.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "system": self.system, "authority": self.authority, "measure": self.measure,
            "decided_on": self.decided_on, "reference": self.reference, "note": self.note, "corrects": self.corrects,
        })
    }
}

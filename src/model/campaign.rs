//! Inspection, supervision and duty-audit campaigns, with members and target units.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::db::DbConn;
use crate::db::schema::{campaign_members, campaign_targets, campaigns, unit_closure};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub directive_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: String,
    pub lead_id: String,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Filters of `GET /campaigns`.
#[derive(Debug, Default)]
pub struct CampaignFilter {
    pub status: Option<String>,
    pub directive_id: Option<String>,
    /// Only campaigns this user belongs to (inspectors see no others).
    pub member: Option<String>,
}

impl Campaign {
    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Campaign>> {
        campaigns::table.find(id).select(Campaign::as_select()).first(conn).optional()
    }

    /// Inserts the campaign with its members and targets.
    pub fn insert(&self, conn: &mut DbConn, members: &[String], targets: &[String]) -> QueryResult<()> {
        diesel::insert_into(campaigns::table).values(self).execute(conn)?;
        self.replace_links(conn, members, targets)
    }

    /// Writes `self` if still at `expected_version`, and replaces its member and target sets.
    pub fn update_if_version(
        &self,
        conn: &mut DbConn,
        expected_version: i64,
        members: &[String],
        targets: &[String],
    ) -> QueryResult<bool> {
        let n = diesel::update(campaigns::table.find(&self.id).filter(campaigns::version.eq(expected_version)))
            .set(self)
            .execute(conn)?;
        if n == 1 {
            diesel::delete(campaign_members::table.filter(campaign_members::campaign_id.eq(&self.id))).execute(conn)?;
            diesel::delete(campaign_targets::table.filter(campaign_targets::campaign_id.eq(&self.id))).execute(conn)?;
            self.replace_links(conn, members, targets)?;
        }
        Ok(n == 1)
    }

    fn replace_links(&self, conn: &mut DbConn, members: &[String], targets: &[String]) -> QueryResult<()> {
        for m in members {
            diesel::insert_into(campaign_members::table)
                .values((campaign_members::campaign_id.eq(&self.id), campaign_members::user_id.eq(m)))
                .execute(conn)?;
        }
        for t in targets {
            diesel::insert_into(campaign_targets::table)
                .values((campaign_targets::campaign_id.eq(&self.id), campaign_targets::unit_id.eq(t)))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Member ids of each campaign, in one query.
    pub fn members_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, Vec<String>>> {
        let rows: Vec<(String, String)> = campaign_members::table
            .filter(campaign_members::campaign_id.eq_any(ids))
            .order((campaign_members::campaign_id, campaign_members::user_id))
            .select((campaign_members::campaign_id, campaign_members::user_id))
            .load(conn)?;
        Ok(group(rows))
    }

    /// Target unit ids of each campaign, in one query.
    pub fn targets_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, Vec<String>>> {
        let rows: Vec<(String, String)> = campaign_targets::table
            .filter(campaign_targets::campaign_id.eq_any(ids))
            .order((campaign_targets::campaign_id, campaign_targets::unit_id))
            .select((campaign_targets::campaign_id, campaign_targets::unit_id))
            .load(conn)?;
        Ok(group(rows))
    }

    pub fn is_member(conn: &mut DbConn, campaign_id: &str, user_id: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            campaign_members::table
                .filter(campaign_members::campaign_id.eq(campaign_id))
                .filter(campaign_members::user_id.eq(user_id)),
        ))
        .get_result(conn)
    }

    /// The campaign `id` if `user_id` is one of its members, in one query.
    pub fn find_for_member(conn: &mut DbConn, id: &str, user_id: &str) -> QueryResult<Option<Campaign>> {
        campaigns::table
            .inner_join(campaign_members::table)
            .filter(campaigns::id.eq(id))
            .filter(campaign_members::user_id.eq(user_id))
            .select(Campaign::as_select())
            .first(conn)
            .optional()
    }

    /// True when `unit_id` is one of the campaign's target units or lies below one.
    pub fn targets_unit(conn: &mut DbConn, campaign_id: &str, unit_id: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            campaign_targets::table
                .inner_join(unit_closure::table.on(unit_closure::ancestor_id.eq(campaign_targets::unit_id)))
                .filter(campaign_targets::campaign_id.eq(campaign_id))
                .filter(unit_closure::descendant_id.eq(unit_id)),
        ))
        .get_result(conn)
    }

    /// Keyset page, newest first.
    pub fn list(
        conn: &mut DbConn,
        f: &CampaignFilter,
        before_id: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Campaign>> {
        let mut q = campaigns::table.select(Campaign::as_select()).into_boxed();
        if let Some(s) = &f.status {
            q = q.filter(campaigns::status.eq(s.clone()));
        }
        if let Some(d) = &f.directive_id {
            q = q.filter(campaigns::directive_id.eq(d.clone()));
        }
        if let Some(user) = &f.member {
            q = q.filter(
                campaigns::id.eq_any(
                    campaign_members::table
                        .filter(campaign_members::user_id.eq(user.clone()))
                        .select(campaign_members::campaign_id),
                ),
            );
        }
        if let Some(id) = before_id {
            q = q.filter(campaigns::id.lt(id.to_string()));
        }
        q.order(campaigns::id.desc()).limit(limit).load(conn)
    }

    pub fn audit_snapshot(&self, members: &[String], targets: &[String]) -> serde_json::Value {
        json!({
            "id": self.id, "title": self.title, "kind": self.kind, "directive_id": self.directive_id,
            "starts_on": self.starts_on, "ends_on": self.ends_on, "status": self.status, "lead_id": self.lead_id,
            "member_ids": members, "target_unit_ids": targets, "version": self.version,
        })
    }
}

fn group(rows: Vec<(String, String)>) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in rows {
        map.entry(k).or_default().push(v);
    }
    map
}

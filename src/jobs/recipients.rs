//! Who an escalation level reaches, resolved through the unit tree and users' roles.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{unit_closure, units, users};
use crate::domain::workflow::Status;
use crate::model::case::Case;
use crate::model::unit::Unit;
use crate::model::user::User;

/// One addressee of an alert: a user, or a unit's mailbox when it has no head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: Option<String>,
    pub name: String,
    pub email: String,
    /// The local time a person takes their alerts once a day, if they chose so.
    pub daily_at: Option<chrono::NaiveTime>,
}

impl Recipient {
    fn user(u: User) -> Option<Recipient> {
        let email = u.email.clone()?;
        let daily_at = u.digest_daily_at.as_deref().and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok());
        Some(Recipient { user_id: Some(u.id), name: u.full_name, email, daily_at })
    }
}

/// Resolves who alerts go to, remembering each answer for the rest of one sweep: the
/// same few unit heads and reviewers are asked for again and again.
#[derive(Default)]
pub struct Resolver {
    heads: HashMap<String, Option<Recipient>>,
    parents: HashMap<String, Option<String>>,
    reviewers: HashMap<(String, Option<String>), Vec<Recipient>>,
    city: Option<Vec<Recipient>>,
}

impl Resolver {
    /// Everyone `notify` names for `case`, without duplicates.
    pub fn resolve(&mut self, conn: &mut DbConn, case: &Case, notify: &[String]) -> QueryResult<Vec<Recipient>> {
        let handling_unit = case.responsible_unit_id.clone().unwrap_or_else(|| case.subject_unit_id.clone());
        let mut out: Vec<Recipient> = Vec::new();
        for kind in notify {
            let found = match kind.as_str() {
                // An open case has no responsible unit yet: its reviewers must act.
                "responsible_head" if case.status == Status::Open => self.reviewers_of(conn, case)?,
                "responsible_head" => self.head_of(conn, &handling_unit)?.into_iter().collect(),
                "parent_head" => match self.parent_of(conn, &handling_unit)? {
                    Some(parent) => self.head_of(conn, &parent)?.into_iter().collect(),
                    None => Vec::new(),
                },
                "reviewers" => self.reviewers_of(conn, case)?,
                "city_reviewers" => self.city_reviewers(conn)?,
                _ => Vec::new(),
            };
            for r in found {
                if !out.iter().any(|o| o.email.eq_ignore_ascii_case(&r.email)) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    fn head_of(&mut self, conn: &mut DbConn, unit_id: &str) -> QueryResult<Option<Recipient>> {
        if let Some(found) = self.heads.get(unit_id) {
            return Ok(found.clone());
        }
        let found = head_of(conn, unit_id)?;
        self.heads.insert(unit_id.to_string(), found.clone());
        Ok(found)
    }

    fn parent_of(&mut self, conn: &mut DbConn, unit_id: &str) -> QueryResult<Option<String>> {
        if let Some(found) = self.parents.get(unit_id) {
            return Ok(found.clone());
        }
        let found = Unit::find(conn, unit_id)?.and_then(|u| u.parent_id);
        self.parents.insert(unit_id.to_string(), found.clone());
        Ok(found)
    }

    fn reviewers_of(&mut self, conn: &mut DbConn, case: &Case) -> QueryResult<Vec<Recipient>> {
        let key = (case.subject_unit_id.clone(), case.responsible_unit_id.clone());
        if let Some(found) = self.reviewers.get(&key) {
            return Ok(found.clone());
        }
        let found = reviewers_of(conn, case)?;
        self.reviewers.insert(key, found.clone());
        Ok(found)
    }

    fn city_reviewers(&mut self, conn: &mut DbConn) -> QueryResult<Vec<Recipient>> {
        if self.city.is_none() {
            self.city = Some(city_reviewers(conn)?);
        }
        Ok(self.city.clone().unwrap_or_default())
    }
}

/// The head of `unit_id`; a unit without a reachable head falls back to its own
/// email, then to its parent's head, and so on up the tree. A unit that has ended has
/// neither: its parent is its successor, whose head takes its alerts. Each unit is visited once,
/// so parents that point in a circle (bad data) end the walk instead of hanging the sweep.
fn head_of(conn: &mut DbConn, unit_id: &str) -> QueryResult<Option<Recipient>> {
    let mut visited = std::collections::HashSet::new();
    let mut next = Some(unit_id.to_string());
    while let Some(id) = next {
        if !visited.insert(id.clone()) {
            tracing::warn!(unit = %id, "the unit tree has a cycle in parent_id; no head found above it");
            return Ok(None);
        }
        let Some(unit) = Unit::find(conn, &id)? else { return Ok(None) };
        if unit.ended_on.is_some() {
            next = unit.parent_id.clone();
            continue;
        }
        if let Some(head) = &unit.head_user_id
            && let Some(user) = User::find(conn, head)?.filter(|u| u.active)
            && let Some(r) = Recipient::user(user)
        {
            return Ok(Some(r));
        }
        if let Some(email) = &unit.email {
            return Ok(Some(Recipient {
                user_id: None,
                name: unit.name.clone(),
                email: email.clone(),
                daily_at: None,
            }));
        }
        next = unit.parent_id.clone();
    }
    Ok(None)
}

/// Active reviewers whose unit's subtree holds the case (its subject or responsible unit),
/// in units that still exist.
fn reviewers_of(conn: &mut DbConn, case: &Case) -> QueryResult<Vec<Recipient>> {
    let mut units = vec![case.subject_unit_id.clone()];
    units.extend(case.responsible_unit_id.clone());
    let found: Vec<User> = users::table
        .inner_join(unit_closure::table.on(unit_closure::ancestor_id.nullable().eq(users::unit_id)))
        .inner_join(units::table.on(units::id.nullable().eq(users::unit_id)))
        .filter(units::ended_on.is_null())
        .filter(unit_closure::descendant_id.eq_any(&units))
        .filter(users::role.eq("reviewer"))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .distinct()
        .order(users::id)
        .load(conn)?;
    Ok(found.into_iter().filter_map(Recipient::user).collect())
}

/// Active reviewers of top-level units (the city).
fn city_reviewers(conn: &mut DbConn) -> QueryResult<Vec<Recipient>> {
    let found: Vec<User> = users::table
        .inner_join(units::table.on(units::id.nullable().eq(users::unit_id)))
        .filter(units::parent_id.is_null())
        .filter(units::ended_on.is_null())
        .filter(users::role.eq("reviewer"))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .order(users::id)
        .load(conn)?;
    Ok(found.into_iter().filter_map(Recipient::user).collect())
}

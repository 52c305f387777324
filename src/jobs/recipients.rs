//! Who an escalation level reaches, resolved through the unit tree and users' roles.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{unit_closure, units, users};
use crate::model::case::Case;
use crate::model::unit::Unit;
use crate::model::user::User;

/// One addressee of an alert: a user, or a unit's mailbox when it has no head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: Option<String>,
    pub name: String,
    pub email: String,
}

impl Recipient {
    fn user(u: User) -> Option<Recipient> {
        let email = u.email.clone()?;
        Some(Recipient { user_id: Some(u.id), name: u.full_name, email })
    }
}

/// The head of `unit_id`; a unit without a reachable head falls back to its own
/// email, then to its parent's head, and so on up the tree.
pub fn head_of(conn: &mut DbConn, unit_id: &str) -> QueryResult<Option<Recipient>> {
    let mut next = Some(unit_id.to_string());
    while let Some(id) = next {
        let Some(unit) = Unit::find(conn, &id)? else { return Ok(None) };
        if let Some(head) = &unit.head_user_id
            && let Some(user) = User::find(conn, head)?.filter(|u| u.active)
            && let Some(r) = Recipient::user(user)
        {
            return Ok(Some(r));
        }
        if let Some(email) = &unit.email {
            return Ok(Some(Recipient { user_id: None, name: unit.name.clone(), email: email.clone() }));
        }
        next = unit.parent_id.clone();
    }
    Ok(None)
}

/// Active reviewers whose unit's subtree holds the case (its subject or responsible unit).
pub fn reviewers_of(conn: &mut DbConn, case: &Case) -> QueryResult<Vec<Recipient>> {
    let mut units = vec![case.subject_unit_id.clone()];
    units.extend(case.responsible_unit_id.clone());
    let found: Vec<User> = users::table
        .inner_join(unit_closure::table.on(unit_closure::ancestor_id.nullable().eq(users::unit_id)))
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
pub fn city_reviewers(conn: &mut DbConn) -> QueryResult<Vec<Recipient>> {
    let found: Vec<User> = users::table
        .inner_join(units::table.on(units::id.nullable().eq(users::unit_id)))
        .filter(units::parent_id.is_null())
        .filter(users::role.eq("reviewer"))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .order(users::id)
        .load(conn)?;
    Ok(found.into_iter().filter_map(Recipient::user).collect())
}

/// Everyone `notify` names for `case`, without duplicates.
pub fn resolve(conn: &mut DbConn, case: &Case, notify: &[String]) -> QueryResult<Vec<Recipient>> {
    let handling_unit = case.responsible_unit_id.clone().unwrap_or_else(|| case.subject_unit_id.clone());
    let mut out: Vec<Recipient> = Vec::new();
    for kind in notify {
        let found = match kind.as_str() {
            // An open case has no responsible unit yet: its reviewers must act.
            "responsible_head" if case.status == "open" => reviewers_of(conn, case)?,
            "responsible_head" => head_of(conn, &handling_unit)?.into_iter().collect(),
            "parent_head" => match Unit::find(conn, &handling_unit)?.and_then(|u| u.parent_id) {
                Some(parent) => head_of(conn, &parent)?.into_iter().collect(),
                None => Vec::new(),
            },
            "reviewers" => reviewers_of(conn, case)?,
            "city_reviewers" => city_reviewers(conn)?,
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

//! Changing the unit hierarchy (administrators): creating units and changing them,
//! moves included, each under the tree's lock and with its audit entry. The API and the
//! console call these.

use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::casework::Ctx;
use crate::db::{self, DbConn, write_tx};
use crate::domain::role::{Role, UnitKind, one_of};
use crate::domain::text;
use crate::domain::validation::double_option;
use crate::error::{Error, Validator, msg};
use crate::model::audit::AuditEntry;
use crate::model::new_id;
use crate::model::parse_id;
use crate::model::unit::Unit;
use crate::model::user::User;

#[derive(Deserialize, utoipa::ToSchema)]
/// A new unit as asked for.
pub struct NewUnit {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub parent_id: Option<String>,
    pub head_user_id: Option<String>,
    pub email: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
/// A change to a unit: any subset of its fields (`null` clears parent, head, email).
pub struct UnitChange {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub parent_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub head_user_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
}

/// The lock every change to units takes: a move is checked against the tree as it is
/// (no cycle), and a code against every other unit's, without another change in between.
pub const UNIT_TREE: &str = "unit-tree";

/// Whether `user` can head `unit`: a unit-head account of the unit itself or of a unit
/// above it, so that the alerts they are sent are about cases they may read.
fn heads(conn: &mut DbConn, user: &User, unit: &Unit) -> Result<bool, Error> {
    if user.role != "unit_head" {
        return Ok(false);
    }
    let Some(own) = &user.unit_id else { return Ok(false) };
    if own == &unit.id {
        return Ok(true);
    }
    // A unit being created is not in the tree yet: its place is under its parent.
    match &unit.parent_id {
        Some(parent) => Ok(Unit::is_in_subtree(conn, own, parent)?),
        None => Ok(false),
    }
}

/// Field rules shared by create and update; records problems in `v`.
fn check_fields(conn: &mut DbConn, v: &mut Validator, unit: &mut Unit) -> Result<(), Error> {
    match text::clean_code(&unit.code) {
        Ok(c) => unit.code = c,
        Err(m) => v.add("code", m),
    }
    match text::clean_required(&unit.name, crate::domain::limits::NAME_MAX) {
        Ok(n) => unit.name = n,
        Err(m) => v.add("name", m),
    }
    if UnitKind::parse(&unit.kind).is_none() {
        v.add("kind", one_of(&UnitKind::ALL.map(UnitKind::as_str)));
    }
    if let Some(e) = &unit.email {
        match text::clean_email(e) {
            Ok(e) => unit.email = Some(e),
            Err(m) => v.add("email", m),
        }
    }
    if let Some(p) = &unit.parent_id {
        let parent = if parse_id(p).is_ok() { Unit::find(conn, p)? } else { None };
        if parent.is_none() {
            v.add("parent_id", msg::no_unit());
        } else if let Some(ended) = parent.as_ref().and_then(|p| p.ended_on)
            && unit.ended_on.is_none()
        {
            v.add("parent_id", msg::unit_ended(&parent.map(|p| p.code).unwrap_or_default(), &crate::i18n::date(ended)));
        } else if p == &unit.id || Unit::is_in_subtree(conn, &unit.id, p)? {
            v.add("parent_id", msg::unit_cycle());
        }
    }
    if let Some(h) = &unit.head_user_id {
        let head = if parse_id(h).is_ok() { User::find(conn, h)? } else { None };
        match head {
            None => v.add("head_user_id", msg::no_user()),
            Some(u) if !u.active => v.add("head_user_id", msg::user_inactive()),
            Some(u) if !heads(conn, &u, unit)? => v.add("head_user_id", msg::head_of_unit()),
            Some(_) => {}
        }
    }
    if v.is_ok()
        && let Some(other) = Unit::find_by_code(conn, &unit.code)?
        && other.id != unit.id
    {
        return Err(Error::conflict(crate::error::msg::unit_code_taken(&unit.code)));
    }
    Ok(())
}

/// Creates a unit (422 listing every bad field, 409 for a taken code).
pub fn create(conn: &mut DbConn, ctx: &Ctx, caller: &CurrentUser, b: NewUnit) -> Result<Unit, Error> {
    caller.require(&[Role::Admin])?;
    let now = ctx.now();
    let mut v = Validator::new();
    let code = v.require("code", b.code);
    let name = v.require("name", b.name);
    let kind = v.require("kind", b.kind);
    let mut unit = Unit {
        id: new_id(),
        code: code.unwrap_or_else(|| "-".into()),
        name: name.unwrap_or_else(|| "-".into()),
        kind: kind.unwrap_or_else(|| "other".into()),
        parent_id: b.parent_id,
        head_user_id: b.head_user_id,
        email: b.email,
        version: 1,
        created_at: now,
        updated_at: now,
        established_on: None,
        ended_on: None,
    };
    write_tx(conn, |conn| {
        db::lock(conn, &[UNIT_TREE])?;
        check_fields(conn, &mut v, &mut unit)?;
        v.finish()?;
        unit.insert(conn)?;
        AuditEntry::record(conn, &caller.actor(), now, "create", "unit", &unit.id, None, Some(unit.audit_snapshot()))?;
        Ok(unit)
    })
}

/// Changes unit `id` if `if_match` (when given) is its version: a move is refused when it
/// would put the unit under itself.
pub fn update(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    if_match: Option<i64>,
    p: UnitChange,
) -> Result<Unit, Error> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(id)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        db::lock(conn, &[UNIT_TREE])?;
        let before = Unit::find(conn, &id)?.ok_or(Error::NotFound)?;
        if if_match.is_some_and(|v| v != before.version) {
            return Err(Error::PreconditionFailed);
        }
        let mut after = before.clone();
        if let Some(c) = p.code {
            after.code = c;
        }
        if let Some(n) = p.name {
            after.name = n;
        }
        if let Some(k) = p.kind {
            after.kind = k;
        }
        if let Some(parent) = p.parent_id {
            after.parent_id = parent;
        }
        if let Some(head) = p.head_user_id {
            after.head_user_id = head;
        }
        if let Some(email) = p.email {
            after.email = email;
        }
        let mut v = Validator::new();
        if before.ended_on.is_some() && (after.parent_id != before.parent_id || after.kind != before.kind) {
            v.add(if after.kind != before.kind { "kind" } else { "parent_id" }, msg::ended_unit_fixed());
        }
        check_fields(conn, &mut v, &mut after)?;
        v.finish()?;
        after.version = before.version + 1;
        after.updated_at = now;
        if !after.update_if_version(conn, before.version, before.parent_id.as_deref())? {
            return Err(Error::PreconditionFailed);
        }
        AuditEntry::record(
            conn,
            &caller.actor(),
            now,
            "update",
            "unit",
            &after.id,
            Some(before.audit_snapshot()),
            Some(after.audit_snapshot()),
        )?;
        Ok(after)
    })
}

/// A unit's lineage: the units it took over, those that took it over, its former states.
pub struct Lineage {
    pub predecessors: Vec<Unit>,
    pub successors: Vec<Unit>,
    pub former: Vec<crate::model::reorganisation::UnitPast>,
}

/// The lineage of unit `id` (404 when there is no such unit).
pub fn lineage(conn: &mut DbConn, id: &str) -> Result<Lineage, Error> {
    use crate::model::reorganisation::{UnitPast, predecessors_of, successors_of};
    Unit::find(conn, id)?.ok_or(Error::NotFound)?;
    Ok(Lineage {
        predecessors: predecessors_of(conn, id)?,
        successors: successors_of(conn, id)?,
        former: UnitPast::of(conn, id)?,
    })
}

//! Creating accounts, with their validation, once: the API's `POST /users`, the CLI's
//! `user create`, the first administrator and the demo all go through here.

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::domain::validation::double_option;
use crate::model::parse_id;
use crate::model::session::Session;
use crate::state::AppState;

use crate::auth::password;
use crate::db::{self, DbConn, write_tx};
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::domain::validation::Validator;
use crate::error::Error;
use crate::error::msg;
use crate::model::audit::AuditEntry;
use crate::model::unit::Unit;
use crate::model::user::User;
use crate::model::{Actor, canonical_id, new_id};

/// How a new account names its unit: by id (the API) or by code (the command line).
pub enum UnitRef {
    Id(String),
    Code(String),
}

/// A new account as asked for, before any check.
#[derive(Default)]
pub struct NewAccount {
    pub username: Option<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub unit: Option<UnitRef>,
    /// Generated (strong, random) when absent.
    pub password: Option<String>,
}

/// Everything a new user is created from, once checked.
pub struct UserInput {
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<String>,
}

/// A checked account, with the password it is to get (and whether it was generated).
pub struct CheckedAccount {
    pub input: UserInput,
    pub password: String,
    pub generated: bool,
}

impl UnitRef {
    /// The field a problem with the unit is reported against.
    fn field(&self) -> &'static str {
        match self {
            UnitRef::Id(_) => "unit_id",
            UnitRef::Code(_) => "unit",
        }
    }
}

/// Checks every field of `a` at once (422 listing each bad one).
pub fn check(conn: &mut DbConn, a: NewAccount) -> Result<CheckedAccount, Error> {
    let mut v = Validator::new();
    let username =
        v.require("username", a.username).and_then(|u| text::clean_username(&u).map_err(|m| v.add("username", m)).ok());
    let full_name = v.require("full_name", a.full_name).and_then(|n| {
        text::clean_required(&n, crate::domain::limits::NAME_MAX).map_err(|m| v.add("full_name", m)).ok()
    });
    let email = a.email.and_then(|e| text::clean_email(&e).map_err(|m| v.add("email", m)).ok());
    let role = v.require("role", a.role).and_then(|r| {
        let parsed = Role::parse(&r);
        v.check(parsed.is_some(), "role", one_of(&Role::ALL.map(Role::as_str)));
        parsed
    });
    let generated = a.password.is_none();
    let password = a.password.unwrap_or_else(password::generate);
    if let Some(name) = &username
        && let Err(m) = text::check_new_password(&password, name)
    {
        v.add("password", m);
    }
    let unit_id = match &a.unit {
        None => {
            if role.is_some_and(Role::needs_unit) {
                v.add("unit_id", msg::unit_required());
            }
            None
        }
        Some(unit) => {
            let found = match unit {
                UnitRef::Id(id) => match canonical_id(id) {
                    Some(id) => Unit::find(conn, &id)?,
                    None => None,
                },
                UnitRef::Code(code) => match text::clean_code(code) {
                    Ok(code) => Unit::find_by_code(conn, &code)?,
                    Err(_) => None,
                },
            };
            if found.is_none() {
                let message = match unit {
                    UnitRef::Id(_) => msg::no_unit(),
                    UnitRef::Code(_) => msg::no_unit(),
                };
                v.add(unit.field(), message);
            }
            found.map(|u| u.id)
        }
    };
    v.finish()?;
    let input = UserInput {
        username: username.unwrap_or_default(),
        full_name: full_name.unwrap_or_default(),
        email,
        role: role.unwrap_or(Role::Inspector),
        unit_id,
    };
    Ok(CheckedAccount { input, password, generated })
}

/// Creates a user with an already hashed password (`password::hash`, or the service's
/// `Hasher`) and its audit record; the username is checked free under a lock.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: UserInput,
    hash: String,
    now: NaiveDateTime,
) -> Result<User, Error> {
    write_tx(conn, |conn| {
        db::lock(conn, &[&format!("username:{}", input.username)])?;
        if User::find_by_username(conn, &input.username)?.is_some() {
            return Err(Error::conflict(msg::username_taken(&input.username)));
        }
        let user = User {
            id: new_id(),
            username: input.username,
            full_name: input.full_name,
            email: input.email,
            role: input.role.as_str().to_string(),
            unit_id: input.unit_id,
            active: true,
            password_hash: hash,
            password_changed_at: now,
            version: 1,
            created_at: now,
            updated_at: now,
            digest_daily_at: None,
        };
        user.insert(conn)?;
        AuditEntry::record(conn, actor, now, "create", "user", &user.id, None, Some(user.audit_snapshot()))?;
        Ok(user)
    })
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
/// A change to an account: any subset of its fields (`null` clears email and unit); a
/// password given is set (and every sign-in of the account ends).
pub struct AccountChange {
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub unit_id: Option<Option<String>>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

/// Checks that a role's unit requirement holds and the unit exists.
fn check_unit(conn: &mut DbConn, v: &mut Validator, role: Role, unit_id: Option<&str>) -> Result<(), Error> {
    match unit_id {
        None if role.needs_unit() => v.add("unit_id", msg::unit_required()),
        Some(id) if Unit::find(conn, id)?.is_none() => v.add("unit_id", msg::no_unit()),
        _ => {}
    }
    Ok(())
}

/// Changes account `id` as `caller` (an administrator) if `if_match` (when given) is its
/// version; a new password is hashed first, on the hashing threads. No administrator
/// removes their own rights, and the last active one stays.
pub async fn change(
    state: &AppState,
    caller: CurrentUser,
    id: &str,
    if_match: Option<i64>,
    p: AccountChange,
) -> Result<User, Error> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(id)?;
    // Hashed first, on the hashing threads and with no connection held; a weak password
    // is reported with every other bad field below.
    let new_hash = match p.password.clone() {
        Some(pw) => {
            let target = id.clone();
            let current = state.db(move |conn| User::find(conn, &target)?.ok_or(Error::NotFound)).await?;
            match text::check_new_password(&pw, &current.username) {
                Ok(()) => Ok(Some(state.hasher.hash(&caller.lane(), pw).await?)),
                Err(m) => Err(m),
            }
        }
        None => Ok(None),
    };
    state
        .op(move |conn, ctx| {
            apply_change(conn, ctx.now(), &caller.actor(), Some(&caller.user.id), &id, if_match, p, new_hash)
        })
        .await
}

/// The change itself, in one transaction with its audit record: what [`change`] runs for
/// the API and the console, and the command line's `user reset-password` and `user
/// deactivate` (as the system, `actor_user` None). `new_hash` is the new password's hash
/// or the reason it was refused.
#[allow(clippy::too_many_arguments)]
pub fn apply_change(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &Actor,
    actor_user: Option<&str>,
    id: &str,
    if_match: Option<i64>,
    p: AccountChange,
    new_hash: Result<Option<String>, crate::domain::validation::Message>,
) -> Result<User, Error> {
    write_tx(conn, |conn| {
        // Every account change takes this turn, so two administrators deactivating
        // each other cannot both count the other as still active.
        db::lock(conn, &["accounts"])?;
        let before = User::find(conn, id)?.ok_or(Error::NotFound)?;
        if if_match.is_some_and(|v| v != before.version) {
            return Err(Error::PreconditionFailed);
        }
        let mut after = before.clone();
        let mut v = Validator::new();
        if let Some(n) = p.full_name {
            match text::clean_required(&n, crate::domain::limits::NAME_MAX) {
                Ok(n) => after.full_name = n,
                Err(m) => v.add("full_name", m),
            }
        }
        if let Some(e) = p.email {
            match e.map(|e| text::clean_email(&e)).transpose() {
                Ok(e) => after.email = e,
                Err(m) => v.add("email", m),
            }
        }
        if let Some(r) = p.role {
            match Role::parse(&r) {
                Some(r) => after.role = r.as_str().to_string(),
                None => v.add("role", one_of(&Role::ALL.map(Role::as_str))),
            }
        }
        if let Some(u) = p.unit_id {
            match u.as_deref().map(parse_id).transpose() {
                Ok(u) => after.unit_id = u,
                Err(_) => v.add("unit_id", msg::no_unit()),
            }
        }
        if let Some(a) = p.active {
            after.active = a;
        }
        let role = Role::parse(&after.role).unwrap_or(Role::Inspector);
        if !v.has("unit_id") {
            check_unit(conn, &mut v, role, after.unit_id.as_deref())?;
        }
        let new_hash = new_hash.unwrap_or_else(|m| {
            v.add("password", m);
            None
        });
        v.finish()?;
        let stops_being_admin = before.role == "admin" && before.active && (!after.active || role != Role::Admin);
        if stops_being_admin && actor_user == Some(before.id.as_str()) {
            return Err(Error::conflict(msg::own_admin_account()));
        }
        if stops_being_admin && User::active_admins(conn)? <= 1 {
            return Err(Error::conflict(msg::last_admin()));
        }
        if let Some(h) = &new_hash {
            after.password_hash = h.clone();
            after.password_changed_at = now;
        }
        store_change(conn, &mut after, before.version, now)?;
        if !after.active || new_hash.is_some() {
            Session::revoke_all_of_user(conn, &after.id, None, now)?;
        }
        AuditEntry::record(
            conn,
            actor,
            now,
            "update",
            "user",
            &after.id,
            Some(before.audit_snapshot()),
            Some(after.audit_snapshot()),
        )?;
        Ok(after)
    })
}

/// Sets how `caller` takes their alerts: once a day at a local `HH:MM`, or (`None`) in a
/// digest each sweep. Audited.
pub fn set_digest_time(
    conn: &mut DbConn,
    ctx: &crate::casework::Ctx,
    caller: &CurrentUser,
    at: Option<String>,
) -> Result<User, Error> {
    let at = match at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => match chrono::NaiveTime::parse_from_str(t, "%H:%M") {
            Ok(time) => Some(time.format("%H:%M").to_string()),
            Err(_) => return Err(Error::field("digest_daily_at", msg::time_form())),
        },
    };
    let now = ctx.now();
    write_tx(conn, |conn| {
        let before = User::find(conn, &caller.user.id)?.ok_or(Error::NotFound)?;
        let mut after = before.clone();
        after.digest_daily_at = at;
        store_change(conn, &mut after, before.version, now)?;
        let snap = |u: &User| serde_json::json!({"digest_daily_at": u.digest_daily_at});
        AuditEntry::record(
            conn,
            &caller.actor(),
            now,
            "update",
            "user",
            &after.id,
            Some(snap(&before)),
            Some(snap(&after)),
        )?;
        Ok(after)
    })
}

/// Writes `after` as the next version of an account read at `read_version` (412 when
/// another change came in between).
pub fn store_change(conn: &mut DbConn, after: &mut User, read_version: i64, now: NaiveDateTime) -> Result<(), Error> {
    after.version = read_version + 1;
    after.updated_at = now;
    if after.update_if_version(conn, read_version)? { Ok(()) } else { Err(Error::PreconditionFailed) }
}

//! Creating accounts, with their validation, once: the API's `POST /users`, the CLI's
//! `user create`, the first administrator and the demo all go through here.

use chrono::NaiveDateTime;

use crate::auth::password;
use crate::db::{self, DbConn, write_tx};
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::domain::validation::Validator;
use crate::error::ApiError;
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
pub fn check(conn: &mut DbConn, a: NewAccount) -> Result<CheckedAccount, ApiError> {
    let mut v = Validator::new();
    let username =
        v.require("username", a.username).and_then(|u| text::clean_username(&u).map_err(|m| v.add("username", m)).ok());
    let full_name = v
        .require("full_name", a.full_name)
        .and_then(|n| text::clean_required(&n, 200).map_err(|m| v.add("full_name", m)).ok());
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
                v.add("unit_id", "Reviewers and unit heads must belong to a unit.");
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
                    UnitRef::Code(_) => "There is no unit with this code.".into(),
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
) -> Result<User, ApiError> {
    write_tx(conn, |conn| {
        db::lock(conn, &[&format!("username:{}", input.username)])?;
        if User::find_by_username(conn, &input.username)?.is_some() {
            return Err(ApiError::conflict(
                "username-taken",
                format!("The username \"{}\" is already taken.", input.username),
            ));
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
        };
        user.insert(conn)?;
        AuditEntry::record(conn, actor, now, "create", "user", &user.id, None, Some(user.audit_snapshot()))?;
        Ok(user)
    })
}

//! Accounts (administrators manage them; users are deactivated, never deleted).

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};

use super::instant;
use crate::accounts::{self, NewAccount, UnitRef};
use crate::auth::CurrentUser;
use crate::domain::role::{Role, one_of};
use crate::error::{Error, Validator};
use crate::model::user::{User, UserFilter};
use crate::paging::{Page, PageRequest};
use crate::state::AppState;
use crate::web::extract::{IfMatch, JsonBody, QueryParams, etag, parse_id};

/// A user as served: never the password hash.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: String,
    pub unit_id: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// `HH:MM`: alerts come once a day at this local time; null: a digest each sweep.
    pub digest_daily_at: Option<String>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            full_name: u.full_name,
            email: u.email,
            role: u.role,
            unit_id: u.unit_id,
            active: u.active,
            version: u.version,
            created_at: instant(u.created_at),
            updated_at: instant(u.updated_at),
            digest_daily_at: u.digest_daily_at,
        }
    }
}

/// A freshly created user, with the generated password shown this once.
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedUser {
    #[serde(flatten)]
    user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewUserRequest {
    username: Option<String>,
    full_name: Option<String>,
    email: Option<String>,
    role: Option<String>,
    unit_id: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    role: Option<String>,
    unit_id: Option<String>,
    active: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(tag = "users", request_body = NewUserRequest, responses((status = 201, description = "Created; the generated password, if any, is shown once", body = CreatedUser), (status = 409, description = "The user name is taken", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<NewUserRequest>,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin])?;
    let b = body.0;
    let account = NewAccount {
        username: b.username,
        full_name: b.full_name,
        email: b.email,
        role: b.role,
        unit: b.unit_id.map(UnitRef::Id),
        password: b.password,
    };
    let checked = state.db(move |conn| accounts::check(conn, account)).await?;
    let hash = state.hasher.hash(&caller.lane(), checked.password.clone()).await?;
    let shown_password = checked.generated.then(|| checked.password.clone());
    let user =
        state.op(move |conn, ctx| accounts::create(conn, &caller.actor(), checked.input, hash, ctx.now())).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .insert_header(("ETag", etag(user.version)))
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedUser { user: user.into(), initial_password: shown_password }))
}

#[utoipa::path(tag = "users", params(UserQuery), responses((status = 200, description = "A page of users", body = Page<UserView>)))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<UserQuery>,
) -> Result<web::Json<Page<UserView>>, Error> {
    caller.require(&[Role::Admin])?;
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut v = Validator::new();
    if let Some(r) = &q.role {
        v.check(Role::parse(r).is_some(), "role", one_of(&Role::ALL.map(Role::as_str)));
    }
    v.finish()?;
    let filter = UserFilter { role: q.role, unit_id: q.unit_id, active: q.active };
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state.db(move |conn| Ok(User::list(conn, &filter, after.as_deref(), fetch)?)).await?;
    Ok(web::Json(page.page(rows, |u| u.id.clone(), UserView::from)))
}

#[utoipa::path(tag = "users", responses((status = 200, description = "The user", body = UserView, headers(("ETag" = String, description = "The version, for If-Match")))))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(&path)?;
    let user = state.db(move |conn| User::find(conn, &id)?.ok_or(Error::NotFound)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(user.version))).json(UserView::from(user)))
}

#[utoipa::path(tag = "users", params(("If-Match" = Option<String>, Header, description = "The version you read (its ETag); a stale one gets 412")), request_body = crate::accounts::AccountChange, responses((status = 200, description = "Updated", body = UserView, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 409, description = "Conflicting change", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 412, description = "Stale If-Match", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<accounts::AccountChange>,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin])?;
    let user = accounts::change(&state, caller, &path, if_match.0, body.0).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(user.version))).json(UserView::from(user)))
}

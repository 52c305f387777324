//! The caller's own account.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;

use super::users::UserView;
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::state::AppState;
use crate::web::extract::{JsonBody, etag};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    current_password: Option<String>,
    new_password: Option<String>,
}

#[utoipa::path(tag = "me", responses((status = 200, description = "The signed-in user", body = UserView, headers(("ETag" = String, description = "The version, for If-Match")))))]
#[get("/me")]
pub async fn me(caller: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().insert_header(("ETag", etag(caller.user.version))).json(UserView::from(caller.user))
}

/// What the caller may change about their own account.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MePatch {
    /// `HH:MM` to take alerts once a day at that local time; null for a digest each sweep.
    #[serde(default, deserialize_with = "crate::web::extract::double_option")]
    digest_daily_at: Option<Option<String>>,
}

#[utoipa::path(tag = "me", request_body = MePatch, responses((status = 200, description = "The signed-in user, changed", body = UserView)))]
#[patch("/me")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<MePatch>,
) -> Result<HttpResponse, Error> {
    let Some(at) = body.0.digest_daily_at else {
        return Ok(HttpResponse::Ok()
            .insert_header(("ETag", etag(caller.user.version)))
            .json(UserView::from(caller.user)));
    };
    let user = state.op(move |conn, ctx| crate::accounts::set_digest_time(conn, ctx, &caller, at)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(user.version))).json(UserView::from(user)))
}

/// Changes the caller's password; every other sign-in of the account ends.
#[utoipa::path(tag = "me", request_body = PasswordChange, responses((status = 204, description = "Changed; other sign-ins are ended")))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<PasswordChange>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    crate::signin::change_password(&state, caller, b.current_password, b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

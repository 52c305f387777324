//! The caller's own account.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::extract::{JsonBody, etag};
use super::users::UserView;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;

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

/// Changes the caller's password; every other sign-in of the account ends.
#[utoipa::path(tag = "me", request_body = PasswordChange, responses((status = 204, description = "Changed; other sign-ins are ended")))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    crate::signin::change_password(&state, caller, b.current_password, b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

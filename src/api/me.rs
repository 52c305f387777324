//! The caller's own account.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::extract::{JsonBody, etag};
use super::users::UserView;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::db::write_tx;
use crate::domain::text;
use crate::error::{ApiError, Validator};
use crate::model::audit::AuditEntry;
use crate::model::session::Session;

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
    let mut v = Validator::new();
    let current = v.require("current_password", b.current_password);
    let new = v.require("new_password", b.new_password);
    if let Some(new) = &new
        && let Err(m) = text::check_new_password(new, &caller.user.username)
    {
        v.add("new_password", m);
    }
    v.finish()?;
    let (current, new) = (current.unwrap_or_default(), new.unwrap_or_default());
    if !state.hasher.verify(current, Some(caller.user.password_hash.clone())).await {
        return Err(ApiError::field("current_password", "The current password is not correct."));
    }
    let hash = state.hasher.hash(new).await.map_err(ApiError::internal)?;
    state
        .op(move |conn, ctx| {
            let now = ctx.now();
            write_tx(conn, |conn| {
                let mut user = caller.user.clone();
                user.password_hash = hash;
                user.password_changed_at = now;
                user.version += 1;
                user.updated_at = now;
                if !user.update_if_version(conn, caller.user.version)? {
                    return Err(ApiError::PreconditionFailed);
                }
                Session::revoke_all_of_user(conn, &user.id, Some(&caller.session_id), now)?;
                AuditEntry::record(conn, &caller.actor(), now, "change_password", "user", &user.id, None, None)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

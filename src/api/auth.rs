//! Sign-in, token refresh and sign-out.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{Error, Validator};
use crate::signin::{self, TokenPair};
use crate::state::AppState;
use crate::web::extract::{JsonBody, client_addr};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    username: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    refresh_token: Option<String>,
}

#[utoipa::path(tag = "auth", security(()), request_body = LoginRequest, responses((status = 200, description = "Signed in", body = TokenPair), (status = 401, description = "Wrong user name or password", content_type = "application/problem+json", body = crate::web::problem::Problem), (status = 429, description = "Too many failed attempts; see Retry-After", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let st = state.clone().into_inner();
    let pair = signin::sign_in(&state, body.username, body.password, client_addr(&req), move |conn, session, now| {
        signin::issue_pair(&st, conn, session, now)
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(pair))
}

#[utoipa::path(tag = "auth", security(()), request_body = RefreshRequest, responses((status = 200, description = "A new pair; the presented refresh token is spent", body = TokenPair), (status = 401, description = "Unknown, spent or expired refresh token", content_type = "application/problem+json", body = crate::web::problem::Problem)))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> Result<HttpResponse, Error> {
    let mut v = Validator::new();
    let presented = v.require("refresh_token", body.0.refresh_token.filter(|t| !t.is_empty()));
    v.finish()?;
    let pair = signin::refresh(state.into_inner(), presented.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(pair))
}

#[utoipa::path(tag = "auth", responses((status = 204, description = "The sign-in is ended")))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, Error> {
    state.op(move |conn, ctx| crate::signin::sign_out(conn, ctx, &user)).await?;
    Ok(HttpResponse::NoContent().finish())
}

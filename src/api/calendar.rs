//! The working-day calendar: everyone reads a year, administrators replace one.

use actix_web::{HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::domain::calendar::CalendarYear;
use crate::domain::role::Role;
use crate::error::Error;
use crate::state::AppState;
use crate::web::extract::{JsonBody, QueryParams};

/// A year of the calendar as served.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CalendarView {
    year: i32,
    #[serde(flatten)]
    days: CalendarYear,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// The year (default: this year in the deployment's time zone).
    year: Option<String>,
}

/// Reads `raw` as a year the service stores dates in.
fn year_of(raw: &str, field: &str) -> Result<i32, Error> {
    raw.parse::<i32>()
        .ok()
        .filter(|y| (crate::domain::dates::MIN_YEAR..=crate::domain::dates::MAX_YEAR).contains(y))
        .ok_or_else(|| Error::field(field, crate::domain::dates::out_of_range()))
}

#[utoipa::path(tag = "calendar", params(CalendarQuery), responses((status = 200, description = "The year's holidays and make-up working days", body = CalendarView)))]
#[get("/calendar")]
pub async fn get(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    q: QueryParams<CalendarQuery>,
) -> Result<web::Json<CalendarView>, Error> {
    let ctx = state.ctx();
    let year = match q.0.year.as_deref() {
        Some(raw) => year_of(raw, "year")?,
        None => chrono::Datelike::year(&ctx.today()?),
    };
    let days = state.db(move |conn| Ok(crate::model::calendar::year(conn, year)?)).await?;
    Ok(web::Json(CalendarView { year, days }))
}

#[utoipa::path(tag = "calendar", request_body = CalendarYear, responses((status = 200, description = "The year as now stored; deadlines already set do not move", body = CalendarView)))]
#[put("/calendar/{year}")]
pub async fn replace(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    body: JsonBody<CalendarYear>,
) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin])?;
    let year = path.parse::<i32>().map_err(|_| Error::NotFound)?;
    let days = state
        .op(move |conn, ctx| crate::administration::replace_calendar_year(conn, ctx, &caller.actor(), year, body.0))
        .await?;
    Ok(HttpResponse::Ok().json(CalendarView { year, days }))
}

//! `GET /reports/summary` and `/reports/series`: the figures of `crate::reports`, as
//! JSON or (summary) as a file.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::reports::{ReportQuery, Series, Summary, prepare, summary_table};
use crate::state::AppState;
use crate::table::FileFormat;
use crate::web::extract::QueryParams;

#[utoipa::path(tag = "reports", params(ReportQuery), responses((status = 200, description = "The figures; with format=csv|xlsx (or Accept) the same as a file", content((Summary = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/reports/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    caller: CurrentUser,
    req: HttpRequest,
    q: QueryParams<ReportQuery>,
) -> Result<HttpResponse, Error> {
    let asked = prepare(&caller, &q.0)?;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = FileFormat::pick(q.0.format.as_deref(), accept)?;
    let now = state.clock.now_naive();
    let body = state.db(move |conn| Ok(asked.summary(conn, now)?)).await?;
    match format {
        Some(format) => crate::web::download::table(
            &summary_table(&body, crate::web::lang::preferred(&req)),
            format,
            "bao-cao-tong-hop",
        ),
        None => Ok(HttpResponse::Ok().json(body)),
    }
}

/// Detected and handled cases per month of detection.
#[utoipa::path(tag = "reports", params(ReportQuery), responses((status = 200, description = "Detected and handled cases per month of detection", body = Series)))]
#[get("/reports/series")]
pub async fn series(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<ReportQuery>,
) -> Result<HttpResponse, Error> {
    let asked = prepare(&caller, &q.0)?;
    if q.0.interval.as_deref().unwrap_or("month") != "month" {
        return Err(Error::field("interval", crate::error::msg::one_of(&["month"])));
    }
    let now = state.clock.now_naive();
    Ok(HttpResponse::Ok().json(state.db(move |conn| Ok(asked.series(conn, now)?)).await?))
}

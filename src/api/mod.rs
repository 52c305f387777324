//! The HTTP API: one module per resource, thin handlers.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod case_export;
pub mod cases;
pub mod directives;
pub mod export;
pub mod extract;
pub mod health;
pub mod me;
pub mod middleware;
pub mod notifications;
pub mod pagination;
pub mod reports;
pub mod units;
pub mod users;

use actix_web::web;
use chrono::{NaiveDate, NaiveDateTime, SecondsFormat};

use crate::config::Settings;
use crate::error::{ApiError, Validator};

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.app_data(web::PayloadConfig::new(settings.server.body_limit_bytes))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
        .service(health::healthz)
        .service(health::readyz)
        .service(
            web::scope("/api/v1")
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(me::me)
                .service(me::change_password)
                .service(users::list)
                .service(users::create)
                .service(users::get)
                .service(users::update)
                .service(units::list)
                .service(units::create)
                .service(units::get)
                .service(units::tree)
                .service(units::update)
                .service(directives::list)
                .service(directives::get)
                .service(directives::import)
                .service(directives::list_indicators)
                .service(directives::measures)
                .service(campaigns::list)
                .service(campaigns::create)
                .service(campaigns::get)
                .service(campaigns::update)
                .service(cases::list)
                .service(cases::create)
                .service(cases::get)
                .service(cases::update)
                .service(cases::transition)
                .service(cases::events)
                .service(cases::comment)
                .service(attachments::upload)
                .service(attachments::list)
                .service(attachments::download)
                .service(notifications::mine)
                .service(notifications::mark_read)
                .service(notifications::outbox)
                .service(notifications::retry)
                .service(reports::summary)
                .service(reports::series)
                .service(audit::list),
        )
        .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(ApiError::NotFound) }));
}

/// An instant as served: RFC 3339 in UTC, to the second.
pub fn instant(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads an instant filter: RFC 3339, or a date (its start, UTC). Records a bad value in `v`.
pub fn parse_instant(v: &mut Validator, field: &str, raw: Option<&str>) -> Option<NaiveDateTime> {
    let raw = raw?;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.naive_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    v.add(field, "Use a date (2024-09-25) or an instant (2024-09-25T03:00:00Z).");
    None
}

/// Reads a `from`/`to` pair of dates (both inclusive), recording bad values and a
/// reversed period in `v`.
pub fn parse_period(v: &mut Validator, from: Option<&str>, to: Option<&str>) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let mut date = |field: &str, raw: Option<&str>| {
        raw.and_then(|r| {
            NaiveDate::parse_from_str(r, "%Y-%m-%d").map_err(|_| v.add(field, "Use a date like 2024-09-25.")).ok()
        })
    };
    let (from, to) = (date("from", from), date("to", to));
    if let (Some(f), Some(t)) = (from, to) {
        v.check(f <= t, "to", "Must not be before from.");
    }
    (from, to)
}

//! The HTTP API: one module per resource, thin handlers.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod caller;
pub mod campaigns;
pub mod cases;
pub mod decisions;
pub mod directives;
pub mod handling;
pub mod health;
pub mod imports;
pub mod ledger;
pub mod me;
pub mod notifications;
pub mod openapi;
pub mod reorganisations;
pub mod reports;
pub mod subjects;
pub mod units;
pub mod users;
pub mod wire;

use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::Error;

/// Mounts every route; each is collected into the OpenAPI document as it is mounted.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz);
    cfg.service(health::readyz);
    cfg.service(health::metrics);
    cfg.service(openapi::page);
    cfg.service(openapi::asset);
    cfg.service(scope("/api/v1").configure(api_v1).default_service(web::to(api_not_found)));
    cfg.service(scope("/api").default_service(web::to(api_not_found)));
}

/// Any other address under `/api`: a problem+json 404 (elsewhere it is the console's page).
async fn api_not_found() -> Result<actix_web::HttpResponse, Error> {
    Err(Error::NotFound)
}

/// The routes under `/api/v1`, in three groups mounted one route at a time (a long
/// builder chain overflows a worker's stack in debug builds); the order is the order of
/// matching.
fn api_v1(cfg: &mut ServiceConfig) {
    people_and_units(cfg);
    catalogs_and_cases(cfg);
    oversight(cfg);
}

/// Sign-in, accounts, units and their reorganisations, register imports.
fn people_and_units(cfg: &mut ServiceConfig) {
    cfg.service(openapi::openapi_json);
    cfg.service(auth::login);
    cfg.service(auth::refresh);
    cfg.service(auth::logout);
    cfg.service(me::me);
    cfg.service(me::update);
    cfg.service(me::change_password);
    cfg.service(users::list);
    cfg.service(users::create);
    cfg.service(users::get);
    cfg.service(users::update);
    cfg.service(units::list);
    cfg.service(units::create);
    cfg.service(units::get);
    cfg.service(units::tree);
    cfg.service(units::update);
    cfg.service(units::lineage);
    cfg.service(reorganisations::apply);
    cfg.service(reorganisations::list);
    cfg.service(imports::template);
    cfg.service(imports::import);
    cfg.service(imports::list);
    cfg.service(imports::get);
}

/// Catalogs, campaigns, cases and what hangs on them.
fn catalogs_and_cases(cfg: &mut ServiceConfig) {
    cfg.service(directives::list);
    cfg.service(directives::get);
    cfg.service(directives::import);
    cfg.service(directives::list_indicators);
    cfg.service(handling::measures);
    cfg.service(handling::replace);
    cfg.service(handling::levels);
    cfg.service(campaigns::list);
    cfg.service(campaigns::create);
    cfg.service(campaigns::get);
    cfg.service(campaigns::update);
    cfg.service(cases::list);
    cfg.service(cases::create);
    cfg.service(cases::get);
    cfg.service(cases::update);
    cfg.service(cases::transition);
    cfg.service(decisions::create);
    cfg.service(decisions::list);
    cfg.service(cases::events);
    cfg.service(cases::comment);
    cfg.service(attachments::upload);
    cfg.service(attachments::list);
    cfg.service(attachments::download);
}

/// Notifications, the subject registry, reports, the audit trail, the calendar.
fn oversight(cfg: &mut ServiceConfig) {
    cfg.service(notifications::mine);
    cfg.service(notifications::mark_read);
    cfg.service(notifications::outbox);
    cfg.service(notifications::retry);
    cfg.service(subjects::list);
    cfg.service(subjects::get);
    cfg.service(subjects::update);
    cfg.service(subjects::merge);
    cfg.service(reports::summary);
    cfg.service(reports::series);
    cfg.service(audit::list);
    cfg.service(ledger::list);
    cfg.service(ledger::latest);
    cfg.service(ledger::case_proof);
    cfg.service(calendar::get);
    cfg.service(calendar::replace);
}

pub use crate::domain::dates::instant;

//! The web console: server-rendered pages in Vietnamese (English as a choice) for the
//! people who use the service, one module per screen. Pages call the same operations as
//! the JSON API (`casework`, `signin`, the models' scoped queries) and nothing beneath
//! them, so a rule exists once.

mod admin;
pub mod assets;
mod case_form;
mod case_page;
mod cases;
mod catalog;
mod form;
mod home;
mod imports;
mod layer;
mod ledger;
mod me;
mod render;
mod reorganisations;
mod reports;
pub mod session;
mod subjects;

use actix_web::web;

pub use layer::{Fail, console_layer, not_found};
pub use render::Console;

/// Mounts the console's routes (everything outside `/api`, `/docs` and the probes).
pub fn configure(cfg: &mut web::ServiceConfig) {
    own_pages(cfg);
    registry_and_reports(cfg);
    administration(cfg);
}

/// Signing in and out, one's account and notifications, cases and their pages.
fn own_pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::page))
        .route("/sign-in", web::get().to(me::sign_in_form))
        .route("/sign-in", web::post().to(me::sign_in))
        .route("/sign-out", web::post().to(me::sign_out))
        .route("/language", web::post().to(me::language))
        .route("/account/password", web::get().to(me::password_form))
        .route("/account/password", web::post().to(me::change_password))
        .route("/account/digest", web::post().to(me::digest))
        .route("/notifications", web::get().to(me::notifications))
        .route("/notifications/{id}/read", web::post().to(me::mark_read))
        .route("/cases", web::get().to(cases::list))
        .route("/cases/export", web::get().to(cases::export))
        .route("/cases/bulk-accept", web::post().to(cases::bulk_accept))
        .route("/cases/new", web::get().to(case_form::new_form))
        .route("/cases/new", web::post().to(case_form::create))
        .route("/cases/{id}", web::get().to(case_page::page))
        .route("/cases/{id}/edit", web::get().to(case_form::edit_form))
        .route("/cases/{id}/edit", web::post().to(case_form::update))
        .route("/cases/{id}/transition", web::post().to(case_page::transition))
        .route("/cases/{id}/decisions", web::post().to(case_page::decide));
}

/// The catalog, the subject registry, evidence, reports.
fn registry_and_reports(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalog", web::get().to(catalog::page))
        .route("/subjects/suggest", web::get().to(subjects::suggest))
        .route("/subjects/{id}", web::get().to(subjects::page))
        .route("/subjects/{id}/edit", web::post().to(subjects::correct))
        .route("/subjects/{id}/merge", web::post().to(subjects::merge))
        .route("/cases/{id}/comments", web::post().to(case_page::comment))
        .route("/cases/{id}/evidence", web::post().to(case_page::upload))
        .route("/cases/{id}/evidence/{attachment}", web::get().to(case_page::download))
        .route("/reports", web::get().to(reports::page))
        .route("/reports/export", web::get().to(reports::export));
}

/// Administration, imports and the assets.
fn administration(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(admin::users))
        .route("/admin/users", web::post().to(admin::create_user))
        .route("/admin/users/{id}", web::get().to(admin::user))
        .route("/admin/users/{id}", web::post().to(admin::update_user))
        .route("/admin/units", web::get().to(admin::units))
        .route("/admin/units", web::post().to(admin::create_unit))
        .route("/admin/units/{id}", web::get().to(admin::unit))
        .route("/admin/units/{id}", web::post().to(admin::update_unit))
        .route("/admin/outbox", web::get().to(admin::outbox))
        .route("/admin/outbox/{id}/retry", web::post().to(admin::retry))
        .route("/admin/audit", web::get().to(admin::audit))
        .route("/admin/ledger", web::get().to(ledger::page))
        .route("/admin/ledger/verify", web::post().to(ledger::verify))
        .route("/admin/reorganisations", web::get().to(reorganisations::index))
        .route("/admin/reorganisations/template.csv", web::get().to(reorganisations::template))
        .route("/admin/reorganisations/preview", web::post().to(reorganisations::preview))
        .route("/admin/reorganisations/apply", web::post().to(reorganisations::apply))
        .route("/imports", web::get().to(imports::index))
        .route("/imports/template.xlsx", web::get().to(imports::template_file))
        .route("/imports/preview", web::post().to(imports::preview))
        .route("/imports/apply", web::post().to(imports::apply))
        .route("/admin/catalog", web::get().to(admin::catalog))
        .route("/admin/catalog", web::post().to(admin::import_catalog))
        .route("/assets/{name}", web::get().to(assets::serve));
}

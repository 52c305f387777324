//! Pages from template files (`templates/console/`, compiled in, auto-escaped), with the
//! reader's language, their session's CSRF token and the assets' hashed addresses.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use minijinja::value::Kwargs;
use minijinja::{Environment, State, Value, context};

use super::Fail;
use super::assets::Assets;
use super::session::Viewer;
use crate::error::Error;
use crate::i18n::{self, Catalogs, Lang};

/// The console's templates, catalogs and settings, built once at startup.
pub struct Console {
    env: Environment<'static>,
    /// The shared catalogs (`i18n::catalogs`), which the API and the exports speak from too.
    pub catalogs: &'static Catalogs,
    pub assets: Assets,
    /// The signing secret, which CSRF tokens are derived from.
    pub secret: Vec<u8>,
    /// Cookies are Secure when the public address is https.
    pub secure: bool,
    pub tz: Tz,
}

/// Every template, by the name pages render it under.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/console/base.html")),
    ("macros.html", include_str!("../../templates/console/macros.html")),
    ("sign_in.html", include_str!("../../templates/console/sign_in.html")),
    ("home.html", include_str!("../../templates/console/home.html")),
    ("cases.html", include_str!("../../templates/console/cases.html")),
    ("case.html", include_str!("../../templates/console/case.html")),
    ("case_form.html", include_str!("../../templates/console/case_form.html")),
    ("notifications.html", include_str!("../../templates/console/notifications.html")),
    ("password.html", include_str!("../../templates/console/password.html")),
    ("error.html", include_str!("../../templates/console/error.html")),
    ("reports.html", include_str!("../../templates/console/reports.html")),
    ("subject.html", include_str!("../../templates/console/subject.html")),
    ("catalog.html", include_str!("../../templates/console/catalog.html")),
    ("admin_nav.html", include_str!("../../templates/console/admin_nav.html")),
    ("admin_users.html", include_str!("../../templates/console/admin_users.html")),
    ("admin_user.html", include_str!("../../templates/console/admin_user.html")),
    ("admin_units.html", include_str!("../../templates/console/admin_units.html")),
    ("admin_unit.html", include_str!("../../templates/console/admin_unit.html")),
    ("admin_outbox.html", include_str!("../../templates/console/admin_outbox.html")),
    ("admin_ledger.html", include_str!("../../templates/console/admin_ledger.html")),
    ("admin_audit.html", include_str!("../../templates/console/admin_audit.html")),
    ("admin_catalog.html", include_str!("../../templates/console/admin_catalog.html")),
    ("admin_reorganisations.html", include_str!("../../templates/console/admin_reorganisations.html")),
    ("imports.html", include_str!("../../templates/console/imports.html")),
];

/// The limits the forms state, from the constants the core's checks use
/// ([`crate::domain::limits`]) and the configured file size.
fn limits(file_max_bytes: usize) -> Value {
    use crate::domain::limits as l;
    minijinja::context! {
        title => l::TITLE_MAX, description => l::DESCRIPTION_MAX, name => l::NAME_MAX,
        identifier => l::IDENTIFIER_MAX, note => l::NOTE_MAX, comment => l::COMMENT_MAX,
        authority => l::AUTHORITY_MAX, reference => l::REFERENCE_MAX, decision_note => l::DECISION_NOTE_MAX,
        query => l::QUERY_MAX, working_days => l::WORKING_DAYS_MAX, password_min => l::PASSWORD_MIN,
        password_max => l::PASSWORD_MAX, file_bytes => file_max_bytes,
    }
}

impl Console {
    /// The console's templates and their functions; `file_max_bytes` is the largest
    /// evidence file the forms accept.
    pub fn new(secret: Vec<u8>, public_url: &str, tz: Tz, file_max_bytes: usize) -> Result<Self, String> {
        let catalogs = i18n::catalogs();
        let assets = Assets::new();
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(|e| format!("templates/console/{name}: {e}"))?;
        }
        let c = catalogs;
        env.add_function("t", move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
            let lang = lang_in(state);
            let mut args = Vec::new();
            for name in kwargs.args() {
                let v: Value = kwargs.get(name)?;
                args.push((name, v.to_string()));
            }
            Ok(c.text(lang, key, &args))
        });
        env.add_global("limits", limits(file_max_bytes));
        env.add_filter("num", |state: &State, n: i64| i18n::number(lang_in(state), n));
        env.add_filter("size", |state: &State, bytes: usize| i18n::size(lang_in(state), bytes));
        env.add_filter("pct", |state: &State, part: i64, whole: i64| i18n::percent(lang_in(state), part, whole));
        env.add_filter("date", |d: &str| {
            chrono::NaiveDate::parse_from_str(&d[..d.len().min(10)], "%Y-%m-%d").map(i18n::date).unwrap_or_default()
        });
        env.add_filter("datetime", move |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string())
                .unwrap_or_default()
        });
        Ok(Console { env, catalogs, assets, secret, secure: public_url.starts_with("https://"), tz })
    }

    /// Renders `template` for `viewer` (or a signed-out reader in `lang`) with `ctx`.
    pub fn page(&self, viewer: Option<&Viewer>, lang: Lang, template: &str, ctx: Value) -> Result<HttpResponse, Fail> {
        self.page_with_status(StatusCode::OK, viewer, lang, template, ctx)
    }

    pub fn page_with_status(
        &self,
        status: StatusCode,
        viewer: Option<&Viewer>,
        lang: Lang,
        template: &str,
        ctx: Value,
    ) -> Result<HttpResponse, Fail> {
        let me = viewer.map(|v| {
            context! {
                name => v.user.user.full_name.clone(),
                username => v.user.user.username.clone(),
                role => v.user.role.as_str(),
                unread => v.unread,
            }
        });
        let base = context! {
            lang => lang.code(),
            me => me,
            csrf => viewer.map(|v| v.csrf.clone()),
            css => self.assets.css_path(),
            js => self.assets.js_path(),
            ..ctx
        };
        let html = self
            .env
            .get_template(template)
            .and_then(|t| t.render(base))
            .map_err(|e| Fail(Error::internal(format!("rendering {template}: {e:#}"))))?;
        Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html))
    }

    /// A failure's page: its title and explanation, the request id for a 500, a way home.
    pub fn error_page(&self, lang: Lang, status: StatusCode, key: &str, request_id: &str, path: &str) -> HttpResponse {
        let ctx = context! { key => key, status => status.as_u16(), request_id => request_id, path => path };
        self.page_with_status(status, None, lang, "error.html", ctx).unwrap_or_else(|f| {
            tracing::error!(error = %f, "error page failed");
            HttpResponse::InternalServerError().finish()
        })
    }

    /// Words from the catalog, for text built outside templates.
    pub fn text(&self, lang: Lang, key: &str) -> String {
        self.catalogs.text(lang, key, &[])
    }

    /// A catalog text with arguments.
    pub fn text_with(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        self.catalogs.text(lang, key, args)
    }
}

fn lang_in(state: &State) -> Lang {
    state.lookup("lang").and_then(|v| v.as_str().and_then(Lang::parse)).unwrap_or(Lang::Vi)
}

/// After a form: on to `to` (303, so a reload does not post again), a path of this site
/// only ([`local_path`]); anything else goes to the start page.
pub fn see_other(to: impl Into<String>) -> HttpResponse {
    let to = to.into();
    let to = local_path(&to).unwrap_or("/");
    HttpResponse::SeeOther().insert_header((actix_web::http::header::LOCATION, to)).finish()
}

/// `to` if it is a path of this site that no browser can read as another host: only the
/// characters a path may hold, printable ASCII in the query (no control characters,
/// spaces or backslashes anywhere: browsers drop the first and turn the last into `/`),
/// and, once percent-decoded, no `//`, backslash, control character or dot segment in
/// the path.
pub fn local_path(to: &str) -> Option<&str> {
    let (path, query) = to.split_once('?').unwrap_or((to, ""));
    let path_char = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/%".contains(c);
    let query_char = |c: char| c.is_ascii_graphic() && c != '\\';
    if !path.starts_with('/') || !path.chars().all(path_char) || !query.chars().all(query_char) {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let unsafe_path = decoded.contains("//")
        || decoded.contains('\\')
        || decoded.chars().any(char::is_control)
        || decoded.split('/').any(|segment| segment == "." || segment == "..");
    (!unsafe_path).then_some(to)
}

/// An instant as the console's filters read it (RFC 3339, UTC).
pub fn instant(t: NaiveDateTime) -> String {
    crate::domain::dates::instant(t)
}

/// A deadline as people read it ([`crate::domain::deadline::shown`]), with whole days
/// left until its last day (negative: overdue).
pub fn deadline_view(deadline: NaiveDateTime, now: NaiveDateTime, tz: Tz) -> Value {
    use crate::domain::deadline::{as_date, shown};
    let last_day = as_date(deadline, tz).unwrap_or_else(|| deadline.and_utc().with_timezone(&tz).date_naive());
    let today = now.and_utc().with_timezone(&tz).date_naive();
    context! { text => shown(deadline, tz), days_left => (last_day - today).num_days(), passed => deadline <= now }
}

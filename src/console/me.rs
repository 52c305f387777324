//! Signing in and out, the language switch, one's password, one's notifications.

use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use minijinja::context;
use serde::Deserialize;

use super::form::{FormData, field_errors};
use super::render::{instant, local_path, see_other};
use super::session::{self, SIGN_IN_COOKIE, Viewer, lang_of};
use super::{Console, Fail};
use crate::auth::constant_eq;
use crate::casework::scope_of;
use crate::error::Error;
use crate::i18n::Lang;
use crate::model::alert::Alert;
use crate::model::case::CaseScope;
use crate::model::session::Session;
use crate::state::AppState;
use crate::web::extract::client_addr;

/// Where to go after signing in: a path of this site only ([`local_path`]), never back to
/// the sign-in form.
fn safe_next(next: Option<&str>) -> String {
    match next.and_then(local_path) {
        Some(n) if !n.starts_with("/sign-in") => n.to_string(),
        _ => "/".into(),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The sign-in form as one reader sees it: where they go next and the name they typed.
struct SignInForm<'a> {
    console: &'a Console,
    lang: Lang,
    next: String,
    username: String,
}

impl SignInForm<'_> {
    /// The form, with a fresh token for its double-submit cookie.
    fn page(&self, errors: minijinja::Value, notice: Option<String>, status: StatusCode) -> Result<HttpResponse, Fail> {
        let token = crate::auth::token::new_refresh_token().0;
        let ctx = context! { next => &self.next, username => &self.username, errors => errors, notice => notice, signin_token => token.clone() };
        let mut res = self.console.page_with_status(status, None, self.lang, "sign_in.html", ctx)?;
        let cookie = session::cookie(self.console, SIGN_IN_COOKIE, token);
        res.add_cookie(&cookie).map_err(Error::internal)?;
        Ok(res)
    }

    /// Where a sign-in leads: on to `next` with the session cookie, or the form again
    /// saying why not.
    fn answer(&self, outcome: Result<Cookie<'static>, Error>) -> Result<HttpResponse, Fail> {
        let (console, lang) = (self.console, self.lang);
        match outcome {
            Ok(cookie) => {
                let mut res = see_other(self.next.as_str());
                res.add_cookie(&cookie).map_err(Error::internal)?;
                res.add_removal_cookie(&session::cookie(console, SIGN_IN_COOKIE, String::new()))
                    .map_err(Error::internal)?;
                Ok(res)
            }
            Err(Error::Unauthorized) => {
                self.page(context! {}, Some(console.text(lang, "signin-wrong")), StatusCode::UNAUTHORIZED)
            }
            Err(Error::Throttled { retry_after_secs }) => {
                let minutes = (retry_after_secs + 59) / 60;
                let notice = console.catalogs.text(lang, "signin-throttled", &[("minutes", minutes.to_string())]);
                let mut res = self.page(context! {}, Some(notice), StatusCode::TOO_MANY_REQUESTS)?;
                res.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
                Ok(res)
            }
            Err(e) => {
                let errors = field_errors(lang, e)?;
                self.page(minijinja::Value::from(errors), None, StatusCode::UNPROCESSABLE_ENTITY)
            }
        }
    }
}

/// `GET /sign-in?next=…`
pub async fn sign_in_form(
    req: HttpRequest,
    console: web::Data<Console>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, Fail> {
    let form = SignInForm {
        console: &console,
        lang: lang_of(&req),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    };
    form.page(context! {}, None, StatusCode::OK)
}

/// `POST /sign-in`: the same sign-in as the API's, answered with the session cookie.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: web::Data<Console>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let data = FormData::parse(&body);
    let form = SignInForm {
        console: &console,
        lang: lang_of(&req),
        next: safe_next(data.get("next").as_deref()),
        username: data.get("username").unwrap_or_default(),
    };
    let cookie_token = req.cookie(SIGN_IN_COOKIE).map(|c| c.value().to_string());
    if !matches!((&cookie_token, data.csrf()), (Some(c), Some(f)) if constant_eq(c, &f)) {
        // An expired form, or one posted from elsewhere: the form again, fresh.
        return form.page(context! {}, Some(console.text(form.lang, "signin-expired-form")), StatusCode::FORBIDDEN);
    }
    let (st, co) = (state.clone().into_inner(), console.clone().into_inner());
    let idle = state.settings.auth.console_idle_secs;
    let outcome = crate::signin::sign_in(
        &state,
        data.get("username"),
        data.get("password"),
        client_addr(&req),
        move |conn, s, now| {
            Session::extend(conn, &s.id, now + Duration::seconds(idle))?;
            session::session_cookie(&st, &co, s, now.and_utc().timestamp())
        },
    )
    .await;
    form.answer(outcome)
}

/// `POST /sign-out`: ends the session record, so the cookie is worthless everywhere.
pub async fn sign_out(state: web::Data<AppState>, viewer: Viewer, body: web::Bytes) -> Result<HttpResponse, Fail> {
    viewer.form(&body)?;
    let user = viewer.user;
    state.op(move |conn, ctx| crate::signin::sign_out(conn, ctx, &user)).await?;
    let mut res = see_other("/sign-in");
    let mut gone = actix_web::cookie::Cookie::build(session::SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    res.add_cookie(&gone).map_err(Error::internal)?;
    Ok(res)
}

/// `POST /language`: the reader's choice, kept in a cookie; back to where they were.
pub async fn language(req: HttpRequest, console: web::Data<Console>, body: web::Bytes) -> Result<HttpResponse, Fail> {
    let form = FormData::parse(&body);
    let lang = form.get("lang").and_then(|l| Lang::parse(&l)).unwrap_or(Lang::Vi);
    // Not a state change of any record, but still only from our own pages.
    let same_site = req.headers().get("sec-fetch-site").is_none_or(|v| v == "same-origin");
    if !same_site {
        return Err(Fail(Error::Forbidden));
    }
    // Back to the page the switch was pressed on (a path of this site only).
    let back = req
        .headers()
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| format!("{}{}", u.path(), u.query().map(|q| format!("?{q}")).unwrap_or_default()));
    let mut res = see_other(safe_next(back.as_deref()));
    let mut c = session::cookie(&console, session::LANG_COOKIE, lang.code().into());
    c.set_max_age(actix_web::cookie::time::Duration::days(365));
    res.add_cookie(&c).map_err(Error::internal)?;
    Ok(res)
}

/// `GET /account/password`
pub async fn password_form(console: web::Data<Console>, viewer: Viewer) -> Result<HttpResponse, Fail> {
    let digest = viewer.user.user.digest_daily_at.clone();
    let ctx = context! { errors => context! {}, done => false, digest => digest };
    console.page(Some(&viewer), viewer.lang, "password.html", ctx)
}

/// `POST /account/digest`: alerts once a day at a time, or in a digest each sweep.
pub async fn digest(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let at = (form.get("mode").as_deref() == Some("daily")).then(|| form.get("at").unwrap_or_default());
    let caller = viewer.user.clone();
    match state.op(move |conn, ctx| crate::accounts::set_digest_time(conn, ctx, &caller, at)).await {
        Ok(_) => Ok(see_other("/account/password")),
        Err(e) => {
            let errors = field_errors(viewer.lang, e)?;
            let ctx = context! { errors => errors, done => false, digest => form.get("at") };
            console.page_with_status(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                Some(&viewer),
                viewer.lang,
                "password.html",
                ctx,
            )
        }
    }
}

/// `POST /account/password`: the same change as the API's; other sign-ins end.
pub async fn change_password(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let outcome = crate::signin::change_password(
        &state,
        viewer.user.clone(),
        form.get("current_password"),
        form.get("new_password"),
    )
    .await;
    let lang = viewer.lang;
    match outcome {
        Ok(()) => {
            let ctx =
                context! { errors => context! {}, done => true, digest => viewer.user.user.digest_daily_at.clone() };
            console.page(Some(&viewer), lang, "password.html", ctx)
        }
        Err(e) => {
            let errors = field_errors(lang, e)?;
            let ctx = context! { errors => errors, done => false, digest => viewer.user.user.digest_daily_at.clone() };
            console.page_with_status(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                Some(&viewer),
                lang,
                "password.html",
                ctx,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
}

/// `GET /notifications`: the reader's alerts about cases they may still see, newest first.
pub async fn notifications(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, Fail> {
    const PAGE: i64 = 50;
    let scope = scope_of(&viewer.user).unwrap_or(CaseScope::Nothing);
    let (user_id, now) = (viewer.user.user.id.clone(), state.clock.now_naive());
    let after = q.cursor.as_deref().and_then(crate::model::canonical_id);
    let rows = state
        .db(move |conn| Ok(Alert::of_user(conn, &user_id, &scope, now, false, after.as_deref(), PAGE + 1)?))
        .await?;
    let more = rows.len() as i64 > PAGE;
    let items: Vec<_> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|(a, number, title)| {
            context! {
                id => a.id, case_id => a.case_id, number => number, title => title, level => a.level,
                deadline_at => instant(a.deadline_at), read => a.read_at.is_some(), created_at => instant(a.created_at),
            }
        })
        .collect();
    let next = if more { items.last().and_then(|i| i.get_attr("id").ok()).map(|v| v.to_string()) } else { None };
    console.page(Some(&viewer), viewer.lang, "notifications.html", context! { items => items, next => next })
}

/// `POST /notifications/{id}/read`, then to the case it is about (or back to the list).
pub async fn mark_read(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let form = viewer.form(&body)?;
    let id = crate::web::extract::parse_id(&path)?;
    let user_id = viewer.user.user.id.clone();
    state
        .op(
            move |conn, ctx| {
                if Alert::mark_read(conn, &user_id, &id, ctx.now())? { Ok(()) } else { Err(Error::NotFound) }
            },
        )
        .await?;
    let to = form.get("case_id").and_then(|c| crate::model::canonical_id(&c)).map(|c| format!("/cases/{c}"));
    Ok(see_other(to.unwrap_or_else(|| "/notifications".into())))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_sign_in_only_this_site_is_a_destination() {
        assert_eq!(safe_next(Some("/cases/abc?x=1")), "/cases/abc?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/sign-in?next=/x")), "/");
        assert_eq!(safe_next(None), "/");
        // Browsers drop tabs and newlines, and read a backslash as a slash.
        for evil in
            ["/\t/evil.example", "/\n/evil.example", "/\r//evil.example", "/%2F/evil.example", "/%5Cevil.example"]
        {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        for evil in ["/./\\evil.example", "/.//evil.example", "/cases/../../evil", "/ /evil.example", "/\u{0}x"] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        assert_eq!(safe_next(Some("/cases?q=Nguy%E1%BB%85n&status=open")), "/cases?q=Nguy%E1%BB%85n&status=open");
    }
}

//! The start page, by role: *Việc của tôi* for inspectors, the review queue for
//! reviewers, *Đơn vị tôi* for unit heads.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::cases::{rows, unit_choice};
use super::session::Viewer;
use super::{Console, Fail};
use crate::casework::queue::{Queue, queue};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct HomeQuery {
    tab: Option<String>,
}

/// `GET /`
pub async fn page(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    q: web::Query<HomeQuery>,
) -> Result<HttpResponse, Fail> {
    render(&state, &console, &viewer, q.tab.clone(), None, StatusCode::OK).await
}

/// Each reviewer tab with its count.
fn tab_counts(c: &crate::domain::report::Counts) -> Vec<Value> {
    [("open", c.open), ("in_handling", c.in_handling), ("remediated", c.remediated), ("overdue", c.overdue)]
        .into_iter()
        .map(|(tab, count)| context! { tab => tab, count => count })
        .collect()
}

/// The start page, with the results of a bulk action when one was just taken.
pub async fn render(
    state: &AppState,
    console: &Console,
    viewer: &Viewer,
    tab: Option<String>,
    results: Option<Vec<Value>>,
    status: StatusCode,
) -> Result<HttpResponse, Fail> {
    let (now, tz, lang) = (state.clock.now_naive(), console.tz, viewer.lang);
    let user = viewer.user.clone();
    let today = state.clock.now().with_timezone(&tz).date_naive().to_string();
    let ctx = state
        .db(move |conn| {
            Ok(match queue(conn, &user, tab.as_deref(), now)? {
                Queue::Admin => context! { view => "admin" },
                Queue::Inspector { campaigns, open } => {
                    let campaigns: Vec<Value> = campaigns
                        .into_iter()
                        .map(|c| context! { id => c.id, title => c.title, ends_on => c.ends_on.to_string() })
                        .collect();
                    context! { view => "inspector", campaigns => campaigns, items => rows(conn, open, now, tz)? }
                }
                Queue::Reviewer { tab, counts: c, cases, unit_choices } => {
                    let units: Vec<Value> = unit_choices.iter().map(|(u, d)| unit_choice(u, *d)).collect();
                    context! {
                        view => "reviewer", tab => tab, counts => tab_counts(&c), items => rows(conn, cases, now, tz)?,
                        list_query => Queue::list_query(tab), units => units, today => today, results => results,
                    }
                }
                Queue::UnitHead { cases } => context! { view => "unit_head", items => rows(conn, cases, now, tz)? },
            })
        })
        .await?;
    console.page_with_status(status, Some(viewer), lang, "home.html", ctx)
}

//! The start page, by role: *Việc của tôi* for inspectors, the review queue for
//! reviewers, *Đơn vị tôi* for unit heads.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::cases::rows;
use super::session::Viewer;
use super::{Console, Fail};
use crate::casework::scope_of;
use crate::domain::role::Role;
use crate::domain::workflow::Status;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::case::{Case, CaseFilter, CaseOrder};
use crate::state::AppState;

/// How many cases a queue shows before "see all".
const QUEUE: i64 = 50;

/// The reviewer's queue tabs: a status, or overdue (in any state that can be).
const TABS: [&str; 4] = ["open", "in_handling", "remediated", "overdue"];

#[derive(Deserialize)]
pub struct HomeQuery {
    tab: Option<String>,
}

fn tab_filter(tab: &str) -> CaseFilter {
    match tab {
        "overdue" => CaseFilter { overdue: Some(true), ..Default::default() },
        s => CaseFilter { status: Some(s.to_string()), ..Default::default() },
    }
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
    let ctx = match user.role {
        Role::Admin => context! { view => "admin" },
        Role::Inspector => {
            let scope = scope_of(&user)?;
            let uid = user.user.id.clone();
            let (campaigns, open) = state
                .db(move |conn| {
                    let f = CampaignFilter { member: Some(uid), status: Some("active".into()), ..Default::default() };
                    let campaigns: Vec<Value> = Campaign::list(conn, &f, None, 100)?
                        .into_iter()
                        .map(|c| context! { id => c.id, title => c.title, ends_on => c.ends_on.to_string() })
                        .collect();
                    let filter = CaseFilter { status: Some(Status::Open.as_str().into()), ..Default::default() };
                    let open = Case::list_visible(conn, &scope, &filter, now, None, QUEUE)?;
                    Ok((campaigns, rows(conn, open, now, tz)?))
                })
                .await?;
            context! { view => "inspector", campaigns => campaigns, items => open }
        }
        Role::Reviewer => {
            let scope = scope_of(&user)?;
            let tab = tab.clone().filter(|t| TABS.contains(&t.as_str())).unwrap_or_else(|| "open".into());
            let shown = tab.clone();
            let unit = user.user.unit_id.clone();
            let (counts, items, units) = state
                .db(move |conn| {
                    // Who may be made responsible in a bulk accept: the reviewer's own subtree.
                    let units: Vec<Value> = match (&unit, shown == "open") {
                        (Some(u), true) => super::cases::unit_choices(conn, u, true)?,
                        _ => Vec::new(),
                    };
                    // From the rollups, as the reports count them.
                    let c = crate::model::report::status_counts(conn, &scope, now)?;
                    let counts: Vec<Value> = [
                        ("open", c.open),
                        ("in_handling", c.in_handling),
                        ("remediated", c.remediated),
                        ("overdue", c.overdue),
                    ]
                    .into_iter()
                    .map(|(tab, count)| context! { tab => tab, count => count })
                    .collect();
                    let found =
                        Case::list_ordered(conn, &scope, &tab_filter(&shown), now, CaseOrder::Deadline, None, QUEUE)?;
                    Ok((counts, rows(conn, found, now, tz)?, units))
                })
                .await?;
            let list_query = if tab == "overdue" { "overdue=true".to_string() } else { format!("status={tab}") };
            let today = state.clock.now().with_timezone(&tz).date_naive().to_string();
            context! {
                view => "reviewer", tab => tab, counts => counts, items => items, list_query => list_query,
                units => units, today => today, results => results,
            }
        }
        Role::UnitHead => {
            let scope = scope_of(&user)?;
            let unit = user.user.unit_id.clone();
            let items = state
                .db(move |conn| {
                    let f = CaseFilter {
                        responsible_unit_id: unit,
                        status: Some(Status::InHandling.as_str().into()),
                        ..Default::default()
                    };
                    let found = Case::list_ordered(conn, &scope, &f, now, CaseOrder::Deadline, None, QUEUE)?;
                    rows(conn, found, now, tz)
                })
                .await?;
            context! { view => "unit_head", items => items }
        }
    };
    console.page_with_status(status, Some(viewer), lang, "home.html", ctx)
}

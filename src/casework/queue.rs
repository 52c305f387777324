//! Each role's work queue, the start page's read model: an inspector's active campaigns
//! and open cases, a reviewer's cases by tab with the tabs' counts, a unit head's cases
//! in handling.

use chrono::NaiveDateTime;

use super::scope_of;
use crate::auth::CurrentUser;
use crate::db::DbConn;
use crate::domain::report::Counts;
use crate::domain::role::Role;
use crate::domain::workflow::Status;
use crate::error::Error;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::case::{Case, CaseFilter, CaseOrder};
use crate::model::unit::Unit;

/// How many cases a queue shows before "see all".
pub const QUEUE: i64 = 50;

/// The reviewer's queue tabs: a status, or overdue (in any state that can be).
pub const TABS: [&str; 4] = ["open", "in_handling", "remediated", "overdue"];

/// What a role's start page lists.
pub enum Queue {
    /// Administrators do not work on cases.
    Admin,
    Inspector {
        /// The active campaigns the inspector is a member of.
        campaigns: Vec<Campaign>,
        /// Their open cases, newest first.
        open: Vec<Case>,
    },
    Reviewer {
        /// The tab shown (one of [`TABS`]).
        tab: &'static str,
        /// Every tab's count, from the rollups as the reports count them.
        counts: Counts,
        /// The tab's cases, nearest deadline first.
        cases: Vec<Case>,
        /// Who may be made responsible in a bulk accept (on the open tab): the reviewer's
        /// living subtree, with depths.
        unit_choices: Vec<(Unit, i32)>,
    },
    UnitHead {
        /// The cases in handling the head's unit answers for, nearest deadline first.
        cases: Vec<Case>,
    },
}

impl Queue {
    /// The list filter that shows all of a reviewer's `tab`, as a query string.
    pub fn list_query(tab: &str) -> String {
        if tab == "overdue" { "overdue=true".to_string() } else { format!("status={tab}") }
    }
}

/// The filter of a reviewer's tab.
fn tab_filter(tab: &str) -> CaseFilter {
    match tab {
        "overdue" => CaseFilter { overdue: Some(true), ..Default::default() },
        s => CaseFilter { status: Some(s.to_string()), ..Default::default() },
    }
}

/// `caller`'s queue at `now`; `tab` picks a reviewer's tab (open when absent or unknown).
pub fn queue(conn: &mut DbConn, caller: &CurrentUser, tab: Option<&str>, now: NaiveDateTime) -> Result<Queue, Error> {
    if caller.role == Role::Admin {
        return Ok(Queue::Admin);
    }
    let scope = scope_of(caller)?;
    Ok(match caller.role {
        Role::Inspector => {
            let active = CampaignFilter { status: Some("active".into()), ..Default::default() };
            let f = crate::campaigns::visible_to(caller, active);
            let campaigns = Campaign::list(conn, &f, None, 100)?;
            let filter = CaseFilter { status: Some(Status::Open.as_str().into()), ..Default::default() };
            Queue::Inspector { campaigns, open: Case::list_visible(conn, &scope, &filter, now, None, QUEUE)? }
        }
        Role::Reviewer => {
            let tab = TABS.into_iter().find(|t| Some(*t) == tab).unwrap_or("open");
            let unit_choices = if tab == "open" { super::responsible_choices(conn, caller)? } else { Vec::new() };
            let counts = crate::model::report::status_counts(conn, &scope, now)?;
            let cases = Case::list_ordered(conn, &scope, &tab_filter(tab), now, CaseOrder::Deadline, None, QUEUE)?;
            Queue::Reviewer { tab, counts, cases, unit_choices }
        }
        _ => {
            let f = CaseFilter {
                responsible_unit_id: caller.user.unit_id.clone(),
                status: Some(Status::InHandling.as_str().into()),
                ..Default::default()
            };
            Queue::UnitHead { cases: Case::list_ordered(conn, &scope, &f, now, CaseOrder::Deadline, None, QUEUE)? }
        }
    })
}

//! The case as a reader's screen shows it: the case, what this reader may do now and what
//! each action asks for, and the rows of each tab, read in one place below both faces.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::transition::actions_for;
use super::visible;
use crate::auth::CurrentUser;
use crate::db::DbConn;
use crate::domain::role::Role;
use crate::domain::workflow::{self, Action, Addition, Check, Need};
use crate::error::Error;
use crate::model::attachment::Attachment;
use crate::model::campaign::Campaign;
use crate::model::case::{Case, CaseEvent};
use crate::model::decision::Decision;
use crate::model::directive::Indicator;
use crate::model::handling::Handling;
use crate::model::reorganisation::UnitPast;
use crate::model::unit::Unit;
use crate::model::user::User;
use crate::subjects::Repeat;

/// How many timeline events the case screen shows.
pub const TIMELINE_LIMIT: i64 = 500;

/// One action the reader may take, and what its form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionForm {
    pub action: Action,
    /// The fields the action needs, by their API names.
    pub needs: Vec<&'static str>,
    /// Whether the form asks for a responsible unit (also when reopening a case that never had one).
    pub asks_unit: bool,
}

/// What the reader may do with the case now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub actions: Vec<ActionForm>,
    /// May change the case's fields (`PATCH`).
    pub edit: bool,
    /// May record a decision now.
    pub decide: bool,
    /// The case takes evidence files in its state.
    pub evidence: bool,
}

/// Everything the case screen shows, for one reader.
pub struct CaseScreen {
    pub case: Case,
    pub allowed: Allowed,
    /// The indicators the case cites, in the directive's order.
    pub indicators: Vec<Indicator>,
    pub campaign_title: Option<String>,
    pub events: Vec<CaseEvent>,
    pub attachments: Vec<Attachment>,
    pub decisions: Vec<Decision>,
    /// The subject's earlier cases within the reader's scope.
    pub repeat: Repeat,
    pub handling: Handling,
    /// The names of the people the screen mentions, by user id.
    pub names: HashMap<String, String>,
    /// The unit the subject was found in, as it was named on the day of detection.
    pub subject_unit: Option<String>,
    pub responsible_unit: Option<String>,
    /// The units the reader may make responsible (a reviewer with actions to take: their
    /// living subtree), with their depth.
    pub unit_choices: Vec<(Unit, i32)>,
    pub overdue: bool,
}

/// Whether `caller` may change the fields of `case`: the workflow's rule for their role and
/// the case's state, and an inspector only the cases they logged.
pub fn may_edit(caller: &CurrentUser, case: &Case) -> bool {
    workflow::may_edit(caller.role, case.status)
        && (caller.role != Role::Inspector || case.created_by == caller.user.id)
}

/// What `caller` may do with `case` now.
pub fn allowed(conn: &mut DbConn, caller: &CurrentUser, case: &Case) -> Result<Allowed, Error> {
    let actions = actions_for(conn, caller, case)?
        .into_iter()
        .map(|action| {
            let rule = action.rule();
            let asks_unit = rule.needs.contains(&Need::ResponsibleUnit)
                || (rule.checks(Check::ResponsibleUnitWhenNone) && case.responsible_unit_id.is_none());
            ActionForm { action, needs: rule.needs.iter().map(|n| n.field()).collect(), asks_unit }
        })
        .collect();
    Ok(Allowed {
        actions,
        edit: may_edit(caller, case),
        decide: workflow::may_decide(caller.role) && workflow::accepts(Addition::Decision, case.status),
        evidence: workflow::accepts(Addition::Evidence, case.status),
    })
}

/// The case screen of case `id` for `caller` (404 outside their scope).
pub fn case_screen(conn: &mut DbConn, caller: &CurrentUser, id: &str, now: NaiveDateTime) -> Result<CaseScreen, Error> {
    let (case, indicator_ids) = visible(conn, caller, id)?;
    let allowed = allowed(conn, caller, &case)?;
    let mut indicators = Indicator::find_many(conn, &indicator_ids)?;
    indicators.sort_by_key(|i| i.position);
    let campaign_title = Campaign::find(conn, &case.campaign_id)?.map(|c| c.title);
    let events = CaseEvent::list(conn, &case.id, None, TIMELINE_LIMIT)?;
    let attachments = Attachment::of_case(conn, &case.id)?;
    let decisions = Decision::of_case(conn, &case.id)?;
    let repeat = crate::subjects::repeat_of(conn, caller, &case, now)?;
    let mut people: Vec<String> = events.iter().filter_map(|e| e.actor_id.clone()).collect();
    people.extend(decisions.iter().filter_map(|d| d.recorded_by.clone()));
    people.push(case.created_by.clone());
    people.sort();
    people.dedup();
    let names = User::names_of(conn, &people)?;
    let (subject_unit, responsible_unit) = unit_names(conn, &case)?;
    // Who may be made responsible: a reviewer's own subtree, when they have something to do.
    let unit_choices = if caller.role == Role::Reviewer && !allowed.actions.is_empty() {
        super::responsible_choices(conn, caller)?
    } else {
        Vec::new()
    };
    Ok(CaseScreen {
        overdue: case.is_overdue(now),
        handling: Handling::load(conn)?,
        case,
        allowed,
        indicators,
        campaign_title,
        events,
        attachments,
        decisions,
        repeat,
        names,
        subject_unit,
        responsible_unit,
        unit_choices,
    })
}

/// The names of the case's subject unit (as it was named on the day of detection) and of
/// its responsible unit (as it is named now).
fn unit_names(conn: &mut DbConn, case: &Case) -> Result<(Option<String>, Option<String>), Error> {
    let mut ids = vec![case.subject_unit_id.clone()];
    ids.extend(case.responsible_unit_id.clone());
    let now_named: HashMap<String, String> = Unit::find_many(conn, &ids)?.into_iter().map(|u| (u.id, u.name)).collect();
    let then = UnitPast::names_on(conn, std::slice::from_ref(&case.subject_unit_id), case.detected_on)?;
    let subject = then.get(&case.subject_unit_id).or_else(|| now_named.get(&case.subject_unit_id)).cloned();
    let responsible = case.responsible_unit_id.as_ref().and_then(|u| now_named.get(u).cloned());
    Ok((subject, responsible))
}

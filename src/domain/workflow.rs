//! The case workflow as data: which action, from which states, by which role, needing
//! what, checking what else, and doing what to the case. `casework::transition` applies
//! this table and nothing besides it; the tests walk it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::role::Role;

stored_words! {
    /// Where a case stands.
    Status {
        Open = "open",
        InHandling = "in_handling",
        Remediated = "remediated",
        Closed = "closed",
        Dismissed = "dismissed",
    }
}

impl Status {
    /// States in which a passed deadline makes the case overdue.
    pub fn can_be_overdue(self) -> bool {
        matches!(self, Status::Open | Status::InHandling)
    }

    /// Whether the violation stands: every case but a dismissed one is *detected*.
    pub fn stands(self) -> bool {
        self != Status::Dismissed
    }

    /// *Handled*: closed, with a decision.
    pub fn handled(self) -> bool {
        self == Status::Closed
    }
}

/// The stored states a passed deadline makes overdue: what every SQL predicate of
/// "overdue" (lists, reports, the sweep) is built from.
pub const OVERDUE_STATES: [&str; 2] = [Status::Open.as_str(), Status::InHandling.as_str()];
/// The stored states of a case not yet concluded: what a reorganisation hands over.
pub const OPEN_STATES: [&str; 3] = [Status::Open.as_str(), Status::InHandling.as_str(), Status::Remediated.as_str()];
/// The one stored state whose cases do not stand, for SQL (`status <> …`).
pub const NOT_STANDING: &str = Status::Dismissed.as_str();
/// The one stored state that counts as handled, for SQL.
pub const HANDLED: &str = Status::Closed.as_str();

/// A workflow action (`POST /cases/{id}/transitions {"action": …}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    ReportRemediation,
    Return,
    Close,
    Dismiss,
    Reopen,
}

/// What an action must be given besides the action itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    ResponsibleUnit,
    DueAt,
    Note,
    Decision,
}

impl Need {
    /// The request field that carries it.
    pub fn field(self) -> &'static str {
        match self {
            Need::ResponsibleUnit => "responsible_unit_id",
            Need::DueAt => "due_at",
            Need::Note => "note",
            Need::Decision => "decision",
        }
    }
}

/// A check an action makes besides role, state and needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A unit head acts only on a case whose responsible unit lies in their own unit's
    /// subtree (403 otherwise); other roles are not concerned.
    UnitHeadHeadsResponsibleUnit,
    /// A case that never had a responsible unit (dismissed straight from open) must be
    /// given one (422 on `responsible_unit_id`).
    ResponsibleUnitWhenNone,
}

/// What an action does to the deadline that counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineEffect {
    /// The deadline becomes the case's `due_at` (it is being handled).
    DueAt,
    /// No deadline counts any more (remediated, closed, dismissed).
    Cleared,
}

/// What an action does to the recorded decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionEffect {
    /// The decision the action needs is recorded.
    Recorded,
    /// Whatever was recorded stays.
    Kept,
    /// The recorded decision is cleared (the timeline keeps it).
    Cleared,
}

/// What an action does to a case besides moving it to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    pub deadline: DeadlineEffect,
    /// Sets `closed_at` to the moment of the action; any other action clears it.
    pub closes: bool,
    pub decision: DecisionEffect,
}

/// One row of the workflow table.
#[derive(Debug)]
pub struct Rule {
    pub action: Action,
    pub from: &'static [Status],
    pub to: Status,
    pub roles: &'static [Role],
    pub needs: &'static [Need],
    pub checks: &'static [Check],
    pub effects: Effects,
}

/// The workflow fields of a case once a rule has been applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub deadline_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    /// False when the recorded decision must be cleared.
    pub keeps_decision: bool,
}

impl Rule {
    /// What applying this row at `now` makes of a case whose `due_at` (after the action's
    /// own input) is `due_at`. Pure: the operation writes it, the tests read it.
    pub fn apply(&self, due_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Outcome {
        Outcome {
            status: self.to,
            deadline_at: match self.effects.deadline {
                DeadlineEffect::DueAt => due_at,
                DeadlineEffect::Cleared => None,
            },
            closed_at: self.effects.closes.then_some(now),
            keeps_decision: self.effects.decision != DecisionEffect::Cleared,
        }
    }

    pub fn checks(&self, check: Check) -> bool {
        self.checks.contains(&check)
    }
}

const HANDLING: Effects = Effects { deadline: DeadlineEffect::DueAt, closes: false, decision: DecisionEffect::Kept };

/// The table of the contract, row for row.
pub const RULES: &[Rule] = &[
    Rule {
        action: Action::Accept,
        from: &[Status::Open],
        to: Status::InHandling,
        roles: &[Role::Reviewer],
        needs: &[Need::ResponsibleUnit, Need::DueAt],
        checks: &[],
        effects: HANDLING,
    },
    Rule {
        action: Action::ReportRemediation,
        from: &[Status::InHandling],
        to: Status::Remediated,
        roles: &[Role::UnitHead, Role::Reviewer],
        needs: &[Need::Note],
        checks: &[Check::UnitHeadHeadsResponsibleUnit],
        effects: Effects { deadline: DeadlineEffect::Cleared, closes: false, decision: DecisionEffect::Kept },
    },
    Rule {
        action: Action::Return,
        from: &[Status::Remediated],
        to: Status::InHandling,
        roles: &[Role::Reviewer],
        needs: &[Need::Note, Need::DueAt],
        checks: &[],
        effects: HANDLING,
    },
    Rule {
        action: Action::Close,
        from: &[Status::InHandling, Status::Remediated],
        to: Status::Closed,
        roles: &[Role::Reviewer],
        needs: &[Need::Decision],
        checks: &[],
        effects: Effects { deadline: DeadlineEffect::Cleared, closes: true, decision: DecisionEffect::Recorded },
    },
    Rule {
        action: Action::Dismiss,
        from: &[Status::Open, Status::InHandling],
        to: Status::Dismissed,
        roles: &[Role::Reviewer],
        needs: &[Need::Note],
        checks: &[],
        effects: Effects { deadline: DeadlineEffect::Cleared, closes: true, decision: DecisionEffect::Kept },
    },
    Rule {
        action: Action::Reopen,
        from: &[Status::Closed, Status::Dismissed],
        to: Status::InHandling,
        roles: &[Role::Reviewer],
        needs: &[Need::Note, Need::DueAt],
        checks: &[Check::ResponsibleUnitWhenNone],
        effects: Effects { deadline: DeadlineEffect::DueAt, closes: false, decision: DecisionEffect::Cleared },
    },
];

impl Action {
    pub const ALL: [Action; 6] =
        [Action::Accept, Action::ReportRemediation, Action::Return, Action::Close, Action::Dismiss, Action::Reopen];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::ReportRemediation => "report_remediation",
            Action::Return => "return",
            Action::Close => "close",
            Action::Dismiss => "dismiss",
            Action::Reopen => "reopen",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// This action's row of the table.
    pub fn rule(self) -> &'static Rule {
        RULES.iter().find(|r| r.action == self).expect("every action has a rule")
    }
}

/// Whether `role` may edit a case's descriptive fields while it is `status`: its author
/// (an inspector) while it is open; a reviewer until it is closed or dismissed.
pub fn may_edit(role: Role, status: Status) -> bool {
    match role {
        Role::Inspector => status == Status::Open,
        Role::Reviewer => matches!(status, Status::Open | Status::InHandling | Status::Remediated),
        Role::UnitHead | Role::Admin => false,
    }
}

/// Whether `role` may re-assign a case (`responsible_unit_id`, `due_at`) outside a
/// transition: a reviewer, while it is in handling.
pub fn may_reassign(role: Role, status: Status) -> bool {
    role == Role::Reviewer && status == Status::InHandling
}

/// What is added to a case without changing its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addition {
    Comment,
    Evidence,
    Decision,
}

/// The states each addition is accepted in. A comment is part of the record at any time
/// (for instance that a decision was handed over). Evidence is what a decision rests on,
/// so it is taken only while the case is still being handled: a concluded case takes new
/// evidence after it is reopened, never quietly beside its decision.
/// A decision (party, state or other handling) is recorded once the case is accepted, and
/// after it is closed (the state decision that follows the party's); never on a case
/// dismissed as no violation.
pub const ADDITIONS: [(Addition, &[Status]); 3] = [
    (Addition::Comment, &Status::ALL),
    (Addition::Evidence, &[Status::Open, Status::InHandling, Status::Remediated]),
    (Addition::Decision, &[Status::InHandling, Status::Remediated, Status::Closed]),
];

/// Who records decisions: the roles that close cases.
pub fn may_decide(role: Role) -> bool {
    Action::Close.rule().roles.contains(&role)
}

/// Whether a case in `status` takes `addition` ([`ADDITIONS`]).
pub fn accepts(addition: Addition, status: Status) -> bool {
    ADDITIONS.iter().any(|(a, states)| *a == addition && states.contains(&status))
}

/// Why an action cannot be taken, in the order the API checks.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's role may never take this action (403).
    Role,
    /// Not from the case's current state (409).
    State,
}

/// Checks role, then state.
pub fn check(action: Action, role: Role, from: Status) -> Result<&'static Rule, Refusal> {
    let rule = action.rule();
    if !rule.roles.contains(&role) {
        return Err(Refusal::Role);
    }
    if !rule.from.contains(&from) {
        return Err(Refusal::State);
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_words_say_what_the_status_methods_say() {
        let overdue: Vec<&str> = Status::ALL.into_iter().filter(|s| s.can_be_overdue()).map(Status::as_str).collect();
        assert_eq!(overdue, OVERDUE_STATES);
        let not_standing: Vec<&str> = Status::ALL.into_iter().filter(|s| !s.stands()).map(Status::as_str).collect();
        assert_eq!(not_standing, vec![NOT_STANDING]);
        let handled: Vec<&str> = Status::ALL.into_iter().filter(|s| s.handled()).map(Status::as_str).collect();
        assert_eq!(handled, vec![HANDLED]);
    }

    #[test]
    fn every_action_has_exactly_one_rule() {
        for a in Action::ALL {
            assert_eq!(RULES.iter().filter(|r| r.action == a).count(), 1, "{a:?}");
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn closed_and_dismissed_only_reopen() {
        for s in [Status::Closed, Status::Dismissed] {
            let allowed: Vec<Action> =
                Action::ALL.into_iter().filter(|a| check(*a, Role::Reviewer, s).is_ok()).collect();
            assert_eq!(allowed, vec![Action::Reopen]);
        }
    }

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2024, 10, 1).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn effect_handling_actions_make_due_at_the_deadline_and_reopen_the_case() {
        for a in [Action::Accept, Action::Return, Action::Reopen] {
            let o = a.rule().apply(Some(at(17)), at(9));
            assert_eq!((o.status, o.deadline_at, o.closed_at), (Status::InHandling, Some(at(17)), None), "{a:?}");
        }
    }

    #[test]
    fn effect_remediation_stops_the_clock_without_closing() {
        let o = Action::ReportRemediation.rule().apply(Some(at(17)), at(9));
        assert_eq!((o.status, o.deadline_at, o.closed_at, o.keeps_decision), (Status::Remediated, None, None, true));
    }

    #[test]
    fn effect_close_and_dismiss_set_closed_at_and_clear_the_deadline() {
        for (a, to) in [(Action::Close, Status::Closed), (Action::Dismiss, Status::Dismissed)] {
            let o = a.rule().apply(Some(at(17)), at(9));
            assert_eq!((o.status, o.deadline_at, o.closed_at), (to, None, Some(at(9))), "{a:?}");
        }
        assert_eq!(Action::Close.rule().effects.decision, DecisionEffect::Recorded);
    }

    #[test]
    fn effect_only_reopen_clears_the_decision() {
        for a in Action::ALL {
            assert_eq!(a.rule().apply(None, at(9)).keeps_decision, a != Action::Reopen, "{a:?}");
        }
    }

    #[test]
    fn check_unit_head_rule_belongs_to_the_only_action_a_unit_head_takes() {
        for a in Action::ALL {
            let unit_head_may = a.rule().roles.contains(&Role::UnitHead);
            assert_eq!(a.rule().checks(Check::UnitHeadHeadsResponsibleUnit), unit_head_may, "{a:?}");
        }
    }

    #[test]
    fn check_reopen_names_a_responsible_unit_when_there_was_none() {
        let with: Vec<Action> =
            Action::ALL.into_iter().filter(|a| a.rule().checks(Check::ResponsibleUnitWhenNone)).collect();
        assert_eq!(with, vec![Action::Reopen]);
    }

    #[test]
    fn editing_follows_role_and_state() {
        let editable = |role| Status::ALL.into_iter().filter(|s| may_edit(role, *s)).collect::<Vec<_>>();
        assert_eq!(editable(Role::Inspector), vec![Status::Open]);
        assert_eq!(editable(Role::Reviewer), vec![Status::Open, Status::InHandling, Status::Remediated]);
        assert!(editable(Role::UnitHead).is_empty() && editable(Role::Admin).is_empty());
        let reassignable: Vec<Status> = Status::ALL.into_iter().filter(|s| may_reassign(Role::Reviewer, *s)).collect();
        assert_eq!(reassignable, vec![Status::InHandling]);
        assert!(!may_reassign(Role::Inspector, Status::InHandling));
    }

    #[test]
    fn inspectors_and_admins_take_no_action() {
        for a in Action::ALL {
            assert_eq!(check(a, Role::Inspector, Status::Open).unwrap_err(), Refusal::Role);
            assert_eq!(check(a, Role::Admin, Status::Open).unwrap_err(), Refusal::Role);
        }
    }
}

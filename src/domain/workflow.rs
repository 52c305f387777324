//! The case workflow as data: which action, from which states, by which role, needing what.
//! The API enforces this table and the tests walk it.

use serde::{Deserialize, Serialize};

use super::role::Role;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    InHandling,
    Remediated,
    Closed,
    Dismissed,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Open, Status::InHandling, Status::Remediated, Status::Closed, Status::Dismissed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InHandling => "in_handling",
            Status::Remediated => "remediated",
            Status::Closed => "closed",
            Status::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// States in which a passed deadline makes the case overdue.
    pub fn can_be_overdue(self) -> bool {
        matches!(self, Status::Open | Status::InHandling)
    }
}

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

/// One row of the workflow table.
#[derive(Debug)]
pub struct Rule {
    pub action: Action,
    pub from: &'static [Status],
    pub to: Status,
    /// Roles allowed; a unit head must also head (a unit above) the responsible unit.
    pub roles: &'static [Role],
    pub needs: &'static [Need],
}

/// The table of the contract, row for row.
pub const RULES: &[Rule] = &[
    Rule {
        action: Action::Accept,
        from: &[Status::Open],
        to: Status::InHandling,
        roles: &[Role::Reviewer],
        needs: &[Need::ResponsibleUnit, Need::DueAt],
    },
    Rule {
        action: Action::ReportRemediation,
        from: &[Status::InHandling],
        to: Status::Remediated,
        roles: &[Role::UnitHead, Role::Reviewer],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Return,
        from: &[Status::Remediated],
        to: Status::InHandling,
        roles: &[Role::Reviewer],
        needs: &[Need::Note, Need::DueAt],
    },
    Rule {
        action: Action::Close,
        from: &[Status::InHandling, Status::Remediated],
        to: Status::Closed,
        roles: &[Role::Reviewer],
        needs: &[Need::Decision],
    },
    Rule {
        action: Action::Dismiss,
        from: &[Status::Open, Status::InHandling],
        to: Status::Dismissed,
        roles: &[Role::Reviewer],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Reopen,
        from: &[Status::Closed, Status::Dismissed],
        to: Status::InHandling,
        roles: &[Role::Reviewer],
        needs: &[Need::Note, Need::DueAt],
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

    #[test]
    fn inspectors_and_admins_take_no_action() {
        for a in Action::ALL {
            assert_eq!(check(a, Role::Inspector, Status::Open).unwrap_err(), Refusal::Role);
            assert_eq!(check(a, Role::Admin, Status::Open).unwrap_err(), Refusal::Role);
        }
    }
}

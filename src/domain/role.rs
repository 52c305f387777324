//! Roles of users and kinds of units, as stored and as served.

use serde::{Deserialize, Serialize};

/// What a user may do (see the contract's role table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Inspector,
    Reviewer,
    UnitHead,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Inspector, Role::Reviewer, Role::UnitHead];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Inspector => "inspector",
            Role::Reviewer => "reviewer",
            Role::UnitHead => "unit_head",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Reviewers and unit heads act on a unit's subtree, so they must belong to a unit.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::Reviewer | Role::UnitHead)
    }
}

/// Where a unit stands in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    City,
    Department,
    /// A party committee or body (Đảng ủy, ban của Thành ủy).
    PartyBody,
    /// Quận, huyện, thị xã: ended on 1 July 2025, kept for history.
    District,
    Ward,
    Commune,
    Other,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [
        UnitKind::City,
        UnitKind::Department,
        UnitKind::PartyBody,
        UnitKind::District,
        UnitKind::Ward,
        UnitKind::Commune,
        UnitKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::City => "city",
            UnitKind::Department => "department",
            UnitKind::PartyBody => "party_body",
            UnitKind::District => "district",
            UnitKind::Ward => "ward",
            UnitKind::Commune => "commune",
            UnitKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The accepted values of an enumerated field, for validation messages.
pub fn one_of(values: &[&str]) -> super::validation::Message {
    super::validation::msg::one_of(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}

//! The handling catalog: severity levels and the measures a decision may record, who
//! each measure applies to and when it is in force (`config/measures/vietnam.toml`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::case_terms::SubjectKind;
use super::validation::{FieldError, Message, Validator, msg};

stored_words! {
    /// The discipline system a decision belongs to.
    System { Party = "party", State = "state", Other = "other" }
}

stored_words! {
    /// Who a subject is, for the measures that may apply to them.
    Category {
        PartyOrganization = "party_organization",
        PartyMember = "party_member",
        ProbationaryPartyMember = "probationary_party_member",
        Cadre = "cadre",
        CivilServant = "civil_servant",
        PublicEmployee = "public_employee",
        Organization = "organization",
        Other = "other",
    }
}

impl Category {
    /// The categories a subject of `kind` can belong to: bodies are organisations,
    /// people are members, officials or others.
    pub fn of_kind(kind: SubjectKind) -> &'static [Category] {
        match kind {
            SubjectKind::Organization => &[Category::PartyOrganization, Category::Organization, Category::Other],
            SubjectKind::Individual => &[
                Category::PartyMember,
                Category::ProbationaryPartyMember,
                Category::Cadre,
                Category::CivilServant,
                Category::PublicEmployee,
                Category::Other,
            ],
        }
    }
}

/// The catalog file: its version, the severity levels and the measures.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandlingCatalog {
    pub version: String,
    pub levels: Vec<LevelEntry>,
    pub measures: Vec<MeasureEntry>,
}

/// A severity level, from least to most grave by `rank`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelEntry {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub rank: i32,
    /// Codes earlier versions used for this level (`low`, `medium`, `high`).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub basis: String,
}

/// A measure: its system, whom it applies to, and the days it is in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureEntry {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub system: System,
    pub applies_to: Vec<Category>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub basis: String,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
}

impl MeasureEntry {
    /// Whether the measure may be decided on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_until.is_none_or(|u| day <= u)
    }

    /// Whether this entry is named by `code` (its code or one of its aliases).
    pub fn named(&self, code: &str) -> bool {
        self.code == code || self.aliases.iter().any(|a| a == code)
    }

    /// Why this measure cannot be decided for a subject of `kind` and `categories` (empty:
    /// not known, so any category of the kind) in `system` on `day`, field by field.
    pub fn refusals(
        &self,
        system: Option<System>,
        kind: SubjectKind,
        categories: &[Category],
        day: Option<NaiveDate>,
    ) -> Vec<(&'static str, Message)> {
        let mut out = Vec::new();
        if let Some(s) = system
            && s != self.system
        {
            out.push(("measure", msg::measure_other_system(&format!("system-{}", s.as_str()))));
        }
        let candidates = if categories.is_empty() { Category::of_kind(kind) } else { categories };
        if !self.applies_to.iter().any(|c| candidates.contains(c)) {
            out.push(("measure", msg::measure_not_for_subject()));
        }
        if let Some(d) = day
            && !self.in_force(d)
        {
            out.push(("decided_on", msg::measure_not_in_force()));
        }
        out
    }
}

/// The catalog a fresh database holds.
pub const DEFAULT_HANDLING: &str = include_str!("../../config/measures/vietnam.toml");

impl HandlingCatalog {
    /// Reads and checks a TOML catalog.
    pub fn from_toml(text: &str) -> Result<HandlingCatalog, String> {
        let c: HandlingCatalog =
            toml::from_str(text).map_err(|e| format!("the handling catalog cannot be read: {e}"))?;
        c.validate().map_err(|errors| {
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        })?;
        Ok(c)
    }

    /// Every problem, with the path of the entry at fault. Codes and aliases are unique
    /// across the levels and across the measures.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.check(!self.version.trim().is_empty() && self.version.len() <= 40, "version", msg::length_range(40));
        v.check(!self.levels.is_empty(), "levels", msg::required());
        v.check(!self.measures.is_empty(), "measures", msg::required());
        let mut names = std::collections::HashSet::new();
        for (i, l) in self.levels.iter().enumerate() {
            let at = |f: &str| format!("levels[{i}].{f}");
            check_entry(&mut v, &mut names, &at, &l.code, &l.aliases, &[&l.name, &l.name_en, &l.basis]);
        }
        let mut names = std::collections::HashSet::new();
        for (i, m) in self.measures.iter().enumerate() {
            let at = |f: &str| format!("measures[{i}].{f}");
            check_entry(&mut v, &mut names, &at, &m.code, &m.aliases, &[&m.name, &m.name_en, &m.basis]);
            v.check(!m.applies_to.is_empty(), &at("applies_to"), msg::required());
            if let (Some(f), Some(u)) = (m.valid_from, m.valid_until) {
                v.check(f <= u, &at("valid_until"), msg::not_before_start());
            }
        }
        v.finish().map_err(|invalid| invalid.0)
    }
}

/// Checks one entry's code, aliases and texts; `names` holds the codes and aliases seen.
fn check_entry<'a>(
    v: &mut Validator,
    names: &mut std::collections::HashSet<&'a str>,
    at: &dyn Fn(&str) -> String,
    code: &'a str,
    aliases: &'a [String],
    texts: &[&String],
) {
    let well_formed =
        |c: &str| !c.is_empty() && c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    v.check(well_formed(code), &at("code"), msg::code_form());
    v.check(names.insert(code), &at("code"), msg::appears_twice());
    for a in aliases {
        v.check(well_formed(a) && names.insert(a), &at("aliases"), msg::appears_twice());
    }
    for (field, t) in ["name", "name_en", "basis"].into_iter().zip(texts) {
        v.check(!t.trim().is_empty() && t.chars().count() <= 300, &at(field), msg::length_range(300));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> HandlingCatalog {
        HandlingCatalog::from_toml(DEFAULT_HANDLING).unwrap()
    }

    fn measure(code: &str) -> MeasureEntry {
        shipped().measures.into_iter().find(|m| m.named(code)).unwrap()
    }

    fn day(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_shipped_catalog_reads_and_keeps_the_old_codes() {
        let c = shipped();
        assert_eq!(c.levels.iter().map(|l| l.rank).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        for old in ["low", "medium", "high"] {
            assert!(c.levels.iter().any(|l| l.aliases.iter().any(|a| a == old)), "{old}");
        }
        let old = ["reminder", "criticism", "self_review", "reprimand", "warning", "removal_from_post", "expulsion"];
        for code in old.into_iter().chain(["salary_downgrade", "forced_dismissal"]) {
            assert!(c.measures.iter().any(|m| m.named(code)), "{code}");
        }
    }

    #[test]
    fn an_organisation_cannot_be_expelled_and_a_person_cannot_be_dissolved() {
        let expel = measure("party_expulsion");
        let refused = expel.refusals(None, SubjectKind::Organization, &[], day("2025-09-01"));
        assert_eq!(refused.iter().map(|r| r.0).collect::<Vec<_>>(), vec!["measure"]);
        assert!(expel.refusals(None, SubjectKind::Individual, &[], day("2025-09-01")).is_empty());
        let probationary = [Category::ProbationaryPartyMember];
        assert_eq!(expel.refusals(None, SubjectKind::Individual, &probationary, None).len(), 1);
        assert_eq!(measure("party_dissolution").refusals(None, SubjectKind::Individual, &[], None).len(), 1);
    }

    #[test]
    fn a_salary_downgrade_ends_with_june_2025_and_systems_must_match() {
        let downgrade = measure("salary_downgrade");
        let civil = [Category::CivilServant];
        assert!(downgrade.refusals(Some(System::State), SubjectKind::Individual, &civil, day("2025-06-30")).is_empty());
        let late = downgrade.refusals(None, SubjectKind::Individual, &civil, day("2025-07-01"));
        assert_eq!(late.iter().map(|r| r.0).collect::<Vec<_>>(), vec!["decided_on"]);
        let party = downgrade.refusals(Some(System::Party), SubjectKind::Individual, &civil, None);
        assert_eq!(party.iter().map(|r| r.0).collect::<Vec<_>>(), vec!["measure"]);
    }

    #[test]
    fn problems_name_their_entry() {
        let mut c = shipped();
        c.measures[2].code = c.measures[0].code.clone();
        c.levels[1].aliases.push("low".into());
        c.measures[3].applies_to.clear();
        let fields: Vec<String> = c.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["levels[1].aliases", "measures[2].code", "measures[3].applies_to"]);
    }
}

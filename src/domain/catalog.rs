//! The catalog file format: a directive (or resolution, plan) with its indicators.
//!
//! TOML files in `config/catalogs/` (and the same shape as JSON for
//! `POST /api/v1/directives`):
//!
//! ```toml
//! [directive]
//! code = "24-CT/TU"          # unique; re-importing the same code updates it
//! kind = "directive"         # directive | resolution | plan
//! title = "…"
//! issued_on = "2023-08-07"   # optional
//! issuer = "…"               # optional
//! catalog_version = "2024.1" # free text, shown with the directive
//! note = "…"                 # optional, e.g. "working paraphrase"
//!
//! [[groups]]
//! code = "1"
//! title = "…"
//!
//! [[indicators]]
//! code = "1.1"               # unique within the directive
//! group = "1"                # one of the group codes
//! title = "…"
//! description = "…"
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{FieldError, Validator, msg};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub directive: DirectiveEntry,
    #[serde(default)]
    pub groups: Vec<GroupEntry>,
    pub indicators: Vec<IndicatorEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectiveEntry {
    pub code: String,
    pub kind: String,
    pub title: String,
    pub issued_on: Option<NaiveDate>,
    pub issuer: Option<String>,
    pub catalog_version: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    pub code: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorEntry {
    pub code: String,
    pub group: String,
    pub title: String,
    pub description: String,
}

pub const KINDS: [&str; 3] = ["directive", "resolution", "plan"];

/// The catalog a fresh database holds.
pub const DEFAULT_CATALOG: &str = include_str!("../../config/catalogs/24-CT-TU.toml");

impl Catalog {
    /// Reads a TOML catalog.
    pub fn from_toml(text: &str) -> Result<Catalog, String> {
        let catalog: Catalog = toml::from_str(text).map_err(|e| format!("the catalog file cannot be read: {e}"))?;
        catalog.validate().map_err(|errors| {
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        })?;
        Ok(catalog)
    }

    /// Every problem, with the path of the entry at fault.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        let d = &self.directive;
        v.check(!d.code.trim().is_empty() && d.code.len() <= 40, "directive.code", msg::length_range(40));
        v.check(KINDS.contains(&d.kind.as_str()), "directive.kind", msg::one_of(&KINDS));
        v.check(!d.title.trim().is_empty(), "directive.title", msg::empty());
        v.check(!d.catalog_version.trim().is_empty(), "directive.catalog_version", msg::empty());
        if let Some(day) = d.issued_on {
            v.check(super::dates::in_range(day), "directive.issued_on", super::dates::out_of_range());
        }
        for (i, g) in self.groups.iter().enumerate() {
            v.check(!g.code.trim().is_empty(), &format!("groups[{i}].code"), msg::empty());
            v.check(!g.title.trim().is_empty(), &format!("groups[{i}].title"), msg::empty());
        }
        v.check(!self.indicators.is_empty(), "indicators", msg::catalog_needs_indicator());
        let mut seen = std::collections::HashSet::new();
        for (i, ind) in self.indicators.iter().enumerate() {
            let at = |f: &str| format!("indicators[{i}].{f}");
            v.check(!ind.code.trim().is_empty() && ind.code.len() <= 20, &at("code"), msg::length_range(20));
            v.check(seen.insert(ind.code.trim()), &at("code"), msg::appears_twice());
            v.check(self.groups.iter().any(|g| g.code == ind.group), &at("group"), msg::not_a_group());
            v.check(!ind.title.trim().is_empty(), &at("title"), msg::empty());
        }
        v.finish().map_err(|invalid| invalid.0)
    }

    /// The title of a group, by code.
    pub fn group_title(&self, code: &str) -> &str {
        self.groups.iter().find(|g| g.code == code).map(|g| g.title.as_str()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalog_has_25_indicators_in_3_groups() {
        let c = Catalog::from_toml(DEFAULT_CATALOG).unwrap();
        assert_eq!(c.directive.code, "24-CT/TU");
        assert_eq!(c.indicators.len(), 25);
        assert_eq!(c.groups.len(), 3);
        assert!(c.directive.note.as_deref().unwrap_or("").to_lowercase().contains("paraphrase"));
    }

    #[test]
    fn the_resolution_example_has_15_targets() {
        let c = Catalog::from_toml(include_str!("../../config/catalogs/18-NQ-TU.toml")).unwrap();
        assert_eq!((c.directive.kind.as_str(), c.indicators.len()), ("resolution", 15));
    }

    #[test]
    fn problems_name_their_entry() {
        let mut c = Catalog::from_toml(DEFAULT_CATALOG).unwrap();
        c.indicators[3].group = "9".into();
        c.indicators[4].code = c.indicators[0].code.clone();
        let fields: Vec<String> = c.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["indicators[3].group", "indicators[4].code"]);
    }
}

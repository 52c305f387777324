//! Directives and their indicators, loaded from catalogs.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use super::audit::AuditEntry;
use super::{Actor, new_id};
use crate::db::DbConn;
use crate::db::schema::{directives, indicators};
use crate::domain::catalog::Catalog;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = directives, treat_none_as_null = true)]
pub struct Directive {
    pub id: String,
    pub code: String,
    pub kind: String,
    pub title: String,
    pub issued_on: Option<NaiveDate>,
    pub issuer: Option<String>,
    pub catalog_version: String,
    pub note: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = indicators)]
pub struct Indicator {
    pub id: String,
    pub directive_id: String,
    pub code: String,
    pub group_code: String,
    pub group_title: String,
    pub title: String,
    pub description: String,
    pub position: i32,
    pub retired: bool,
}

/// What an import changed.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: bool,
    pub indicators_added: usize,
    pub indicators_updated: usize,
    pub indicators_retired: usize,
}

impl Directive {
    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Directive>> {
        directives::table.find(id).select(Directive::as_select()).first(conn).optional()
    }

    pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Directive>> {
        directives::table.filter(directives::code.eq(code)).select(Directive::as_select()).first(conn).optional()
    }

    pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Directive>> {
        directives::table.order(directives::code.asc()).select(Directive::as_select()).load(conn)
    }

    /// Loads or updates a directive from a catalog; call inside a write transaction.
    ///
    /// Indicators are matched by code: known ones are updated in place (cases keep
    /// pointing at them), new ones added, missing ones marked retired.
    pub fn import(
        conn: &mut DbConn,
        catalog: &Catalog,
        actor: &Actor,
        now: NaiveDateTime,
    ) -> QueryResult<(Directive, ImportSummary)> {
        let d = &catalog.directive;
        let mut summary = ImportSummary::default();
        let existing = Directive::find_by_code(conn, d.code.trim())?;
        let before = existing.as_ref().map(|x| x.audit_snapshot());
        let directive = Directive {
            id: existing.as_ref().map(|x| x.id.clone()).unwrap_or_else(new_id),
            code: d.code.trim().to_string(),
            kind: d.kind.clone(),
            title: d.title.trim().to_string(),
            issued_on: d.issued_on,
            issuer: d.issuer.clone(),
            catalog_version: d.catalog_version.trim().to_string(),
            note: d.note.clone(),
            version: existing.as_ref().map(|x| x.version + 1).unwrap_or(1),
            created_at: existing.as_ref().map(|x| x.created_at).unwrap_or(now),
            updated_at: now,
        };
        if existing.is_some() {
            diesel::update(directives::table.find(&directive.id)).set(&directive).execute(conn)?;
        } else {
            diesel::insert_into(directives::table).values(&directive).execute(conn)?;
            summary.created = true;
        }
        let mut known: HashMap<String, Indicator> =
            Indicator::of_directive(conn, &directive.id, true)?.into_iter().map(|i| (i.code.clone(), i)).collect();
        for (position, entry) in catalog.indicators.iter().enumerate() {
            let code = entry.code.trim().to_string();
            let row = Indicator {
                id: known.get(&code).map(|i| i.id.clone()).unwrap_or_else(new_id),
                directive_id: directive.id.clone(),
                group_code: entry.group.clone(),
                group_title: catalog.group_title(&entry.group).to_string(),
                title: entry.title.trim().to_string(),
                description: entry.description.trim().to_string(),
                position: position as i32,
                retired: false,
                code: code.clone(),
            };
            if known.remove(&code).is_some() {
                diesel::update(indicators::table.find(&row.id)).set(&row).execute(conn)?;
                summary.indicators_updated += 1;
            } else {
                diesel::insert_into(indicators::table).values(&row).execute(conn)?;
                summary.indicators_added += 1;
            }
        }
        for gone in known.values().filter(|i| !i.retired) {
            diesel::update(indicators::table.find(&gone.id)).set(indicators::retired.eq(true)).execute(conn)?;
            summary.indicators_retired += 1;
        }
        let after = json!({"directive": directive.audit_snapshot(), "import": &summary});
        AuditEntry::record(conn, actor, now, "import", "directive", &directive.id, before, Some(after))?;
        Ok((directive, summary))
    }

    fn audit_snapshot(&self) -> serde_json::Value {
        json!({"id": self.id, "code": self.code, "title": self.title, "catalog_version": self.catalog_version, "version": self.version})
    }
}

impl Indicator {
    /// A directive's indicators in catalog order.
    pub fn of_directive(conn: &mut DbConn, directive_id: &str, include_retired: bool) -> QueryResult<Vec<Indicator>> {
        let mut q = indicators::table.filter(indicators::directive_id.eq(directive_id)).into_boxed();
        if !include_retired {
            q = q.filter(indicators::retired.eq(false));
        }
        q.order(indicators::position.asc()).select(Indicator::as_select()).load(conn)
    }

    /// The indicators in force (optionally of one directive), directive then catalog order.
    pub fn list(conn: &mut DbConn, directive_id: Option<&str>) -> QueryResult<Vec<Indicator>> {
        let mut q = indicators::table.filter(indicators::retired.eq(false)).into_boxed();
        if let Some(d) = directive_id {
            q = q.filter(indicators::directive_id.eq(d.to_string()));
        }
        q.order((indicators::directive_id.asc(), indicators::position.asc())).select(Indicator::as_select()).load(conn)
    }

    /// Indicators in catalog order grouped as the directive groups them: each group's
    /// code and title with its indicators.
    pub fn grouped(items: Vec<Indicator>) -> Vec<(String, String, Vec<Indicator>)> {
        let mut groups: Vec<(String, String, Vec<Indicator>)> = Vec::new();
        for i in items {
            match groups.last_mut() {
                Some((code, _, members)) if *code == i.group_code => members.push(i),
                _ => groups.push((i.group_code.clone(), i.group_title.clone(), vec![i])),
            }
        }
        groups
    }

    pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Indicator>> {
        indicators::table.filter(indicators::id.eq_any(ids)).select(Indicator::as_select()).load(conn)
    }
}

/// Loads the built-in 24-CT/TU catalog when the database has no such directive yet.
pub fn seed_default(conn: &mut DbConn, now: NaiveDateTime) -> Result<bool, String> {
    let catalog = Catalog::from_toml(crate::domain::catalog::DEFAULT_CATALOG)?;
    crate::db::write_tx(conn, |conn| {
        crate::db::migrate::lock_setup(conn)?;
        if Directive::find_by_code(conn, &catalog.directive.code)?.is_some() {
            return Ok(false);
        }
        Directive::import(conn, &catalog, &Actor::system(), now)?;
        Ok(true)
    })
    .map_err(|e: diesel::result::Error| format!("cannot load the default catalog: {e}"))
}

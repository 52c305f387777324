//! The handling catalog's rows: severity levels and measures, loaded, imported, named.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::Actor;
use super::audit::AuditEntry;
use crate::db::DbConn;
use crate::db::schema::{handling_catalog, measures, severity_levels};
use crate::domain::handling::{Category, DEFAULT_HANDLING, HandlingCatalog, LevelEntry, MeasureEntry, System};
use crate::i18n::Lang;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = severity_levels)]
struct LevelRow {
    code: String,
    name: String,
    name_en: String,
    rank: i32,
    aliases: String,
    basis: String,
    retired: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = measures, treat_none_as_null = true)]
struct MeasureRow {
    code: String,
    name: String,
    name_en: String,
    system: String,
    applies_to: String,
    aliases: String,
    basis: String,
    valid_from: Option<chrono::NaiveDate>,
    valid_until: Option<chrono::NaiveDate>,
    position: i32,
    retired: bool,
}

/// A catalog entry with whether a newer catalog dropped it (kept for what names it).
#[derive(Debug, Clone)]
pub struct Kept<T> {
    pub entry: T,
    pub retired: bool,
}

/// The handling catalog as stored: small, read whole where it is needed.
#[derive(Debug, Clone, Default)]
pub struct Handling {
    pub version: Option<String>,
    /// By rank.
    pub levels: Vec<Kept<LevelEntry>>,
    /// In catalog order.
    pub measures: Vec<Kept<MeasureEntry>>,
}

/// What an import changed.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct HandlingImport {
    pub version: String,
    pub levels_added: usize,
    pub levels_updated: usize,
    pub levels_retired: usize,
    pub measures_added: usize,
    pub measures_updated: usize,
    pub measures_retired: usize,
}

fn words(list: &[String]) -> String {
    list.join(" ")
}

fn split(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

impl Handling {
    /// The whole catalog, retired entries included.
    pub fn load(conn: &mut DbConn) -> QueryResult<Handling> {
        let version = handling_catalog::table.select(handling_catalog::version).first::<String>(conn).optional()?;
        let levels = severity_levels::table
            .order((severity_levels::rank.asc(), severity_levels::code.asc()))
            .select(LevelRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|r| Kept {
                entry: LevelEntry {
                    aliases: split(&r.aliases),
                    code: r.code,
                    name: r.name,
                    name_en: r.name_en,
                    rank: r.rank,
                    basis: r.basis,
                },
                retired: r.retired,
            })
            .collect();
        let measures = measures::table
            .order((measures::position.asc(), measures::code.asc()))
            .select(MeasureRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|r| Kept {
                entry: MeasureEntry {
                    aliases: split(&r.aliases),
                    system: System::parse(&r.system).unwrap_or(System::Other),
                    applies_to: r.applies_to.split_whitespace().filter_map(Category::parse).collect(),
                    code: r.code,
                    name: r.name,
                    name_en: r.name_en,
                    basis: r.basis,
                    valid_from: r.valid_from,
                    valid_until: r.valid_until,
                },
                retired: r.retired,
            })
            .collect();
        Ok(Handling { version, levels, measures })
    }

    /// The level `code` names (its code or an old alias), unless retired.
    pub fn level(&self, code: &str) -> Option<&LevelEntry> {
        self.levels
            .iter()
            .find(|l| !l.retired && (l.entry.code == code || l.entry.aliases.iter().any(|a| a == code)))
            .map(|l| &l.entry)
    }

    /// The measure `code` names (its code or an old alias), unless retired.
    pub fn measure(&self, code: &str) -> Option<&MeasureEntry> {
        self.measures.iter().find(|m| !m.retired && m.entry.named(code)).map(|m| &m.entry)
    }

    /// A level's name in `lang`; the code itself for one the catalog never had.
    pub fn level_name(&self, code: &str, lang: Lang) -> String {
        match self.levels.iter().find(|l| l.entry.code == code) {
            Some(l) if lang == Lang::En => l.entry.name_en.clone(),
            Some(l) => l.entry.name.clone(),
            None => code.to_string(),
        }
    }

    /// A measure's name in `lang`; the code itself for one the catalog never had.
    pub fn measure_name(&self, code: &str, lang: Lang) -> String {
        match self.measures.iter().find(|m| m.entry.code == code) {
            Some(m) if lang == Lang::En => m.entry.name_en.clone(),
            Some(m) => m.entry.name.clone(),
            None => code.to_string(),
        }
    }

    /// Loads or updates the catalog; call inside a write transaction. Entries are matched
    /// by code: known ones updated, new ones added, missing ones marked retired.
    pub fn import(
        conn: &mut DbConn,
        catalog: &HandlingCatalog,
        actor: &Actor,
        now: NaiveDateTime,
    ) -> QueryResult<HandlingImport> {
        let before = Handling::load(conn)?;
        let mut out = HandlingImport { version: catalog.version.trim().to_string(), ..Default::default() };
        for l in &catalog.levels {
            let row = LevelRow {
                code: l.code.clone(),
                name: l.name.trim().to_string(),
                name_en: l.name_en.trim().to_string(),
                rank: l.rank,
                aliases: words(&l.aliases),
                basis: l.basis.trim().to_string(),
                retired: false,
            };
            if before.levels.iter().any(|k| k.entry.code == l.code) {
                diesel::update(severity_levels::table.find(&l.code)).set(&row).execute(conn)?;
                out.levels_updated += 1;
            } else {
                diesel::insert_into(severity_levels::table).values(&row).execute(conn)?;
                out.levels_added += 1;
            }
        }
        for gone in
            before.levels.iter().filter(|k| !k.retired && !catalog.levels.iter().any(|l| l.code == k.entry.code))
        {
            diesel::update(severity_levels::table.find(&gone.entry.code))
                .set(severity_levels::retired.eq(true))
                .execute(conn)?;
            out.levels_retired += 1;
        }
        for (position, m) in catalog.measures.iter().enumerate() {
            let row = MeasureRow {
                code: m.code.clone(),
                name: m.name.trim().to_string(),
                name_en: m.name_en.trim().to_string(),
                system: m.system.as_str().to_string(),
                applies_to: m.applies_to.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" "),
                aliases: words(&m.aliases),
                basis: m.basis.trim().to_string(),
                valid_from: m.valid_from,
                valid_until: m.valid_until,
                position: position as i32,
                retired: false,
            };
            if before.measures.iter().any(|k| k.entry.code == m.code) {
                diesel::update(measures::table.find(&m.code)).set(&row).execute(conn)?;
                out.measures_updated += 1;
            } else {
                diesel::insert_into(measures::table).values(&row).execute(conn)?;
                out.measures_added += 1;
            }
        }
        for gone in
            before.measures.iter().filter(|k| !k.retired && !catalog.measures.iter().any(|m| m.code == k.entry.code))
        {
            diesel::update(measures::table.find(&gone.entry.code)).set(measures::retired.eq(true)).execute(conn)?;
            out.measures_retired += 1;
        }
        diesel::delete(handling_catalog::table).execute(conn)?;
        diesel::insert_into(handling_catalog::table)
            .values((
                handling_catalog::id.eq(1),
                handling_catalog::version.eq(&out.version),
                handling_catalog::loaded_at.eq(now),
            ))
            .execute(conn)?;
        let after = json!({"import": &out, "levels": &catalog.levels, "measures": &catalog.measures});
        AuditEntry::record(
            conn,
            actor,
            now,
            "import",
            "handling_catalog",
            "1",
            before.version.map(|v| json!({"version": v})),
            Some(after),
        )?;
        Ok(out)
    }
}

/// The severity levels not retired, as (code, aliases separated by spaces).
pub fn levels_in_use(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    severity_levels::table
        .filter(severity_levels::retired.eq(false))
        .select((severity_levels::code, severity_levels::aliases))
        .load(conn)
}

/// The code of the level `code` names among `levels` (its code or an old alias): what a
/// case's `severity` is stored as.
pub fn level_code(levels: &[(String, String)], code: &str) -> Option<String> {
    levels.iter().find(|(c, a)| c == code || a.split_whitespace().any(|x| x == code)).map(|(c, _)| c.clone())
}

/// Loads the shipped handling catalog when the database holds none yet (an
/// administrator's own version is never overwritten); true when it was loaded.
pub fn seed_default(conn: &mut DbConn, now: NaiveDateTime) -> Result<bool, String> {
    let catalog = HandlingCatalog::from_toml(DEFAULT_HANDLING)?;
    crate::db::write_tx(conn, |conn| {
        crate::db::migrate::lock_setup(conn)?;
        let loaded: i64 = handling_catalog::table.count().get_result(conn)?;
        if loaded > 0 {
            return Ok(false);
        }
        Handling::import(conn, &catalog, &Actor::system(), now)?;
        Ok(true)
    })
    .map_err(|e: diesel::result::Error| format!("cannot load the handling catalog: {e}"))
}

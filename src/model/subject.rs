//! The registry of people and bodies cases are about: found, created, corrected, moved
//! (with their history), merged; and their record across cases.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::case::{Case, CaseScope, Db};
use super::new_id;
use super::unit::subtree_ids;
use crate::db::DbConn;
use crate::db::schema::{
    campaign_members, campaign_targets, case_decisions, cases, subject_history, subjects, unit_closure,
};
use crate::domain::case_terms::SubjectKind;
use crate::domain::fold::fold;
use crate::domain::handling::Category;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = subjects, treat_none_as_null = true)]
pub struct Subject {
    pub id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub kind: SubjectKind,
    /// A person's full name as written; a named body inside the unit; none: the unit itself.
    pub name: Option<String>,
    /// The current unit.
    pub unit_id: String,
    pub position: Option<String>,
    /// Space-separated categories; empty when not known.
    pub categories: String,
    pub identifier: Option<String>,
    pub search_name: String,
    pub merged_into: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Where a subject was before a change of unit or position.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = subject_history)]
pub struct Former {
    pub id: String,
    pub subject_id: String,
    pub unit_id: String,
    pub position: Option<String>,
    pub ended_at: NaiveDateTime,
    pub changed_by: Option<String>,
}

/// The subjects a caller may look up by name: those of the units they answer for
/// (reviewers, unit heads), of their campaigns' targets (inspectors), or all.
#[derive(Debug, Clone)]
pub enum Reach {
    All,
    Subtree(String),
    CampaignsOf(String),
    Nothing,
}

/// One earlier or current case of a subject, as its record shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CaseOfSubject {
    pub id: String,
    pub number: String,
    pub title: String,
    pub detected_on: chrono::NaiveDate,
    pub status: String,
    pub subject_unit_id: String,
    /// The measures in force on it, latest first.
    pub measures: Vec<(String, chrono::NaiveDate)>,
}

/// A subject as a case describes it when it does not pick one from the registry.
pub struct Described<'a> {
    pub unit_id: &'a str,
    pub kind: SubjectKind,
    /// A person's full name, or a named body inside the unit (none: the unit itself).
    pub name: Option<&'a str>,
    pub position: Option<&'a str>,
    pub categories: &'a [Category],
    pub identifier: Option<&'a str>,
}

/// The lock that makes two cases logged at once for the same new person find one record.
fn lock_key(unit_id: &str, kind: SubjectKind, search_name: &str) -> String {
    format!("subject:{unit_id}:{}:{search_name}", kind.as_str())
}

impl Subject {
    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Subject>> {
        subjects::table.find(id).select(Subject::as_select()).first(conn).optional()
    }

    /// The record in force for `id`: itself, or the one it was merged into.
    pub fn resolve(conn: &mut DbConn, id: &str) -> QueryResult<Option<Subject>> {
        let mut current = Subject::find(conn, id)?;
        // A merge points at a record in force; a chain is followed to its end all the same.
        for _ in 0..8 {
            match current.as_ref().and_then(|s| s.merged_into.clone()) {
                Some(next) => current = Subject::find(conn, &next)?,
                None => break,
            }
        }
        Ok(current)
    }

    pub fn category_list(&self) -> Vec<Category> {
        self.categories.split_whitespace().filter_map(Category::parse).collect()
    }

    /// The person (not merged away) the agency's `identifier` names, if any.
    pub fn by_identifier(conn: &mut DbConn, identifier: &str) -> QueryResult<Option<Subject>> {
        subjects::table
            .filter(subjects::identifier.eq(identifier))
            .filter(subjects::merged_into.is_null())
            .order(subjects::id)
            .select(Subject::as_select())
            .first(conn)
            .optional()
    }

    /// The record a case describes, or a new one; call inside the case's transaction. A
    /// person with an identifier is found by it wherever they are now; otherwise a record
    /// is found by unit, kind and name exactly as written (one that carries another
    /// identifier is another person). Categories and the identifier given are added to a
    /// record found without them.
    pub fn find_or_create(conn: &mut DbConn, d: Described, now: NaiveDateTime) -> QueryResult<Subject> {
        let search_name = d.name.map(fold).unwrap_or_default();
        // Most cases name someone already on record, as it is: found without a lock, so
        // that cases about one subject logged at once do not wait for each other's
        // commits. A record about to be created or completed takes the locks, and is
        // looked for again under them.
        let mut found = Subject::described(conn, &d, &search_name)?;
        let completes = |f: &Subject| {
            (f.identifier.is_none() && d.identifier.is_some()) || (f.categories.is_empty() && !d.categories.is_empty())
        };
        if found.as_ref().is_none_or(completes) {
            let name_key = lock_key(d.unit_id, d.kind, &search_name);
            match d.identifier {
                // Identifier first, then name, in every transaction: never the other way round.
                Some(i) => crate::db::lock(conn, &[&format!("subject-identifier:{i}"), &name_key])?,
                None => crate::db::lock(conn, &[&name_key])?,
            }
            found = Subject::described(conn, &d, &search_name)?;
        }
        if let Some(mut found) = found {
            let before = (found.categories.clone(), found.identifier.clone());
            if found.categories.is_empty() && !d.categories.is_empty() {
                found.categories = words(d.categories);
            }
            if found.identifier.is_none() {
                found.identifier = d.identifier.map(str::to_string);
            }
            if (found.categories.clone(), found.identifier.clone()) != before {
                found.version += 1;
                found.updated_at = now;
                diesel::update(subjects::table.find(&found.id)).set(found.clone()).execute(conn)?;
            }
            return Ok(found);
        }
        let s = Subject {
            id: new_id(),
            kind: d.kind,
            name: d.name.map(str::to_string),
            unit_id: d.unit_id.to_string(),
            position: d.position.map(str::to_string),
            categories: words(d.categories),
            identifier: d.identifier.map(str::to_string),
            search_name,
            merged_into: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(subjects::table).values(s.clone()).execute(conn)?;
        Ok(s)
    }

    /// The record `d` describes, if there is one (read only: what `find_or_create` would find).
    pub fn matching(conn: &mut DbConn, d: &Described) -> QueryResult<Option<Subject>> {
        Subject::described(conn, d, &d.name.map(fold).unwrap_or_default())
    }

    /// The record `d` describes, if there is one: the person its identifier names, else
    /// the one of the same unit, kind and name as written (without another identifier).
    fn described(conn: &mut DbConn, d: &Described, search_name: &str) -> QueryResult<Option<Subject>> {
        if let Some(i) = d.identifier
            && let Some(found) = Subject::by_identifier(conn, i)?
        {
            return Ok(Some(found));
        }
        let mut q = subjects::table
            .filter(subjects::unit_id.eq(d.unit_id))
            .filter(subjects::kind.eq(d.kind.as_str()))
            .filter(subjects::search_name.eq(search_name))
            .filter(subjects::merged_into.is_null())
            .into_boxed();
        q = match d.name {
            Some(n) => q.filter(subjects::name.eq(n.to_string())),
            None => q.filter(subjects::name.is_null()),
        };
        if d.identifier.is_some() {
            q = q.filter(subjects::identifier.is_null());
        }
        q.order(subjects::id).select(Subject::as_select()).first(conn).optional()
    }

    /// Moves every record of unit `from` to unit `to` (a reorganisation ended `from`),
    /// keeping the former unit in each one's history; the number moved.
    pub fn move_unit(conn: &mut DbConn, from: &str, to: &str, by: &str, now: NaiveDateTime) -> QueryResult<usize> {
        let moving: Vec<(String, Option<String>)> = subjects::table
            .filter(subjects::unit_id.eq(from))
            .filter(subjects::merged_into.is_null())
            .select((subjects::id, subjects::position))
            .load(conn)?;
        for chunk in moving.chunks(500) {
            let formers: Vec<Former> = chunk
                .iter()
                .map(|(id, position)| Former {
                    id: new_id(),
                    subject_id: id.clone(),
                    unit_id: from.to_string(),
                    position: position.clone(),
                    ended_at: now,
                    changed_by: Some(by.to_string()),
                })
                .collect();
            crate::per_backend!(conn, |c| diesel::insert_into(subject_history::table).values(&formers).execute(c))?;
            let ids: Vec<&String> = chunk.iter().map(|(id, _)| id).collect();
            diesel::update(subjects::table.filter(subjects::id.eq_any(ids)))
                .set((
                    subjects::unit_id.eq(to),
                    subjects::version.eq(subjects::version + 1),
                    subjects::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(moving.len())
    }

    /// Writes a correction as the next version; a change of unit or position keeps the
    /// former one in the history. False when someone else changed it first.
    pub fn update(&self, conn: &mut DbConn, before: &Subject, by: &str, now: NaiveDateTime) -> QueryResult<bool> {
        if self.unit_id != before.unit_id || self.position != before.position {
            let former = Former {
                id: new_id(),
                subject_id: before.id.clone(),
                unit_id: before.unit_id.clone(),
                position: before.position.clone(),
                ended_at: now,
                changed_by: Some(by.to_string()),
            };
            diesel::insert_into(subject_history::table).values(&former).execute(conn)?;
        }
        let n = diesel::update(subjects::table.find(&self.id).filter(subjects::version.eq(before.version)))
            .set(self.clone())
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Earlier units and positions, latest first.
    pub fn history(conn: &mut DbConn, id: &str) -> QueryResult<Vec<Former>> {
        subject_history::table
            .filter(subject_history::subject_id.eq(id))
            .order(subject_history::ended_at.desc())
            .select(Former::as_select())
            .load(conn)
    }

    /// Records in force whose name starts with `q` (diacritics and case ignored) within
    /// `reach`, optionally of one unit's subtree and one kind; keyset-paged by (name, id).
    pub fn search(
        conn: &mut DbConn,
        reach: &Reach,
        q: Option<&str>,
        unit_id: Option<&str>,
        kind: Option<SubjectKind>,
        after: Option<(String, String)>,
        limit: i64,
    ) -> QueryResult<Vec<Subject>> {
        let mut query = subjects::table.filter(subjects::merged_into.is_null()).into_boxed();
        if let Some(prefix) = q.map(fold).filter(|p| !p.is_empty()) {
            // A range on the folded name: the index finds the run of names with this prefix.
            let end = format!("{prefix}\u{10ffff}");
            query = query.filter(subjects::search_name.ge(prefix)).filter(subjects::search_name.lt(end));
        }
        query = query.filter(in_reach(reach));
        if let Some(u) = unit_id {
            query = query.filter(subjects::unit_id.eq_any(subtree_ids(u)));
        }
        if let Some(k) = kind {
            query = query.filter(subjects::kind.eq(k.as_str()));
        }
        if let Some((name, id)) = after {
            query = query.filter(
                subjects::search_name.gt(name.clone()).or(subjects::search_name.eq(name).and(subjects::id.gt(id))),
            );
        }
        query.order((subjects::search_name, subjects::id)).limit(limit).select(Subject::as_select()).load(conn)
    }

    /// Whether `reach` holds the subject's current unit.
    pub fn within(&self, conn: &mut DbConn, reach: &Reach) -> QueryResult<bool> {
        let n: i64 =
            subjects::table.filter(subjects::id.eq(&self.id)).filter(in_reach(reach)).count().get_result(conn)?;
        Ok(n > 0)
    }

    /// The subject's cases `scope` may see, newest first, each with its measures in force.
    pub fn cases_of(
        conn: &mut DbConn,
        id: &str,
        scope: &CaseScope,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<CaseOfSubject>> {
        let f = super::case::CaseFilter::default();
        let rows: Vec<(String, String, String, chrono::NaiveDate, String, String)> = cases::table
            .filter(cases::subject_id.eq(id))
            .filter(super::case::case_predicate(scope, &f, now))
            .order((cases::detected_on.desc(), cases::id.desc()))
            .limit(200)
            .select((cases::id, cases::number, cases::title, cases::detected_on, cases::status, cases::subject_unit_id))
            .load(conn)?;
        let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
        let decided: Vec<(String, String, chrono::NaiveDate)> = case_decisions::table
            .filter(case_decisions::case_id.eq_any(ids))
            .filter(case_decisions::superseded.eq(false))
            .order((case_decisions::decided_on.desc(), case_decisions::recorded_at.desc(), case_decisions::id.desc()))
            .select((case_decisions::case_id, case_decisions::measure, case_decisions::decided_on))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, number, title, detected_on, status, subject_unit_id)| CaseOfSubject {
                measures: decided.iter().filter(|d| d.0 == id).map(|d| (d.1.clone(), d.2)).collect(),
                id,
                number,
                title,
                detected_on,
                status,
                subject_unit_id,
            })
            .collect())
    }

    /// Folds record `from` into `into`: its cases name `into` from now on, it keeps its row
    /// (pointing at `into`), and each case's subject counts move in the report rollups the
    /// way any change of a case moves them.
    pub fn merge(conn: &mut DbConn, from: &Subject, into: &Subject, now: NaiveDateTime) -> QueryResult<usize> {
        let moved: Vec<Case> =
            cases::table.filter(cases::subject_id.eq(&from.id)).select(Case::as_select()).load(conn)?;
        diesel::update(cases::table.filter(cases::subject_id.eq(&from.id)))
            .set((cases::subject_id.eq(&into.id), cases::subject_key.eq(&into.id)))
            .execute(conn)?;
        for before in &moved {
            let after = Case { subject_id: Some(into.id.clone()), subject_key: into.id.clone(), ..before.clone() };
            // Only the subject differs, so only the subject rollups change.
            super::rollup::record(conn, Some((before, &[])), (&after, &[]))?;
        }
        diesel::update(subjects::table.find(&from.id))
            .set((
                subjects::merged_into.eq(&into.id),
                subjects::version.eq(from.version + 1),
                subjects::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(moved.len())
    }
}

/// The latest of the measures on `cases` (by date; on one date, the one recorded last).
pub fn latest_measure(cases: &[CaseOfSubject]) -> Option<(String, chrono::NaiveDate)> {
    cases
        .iter()
        .flat_map(|c| c.measures.iter())
        .fold(
            None::<&(String, chrono::NaiveDate)>,
            |best, m| if best.is_none_or(|b| m.1 > b.1) { Some(m) } else { best },
        )
        .cloned()
}

/// The predicate of [`Reach`] over subjects.
fn in_reach<'a>(
    reach: &Reach,
) -> Box<dyn BoxableExpression<subjects::table, Db, SqlType = diesel::sql_types::Bool> + 'a> {
    match reach {
        Reach::All => Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 1")),
        Reach::Subtree(u) => Box::new(subjects::unit_id.eq_any(subtree_ids(u))),
        Reach::CampaignsOf(user) => Box::new(
            subjects::unit_id.eq_any(
                unit_closure::table
                    .filter(
                        unit_closure::ancestor_id.eq_any(
                            campaign_targets::table
                                .filter(
                                    campaign_targets::campaign_id.eq_any(
                                        campaign_members::table
                                            .filter(campaign_members::user_id.eq(user.clone()))
                                            .select(campaign_members::campaign_id),
                                    ),
                                )
                                .select(campaign_targets::unit_id),
                        ),
                    )
                    .select(unit_closure::descendant_id),
            ),
        ),
        Reach::Nothing => Box::new(subjects::id.is_null()),
    }
}

fn words(categories: &[Category]) -> String {
    let mut list: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
    list.sort();
    list.dedup();
    list.join(" ")
}

/// Categories as stored.
pub fn category_words(categories: &[Category]) -> String {
    words(categories)
}

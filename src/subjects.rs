//! The people and bodies cases are about: looking them up, reading one's record (itself
//! audited: Nghị định 13/2023/NĐ-CP on personal data), correcting and moving a record,
//! and merging two records of the same person. The API and the console call these.

use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::casework::{Ctx, scope_of};
use crate::db::{DbConn, write_tx};
use crate::domain::case_terms::SubjectKind;
use crate::domain::handling::Category;
use crate::domain::limits::{IDENTIFIER_MAX, NAME_MAX};
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::error::{Error, Validator, msg};
use crate::model::audit::AuditEntry;
use crate::model::subject::{CaseOfSubject, Former, Reach, Subject, category_words};
use crate::model::unit::Unit;
use crate::model::{canonical_id, parse_id};

/// Whose records `caller` may look up: administrators all (they merge records), reviewers
/// and unit heads their unit's subtree, inspectors their campaigns' target units.
pub fn reach_of(caller: &CurrentUser) -> Reach {
    match (caller.role, &caller.user.unit_id) {
        (Role::Admin, _) => Reach::All,
        (Role::Inspector, _) => Reach::CampaignsOf(caller.user.id.clone()),
        (Role::Reviewer | Role::UnitHead, Some(u)) => Reach::Subtree(u.clone()),
        (Role::Reviewer | Role::UnitHead, None) => Reach::Nothing,
    }
}

/// A subject's record as its reader may see it.
pub struct Record {
    pub subject: Subject,
    pub history: Vec<Former>,
    /// Its cases the reader may see, newest first.
    pub cases: Vec<CaseOfSubject>,
}

/// Records whose name starts with `q`, within the caller's reach, keyset-paged.
pub fn search(
    conn: &mut DbConn,
    caller: &CurrentUser,
    q: Option<&str>,
    unit_id: Option<&str>,
    kind: Option<&str>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<Subject>, Error> {
    let mut v = Validator::new();
    let kind = match kind.map(|k| (k, SubjectKind::parse(k))) {
        None => None,
        Some((_, Some(k))) => Some(k),
        Some(_) => {
            v.add("kind", one_of(&SubjectKind::ALL.map(SubjectKind::as_str)));
            None
        }
    };
    if let Some(u) = unit_id {
        v.check(canonical_id(u).is_some(), "unit_id", msg::bad_id());
    }
    // The cursor is the last record's id; the page goes on after its (name, id).
    let after = match after.as_deref().map(canonical_id) {
        None => None,
        Some(None) => {
            v.add("cursor", msg::bad_cursor());
            None
        }
        Some(Some(id)) => Subject::find(conn, &id)?.map(|s| (s.search_name, s.id)),
    };
    v.finish()?;
    Ok(Subject::search(conn, &reach_of(caller), q, unit_id, kind, after, limit)?)
}

/// One record: the subject (followed to the record it was merged into), where it was
/// before, and its cases the caller may see. 404 when the caller may neither look the
/// subject up nor see any of its cases. The read is audited.
pub fn read(conn: &mut DbConn, ctx: &Ctx, caller: &CurrentUser, id: &str) -> Result<Record, Error> {
    let id = parse_id(id)?;
    write_tx(conn, |conn| {
        let subject = Subject::resolve(conn, &id)?.ok_or(Error::NotFound)?;
        let cases = match scope_of(caller) {
            Ok(scope) => Subject::cases_of(conn, &subject.id, &scope, ctx.now())?,
            Err(_) => Vec::new(),
        };
        if cases.is_empty() && !subject.within(conn, &reach_of(caller))? {
            return Err(Error::NotFound);
        }
        let history = Subject::history(conn, &subject.id)?;
        let seen = json!({"cases": cases.iter().map(|c| &c.id).collect::<Vec<_>>()});
        AuditEntry::record(conn, &caller.actor(), ctx.now(), "read", "subject", &subject.id, None, Some(seen))?;
        Ok(Record { subject, history, cases })
    })
}

/// Body of `PATCH /subjects/{id}`: every field optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectPatch {
    /// A person's full name as written, or a body's name.
    pub name: Option<String>,
    pub categories: Option<Vec<String>>,
    /// The unit the subject belongs to now (the former one is kept in the history).
    pub unit_id: Option<String>,
    pub position: Option<String>,
    /// The identifier the agency uses for the person (e.g. a personnel number).
    pub identifier: Option<String>,
}

/// Corrects or moves a record: reviewers within their subtree (the old and the new unit),
/// administrators anywhere. Cases keep the unit they were found in.
pub fn correct(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    if_match: Option<i64>,
    input: SubjectPatch,
) -> Result<Subject, Error> {
    caller.require(&[Role::Reviewer, Role::Admin])?;
    let id = parse_id(id)?;
    let now = ctx.now();
    let reach = reach_of(caller);
    write_tx(conn, |conn| {
        let before = Subject::find(conn, &id)?.filter(|s| s.merged_into.is_none()).ok_or(Error::NotFound)?;
        if !may_correct(conn, caller, &before)? {
            return Err(Error::NotFound);
        }
        if if_match.is_some_and(|v| v != before.version) {
            return Err(Error::PreconditionFailed);
        }
        let mut after = before.clone();
        let mut v = Validator::new();
        if let Some(n) = &input.name {
            match text::clean_required(n, NAME_MAX) {
                Ok(n) => {
                    after.search_name = crate::domain::fold::fold(&n);
                    after.name = Some(n);
                }
                Err(m) => v.add("name", m),
            }
        }
        if let Some(list) = &input.categories {
            let mut parsed = Vec::new();
            for (i, c) in list.iter().enumerate() {
                match Category::parse(c) {
                    Some(c) if Category::of_kind(before.kind).contains(&c) => parsed.push(c),
                    _ => v.add(
                        &format!("categories[{i}]"),
                        one_of(&Category::of_kind(before.kind).iter().map(|c| c.as_str()).collect::<Vec<_>>()),
                    ),
                }
            }
            after.categories = category_words(&parsed);
        }
        if let Some(u) = &input.unit_id {
            let unit = match canonical_id(u) {
                Some(u) => Unit::find(conn, &u)?,
                None => None,
            };
            match unit {
                None => v.add("unit_id", msg::no_unit()),
                Some(unit) if !Subject { unit_id: unit.id.clone(), ..before.clone() }.within(conn, &reach)? => {
                    v.add("unit_id", msg::outside_scope())
                }
                Some(unit) => after.unit_id = unit.id,
            }
        }
        if let Some(p) = &input.position {
            match text::clean_required(p, NAME_MAX) {
                Ok(p) => after.position = Some(p),
                Err(m) => v.add("position", m),
            }
        }
        if let Some(i) = &input.identifier {
            match text::clean_required(i, IDENTIFIER_MAX) {
                Ok(i) if Subject::by_identifier(conn, &i)?.is_some_and(|other| other.id != before.id) => {
                    v.add("identifier", msg::identifier_taken())
                }
                Ok(i) => after.identifier = Some(i),
                Err(m) => v.add("identifier", m),
            }
        }
        v.finish()?;
        after.version = before.version + 1;
        after.updated_at = now;
        if !after.update(conn, &before, &caller.user.id, now)? {
            return Err(Error::conflict(msg::concurrent_change()));
        }
        AuditEntry::record(
            conn,
            &caller.actor(),
            now,
            "update",
            "subject",
            &after.id,
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        )?;
        Ok(after)
    })
}

/// Merges record `id` into `into` (two records that turn out to be one person or body):
/// administrators only; every count follows at once. Returns the record kept and how many
/// cases moved to it.
pub fn merge(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    id: &str,
    into: Option<&str>,
) -> Result<(Subject, usize), Error> {
    caller.require(&[Role::Admin])?;
    let id = parse_id(id)?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        let from = Subject::find(conn, &id)?.filter(|s| s.merged_into.is_none()).ok_or(Error::NotFound)?;
        let into = match into.map(canonical_id) {
            None => return Err(Error::field("into", msg::required())),
            Some(None) => return Err(Error::field("into", msg::no_subject())),
            Some(Some(i)) if i == from.id => return Err(Error::field("into", msg::merge_into_itself())),
            Some(Some(i)) => Subject::resolve(conn, &i)?.ok_or_else(|| Error::field("into", msg::no_subject()))?,
        };
        if into.id == from.id {
            return Err(Error::field("into", msg::merge_into_itself()));
        }
        if into.kind != from.kind {
            return Err(Error::field("into", msg::merge_other_kind()));
        }
        let moved = Subject::merge(conn, &from, &into, now)?;
        let after = json!({"merged_into": into.id, "cases_moved": moved});
        AuditEntry::record(
            conn,
            &caller.actor(),
            now,
            "merge",
            "subject",
            &from.id,
            Some(snapshot(&from)),
            Some(after),
        )?;
        Ok((into, moved))
    })
}

/// Whether `caller` may correct or move `subject`: reviewers within their subtree,
/// administrators anywhere; a record merged away is corrected through the one it joined.
pub fn may_correct(conn: &mut DbConn, caller: &CurrentUser, subject: &Subject) -> Result<bool, Error> {
    Ok(matches!(caller.role, Role::Reviewer | Role::Admin)
        && subject.merged_into.is_none()
        && subject.within(conn, &reach_of(caller))?)
}

/// Whether `caller` may merge records (administrators: merging changes counts across units).
pub fn may_merge(caller: &CurrentUser) -> bool {
    caller.role == Role::Admin
}

/// What the record's page offers its reader besides the record: whether they may correct
/// it, the living units they may move it to (each with its depth under its root), and,
/// for an administrator looking for a duplicate, the records of the same kind whose name
/// starts with `merge_q`.
pub struct Offers {
    pub may_correct: bool,
    pub may_merge: bool,
    pub destinations: Vec<(Unit, i32)>,
    pub candidates: Vec<Subject>,
}

/// How many records a search for a duplicate lists.
const CANDIDATES: i64 = 10;

/// [`Offers`] for `subject` as `caller` reads it.
pub fn offers(
    conn: &mut DbConn,
    caller: &CurrentUser,
    subject: &Subject,
    merge_q: Option<&str>,
) -> Result<Offers, Error> {
    let may_correct = may_correct(conn, caller, subject)?;
    let mut destinations = Vec::new();
    if may_correct {
        let roots = match reach_of(caller) {
            Reach::Subtree(u) => vec![u],
            _ => Unit::roots(conn)?.into_iter().map(|u| u.id).collect(),
        };
        for root in roots {
            destinations.extend(Unit::subtree(conn, &root)?.into_iter().filter(|(u, _)| u.ended_on.is_none()));
        }
    }
    let may_merge = may_merge(caller) && subject.merged_into.is_none();
    let candidates = match merge_q.map(str::trim).filter(|q| may_merge && !q.is_empty()) {
        Some(q) => {
            let found = search(conn, caller, Some(q), None, Some(subject.kind.as_str()), None, CANDIDATES + 1)?;
            found.into_iter().filter(|s| s.id != subject.id).take(CANDIDATES as usize).collect()
        }
        None => Vec::new(),
    };
    Ok(Offers { may_correct, may_merge, destinations, candidates })
}

/// What the audit log keeps of a record (names are withheld from administrators' reads).
fn snapshot(s: &Subject) -> serde_json::Value {
    json!({
        "kind": s.kind, "name": s.name, "unit_id": s.unit_id, "position": s.position,
        "categories": s.categories, "identifier": s.identifier, "version": s.version,
    })
}

/// A subject's earlier violations, as a reader deciding on `case` may see them: the
/// standing cases of the same record found on or before it, and the latest measure taken
/// on any of them.
#[derive(Debug, Default, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Repeat {
    pub earlier: usize,
    /// The latest measure in force on an earlier case, and its date.
    pub last: Option<(String, chrono::NaiveDate)>,
}

/// [`Repeat`] for `case`, within `caller`'s scope.
pub fn repeat_of(
    conn: &mut DbConn,
    caller: &CurrentUser,
    case: &crate::model::case::Case,
    now: chrono::NaiveDateTime,
) -> Result<Repeat, Error> {
    let Some(subject) = &case.subject_id else { return Ok(Repeat::default()) };
    let scope = scope_of(caller)?;
    let earlier: Vec<CaseOfSubject> = Subject::cases_of(conn, subject, &scope, now)?
        .into_iter()
        .filter(|c| {
            c.id != case.id && c.status != crate::domain::workflow::NOT_STANDING && c.detected_on <= case.detected_on
        })
        .collect();
    let last = crate::model::subject::latest_measure(&earlier);
    Ok(Repeat { earlier: earlier.len(), last })
}

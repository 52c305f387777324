//! The descriptive fields of a case: what logging and editing accept, and how they are checked.

use serde::Deserialize;

use super::Ctx;
use crate::db::DbConn;
use crate::domain::case_terms::SubjectKind;
use crate::domain::dates;
use crate::domain::handling::Category;
use crate::domain::limits::{DESCRIPTION_MAX, IDENTIFIER_MAX, NAME_MAX, TITLE_MAX};
use crate::domain::role::one_of;
use crate::domain::text;
use crate::error::msg;
use crate::error::{Error, Validator};
use crate::model::campaign::Campaign;
use crate::model::canonical_id;
use crate::model::case::Case;
use crate::model::directive::Indicator;
use crate::model::subject::Subject;
use crate::model::unit::Unit;

#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
pub struct SubjectInput {
    pub kind: Option<String>,
    pub unit_id: Option<String>,
    pub person_name: Option<String>,
    pub person_position: Option<String>,
    /// `party_member`, `civil_servant`, … (a party member who is a civil servant is both);
    /// left out: not known, and any measure in force fits.
    pub categories: Option<Vec<String>>,
    /// For an organisation: a named body inside the unit ("Phòng Tài nguyên và Môi
    /// trường"); left out, the unit itself.
    pub body_name: Option<String>,
    /// For a person: the identifier the agency uses (e.g. a personnel number); it finds
    /// the person's record whichever unit they are in now.
    pub identifier: Option<String>,
}

/// Body of POST (all needed) and PATCH (any subset).
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CaseInput {
    pub campaign_id: Option<String>,
    /// A subject of the registry (`GET /subjects`), instead of `subject`.
    pub subject_id: Option<String>,
    pub subject: Option<SubjectInput>,
    pub indicator_ids: Option<Vec<String>>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub detected_on: Option<String>,
    pub severity: Option<String>,
    pub responsible_unit_id: Option<String>,
    pub due_at: Option<String>,
}

/// A case plus the indicator ids it cites, while being edited.
pub(super) struct Draft {
    pub case: Case,
    pub indicator_ids: Vec<String>,
    /// The categories an inline subject was given.
    pub categories: Vec<Category>,
    /// The identifier an inline person was given.
    pub identifier: Option<String>,
}

/// Applies the descriptive fields of `input`, recording every problem in `v`.
pub(super) fn apply_fields(
    ctx: &Ctx,
    conn: &mut DbConn,
    v: &mut Validator,
    d: &mut Draft,
    campaign: Option<&Campaign>,
    input: &CaseInput,
) -> Result<(), Error> {
    if let Some(t) = &input.title {
        match text::clean_required(t, TITLE_MAX) {
            Ok(t) => d.case.title = t,
            Err(m) => v.add("title", m),
        }
    }
    if let Some(t) = &input.description {
        match text::clean_required(t, DESCRIPTION_MAX) {
            Ok(t) => d.case.description = t,
            Err(m) => v.add("description", m),
        }
    }
    if let Some(s) = &input.severity {
        match crate::model::handling::level_code(&ctx.memo.levels(conn)?, s) {
            Some(code) => d.case.severity = code,
            None => v.add("severity", msg::unknown_severity()),
        }
    }
    if let Some(raw) = &input.detected_on {
        let today = ctx.today()?;
        match dates::parse_date(raw) {
            Ok(date) if date > today => v.add("detected_on", msg::not_future()),
            Ok(date) if campaign.is_some_and(|c| date < c.starts_on) => v.add("detected_on", msg::before_campaign()),
            Ok(date) => d.case.detected_on = date,
            Err(m) => v.add("detected_on", m),
        }
    }
    if input.subject.is_some() && input.subject_id.is_some() {
        v.add("subject_id", msg::subject_twice());
    }
    // The unit an inline subject names, read once for both checks below.
    let mut named_unit: Option<Unit> = None;
    if let Some(raw) = input.subject_id.as_deref().filter(|_| input.subject.is_none()) {
        match canonical_id(raw) {
            None => v.add("subject_id", msg::no_subject()),
            Some(id) => match Subject::resolve(conn, &id)? {
                None => v.add("subject_id", msg::no_subject()),
                Some(s)
                    if campaign.is_some_and(|c| !Campaign::targets_unit(conn, &c.id, &s.unit_id).unwrap_or(false)) =>
                {
                    v.add("subject_id", msg::unit_not_targeted())
                }
                Some(s) => {
                    d.case.subject_kind = s.kind;
                    d.case.subject_unit_id = s.unit_id.clone();
                    d.case.person_name = s.name.clone().filter(|_| s.kind == SubjectKind::Individual);
                    d.case.person_position = s.position.clone();
                    d.case.body_name = s.name.clone().filter(|_| s.kind == SubjectKind::Organization);
                    d.case.subject_id = Some(s.id);
                }
            },
        }
    }
    if let Some(s) = &input.subject {
        // Found or created again from what is given, when the case is stored.
        d.case.subject_id = None;
        d.categories.clear();
        for (i, c) in s.categories.iter().flatten().enumerate() {
            match Category::parse(c) {
                Some(c) => d.categories.push(c),
                None => v.add(&format!("subject.categories[{i}]"), one_of(&Category::ALL.map(Category::as_str))),
            }
        }
        match s.kind.as_deref().map(SubjectKind::parse) {
            Some(Some(kind)) => {
                d.case.subject_kind = kind;
                if let Some(i) = d.categories.iter().position(|c| !Category::of_kind(kind).contains(c)) {
                    let fits: Vec<&str> = Category::of_kind(kind).iter().map(|c| c.as_str()).collect();
                    v.add(&format!("subject.categories[{i}]"), one_of(&fits));
                }
            }
            Some(None) => v.add("subject.kind", one_of(&SubjectKind::ALL.map(SubjectKind::as_str))),
            None => v.add("subject.kind", msg::required()),
        }
        if let Some(u) = s.unit_id.as_deref().filter(|u| canonical_id(u).is_some()) {
            named_unit = Unit::find(conn, u)?;
        }
        match s.unit_id.as_deref() {
            None => v.add("subject.unit_id", msg::required()),
            Some(_) if named_unit.is_none() => v.add("subject.unit_id", msg::no_unit()),
            Some(u)
                if match campaign {
                    Some(c) => !Campaign::targets_unit(conn, &c.id, u)?,
                    None => false,
                } =>
            {
                v.add("subject.unit_id", msg::unit_not_targeted())
            }
            Some(u) => d.case.subject_unit_id = u.to_string(),
        }
        let name = s.person_name.as_deref().map(|n| text::clean_required(n, NAME_MAX));
        let position = s.person_position.as_deref().map(|n| text::clean_required(n, NAME_MAX));
        let identifier = s.identifier.as_deref().map(|n| text::clean_required(n, IDENTIFIER_MAX));
        d.identifier = None;
        if d.case.subject_kind == SubjectKind::Individual {
            d.case.body_name = None;
            v.check(s.body_name.is_none(), "subject.body_name", msg::body_for_organisations());
            match name {
                Some(Ok(n)) => d.case.person_name = Some(n),
                Some(Err(m)) => v.add("subject.person_name", m),
                None => v.add("subject.person_name", msg::person_name_needed()),
            }
            match position {
                Some(Ok(p)) => d.case.person_position = Some(p),
                Some(Err(m)) => v.add("subject.person_position", m),
                None => d.case.person_position = None,
            }
            match identifier {
                Some(Ok(i)) => {
                    // The identifier names one person: it may not be given to someone else.
                    if let Some(n) = d.case.person_name.as_deref().filter(|_| !v.has("subject.person_name"))
                        && Subject::by_identifier(conn, &i)?.is_some_and(|other| other.name.as_deref() != Some(n))
                    {
                        v.add("subject.identifier", msg::identifier_other_person());
                    }
                    d.identifier = Some(i);
                }
                Some(Err(m)) => v.add("subject.identifier", m),
                None => {}
            }
        } else {
            d.case.person_name = None;
            d.case.person_position = None;
            match s.body_name.as_deref().map(|n| text::clean_required(n, NAME_MAX)) {
                Some(Ok(b)) => d.case.body_name = Some(b),
                Some(Err(m)) => v.add("subject.body_name", m),
                None => d.case.body_name = None,
            }
            v.check(s.identifier.is_none(), "subject.identifier", msg::identifier_for_people());
        }
    }
    if let Some(ids) = &input.indicator_ids {
        v.check(!ids.is_empty(), "indicator_ids", msg::cite_indicator());
        let mut ids = ids.clone();
        ids.sort();
        ids.dedup();
        let valid: Vec<String> = ids.iter().filter(|i| canonical_id(i).is_some()).cloned().collect();
        let found = Indicator::find_many(conn, &valid)?;
        for (i, id) in ids.iter().enumerate() {
            match found.iter().find(|f| &f.id == id) {
                None => v.add(&format!("indicator_ids[{i}]"), msg::no_indicator()),
                Some(f) if campaign.is_some_and(|c| f.directive_id != c.directive_id) => {
                    v.add(&format!("indicator_ids[{i}]"), msg::indicator_other_directive())
                }
                Some(f) if f.retired => v.add(&format!("indicator_ids[{i}]"), msg::indicator_retired()),
                Some(_) => {}
            }
        }
        d.indicator_ids = ids;
    }
    // The unit the subject was found in must have existed on the day it was found.
    let field = if input.subject.is_some() {
        "subject.unit_id"
    } else if input.subject_id.is_some() {
        "subject_id"
    } else {
        "detected_on"
    };
    if (input.subject.is_some() || input.subject_id.is_some() || input.detected_on.is_some())
        && !d.case.subject_unit_id.is_empty()
        && !v.has(field)
    {
        // Said here beside the field with every other problem; `derive` checks it again
        // where it holds, inside the write.
        let unit = match named_unit.filter(|u| u.id == d.case.subject_unit_id) {
            Some(u) => Some(u),
            None => Unit::find(conn, &d.case.subject_unit_id)?,
        };
        if unit.is_some_and(|u| !u.alive_on(d.case.detected_on)) {
            v.add(field, crate::reorganisation::gone_on(d.case.detected_on));
        }
    }
    Ok(())
}

/// Recomputes what is derived from the fields, inside the case's transaction: the
/// subject's record (found by identifier, or by unit, kind and name as written, or
/// created) unless the case names one already, the key counts use (the record's id), and
/// the search text.
pub(crate) fn derive(
    conn: &mut DbConn,
    case: &mut Case,
    categories: &[Category],
    identifier: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<(), Error> {
    if case.subject_id.is_none() {
        let name = match case.subject_kind {
            SubjectKind::Individual => case.person_name.as_deref(),
            SubjectKind::Organization => case.body_name.as_deref(),
        };
        let subject = Subject::find_or_create(
            conn,
            crate::model::subject::Described {
                unit_id: &case.subject_unit_id,
                kind: case.subject_kind,
                name,
                position: case.person_position.as_deref(),
                categories,
                identifier,
            },
            now,
        )?;
        case.subject_id = Some(subject.id);
    }
    case.subject_key = case.subject_id.clone().unwrap_or_default();
    // Shared with a reorganisation, which ends units under the exclusive lock: the unit is
    // read after taking it, so that its end date is the committed one and stays so until
    // this write commits.
    crate::db::lock_shared(conn, crate::unit_tree::UNIT_TREE)?;
    let unit = Unit::find(conn, &case.subject_unit_id)?;
    if let Some(u) = &unit
        && !u.alive_on(case.detected_on)
    {
        return Err(Error::field("subject.unit_id", crate::reorganisation::gone_on(case.detected_on)));
    }
    case.search_text = case.search_text_of(&unit.map(|u| u.name).unwrap_or_default());
    Ok(())
}

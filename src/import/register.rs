//! Importing a register of cases. Every row is checked with the rules a logged case and a
//! recorded decision are checked with, and every problem of the file is listed at once;
//! then, in one transaction, the good rows become cases with their original dates,
//! statuses, decisions and deadlines, each with its timeline event and audit entry, and
//! a row imported before (known by its original reference, or by its content) is not
//! imported again.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::columns::{DecisionPart, Field, Layout, Problem, columns};
use super::sheet::{self, Row, Sheet};
use crate::auth::CurrentUser;
use crate::casework::{self, Ctx, DecisionInput};
use crate::db::{DbConn, write_tx};
use crate::domain::case_terms::SubjectKind;
use crate::domain::dates;
use crate::domain::deadline::{end_of_day, review_deadline};
use crate::domain::fold::fold;
use crate::domain::handling::{Category, System};
use crate::domain::role::{Role, one_of};
use crate::domain::text;
use crate::domain::validation::{Message, Validator, msg};
use crate::domain::workflow::{self, Addition, Status};
use crate::error::Error;
use crate::i18n::{Lang, catalogs};
use crate::model::audit::AuditEntry;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::case::{Case, CaseEvent};
use crate::model::decision::Decision;
use crate::model::directive::{Directive, Indicator};
use crate::model::handling::Handling;
use crate::model::imports::{ImportRecord, ImportedRow};
use crate::model::subject::{Described, Subject};
use crate::model::unit::Unit;
use crate::model::{new_id, rollup};

const TITLE_MAX: usize = 300;
const DESCRIPTION_MAX: usize = 10_000;
const NAME_MAX: usize = 200;
const FILE_NAME_MAX: usize = 255;

/// A problem as the answer gives it: where, and what, in the reader's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemView {
    /// The spreadsheet's row number (the headers are row 1).
    pub row: usize,
    /// The column's letter ("F"), when the problem is in one cell.
    pub column: Option<String>,
    /// The column's header as the file writes it.
    pub header: Option<String>,
    /// The message alone.
    pub message: String,
    /// "Dòng 17, cột F (Biểu hiện): …".
    pub text: String,
    /// The message's catalog key (`err-<key>`), for clients that tell problems apart.
    pub code: String,
}

/// A row imported before, and the case it became.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlreadyImported {
    pub row: usize,
    pub case_id: String,
    pub case_number: String,
}

/// What an import did, or with `dry_run` would do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    /// The import's id once applied; none for a dry run or a refused import.
    pub id: Option<String>,
    pub dry_run: bool,
    pub file_name: String,
    /// SHA-256 of the file, hex.
    pub digest: String,
    /// The legacy encoding the text was converted from, if any ("TCVN3 (ABC, .VnTime)").
    pub converted_from: Option<String>,
    /// Data rows read (blank rows left out).
    pub rows: usize,
    pub cases: usize,
    pub subjects_new: usize,
    pub subjects_matched: usize,
    pub decisions: usize,
    pub already_imported: Vec<AlreadyImported>,
    /// Rows left out for their problems (with `skip_invalid`), by row number.
    pub skipped_rows: Vec<usize>,
    pub problems: Vec<ProblemView>,
    /// The numbers of the cases created, in row order (an applied import).
    pub case_numbers: Vec<String>,
}

/// One row, checked: the case to create (its subject described, not yet found), its
/// decisions, and its key.
struct Planned {
    line: usize,
    key: String,
    case: Case,
    indicator_ids: Vec<String>,
    categories: Vec<Category>,
    decisions: Vec<Decision>,
}

/// Everything a register is checked against, read once.
struct Catalogs {
    campaigns: HashMap<String, Vec<Campaign>>,
    directives: HashMap<String, Directive>,
    units_by_code: HashMap<String, Unit>,
    units_by_name: HashMap<String, Vec<Unit>>,
    indicators: HashMap<(String, String), Indicator>,
    handling: Handling,
    levels: Vec<(String, String)>,
    /// The columns every row must fill.
    required: Vec<Field>,
}

/// A catalog word matched as people write it: the stored word, or its label in either
/// language, in any case, with or without diacritics.
fn word_of<T: Copy>(raw: &str, options: &[T], stored: impl Fn(T) -> &'static str, label_key: &str) -> Option<T> {
    let wanted = fold(raw);
    options.iter().copied().find(|o| {
        let key = format!("{label_key}{}", stored(*o));
        fold(stored(*o)) == wanted
            || fold(&catalogs().text(Lang::Vi, &key, &[])) == wanted
            || fold(&catalogs().text(Lang::En, &key, &[])) == wanted
    })
}

/// The labels of `options` in `lang`, for a "one of" message.
fn labels<T: Copy>(options: &[T], stored: impl Fn(T) -> &'static str, label_key: &str, lang: Lang) -> Message {
    let words: Vec<String> =
        options.iter().map(|o| catalogs().text(lang, &format!("{label_key}{}", stored(*o)), &[])).collect();
    one_of(&words.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A date as registers write it: `dd/mm/yyyy` (or `d/m/yyyy`), or `yyyy-mm-dd` (a date
/// cell), from 1900 to today.
fn register_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, Message> {
    let date = register_day(raw)?;
    if date > today {
        return Err(msg::not_future());
    }
    Ok(date)
}

/// A date as registers write it, in the accepted range, future or not (a due date).
fn register_day(raw: &str) -> Result<NaiveDate, Message> {
    let date = NaiveDate::parse_from_str(raw, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%Y-%m-%d"))
        .map_err(|_| msg::register_date())?;
    if dates::in_range(date) { Ok(date) } else { Err(dates::out_of_range()) }
}

/// The codes a cell of indicators names: separated by `;` or `,` (or new lines), each the
/// leading code of its part ("2.1. Chậm giải quyết…" is 2.1).
fn indicator_codes(raw: &str) -> Vec<String> {
    raw.split([';', ',', '\n'])
        .filter_map(|part| {
            let code: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
            let code = code.trim_end_matches('.').to_string();
            (!code.is_empty()).then_some(code)
        })
        .collect()
}

impl Catalogs {
    fn load(conn: &mut DbConn) -> Result<Catalogs, Error> {
        let mut campaigns: HashMap<String, Vec<Campaign>> = HashMap::new();
        for c in Campaign::list(conn, &CampaignFilter::default(), None, 100_000)? {
            campaigns.entry(fold(&c.title)).or_default().push(c.clone());
            campaigns.entry(c.id.clone()).or_default().push(c);
        }
        let mut units_by_code = HashMap::new();
        let mut units_by_name: HashMap<String, Vec<Unit>> = HashMap::new();
        for u in Unit::all(conn)? {
            units_by_name.entry(fold(&u.name)).or_default().push(u.clone());
            units_by_code.insert(u.code.to_uppercase(), u);
        }
        let indicators =
            Indicator::list(conn, None)?.into_iter().map(|i| ((i.directive_id.clone(), i.code.clone()), i)).collect();
        let directives = Directive::list(conn)?.into_iter().map(|d| (d.id.clone(), d)).collect();
        let handling = Handling::load(conn)?;
        let levels = crate::model::handling::levels_in_use(conn)?;
        let required = columns().into_iter().filter(|c| c.required).map(|c| c.field).collect();
        Ok(Catalogs { campaigns, directives, units_by_code, units_by_name, indicators, handling, levels, required })
    }

    /// A unit by code, or by name (when several units had the name, the one alive on `day`).
    fn unit(&self, raw: &str, day: Option<NaiveDate>) -> Option<&Unit> {
        if let Some(u) = self.units_by_code.get(&raw.to_uppercase()) {
            return Some(u);
        }
        let named = self.units_by_name.get(&fold(raw))?;
        day.and_then(|d| named.iter().find(|u| u.alive_on(d))).or_else(|| named.first())
    }

    /// A severity level by code or by name in either language.
    fn level(&self, raw: &str) -> Option<String> {
        if let Some(code) = crate::model::handling::level_code(&self.levels, raw) {
            return Some(code);
        }
        let wanted = fold(raw);
        self.handling
            .levels
            .iter()
            .find(|l| !l.retired && (fold(&l.entry.name) == wanted || fold(&l.entry.name_en) == wanted))
            .map(|l| l.entry.code.clone())
    }

    /// A measure by code, or by name in either language (the one of `system` when
    /// several share the name).
    fn measure(&self, raw: &str, system: Option<System>) -> Option<String> {
        if let Some(m) = self.handling.measure(raw) {
            return Some(m.code.clone());
        }
        let wanted = fold(raw);
        let named: Vec<_> = self
            .handling
            .measures
            .iter()
            .filter(|m| !m.retired && (fold(&m.entry.name) == wanted || fold(&m.entry.name_en) == wanted))
            .collect();
        named
            .iter()
            .find(|m| system.is_none_or(|s| m.entry.system == s))
            .or(named.first())
            .map(|m| m.entry.code.clone())
    }
}

/// The key a row is known by on a later import: its original reference within its
/// campaign, or else its whole content.
fn row_key(layout: &Layout, row: &Row, campaign_id: &str) -> String {
    let reference = layout.get(row, Field::Reference);
    if reference.is_empty() {
        let mut h = Sha256::new();
        for c in &row.cells {
            h.update(c.trim().as_bytes());
            h.update([0x1f]);
        }
        format!("row:{}", hex::encode(h.finalize()))
    } else {
        format!("ref:{campaign_id}:{}", fold(reference))
    }
}

/// Checks one row; its problems go to `problems`, keyed by column.
#[allow(clippy::too_many_lines)]
fn check_row(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    cat: &Catalogs,
    layout: &Layout,
    row: &Row,
    problems: &mut Vec<Problem>,
) -> Result<Option<Planned>, Error> {
    let today = ctx.today()?;
    let tz = ctx.tz()?;
    let now = ctx.now();
    let get = |f: Field| layout.get(row, f);
    let mut found: Vec<Problem> = Vec::new();
    macro_rules! bad {
        ($f:expr, $m:expr) => {
            found.push(layout.problem(row, $f, $m))
        };
    }
    let required = |f: Field| !get(f).is_empty();
    for &f in &cat.required {
        if !required(f) {
            bad!(f, msg::required());
        }
    }
    let detected_on = match get(Field::DetectedOn) {
        "" => None,
        raw => register_date(raw, today).map_err(|m| bad!(Field::DetectedOn, m)).ok(),
    };
    let campaign = match get(Field::Campaign) {
        "" => None,
        raw => match cat.campaigns.get(&fold(raw)).or_else(|| cat.campaigns.get(raw)).and_then(|c| c.first()) {
            Some(c) => Some(c.clone()),
            None => {
                bad!(Field::Campaign, msg::no_campaign_named());
                None
            }
        },
    };
    if let (Some(c), Some(d)) = (&campaign, detected_on)
        && d < c.starts_on
    {
        bad!(Field::DetectedOn, msg::before_campaign());
    }
    let kinds = SubjectKind::ALL;
    let kind = match get(Field::SubjectKind) {
        "" => None,
        raw => match word_of(raw, &kinds, SubjectKind::as_str, "subject-") {
            Some(k) => Some(k),
            None => {
                bad!(Field::SubjectKind, labels(&kinds, SubjectKind::as_str, "subject-", Lang::Vi));
                None
            }
        },
    };
    let name = match get(Field::PersonName) {
        "" => None,
        raw => text::clean_required(raw, NAME_MAX).map_err(|m| bad!(Field::PersonName, m)).ok(),
    };
    if kind == Some(SubjectKind::Individual) && get(Field::PersonName).is_empty() {
        bad!(Field::PersonName, msg::person_name_needed());
    }
    let position = match get(Field::Position) {
        "" => None,
        raw => text::clean_required(raw, NAME_MAX).map_err(|m| bad!(Field::Position, m)).ok(),
    };
    if kind == Some(SubjectKind::Organization) && position.is_some() {
        bad!(Field::Position, msg::position_for_people());
    }
    let mut categories = Vec::new();
    for part in get(Field::Categories).split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
        match word_of(part, &Category::ALL, Category::as_str, "category-") {
            Some(c) if kind.is_none_or(|k| Category::of_kind(k).contains(&c)) => categories.push(c),
            _ => {
                let fits = kind.map(Category::of_kind).unwrap_or(&Category::ALL);
                bad!(Field::Categories, labels(fits, Category::as_str, "category-", Lang::Vi));
                break;
            }
        }
    }
    let unit = match get(Field::Unit) {
        "" => None,
        raw => match cat.unit(raw, detected_on) {
            None => {
                bad!(Field::Unit, msg::no_unit());
                None
            }
            Some(u) if detected_on.is_some_and(|d| !u.alive_on(d)) => {
                bad!(Field::Unit, crate::reorganisation::gone_on(detected_on.expect("checked")));
                None
            }
            Some(u) if !casework::within_reach(conn, caller, &u.id)? => {
                bad!(Field::Unit, msg::outside_scope());
                None
            }
            Some(u) => Some(u.clone()),
        },
    };
    let mut indicator_ids = Vec::new();
    if let Some(c) = &campaign {
        let directive = cat.directives.get(&c.directive_id).map(|d| d.code.clone()).unwrap_or_default();
        for code in indicator_codes(get(Field::Indicators)) {
            match cat.indicators.get(&(c.directive_id.clone(), code.clone())) {
                Some(i) if i.retired => bad!(Field::Indicators, msg::indicator_retired()),
                Some(i) => indicator_ids.push(i.id.clone()),
                None => bad!(Field::Indicators, msg::no_indicator_code(&code, &directive)),
            }
        }
        if indicator_ids.is_empty() && required(Field::Indicators) && found.is_empty() {
            bad!(Field::Indicators, msg::cite_indicator());
        }
    }
    indicator_ids.sort();
    indicator_ids.dedup();
    let description = match get(Field::Description) {
        "" => None,
        raw => text::clean_required(raw, DESCRIPTION_MAX).map_err(|m| bad!(Field::Description, m)).ok(),
    };
    let title = match (get(Field::Title), &description) {
        ("", Some(d)) => {
            let first = d.split(['.', '\n']).next().unwrap_or(d).trim();
            Some(first.chars().take(TITLE_MAX).collect::<String>())
        }
        ("", None) => None,
        (raw, _) => text::clean_required(raw, TITLE_MAX).map_err(|m| bad!(Field::Title, m)).ok(),
    };
    let severity = match get(Field::Severity) {
        "" => None,
        raw => cat.level(raw).or_else(|| {
            bad!(Field::Severity, msg::unknown_severity());
            None
        }),
    };
    let statuses = Status::ALL;
    let status = match get(Field::Status) {
        "" => None,
        raw => word_of(raw, &statuses, Status::as_str, "status-").or_else(|| {
            bad!(Field::Status, labels(&statuses, Status::as_str, "status-", Lang::Vi));
            None
        }),
    };
    let responsible = match get(Field::ResponsibleUnit) {
        "" => {
            if status.is_some_and(|s| s != Status::Open) {
                bad!(Field::ResponsibleUnit, msg::required());
            }
            None
        }
        raw => match cat.unit(raw, Some(today)) {
            None => {
                bad!(Field::ResponsibleUnit, msg::no_unit());
                None
            }
            // A case still being handled is handled by a unit that exists today.
            Some(u) if status.is_some_and(Status::stands) && u.ended_on.is_some() => {
                let ended = u.ended_on.expect("checked");
                bad!(Field::ResponsibleUnit, msg::unit_ended(&u.code, &crate::i18n::date(ended)));
                None
            }
            Some(u) if !casework::within_reach(conn, caller, &u.id)? => {
                bad!(Field::ResponsibleUnit, msg::outside_scope());
                None
            }
            Some(u) => Some(u.clone()),
        },
    };
    let due_on = match get(Field::DueOn) {
        "" => None,
        raw => register_day(raw).map_err(|m| bad!(Field::DueOn, m)).ok(),
    };
    if let (Some(due), Some(found)) = (due_on, detected_on)
        && due < found
    {
        bad!(Field::DueOn, msg::due_before_detection());
    }

    // The case as it would stand, for the decisions' checks (they look at its subject).
    let mut case = Case {
        id: new_id(),
        number: String::new(),
        campaign_id: campaign.as_ref().map(|c| c.id.clone()).unwrap_or_default(),
        directive_id: campaign.as_ref().map(|c| c.directive_id.clone()).unwrap_or_default(),
        subject_kind: kind.unwrap_or(SubjectKind::Organization),
        subject_unit_id: unit.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
        person_name: name.clone().filter(|_| kind == Some(SubjectKind::Individual)),
        person_position: position.filter(|_| kind == Some(SubjectKind::Individual)),
        subject_key: String::new(),
        title: title.unwrap_or_default(),
        description: description.unwrap_or_default(),
        detected_on: detected_on.unwrap_or(today),
        severity: severity.unwrap_or_default(),
        status: status.unwrap_or(Status::Open),
        responsible_unit_id: responsible.as_ref().map(|u| u.id.clone()),
        due_at: due_on.map(|d| end_of_day(d, tz)),
        deadline_at: None,
        decision_measure: None,
        decision_decided_on: None,
        decision_reference: None,
        closed_at: None,
        search_text: String::new(),
        created_by: caller.user.id.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
        subject_id: None,
        body_name: name.filter(|_| kind == Some(SubjectKind::Organization)),
    };

    let mut decisions = Vec::new();
    for n in 0..super::columns::DECISIONS {
        let part = |p: DecisionPart| get(Field::Decision(n, p));
        let parts = [
            DecisionPart::System,
            DecisionPart::Authority,
            DecisionPart::Measure,
            DecisionPart::Reference,
            DecisionPart::DecidedOn,
        ];
        if parts.iter().all(|p| part(*p).is_empty()) {
            continue;
        }
        let system = match part(DecisionPart::System) {
            "" => None,
            raw => match word_of(raw, &System::ALL, System::as_str, "system-") {
                Some(s) => Some(s),
                None => {
                    let values = labels(&System::ALL, System::as_str, "system-", Lang::Vi);
                    bad!(Field::Decision(n, DecisionPart::System), values);
                    None
                }
            },
        };
        let decided_on = match part(DecisionPart::DecidedOn) {
            "" => None,
            raw => match register_date(raw, today) {
                Ok(d) => Some(d),
                Err(m) => {
                    bad!(Field::Decision(n, DecisionPart::DecidedOn), m);
                    continue;
                }
            },
        };
        if let (Some(d), Some(found)) = (decided_on, detected_on)
            && d < found
        {
            bad!(Field::Decision(n, DecisionPart::DecidedOn), msg::decision_before_detection());
        }
        let measure = match part(DecisionPart::Measure) {
            "" => None,
            raw => Some(cat.measure(raw, system).unwrap_or_else(|| raw.to_string())),
        };
        let opt = |p: DecisionPart| Some(part(p).to_string()).filter(|s| !s.is_empty());
        let input = DecisionInput {
            system: system.map(|s| s.as_str().to_string()),
            authority: opt(DecisionPart::Authority),
            measure,
            decided_on: decided_on.map(|d| d.to_string()),
            reference: opt(DecisionPart::Reference),
            note: None,
            corrects: None,
        };
        let mut v = Validator::new();
        let decision = casework::check_decision(ctx, (&cat.handling, &categories), caller, &case, &input, "", &mut v)?;
        for e in v.into_errors() {
            let f = match e.field.as_str() {
                "system" => DecisionPart::System,
                "authority" => DecisionPart::Authority,
                "reference" => DecisionPart::Reference,
                "decided_on" => DecisionPart::DecidedOn,
                _ => DecisionPart::Measure,
            };
            bad!(Field::Decision(n, f), e.message);
        }
        decisions.extend(decision);
    }
    if let Some(s) = status {
        if s == Status::Closed && decisions.is_empty() && found.is_empty() {
            bad!(Field::Status, msg::status_needs_decision());
        }
        if !decisions.is_empty() && !workflow::accepts(Addition::Decision, s) {
            bad!(Field::Status, msg::no_decision_now(s.as_str()));
        }
    }
    if !found.is_empty() {
        problems.extend(found);
        return Ok(None);
    }
    // Where the case stands: the review deadline counted from the day it was found, the
    // handling deadline while it is handled, none once it is settled.
    case.deadline_at = match case.status {
        Status::Open => Some(review_deadline(
            case.detected_on.and_hms_opt(12, 0, 0).expect("noon exists"),
            ctx.settings.escalation.review_days,
            tz,
            ctx.calendar(conn)?.as_deref(),
        )),
        s if s.can_be_overdue() => case.due_at,
        _ => None,
    };
    if matches!(case.status, Status::Closed | Status::Dismissed) {
        let last = decisions.iter().map(|d| d.decided_on).max().unwrap_or(case.detected_on);
        case.closed_at = Some(last.and_hms_opt(0, 0, 0).expect("midnight exists"));
    }
    if case.status == Status::Closed
        && let Some(d) = decisions.iter().max_by_key(|d| d.decided_on)
    {
        casework::show_decision(&mut case, d);
    }
    for d in &mut decisions {
        d.case_id = case.id.clone();
    }
    let key = row_key(layout, row, &case.campaign_id);
    Ok(Some(Planned { line: row.line, key, case, indicator_ids, categories, decisions }))
}

/// What a request asks of an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    pub skip_invalid: bool,
}

/// Reads, checks and (unless `dry_run`) imports the register in `bytes`. With problems
/// and without `skip_invalid`, nothing is written and the answer lists them (the caller
/// answers 422); with `skip_invalid` the good rows are imported and the rest returned.
pub fn import(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    file_name: &str,
    bytes: &[u8],
    opts: Options,
    lang: Lang,
) -> Result<Outcome, Error> {
    import_with_progress(conn, ctx, caller, file_name, bytes, opts, lang, &mut |_, _, _| {})
}

/// [`import`], telling `progress` how far it is: the stage ("checking", "importing"),
/// rows done and rows in all.
#[allow(clippy::too_many_arguments)]
pub fn import_with_progress(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    file_name: &str,
    bytes: &[u8],
    opts: Options,
    lang: Lang,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Outcome, Error> {
    caller.require(&[Role::Admin, Role::Reviewer])?;
    let file_name: String = text::clean_required(file_name, FILE_NAME_MAX).unwrap_or_else(|_| "register".into());
    let digest = hex::encode(Sha256::digest(bytes));
    let mut outcome = Outcome {
        id: None,
        dry_run: opts.dry_run,
        file_name,
        digest,
        converted_from: None,
        rows: 0,
        cases: 0,
        subjects_new: 0,
        subjects_matched: 0,
        decisions: 0,
        already_imported: Vec::new(),
        skipped_rows: Vec::new(),
        problems: Vec::new(),
        case_numbers: Vec::new(),
    };
    let sheet: Sheet = match sheet::read(bytes) {
        Ok(s) => s,
        Err(m) => {
            outcome.problems.push(view(&Problem { line: 0, column: None, header: None, message: m }, lang));
            return Ok(outcome);
        }
    };
    outcome.converted_from = sheet.encoding.map(|e| e.name().to_string());
    outcome.rows = sheet.rows.len();
    let layout = match Layout::of(&sheet.headers) {
        Ok(l) => l,
        Err(problems) => {
            outcome.problems = problems.iter().map(|p| view(p, lang)).collect();
            return Ok(outcome);
        }
    };
    let cat = Catalogs::load(conn)?;
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    let mut bad_rows = Vec::new();
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let total = sheet.rows.len() as u64;
    for (i, row) in sheet.rows.iter().enumerate() {
        progress("checking", i as u64, total);
        let before = problems.len();
        if let Some(p) = check_row(conn, ctx, caller, &cat, &layout, row, &mut problems)? {
            match first_of.get(&p.key) {
                Some(first) => problems.push(Problem {
                    line: row.line,
                    column: None,
                    header: None,
                    message: msg::row_twice(*first),
                }),
                None => {
                    first_of.insert(p.key.clone(), row.line);
                    planned.push(p);
                }
            }
        }
        if problems.len() > before {
            bad_rows.push(row.line);
        }
    }
    progress("checking", total, total);
    outcome.problems = problems.iter().map(|p| view(p, lang)).collect();
    // Rows imported before: reported, not imported again.
    let keys: Vec<String> = planned.iter().map(|p| p.key.clone()).collect();
    let known = ImportedRow::known(conn, &keys)?;
    planned.retain(|p| match known.get(&p.key) {
        Some((case_id, number)) => {
            outcome.already_imported.push(AlreadyImported {
                row: p.line,
                case_id: case_id.clone(),
                case_number: number.clone(),
            });
            false
        }
        None => true,
    });
    count(conn, &planned, &mut outcome)?;
    if !outcome.problems.is_empty() && !opts.skip_invalid {
        return Ok(outcome);
    }
    if opts.skip_invalid {
        outcome.skipped_rows = bad_rows;
    }
    if opts.dry_run {
        return Ok(outcome);
    }
    apply(conn, ctx, caller, planned, sheet.encoding.map(|e| e.name()), outcome, progress)
}

/// Counts what the planned rows would create: cases, decisions, and the subjects they
/// are about, new or already on record, each counted once however many rows name it.
fn count(conn: &mut DbConn, planned: &[Planned], outcome: &mut Outcome) -> Result<(), Error> {
    let mut matched: HashSet<String> = HashSet::new();
    let mut new: HashSet<(String, &str, String)> = HashSet::new();
    for p in planned {
        let name = subject_name(&p.case);
        let described = Described {
            unit_id: &p.case.subject_unit_id,
            kind: p.case.subject_kind,
            name,
            position: p.case.person_position.as_deref(),
            categories: &p.categories,
            identifier: None,
        };
        match Subject::matching(conn, &described)? {
            Some(s) => {
                matched.insert(s.id);
            }
            None => {
                new.insert((
                    p.case.subject_unit_id.clone(),
                    p.case.subject_kind.as_str(),
                    name.unwrap_or("").to_string(),
                ));
            }
        }
    }
    outcome.subjects_matched = matched.len();
    outcome.subjects_new = new.len();
    outcome.cases = planned.len();
    outcome.decisions = planned.iter().map(|p| p.decisions.len()).sum();
    Ok(())
}

fn subject_name(case: &Case) -> Option<&str> {
    match case.subject_kind {
        SubjectKind::Individual => case.person_name.as_deref(),
        SubjectKind::Organization => case.body_name.as_deref(),
    }
}

/// Writes the planned rows in one transaction: each case numbered like any other, with
/// its subject found or created, its decisions, a timeline event and an audit entry
/// naming the file and row, and its key; then the import's own record.
fn apply(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    planned: Vec<Planned>,
    encoding: Option<&str>,
    mut outcome: Outcome,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Outcome, Error> {
    let now = ctx.now();
    let year = ctx.today()?.year();
    let import_id = new_id();
    let numbers = write_tx(conn, |conn| {
        // First, as every imported row refers to it.
        let record = ImportRecord {
            id: import_id.clone(),
            file_name: outcome.file_name.clone(),
            digest: outcome.digest.clone(),
            imported_by: caller.user.id.clone(),
            imported_at: now,
            rows_read: outcome.rows as i64,
            cases_created: planned.len() as i64,
            subjects_created: outcome.subjects_new as i64,
            subjects_matched: outcome.subjects_matched as i64,
            decisions_created: outcome.decisions as i64,
            already_imported: outcome.already_imported.len() as i64,
            rows_skipped: outcome.skipped_rows.len() as i64,
            encoding: encoding.map(str::to_string),
        };
        record.insert(conn)?;
        let mut numbers = Vec::with_capacity(planned.len());
        let total = planned.len() as u64;
        for (i, p) in planned.iter().enumerate() {
            progress("importing", i as u64, total);
            let mut case = p.case.clone();
            case.number = Case::next_number(conn, year)?;
            casework::derive(conn, &mut case, &p.categories, None, now)?;
            case.insert(conn, &p.indicator_ids)?;
            for d in &p.decisions {
                d.insert(conn)?;
            }
            let source = json!({"import_id": import_id, "file_name": outcome.file_name, "line": p.line.to_string()});
            let detail = json!({"number": case.number, "title": case.title, "import_id": import_id,
                "file_name": outcome.file_name, "line": p.line.to_string()});
            CaseEvent::record(conn, &case.id, Some(&caller.user.id), now, "imported", detail)?;
            let mut after = casework::snapshot_of(&case, &p.indicator_ids);
            after["decisions"] = p.decisions.iter().map(Decision::snapshot).collect();
            after["source"] = source;
            AuditEntry::record(conn, &caller.actor(), now, "import", "case", &case.id, None, Some(after))?;
            rollup::record(conn, None, (&case, &p.indicator_ids))?;
            ImportedRow {
                row_key: p.key.clone(),
                import_id: import_id.clone(),
                line: p.line as i64,
                case_id: case.id.clone(),
            }
            .insert(conn)?;
            numbers.push(case.number);
        }
        progress("importing", planned.len() as u64, planned.len() as u64);
        AuditEntry::record(conn, &caller.actor(), now, "create", "import", &import_id, None, Some(record.snapshot()))?;
        Ok::<_, Error>(numbers)
    })?;
    outcome.id = Some(import_id);
    outcome.case_numbers = numbers;
    Ok(outcome)
}

/// A problem in the reader's language, with its place spelled out.
fn view(p: &Problem, lang: Lang) -> ProblemView {
    let message = p.message.text(lang);
    let c = catalogs();
    let text = match (&p.column, &p.header) {
        _ if p.line == 0 => message.clone(),
        (Some(col), Some(h)) => c.text(
            lang,
            "import-at-cell",
            &[
                ("row", p.line.to_string()),
                ("column", col.clone()),
                ("header", h.clone()),
                ("message", message.clone()),
            ],
        ),
        (None, Some(h)) => c.text(
            lang,
            "import-at-column",
            &[("row", p.line.to_string()), ("header", h.clone()), ("message", message.clone())],
        ),
        _ => c.text(lang, "import-at-row", &[("row", p.line.to_string()), ("message", message.clone())]),
    };
    ProblemView {
        row: p.line,
        column: p.column.clone(),
        header: p.header.clone(),
        message,
        text,
        code: p.message.key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_cells_name_codes_as_people_write_them() {
        assert_eq!(indicator_codes("2.1; 3.4"), ["2.1", "3.4"]);
        assert_eq!(indicator_codes("2.1. Chậm giải quyết công việc"), ["2.1"]);
        assert_eq!(indicator_codes("1.1,1.2\n4.2"), ["1.1", "1.2", "4.2"]);
        assert!(indicator_codes(" ; ").is_empty());
    }

    #[test]
    fn register_dates_are_day_first_or_iso_and_never_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(register_date("15/03/2024", today), Ok(NaiveDate::from_ymd_opt(2024, 3, 15).unwrap()));
        assert_eq!(register_date("5/3/2024", today), Ok(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()));
        assert_eq!(register_date("2024-03-15", today), Ok(NaiveDate::from_ymd_opt(2024, 3, 15).unwrap()));
        assert_eq!(register_date("07/12/2026", today).unwrap_err().key, "not-future");
        assert_eq!(register_date("01/01/1899", today).unwrap_err().key, "date-range");
        assert_eq!(register_date("15.03.2024", today).unwrap_err().key, "register-date");
    }

    #[test]
    fn catalog_words_match_in_either_language_without_diacritics() {
        assert_eq!(word_of("Đã xử lý", &Status::ALL, Status::as_str, "status-"), Some(Status::Closed));
        assert_eq!(word_of("da xu ly", &Status::ALL, Status::as_str, "status-"), Some(Status::Closed));
        assert_eq!(word_of("closed", &Status::ALL, Status::as_str, "status-"), Some(Status::Closed));
        assert_eq!(
            word_of("Cá nhân", &SubjectKind::ALL, SubjectKind::as_str, "subject-"),
            Some(SubjectKind::Individual)
        );
        assert_eq!(word_of("xong", &Status::ALL, Status::as_str, "status-"), None);
    }
}

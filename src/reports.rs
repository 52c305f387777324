//! Reports: the detected-vs-handled figures of the cases a reader may see, by indicator,
//! unit and measure, and per month; what the API returns and the console shows.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::QueryResult;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::casework::scope_of;
use crate::db::DbConn;
use crate::domain::report::{Counts, handling_rate};
use crate::domain::role::Role;
use crate::error::{Error, Validator};
use crate::i18n::{Lang, catalogs};
use crate::model::case::{CaseFilter, CaseScope};
use crate::model::directive::Indicator;
use crate::model::handling::Handling;
use crate::model::report;
use crate::model::unit::Unit;
use crate::table::{Block, Cell, Table};

/// A report's parameters as both faces receive them (query string, form).
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub directive_id: Option<String>,
    pub campaign_id: Option<String>,
    pub unit_id: Option<String>,
    /// `YYYY-MM-DD`: break the units down as the tree stood that day (default: today's
    /// tree, ended units counted in their successors).
    pub as_of: Option<String>,
    pub format: Option<String>,
    pub interval: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubjectCounts {
    pub detected: i64,
    pub handled: i64,
    /// Of those detected, the ones with more than one standing case (tái phạm).
    pub repeat: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IndicatorRow {
    pub indicator_id: String,
    pub code: String,
    pub group: String,
    pub title: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitRow {
    pub unit_id: String,
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeasureRow {
    pub measure: String,
    /// `party`, `state` or `other` (empty for a code the catalog never had).
    pub system: String,
    /// The measure's Vietnamese name.
    pub label: String,
    pub name_en: String,
    pub count: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub cases: Counts,
    pub subjects: SubjectCounts,
    pub handling_rate: f64,
    pub by_indicator: Vec<IndicatorRow>,
    pub by_unit: Vec<UnitRow>,
    /// Handled cases (vụ việc) by the measure of their latest decision.
    pub by_measure: Vec<MeasureRow>,
    /// Decisions in force on standing cases, by system and measure: a party member who is
    /// a civil servant may count once under each system.
    pub decisions: Vec<MeasureRow>,
}

/// A report asked for: whose cases, filtered how, broken down under which unit, as the
/// tree stood on which day.
pub struct Request {
    pub scope: CaseScope,
    pub filter: CaseFilter,
    /// The unit whose child units the figures are broken down by.
    pub root: Option<String>,
    pub as_of: Option<NaiveDate>,
}

/// Validates the report filters (every problem at once); reports are for reviewers and
/// unit heads.
pub fn prepare(caller: &CurrentUser, q: &ReportQuery) -> Result<Request, Error> {
    caller.require(&[Role::Reviewer, Role::UnitHead])?;
    let scope = scope_of(caller)?;
    let mut v = Validator::new();
    let (from, to) = v.period(q.from.as_deref(), q.to.as_deref());
    for (field, id) in [("directive_id", &q.directive_id), ("campaign_id", &q.campaign_id), ("unit_id", &q.unit_id)] {
        if let Some(id) = id {
            v.check(crate::model::canonical_id(id).is_some(), field, crate::error::msg::bad_id());
        }
    }
    let as_of =
        q.as_of.as_deref().and_then(|raw| crate::domain::dates::parse_date(raw).map_err(|m| v.add("as_of", m)).ok());
    v.finish()?;
    let filter = CaseFilter {
        directive_id: q.directive_id.clone(),
        campaign_id: q.campaign_id.clone(),
        unit_id: q.unit_id.clone(),
        from,
        to,
        ..CaseFilter::default()
    };
    Ok(Request { scope, filter, root: q.unit_id.clone().or(caller.user.unit_id.clone()), as_of })
}

impl Request {
    /// The figures, as of `now`.
    pub fn summary(&self, conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Summary> {
        summary_of(conn, &self.scope, &self.filter, self.root.clone(), self.as_of, now)
    }

    /// Detected and handled cases per month of detection.
    pub fn series(&self, conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Series> {
        Ok(Series { interval: "month", items: series_of(conn, &self.scope, &self.filter, now)? })
    }
}

/// The summary of the cases `scope` and `filter` select, broken down by indicator, by
/// `root`'s child units and by measure: what the API returns and the console shows.
pub fn summary_of(
    conn: &mut DbConn,
    scope: &CaseScope,
    filter: &CaseFilter,
    root: Option<String>,
    as_of: Option<NaiveDate>,
    now: NaiveDateTime,
) -> QueryResult<Summary> {
    let breakdown = report::breakdown(conn, root.as_deref(), as_of)?;
    let roots = breakdown.rows.clone();
    let agg = report::summary(conn, scope, filter, now, &breakdown)?;
    let indicator_ids: Vec<String> = agg.by_indicator.keys().cloned().collect();
    let mut indicators = Indicator::find_many(conn, &indicator_ids)?;
    indicators.sort_by(|a, b| (&a.directive_id, a.position).cmp(&(&b.directive_id, b.position)));
    let by_indicator = indicators
        .into_iter()
        .map(|i| IndicatorRow {
            counts: agg.by_indicator.get(&i.id).cloned().unwrap_or_default(),
            indicator_id: i.id,
            code: i.code,
            group: i.group_code,
            title: i.title,
        })
        .collect();
    let mut units: HashMap<String, Unit> =
        Unit::find_many(conn, &roots)?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let by_unit = roots
        .iter()
        .filter_map(|id| {
            let (counts, unit) = (agg.by_unit.get(id)?, units.remove(id)?);
            Some(UnitRow { unit_id: unit.id, code: unit.code, name: unit.name, counts: counts.clone() })
        })
        .collect();
    let handling = Handling::load(conn)?;
    let measure_row = |system: Option<&str>, m: &str, count: i64| {
        let entry = handling.measures.iter().find(|k| k.entry.code == m).map(|k| &k.entry);
        MeasureRow {
            measure: m.to_string(),
            system: system.map(str::to_string).or(entry.map(|e| e.system.as_str().to_string())).unwrap_or_default(),
            label: handling.measure_name(m, Lang::Vi),
            name_en: handling.measure_name(m, Lang::En),
            count,
        }
    };
    let by_measure = agg.by_measure.iter().map(|(m, n)| measure_row(None, m, *n)).collect();
    let decisions = agg.decisions.iter().map(|(system, m, n)| measure_row(Some(system), m, *n)).collect();
    Ok(Summary {
        from: filter.from,
        to: filter.to,
        handling_rate: handling_rate(&agg.cases),
        subjects: SubjectCounts {
            detected: agg.subjects_detected,
            handled: agg.subjects_detected - agg.subjects_unhandled,
            repeat: agg.subjects_repeat,
        },
        cases: agg.cases,
        by_indicator,
        by_unit,
        by_measure,
        decisions,
    })
}

/// The summary as one sheet a spreadsheet opens and prints as is, in `lang`: the counts
/// by indicator and unit under one header, the measures under their own.
pub fn summary_table(s: &Summary, lang: Lang) -> Table {
    let c = catalogs();
    let t = |key: &str| c.text(lang, key, &[]);
    let header = [
        "export-section",
        "export-code",
        "export-name",
        "export-detected",
        "export-handled",
        "status-dismissed",
        "status-open",
        "status-in_handling",
        "status-remediated",
        "export-overdue",
        "export-rate",
    ]
    .map(t)
    .to_vec();
    let row = |section: &str, code: &str, name: &str, n: &Counts| -> Vec<Cell> {
        let mut r = vec![Cell::text(section), Cell::text(code), Cell::text(name)];
        r.extend([n.detected, n.handled, n.dismissed, n.open, n.in_handling, n.remediated, n.overdue].map(Cell::Int));
        r.push(Cell::Rate { part: n.handled, whole: n.detected });
        r
    };
    let mut rows = vec![row(&t("export-all-cases"), "", "", &s.cases)];
    let mut subjects = vec![Cell::text(t("export-subjects")), Cell::Empty, Cell::Empty];
    subjects.extend([Cell::Int(s.subjects.detected), Cell::Int(s.subjects.handled)]);
    subjects.extend(std::iter::repeat_n(Cell::Empty, 5));
    subjects.push(Cell::Rate { part: s.subjects.handled, whole: s.subjects.detected });
    rows.push(subjects);
    let (indicator, unit) = (t("export-indicator"), t("export-unit"));
    rows.extend(s.by_indicator.iter().map(|i| row(&indicator, &i.code, &i.title, &i.counts)));
    rows.extend(s.by_unit.iter().map(|u| row(&unit, &u.code, &u.name, &u.counts)));
    let name = |m: &MeasureRow| if lang == Lang::En { m.name_en.clone() } else { m.label.clone() };
    let system = |m: &MeasureRow| if m.system.is_empty() { String::new() } else { t(&format!("system-{}", m.system)) };
    let block = |title: &str, counted: &str, rows: &[MeasureRow]| Block {
        header: [title, &t("export-system"), &t("export-name"), counted].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|m| vec![Cell::text(title), Cell::text(system(m)), Cell::text(name(m)), Cell::Int(m.count)])
            .collect(),
    };
    let measures = block(&t("export-measure"), &t("export-handled-cases"), &s.by_measure);
    let decisions = block(&t("export-decisions"), &t("export-decision-count"), &s.decisions);
    let period = match (s.from, s.to) {
        (None, None) => t("export-all-time"),
        (f, to) => format!(
            "{} – {}",
            f.map(crate::i18n::date).unwrap_or_default(),
            to.map(crate::i18n::date).unwrap_or_default()
        ),
    };
    Table {
        lead: Some(crate::domain::report::official_sentence(lang, s.subjects.detected, s.subjects.handled)),
        title: c.text(lang, "export-summary-title", &[("period", period)]),
        sheet: t("export-summary-sheet"),
        blocks: vec![Block { header, rows }, measures, decisions],
        lang,
    }
}

/// A monthly series: `period` is `YYYY-MM`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Series {
    pub interval: &'static str,
    pub items: Vec<SeriesPoint>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SeriesPoint {
    pub period: String,
    pub detected: i64,
    pub handled: i64,
}

/// Detected and handled cases per month of detection, oldest first.
pub fn series_of(
    conn: &mut DbConn,
    scope: &CaseScope,
    filter: &CaseFilter,
    now: NaiveDateTime,
) -> QueryResult<Vec<SeriesPoint>> {
    let rows = report::per_month(conn, scope, filter, now)?;
    let mut months: BTreeMap<String, Counts> = BTreeMap::new();
    for (day, status, n) in rows {
        months.entry(day.format("%Y-%m").to_string()).or_default().add(&status, n);
    }
    Ok(months.into_iter().map(|(period, c)| SeriesPoint { period, detected: c.detected, handled: c.handled }).collect())
}

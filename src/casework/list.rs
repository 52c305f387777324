//! The case list's filters as both faces receive them, and the list as a sheet.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::db::DbConn;
use crate::domain::role::one_of;
use crate::domain::workflow::Status;
use crate::error::{ApiError, Validator};
use crate::i18n::{Lang, catalogs};
use crate::model::case::{Case, CaseFilter, CaseScope};
use crate::model::directive::Indicator;
use crate::model::unit::Unit;
use crate::table::{Block, Cell, Table};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub campaign_id: Option<String>,
    pub unit_id: Option<String>,
    pub indicator_id: Option<String>,
    pub status: Option<String>,
    pub overdue: Option<bool>,
    /// `true`: only cases whose subject has another standing case found on or before it
    /// (tái phạm); `false`: only first violations.
    pub repeat: Option<bool>,
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `csv` or `xlsx` exports every matching case instead of a page.
    pub format: Option<String>,
}

/// Validates the list filters (shared by the list and its export).
pub fn case_filter(q: &CaseQuery) -> Result<CaseFilter, ApiError> {
    let mut v = Validator::new();
    let (from, to) = v.period(q.from.as_deref(), q.to.as_deref());
    if let Some(s) = &q.status {
        v.check(Status::parse(s).is_some(), "status", one_of(&Status::ALL.map(Status::as_str)));
    }
    if let Some(q) = &q.q {
        v.check(q.chars().count() <= 200, "q", crate::error::msg::too_long(200));
    }
    v.finish()?;
    Ok(CaseFilter {
        directive_id: None,
        campaign_id: q.campaign_id.clone(),
        unit_id: q.unit_id.clone(),
        subject_unit_id: None,
        responsible_only_unit_id: None,
        responsible_unit_id: None,
        indicator_id: q.indicator_id.clone(),
        status: q.status.clone(),
        overdue: q.overdue,
        repeat: q.repeat,
        q: q.q.clone(),
        from,
        to,
    })
}

/// Every case `scope` and `filter` select as one sheet in `lang`: statuses, subject kinds,
/// severities and measures by their names, dates as dates (local to `tz`). More than
/// `max_rows` cases is a 422 on `format`: a file cut short would look complete.
pub fn case_table(
    conn: &mut DbConn,
    scope: &CaseScope,
    filter: &CaseFilter,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
    max_rows: i64,
    lang: Lang,
) -> Result<Table, ApiError> {
    let rows = Case::list_visible(conn, scope, filter, now, None, max_rows + 1)?;
    if rows.len() as i64 > max_rows {
        return Err(ApiError::field("format", crate::error::msg::too_many_rows(max_rows)));
    }
    let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let cited = Case::indicators_of(conn, &ids)?;
    let indicator_ids: Vec<String> = cited.values().flatten().cloned().collect();
    let codes: HashMap<String, String> =
        Indicator::find_many(conn, &indicator_ids)?.into_iter().map(|i| (i.id, i.code)).collect();
    let mut unit_ids: Vec<String> = rows.iter().map(|c| c.subject_unit_id.clone()).collect();
    unit_ids.extend(rows.iter().filter_map(|c| c.responsible_unit_id.clone()));
    let units: HashMap<String, String> =
        Unit::find_many(conn, &unit_ids)?.into_iter().map(|u| (u.id, u.name)).collect();
    let handling = crate::model::handling::Handling::load(conn)?;

    let c = catalogs();
    let word = |key: String| c.text(lang, &key, &[]);
    let header = [
        "export-number",
        "col-status",
        "export-overdue",
        "col-title",
        "export-subject-kind",
        "export-subject-unit",
        "export-person-name",
        "export-person-position",
        "export-indicators",
        "field-detected-on",
        "field-severity",
        "export-responsible-unit",
        "field-due-at",
        "export-measure",
        "export-decided-on",
        "export-decision-reference",
        "export-logged-at",
        "export-body-name",
    ]
    .map(|k| word(k.to_string()))
    .to_vec();
    let local = |t: chrono::NaiveDateTime| t.and_utc().with_timezone(&tz).naive_local();
    let yes = word("export-yes".into());
    let mut out = Vec::with_capacity(rows.len());
    for case in rows {
        let overdue = case.is_overdue(now);
        let mut cited_codes: Vec<&str> =
            cited.get(&case.id).into_iter().flatten().filter_map(|i| codes.get(i).map(String::as_str)).collect();
        cited_codes.sort();
        let due = case.due_at.map(|d| match crate::domain::deadline::as_date(d, tz) {
            Some(day) => Cell::Date(day),
            None => Cell::DateTime(local(d)),
        });
        let measure = case.decision_measure.as_ref().map(|m| handling.measure_name(m, lang));
        out.push(vec![
            Cell::text(&case.number),
            Cell::text(word(format!("status-{}", case.status))),
            if overdue { Cell::text(&yes) } else { Cell::Empty },
            Cell::text(&case.title),
            Cell::text(word(format!("subject-{}", case.subject_kind))),
            Cell::text(units.get(&case.subject_unit_id).cloned().unwrap_or_default()),
            Cell::text(case.person_name.clone().unwrap_or_default()),
            Cell::text(case.person_position.clone().unwrap_or_default()),
            Cell::text(cited_codes.join(", ")),
            Cell::Date(case.detected_on),
            Cell::text(handling.level_name(&case.severity, lang)),
            Cell::text(case.responsible_unit_id.as_ref().and_then(|u| units.get(u)).cloned().unwrap_or_default()),
            due.unwrap_or(Cell::Empty),
            Cell::text(measure.unwrap_or_default()),
            case.decision_decided_on.map(Cell::Date).unwrap_or(Cell::Empty),
            Cell::text(case.decision_reference.clone().unwrap_or_default()),
            Cell::DateTime(local(case.created_at)),
            Cell::text(case.body_name.clone().unwrap_or_default()),
        ]);
    }
    Ok(Table {
        lead: None,
        title: word("export-cases-title".into()),
        sheet: word("export-cases-sheet".into()),
        blocks: vec![Block { header, rows: out }],
        lang,
    })
}

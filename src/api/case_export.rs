//! The case list as a file: every case matching the list's filters, within scope.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use super::export::{Block, Cell, FileFormat, Table};
use crate::domain::deadline::is_overdue;
use crate::error::ApiError;
use crate::i18n::{Lang, catalogs};
use crate::model::case::{Case, CaseFilter, CaseScope};
use crate::model::directive::Indicator;
use crate::model::unit::Unit;
use crate::state::AppState;

/// Every case `scope` and `filter` select as one sheet in `lang`: statuses, subject kinds,
/// severities and measures by their names, dates as dates.
pub async fn export(
    state: web::Data<AppState>,
    scope: CaseScope,
    filter: CaseFilter,
    format: FileFormat,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now_naive();
    let tz = state.settings.time_zone().map_err(ApiError::internal)?;
    let max_rows = state.settings.cases.export_max_rows;
    let table = state
        .db(move |conn| {
            let rows = Case::list_visible(conn, &scope, &filter, now, None, max_rows + 1)?;
            if rows.len() as i64 > max_rows {
                // A file cut short would look complete; say so instead.
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
                let overdue = is_overdue(case.status.can_be_overdue(), case.deadline_at, now);
                let mut cited_codes: Vec<&str> = cited
                    .get(&case.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|i| codes.get(i).map(String::as_str))
                    .collect();
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
                    Cell::text(
                        case.responsible_unit_id.as_ref().and_then(|u| units.get(u)).cloned().unwrap_or_default(),
                    ),
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
        })
        .await?;
    table.respond(format, "danh-sach-vu-viec")
}

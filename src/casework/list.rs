//! The case list's filters as both faces receive them, and the list as a sheet.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::DbConn;
use crate::domain::limits::QUERY_MAX;
use crate::domain::role::one_of;
use crate::domain::workflow::Status;
use crate::error::{Error, Validator};
use crate::i18n::{Lang, catalogs};
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::case::{Case, CaseFilter, CaseOrder, CaseScope};
use crate::model::directive::Indicator;
use crate::model::unit::Unit;
use crate::paging::{PageRequest, cursor_for, key_of};
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
pub fn case_filter(q: &CaseQuery) -> Result<CaseFilter, Error> {
    let mut v = Validator::new();
    let (from, to) = v.period(q.from.as_deref(), q.to.as_deref());
    if let Some(s) = &q.status {
        v.check(Status::parse(s).is_some(), "status", one_of(&Status::ALL.map(Status::as_str)));
    }
    if let Some(q) = &q.q {
        v.check(q.chars().count() <= QUERY_MAX, "q", crate::error::msg::too_long(QUERY_MAX));
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
) -> Result<Table, Error> {
    let rows = Case::list_visible(conn, scope, filter, now, None, max_rows + 1)?;
    if rows.len() as i64 > max_rows {
        return Err(Error::field("format", crate::error::msg::too_many_rows(max_rows)));
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

/// What the list's filters offer a caller: the campaigns they see, the units of their own
/// subtree (with depths; inspectors have the campaigns instead), and the indicators in force.
pub struct Pickers {
    pub campaigns: Vec<Campaign>,
    pub units: Vec<(Unit, i32)>,
    pub indicators: Vec<Indicator>,
}

/// The list's filter choices for `caller`.
pub fn pickers(conn: &mut DbConn, caller: &CurrentUser) -> Result<Pickers, Error> {
    let seen = crate::campaigns::visible_to(caller, CampaignFilter::default());
    let units = match (&caller.user.unit_id, &seen.member) {
        (Some(u), None) => Unit::subtree(conn, u)?,
        _ => Vec::new(),
    };
    Ok(Pickers { campaigns: Campaign::list(conn, &seen, None, 200)?, units, indicators: Indicator::list(conn, None)? })
}

/// Where a page of the list starts: after a case id (newest first), or after a case's
/// sort key and id in one of the other orders.
pub enum ListPage {
    Newest(PageRequest),
    Ordered { order: CaseOrder, after: Option<(NaiveDateTime, String)>, limit: i64 },
}

impl ListPage {
    /// Checks `cursor` for `order` (`None`: newest first); a bad cursor is a 422 on `cursor`.
    pub fn parse(order: Option<CaseOrder>, cursor: Option<&str>, limit: i64) -> Result<ListPage, Error> {
        Ok(match order {
            None => ListPage::Newest(PageRequest::parse(Some(limit), cursor)?),
            Some(order) => {
                let after = cursor.filter(|c| !c.is_empty()).map(parse_ordered_cursor).transpose()?;
                ListPage::Ordered { order, after, limit }
            }
        })
    }

    /// The page's cases `scope` sees through `filter`, and the next page's cursor when
    /// there is one.
    pub fn read(
        self,
        conn: &mut DbConn,
        scope: &CaseScope,
        filter: &CaseFilter,
        now: NaiveDateTime,
    ) -> Result<(Vec<Case>, Option<String>), Error> {
        let (mut found, limit) = match &self {
            ListPage::Newest(p) => {
                (Case::list_visible(conn, scope, filter, now, p.after.as_deref(), p.fetch())?, p.limit)
            }
            ListPage::Ordered { order, after, limit } => {
                (Case::list_ordered(conn, scope, filter, now, *order, after.clone(), limit + 1)?, *limit)
            }
        };
        let more = found.len() as i64 > limit;
        found.truncate(limit as usize);
        let next = found.last().filter(|_| more).map(|c| match &self {
            ListPage::Ordered { order: CaseOrder::Deadline, .. } => {
                ordered_cursor(c.deadline_at.unwrap_or(c.updated_at), &c.id)
            }
            ListPage::Ordered { order: CaseOrder::Activity, .. } => ordered_cursor(c.updated_at, &c.id),
            ListPage::Newest(_) => cursor_for(&c.id),
        });
        Ok((found, next))
    }
}

/// The cursor of a page in one of the ordered lists: the last case's sort key and id.
fn ordered_cursor(key: NaiveDateTime, id: &str) -> String {
    cursor_for(&format!("{}|{id}", crate::domain::dates::instant(key)))
}

/// Reads [`ordered_cursor`]'s form back; anything else is a 422 on `cursor`.
fn parse_ordered_cursor(raw: &str) -> Result<(NaiveDateTime, String), Error> {
    let bad = || Error::field("cursor", crate::error::msg::bad_cursor());
    let text = key_of(raw).ok_or_else(bad)?;
    let (key, id) = text.split_once('|').ok_or_else(bad)?;
    let key = crate::domain::dates::parse_rfc3339(key).and_then(Result::ok).ok_or_else(bad)?;
    let id = crate::model::canonical_id(id).ok_or_else(bad)?;
    Ok((key, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordered_cursor_reads_back_as_written_and_nothing_else_does() {
        let at = chrono::NaiveDate::from_ymd_opt(2024, 10, 31).unwrap().and_hms_opt(17, 0, 0).unwrap();
        let id = crate::model::new_id();
        assert_eq!(parse_ordered_cursor(&ordered_cursor(at, &id)).unwrap(), (at, id.clone()));
        for bad in ["AA", "", &crate::paging::cursor_for(&id), &crate::paging::cursor_for("x|y")] {
            assert!(parse_ordered_cursor(bad).is_err(), "{bad}");
        }
    }
}

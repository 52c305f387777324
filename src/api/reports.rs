//! Reports: detected vs handled at any cut, scoped to what the caller may see.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::export::{FileFormat, Table};
use super::extract::{QueryParams, parse_id};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::casework::scope_of;
use crate::domain::report::{Counts, handling_rate};
use crate::domain::role::Role;
use crate::error::{ApiError, Validator};
use crate::model::case::{CaseFilter, CaseScope};
use crate::model::directive::Indicator;
use crate::model::report;
use crate::model::unit::Unit;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub directive_id: Option<String>,
    pub campaign_id: Option<String>,
    pub unit_id: Option<String>,
    pub format: Option<String>,
    pub interval: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubjectCounts {
    pub detected: i64,
    pub handled: i64,
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
    pub label: String,
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
    pub by_measure: Vec<MeasureRow>,
}

/// Validates the report filters; reports are for reviewers and unit heads.
pub fn prepare(caller: &CurrentUser, q: &ReportQuery) -> Result<(CaseScope, CaseFilter), ApiError> {
    caller.require(&[Role::Reviewer, Role::UnitHead])?;
    let scope = scope_of(caller)?;
    let mut v = Validator::new();
    let (from, to) = super::parse_period(&mut v, q.from.as_deref(), q.to.as_deref());
    for (field, id) in [("directive_id", &q.directive_id), ("campaign_id", &q.campaign_id), ("unit_id", &q.unit_id)] {
        if let Some(id) = id {
            v.check(parse_id(id).is_ok(), field, "Is not a valid id.");
        }
    }
    v.finish()?;
    let filter = CaseFilter {
        directive_id: q.directive_id.clone(),
        campaign_id: q.campaign_id.clone(),
        unit_id: q.unit_id.clone(),
        from,
        to,
        ..CaseFilter::default()
    };
    Ok((scope, filter))
}

#[utoipa::path(tag = "reports", params(ReportQuery), responses((status = 200, description = "The figures; with format=csv|xlsx (or Accept) the same as a file", content((Summary = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/reports/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    caller: CurrentUser,
    req: HttpRequest,
    q: QueryParams<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let (scope, filter) = prepare(&caller, &q)?;
    let root = q.unit_id.clone().or(caller.user.unit_id.clone());
    let now = state.clock.now_naive();
    let measures = state.settings.cases.measures.clone();
    let body = state.db(move |conn| Ok(summary_of(conn, &scope, &filter, root, now, &measures)?)).await?;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    match FileFormat::pick(q.format.as_deref(), accept)? {
        Some(format) => summary_table(&body).respond(format, "bao-cao-tong-hop"),
        None => Ok(HttpResponse::Ok().json(body)),
    }
}

/// The summary of the cases `scope` and `filter` select, broken down by indicator, by
/// `root`'s child units and by measure: what the API returns and the console shows.
pub fn summary_of(
    conn: &mut crate::db::DbConn,
    scope: &CaseScope,
    filter: &CaseFilter,
    root: Option<String>,
    now: chrono::NaiveDateTime,
    measures: &[crate::config::MeasureSetting],
) -> diesel::QueryResult<Summary> {
    let roots = match &root {
        Some(r) => report::unit_and_children(conn, r)?,
        None => Vec::new(),
    };
    let agg = report::summary(conn, scope, filter, now, &roots)?;
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
    let by_measure = agg
        .by_measure
        .iter()
        .map(|(m, n)| MeasureRow {
            label: measures.iter().find(|x| &x.code == m).map(|x| x.label.clone()).unwrap_or_else(|| m.clone()),
            measure: m.clone(),
            count: *n,
        })
        .collect();
    Ok(Summary {
        from: filter.from,
        to: filter.to,
        handling_rate: handling_rate(&agg.cases),
        subjects: SubjectCounts {
            detected: agg.subjects_detected,
            handled: agg.subjects_detected - agg.subjects_unhandled,
        },
        cases: agg.cases,
        by_indicator,
        by_unit,
        by_measure,
    })
}

/// The summary as one table a spreadsheet opens as is.
pub fn summary_table(s: &Summary) -> Table {
    let header = [
        "Mục",
        "Mã",
        "Tên",
        "Phát hiện",
        "Đã xử lý",
        "Không vi phạm",
        "Chưa tiếp nhận",
        "Đang xử lý",
        "Đã khắc phục",
        "Quá hạn",
    ];
    let row = |section: &str, code: &str, name: &str, c: &Counts| -> Vec<String> {
        let mut r = vec![section.to_string(), code.to_string(), name.to_string()];
        r.extend(
            [c.detected, c.handled, c.dismissed, c.open, c.in_handling, c.remediated, c.overdue].map(|n| n.to_string()),
        );
        r
    };
    let mut rows = vec![row("Tổng số vụ việc", "", "", &s.cases)];
    rows.push(vec![
        "Tổ chức, cá nhân".into(),
        String::new(),
        String::new(),
        s.subjects.detected.to_string(),
        s.subjects.handled.to_string(),
    ]);
    rows.push(vec!["Tỷ lệ xử lý".into(), String::new(), String::new(), format!("{:.1}%", s.handling_rate * 100.0)]);
    rows.extend(s.by_indicator.iter().map(|i| row("Biểu hiện", &i.code, &i.title, &i.counts)));
    rows.extend(s.by_unit.iter().map(|u| row("Đơn vị", &u.code, &u.name, &u.counts)));
    rows.extend(
        s.by_measure
            .iter()
            .map(|m| vec!["Hình thức xử lý".into(), m.measure.clone(), m.label.clone(), m.count.to_string()]),
    );
    let period = match (s.from, s.to) {
        (None, None) => "toàn bộ thời gian".to_string(),
        (f, t) => format!(
            "{} – {}",
            f.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
            t.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default()
        ),
    };
    Table {
        title: format!("Báo cáo tổng hợp kết quả phát hiện, xử lý vi phạm ({period})"),
        header: header.map(String::from).to_vec(),
        rows,
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

/// Detected and handled cases per month of detection.
#[utoipa::path(tag = "reports", params(ReportQuery), responses((status = 200, description = "Detected and handled cases per month of detection", body = Series)))]
#[get("/reports/series")]
pub async fn series(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let (scope, filter) = prepare(&caller, &q)?;
    if q.interval.as_deref().unwrap_or("month") != "month" {
        return Err(ApiError::field("interval", "Must be: month."));
    }
    let now = state.clock.now_naive();
    let items = state.db(move |conn| Ok(series_of(conn, &scope, &filter, now)?)).await?;
    Ok(HttpResponse::Ok().json(Series { interval: "month", items }))
}

/// Detected and handled cases per month of detection, oldest first.
pub fn series_of(
    conn: &mut crate::db::DbConn,
    scope: &CaseScope,
    filter: &CaseFilter,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<Vec<SeriesPoint>> {
    let rows = report::per_month(conn, scope, filter, now)?;
    let mut months: BTreeMap<String, Counts> = BTreeMap::new();
    for (day, status, n) in rows {
        months.entry(day.format("%Y-%m").to_string()).or_default().add(&status, n);
    }
    Ok(months.into_iter().map(|(period, c)| SeriesPoint { period, detected: c.detected, handled: c.handled }).collect())
}

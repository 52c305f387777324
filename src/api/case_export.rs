//! The case list as a file: every case matching the list's filters, within scope.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use super::export::{FileFormat, Table};

use super::instant;
use crate::app::AppState;
use crate::domain::deadline::is_overdue;
use crate::domain::workflow::Status;
use crate::error::ApiError;
use crate::model::case::{Case, CaseFilter, CaseScope};
use crate::model::directive::Indicator;
use crate::model::unit::Unit;

pub async fn export(
    state: web::Data<AppState>,
    scope: CaseScope,
    filter: CaseFilter,
    format: FileFormat,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now_naive();
    let tz = state.settings.time_zone().map_err(ApiError::internal)?;
    let max_rows = state.settings.cases.export_max_rows;
    let table = state
        .db(move |conn| {
            let rows = Case::list_visible(conn, &scope, &filter, now, None, max_rows + 1)?;
            if rows.len() as i64 > max_rows {
                // A file cut short would look complete; say so instead.
                return Err(ApiError::field(
                    "format",
                    format!(
                        "More than {max_rows} cases match; an export holds at most {max_rows}. \
                         Narrow the list (from, to, campaign_id, unit_id, status) and export each part."
                    ),
                ));
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

            let header = [
                "Số vụ việc",
                "Trạng thái",
                "Quá hạn",
                "Nội dung",
                "Đối tượng",
                "Đơn vị",
                "Họ tên",
                "Chức vụ",
                "Biểu hiện",
                "Ngày phát hiện",
                "Mức độ",
                "Đơn vị chịu trách nhiệm",
                "Hạn xử lý",
                "Hình thức xử lý",
                "Ngày quyết định",
                "Số quyết định",
                "Ngày ghi nhận",
            ];
            let mut out = Vec::with_capacity(rows.len());
            for c in rows {
                let overdue =
                    is_overdue(Status::parse(&c.status).is_some_and(Status::can_be_overdue), c.deadline_at, now);
                let mut cited_codes: Vec<&str> =
                    cited.get(&c.id).into_iter().flatten().filter_map(|i| codes.get(i).map(String::as_str)).collect();
                cited_codes.sort();
                out.push(vec![
                    c.number.clone(),
                    c.status.clone(),
                    if overdue { "có" } else { "" }.to_string(),
                    c.title.clone(),
                    if c.subject_kind == "individual" { "Cá nhân" } else { "Tổ chức" }.to_string(),
                    units.get(&c.subject_unit_id).cloned().unwrap_or_default(),
                    c.person_name.clone().unwrap_or_default(),
                    c.person_position.clone().unwrap_or_default(),
                    cited_codes.join(", "),
                    c.detected_on.format("%d/%m/%Y").to_string(),
                    c.severity.clone(),
                    c.responsible_unit_id.as_ref().and_then(|u| units.get(u)).cloned().unwrap_or_default(),
                    c.due_at.map(|d| crate::domain::deadline::shown(d, tz)).unwrap_or_default(),
                    c.decision_measure.clone().unwrap_or_default(),
                    c.decision_decided_on.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default(),
                    c.decision_reference.clone().unwrap_or_default(),
                    instant(c.created_at),
                ]);
            }
            Ok(Table { title: "Danh sách vụ việc".into(), header: header.map(String::from).to_vec(), rows: out })
        })
        .await?;
    table.respond(format, "danh-sach-vu-viec")
}

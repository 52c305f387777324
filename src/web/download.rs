//! Files both faces hand out the same way.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::casework::list::case_table;
use crate::error::Error;
use crate::i18n::Lang;
use crate::import::template;
use crate::model::case::{CaseFilter, CaseScope};
use crate::state::AppState;
use crate::table::{FileFormat, Table, XLSX};

/// The register template as a download, in `lang`, from the catalogs as they stand today.
pub async fn register_template(state: &AppState, lang: Lang) -> Result<HttpResponse, Error> {
    let bytes =
        state.op(move |conn, ctx| template::workbook(&template::Lists::load(conn, lang, ctx.today()?)?, lang)).await?;
    let name = if lang == Lang::En { "register-template.xlsx" } else { "mau-so-theo-doi.xlsx" };
    Ok(attachment(bytes, XLSX, name, lang))
}

/// Every case `scope` and `filter` select, as a file in `format` and `lang`.
pub async fn cases(
    state: &AppState,
    scope: CaseScope,
    filter: CaseFilter,
    format: FileFormat,
    lang: Lang,
) -> Result<HttpResponse, Error> {
    let (now, max_rows) = (state.clock.now_naive(), state.settings.cases.export_max_rows);
    let tz = state.settings.time_zone().map_err(Error::internal)?;
    let sheet = state.db(move |conn| case_table(conn, &scope, &filter, now, tz, max_rows, lang)).await?;
    table(&sheet, format, "danh-sach-vu-viec")
}

/// The response carrying `table` as `file_stem.csv` or `file_stem.xlsx`.
pub fn table(table: &Table, format: FileFormat, file_stem: &str) -> Result<HttpResponse, Error> {
    let name = format!("{file_stem}.{}", format.ext());
    Ok(attachment(table.bytes(format)?, format.content_type(), &name, table.lang))
}

/// `bytes` as a file to save under `name`, written in `lang`.
fn attachment(bytes: Vec<u8>, content_type: &str, name: &str, lang: Lang) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .body(bytes)
}

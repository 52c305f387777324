//! Files both faces hand out the same way.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::error::ApiError;
use crate::i18n::Lang;
use crate::import::template;
use crate::state::AppState;

/// The register template as a download, in `lang`, from the catalogs as they stand today.
pub async fn register_template(state: &AppState, lang: Lang) -> Result<HttpResponse, ApiError> {
    let bytes =
        state.op(move |conn, ctx| template::workbook(&template::Lists::load(conn, lang, ctx.today()?)?, lang)).await?;
    let name = if lang == Lang::En { "register-template.xlsx" } else { "mau-so-theo-doi.xlsx" };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

//! The handling catalog: severity levels and decision measures, read by everyone and
//! replaced by administrators.

use actix_web::{HttpResponse, get, put, web};
use serde::Serialize;

use crate::auth::CurrentUser;
use crate::paging::{Page, PageQuery, PageRequest};
use crate::web::extract::{JsonBody, QueryParams};
use chrono::NaiveDate;

use crate::domain::handling::{Category, HandlingCatalog, LevelEntry, MeasureEntry, System};
use crate::error::Error;
use crate::model::handling::{Handling, HandlingImport, Kept};
use crate::state::AppState;

/// A measure as served: the catalog entry, whether it is retired, and `label` (its
/// Vietnamese name, what this resource served before it was a catalog).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeasureView {
    code: String,
    name: String,
    name_en: String,
    system: System,
    applies_to: Vec<Category>,
    aliases: Vec<String>,
    basis: String,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    retired: bool,
    /// The same as `name`; kept for clients of the flat list.
    label: String,
}

impl From<Kept<MeasureEntry>> for MeasureView {
    fn from(k: Kept<MeasureEntry>) -> Self {
        let m = k.entry;
        MeasureView {
            label: m.name.clone(),
            code: m.code,
            name: m.name,
            name_en: m.name_en,
            system: m.system,
            applies_to: m.applies_to,
            aliases: m.aliases,
            basis: m.basis,
            valid_from: m.valid_from,
            valid_until: m.valid_until,
            retired: k.retired,
        }
    }
}

/// A severity level as served.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LevelView {
    code: String,
    name: String,
    name_en: String,
    /// From the least grave (1).
    rank: i32,
    /// Codes earlier versions used (`low`, `medium`, `high`), still accepted.
    aliases: Vec<String>,
    basis: String,
    retired: bool,
}

impl From<Kept<LevelEntry>> for LevelView {
    fn from(k: Kept<LevelEntry>) -> Self {
        let l = k.entry;
        LevelView {
            code: l.code,
            name: l.name,
            name_en: l.name_en,
            rank: l.rank,
            aliases: l.aliases,
            basis: l.basis,
            retired: k.retired,
        }
    }
}

/// What `PUT /measures` did, and the catalog as it now stands.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HandlingView {
    version: Option<String>,
    import: Option<HandlingImport>,
    levels: Vec<LevelView>,
    measures: Vec<MeasureView>,
}

impl HandlingView {
    fn new(h: Handling, import: Option<HandlingImport>) -> Self {
        HandlingView {
            version: h.version,
            import,
            levels: h.levels.into_iter().map(LevelView::from).collect(),
            measures: h.measures.into_iter().map(MeasureView::from).collect(),
        }
    }
}

/// The measures a decision may record, in catalog order, retired ones included.
#[utoipa::path(tag = "catalog", params(PageQuery), responses((status = 200, description = "The measures of the handling catalog: system, whom each applies to, its legal basis and the days it is in force", body = Page<MeasureView>)))]
#[get("/measures")]
pub async fn measures(
    state: web::Data<AppState>,
    _caller: CurrentUser,
    q: QueryParams<PageQuery>,
) -> Result<HttpResponse, Error> {
    let handling = state.db(move |conn| Ok(Handling::load(conn)?)).await?;
    let all = handling.measures;
    // Keyed by code: a cursor must name one of them.
    let page = PageRequest::parse_keyed(q.0.limit, q.0.cursor.as_deref(), |k| all.iter().any(|m| m.entry.code == k))?;
    Ok(HttpResponse::Ok().json(page.page_of_all(all, |m| m.entry.code.clone(), MeasureView::from)))
}

/// The severity levels a case is graded by, least grave first.
#[utoipa::path(tag = "catalog", responses((status = 200, description = "The severity levels, by rank", body = Vec<LevelView>)))]
#[get("/severity-levels")]
pub async fn levels(state: web::Data<AppState>, _caller: CurrentUser) -> Result<HttpResponse, Error> {
    let handling = state.db(move |conn| Ok(Handling::load(conn)?)).await?;
    let view: Vec<LevelView> = handling.levels.into_iter().map(LevelView::from).collect();
    Ok(HttpResponse::Ok().json(view))
}

/// Replaces the handling catalog (the shape of `config/measures/vietnam.toml`, as JSON):
/// entries are matched by code, and one left out is kept as retired.
#[utoipa::path(tag = "catalog", request_body = HandlingCatalog, responses((status = 200, description = "The catalog as it now stands, with what changed", body = HandlingView)))]
#[put("/measures")]
pub async fn replace(
    state: web::Data<AppState>,
    caller: CurrentUser,
    body: JsonBody<HandlingCatalog>,
) -> Result<HttpResponse, Error> {
    let (summary, handling) =
        state.op(move |conn, ctx| crate::administration::import_handling(conn, ctx, &caller, body.0)).await?;
    Ok(HttpResponse::Ok().json(HandlingView::new(handling, Some(summary))))
}

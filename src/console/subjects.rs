//! A subject's record in the console, and the names the log form suggests as one is
//! typed. Both read through `crate::subjects`, so scope and the audit of reads are the
//! API's.

use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::session::Viewer;
use super::{Console, Fail};
use crate::i18n::Lang;
use crate::model::handling::Handling;
use crate::model::unit::Unit;
use crate::state::AppState;

/// How many names the log form suggests at once.
const SUGGESTED: i64 = 8;

#[derive(Deserialize)]
pub struct SuggestQuery {
    q: Option<String>,
}

/// `GET /subjects/suggest?q=`: people within the reader's reach whose name starts with
/// `q`, with where they are and their earlier cases, as JSON for the log form's script.
pub async fn suggest(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<SuggestQuery>,
) -> Result<HttpResponse, Fail> {
    let typed = q.into_inner().q.unwrap_or_default();
    if crate::domain::fold::fold(&typed).chars().count() < 2 || typed.chars().count() > 200 {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "items": [] })));
    }
    let (caller, lang, now) = (viewer.user.clone(), viewer.lang, state.clock.now_naive());
    let items = state
        .db(move |conn| {
            let found =
                crate::subjects::search(conn, &caller, Some(&typed), None, Some("individual"), None, SUGGESTED)?;
            let units: std::collections::HashMap<String, String> =
                Unit::find_many(conn, &found.iter().map(|s| s.unit_id.clone()).collect::<Vec<_>>())?
                    .into_iter()
                    .map(|u| (u.id, u.name))
                    .collect();
            let handling = Handling::load(conn)?;
            let scope = crate::casework::scope_of(&caller).ok();
            let mut items = Vec::new();
            for s in found {
                let cases = match &scope {
                    Some(scope) => crate::model::subject::Subject::cases_of(conn, &s.id, scope, now)?,
                    None => Vec::new(),
                };
                let last = crate::model::subject::latest_measure(&cases);
                items.push(serde_json::json!({
                    "id": s.id, "name": s.name, "position": s.position,
                    "unit": units.get(&s.unit_id), "unit_id": s.unit_id,
                    "record": record_line(lang, cases.len(), last.map(|(m, d)| (handling.measure_name(&m, lang), d))),
                }));
            }
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// "Đã có 2 vụ việc, lần gần nhất khiển trách 03/2025", or "Chưa có vụ việc".
fn record_line(lang: Lang, cases: usize, last: Option<(String, chrono::NaiveDate)>) -> String {
    if cases == 0 {
        return crate::i18n::catalogs().text(lang, "subject-no-cases", &[]);
    }
    earlier_line("subject-earlier", lang, cases, last.as_ref())
}

/// A count of earlier cases in the words of `key` (`repeat-line`, `subject-earlier`),
/// with the latest measure (already named) and its month.
pub(super) fn earlier_line(key: &str, lang: Lang, cases: usize, last: Option<&(String, chrono::NaiveDate)>) -> String {
    let c = crate::i18n::catalogs();
    let last = last
        .map(|(m, d)| {
            c.text(lang, "repeat-last", &[("measure", m.to_lowercase()), ("month", d.format("%m/%Y").to_string())])
        })
        .unwrap_or_default();
    c.text(lang, key, &[("count", cases.to_string()), ("last", last)])
}

/// `GET /subjects/{id}`: the record, its former units and positions, and its cases the
/// reader may see with the measures taken. The read is audited.
pub async fn page(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let caller = viewer.user.clone();
    let lang = viewer.lang;
    let (record, units, handling) = state
        .op(move |conn, ctx| {
            let r = crate::subjects::read(conn, ctx, &caller, &path)?;
            let mut ids: Vec<String> = vec![r.subject.unit_id.clone()];
            ids.extend(r.history.iter().map(|f| f.unit_id.clone()));
            ids.extend(r.cases.iter().map(|c| c.subject_unit_id.clone()));
            let units: std::collections::HashMap<String, String> =
                Unit::find_many(conn, &ids)?.into_iter().map(|u| (u.id, u.name)).collect();
            Ok((r, units, Handling::load(conn)?))
        })
        .await?;
    let unit = |id: &str| units.get(id).cloned().unwrap_or_default();
    let s = &record.subject;
    let ctx = context! {
        subject => context! {
            kind => s.kind.as_str(), name => s.name.clone(), unit => unit(&s.unit_id), position => s.position.clone(),
            categories => s.category_list().iter().map(|c| format!("category-{}", c.as_str())).collect::<Vec<_>>(),
            identifier => s.identifier.clone(),
        },
        history => record.history.iter().map(|f| context! {
            unit => unit(&f.unit_id), position => f.position.clone(), until => crate::domain::dates::instant(f.ended_at),
        }).collect::<Vec<_>>(),
        cases => record.cases.iter().map(|c| context! {
            id => c.id.clone(), number => c.number.clone(), title => c.title.clone(), status => c.status.clone(),
            detected_on => c.detected_on.to_string(), unit => unit(&c.subject_unit_id),
            measures => c.measures.iter().map(|(m, d)| format!("{} ({})", handling.measure_name(m, lang), crate::i18n::date(*d))).collect::<Vec<_>>(),
        }).collect::<Vec<_>>(),
    };
    console.page(Some(&viewer), lang, "subject.html", ctx)
}

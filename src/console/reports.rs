//! Reports: the figures officials quote for a period, unit, campaign and directive,
//! from the same report query as the API, each linked to the cases behind it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::form::field_errors;
use super::session::Viewer;
use super::{Console, Fail};
use crate::error::Error;
use crate::i18n;
use crate::model::campaign::{Campaign, CampaignFilter};
use crate::model::directive::Directive;
use crate::model::unit::Unit;
use crate::reports::{ReportQuery, prepare, summary_table};
use crate::state::AppState;

/// The report's address parameters (blank is no filter).
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct Filters {
    from: Option<String>,
    to: Option<String>,
    campaign_id: Option<String>,
    unit_id: Option<String>,
    directive_id: Option<String>,
    as_of: Option<String>,
    format: Option<String>,
}

impl Filters {
    fn query(&self) -> ReportQuery {
        let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        ReportQuery {
            from: some(&self.from),
            to: some(&self.to),
            directive_id: some(&self.directive_id),
            campaign_id: some(&self.campaign_id),
            unit_id: some(&self.unit_id),
            as_of: some(&self.as_of),
            format: some(&self.format),
            interval: None,
        }
    }

    /// These filters (some of them) as an address query.
    fn encoded(&self, keys: &[&str]) -> String {
        let q = self.query();
        let pairs = [
            ("from", q.from),
            ("to", q.to),
            ("campaign_id", q.campaign_id),
            ("unit_id", q.unit_id),
            ("directive_id", q.directive_id),
            ("as_of", q.as_of),
        ];
        let kept = pairs.into_iter().filter(|(k, v)| keys.contains(k) && v.is_some());
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept.map(|(k, v)| (k, v.unwrap_or_default())))
            .finish()
    }
}

/// The monthly series as bars of a server-drawn chart (heights in the SVG's units).
fn chart(points: &[crate::reports::SeriesPoint]) -> Value {
    const HEIGHT: f64 = 160.0;
    let max = points.iter().map(|p| p.detected.max(p.handled)).max().unwrap_or(0).max(1) as f64;
    let bars: Vec<Value> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let h = |n: i64| ((n as f64 / max) * HEIGHT).round();
            let label = p.period.split_once('-').map(|(y, m)| format!("{m}/{y}")).unwrap_or_else(|| p.period.clone());
            context! {
                x => i * 24, label => label, detected => p.detected, handled => p.handled,
                hd => h(p.detected), hh => h(p.handled), yd => HEIGHT - h(p.detected), yh => HEIGHT - h(p.handled),
            }
        })
        .collect();
    context! { bars => bars, width => (points.len().max(1) * 24), height => HEIGHT, max => max as i64 }
}

/// The page again with the filters as typed and the messages beside them (422).
fn refused(console: &Console, viewer: &Viewer, filters: &Filters, e: Error) -> Result<HttpResponse, Fail> {
    let errors = field_errors(viewer.lang, e)?;
    let ctx =
        context! { f => Value::from(minijinja::value::Serde(filters)), errors => errors, summary => None::<Value> };
    console.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, Some(viewer), viewer.lang, "reports.html", ctx)
}

/// The campaigns and directives the report's filters offer.
fn filter_choices(conn: &mut crate::db::DbConn) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let campaigns = Campaign::list(conn, &CampaignFilter::default(), None, 200)?
        .into_iter()
        .map(|c| context! { id => c.id, title => c.title })
        .collect();
    let directives = Directive::list(conn)?.into_iter().map(|d| context! { id => d.id, code => d.code }).collect();
    Ok((campaigns, directives))
}

/// `GET /reports?from=&to=&campaign_id=&unit_id=&directive_id=`
pub async fn page(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
    q: web::Query<Filters>,
) -> Result<HttpResponse, Fail> {
    let filters = q.into_inner();
    let lang = viewer.lang;
    let asked = match prepare(&viewer.user, &filters.query()) {
        Ok(p) => p,
        Err(e @ Error::Validation(_)) => return refused(&console, &viewer, &filters, e),
        Err(e) => return Err(Fail(e)),
    };
    let now = state.clock.now_naive();
    let (summary, points, unit, (campaigns, directives)) = state
        .db(move |conn| {
            let unit = asked.root.as_deref().map(|id| Unit::find(conn, id)).transpose()?.flatten().map(|u| u.name);
            Ok((asked.summary(conn, now)?, asked.series(conn, now)?.items, unit, filter_choices(conn)?))
        })
        .await?;
    let line = crate::domain::report::official_sentence(lang, summary.subjects.detected, summary.subjects.handled);
    let ctx = context! {
        f => Value::from(minijinja::value::Serde(&filters)),
        errors => context! {},
        summary => Value::from(minijinja::value::Serde(&summary)),
        rate => i18n::percent(lang, summary.cases.handled, summary.cases.detected),
        line => line,
        unit => unit,
        chart => chart(&points),
        points => Value::from(minijinja::value::Serde(&points)),
        campaigns => campaigns, directives => directives,
        cases_base => filters.encoded(&["from", "to", "campaign_id", "unit_id"]),
        drill_base => filters.encoded(&["from", "to", "campaign_id", "directive_id", "as_of"]),
        export_base => filters.encoded(&["from", "to", "campaign_id", "unit_id", "directive_id"]),
    };
    console.page(Some(&viewer), lang, "reports.html", ctx)
}

/// `GET /reports/export?format=csv|xlsx&…`: the summary as the API exports it.
pub async fn export(state: web::Data<AppState>, viewer: Viewer, q: web::Query<Filters>) -> Result<HttpResponse, Fail> {
    let query = q.into_inner().query();
    let asked = prepare(&viewer.user, &query)?;
    let format = crate::table::FileFormat::pick(query.format.as_deref(), None)?
        .ok_or_else(|| Error::field("format", crate::error::msg::one_of(&["csv", "xlsx"])))?;
    let now = state.clock.now_naive();
    let summary = state.db(move |conn| Ok(asked.summary(conn, now)?)).await?;
    Ok(crate::web::download::table(&summary_table(&summary, viewer.lang), format, "bao-cao-tong-hop")?)
}

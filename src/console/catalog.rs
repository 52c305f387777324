//! The catalogs as reviewers and administrators read them: each directive with its exact
//! title, version and whether its text is official, its groups and items; and the
//! handling catalog (severity levels, measures with their legal basis and dates).

use actix_web::{HttpResponse, web};
use minijinja::context;

use super::session::Viewer;
use super::{Console, Fail};
use crate::domain::role::Role;
use crate::model::directive::{Directive, Indicator};
use crate::model::handling::Handling;
use crate::state::AppState;

/// A directive and its indicators, grouped as it groups them.
fn directive_view(d: Directive, items: Vec<Indicator>) -> minijinja::Value {
    let groups: Vec<minijinja::Value> = Indicator::grouped(items)
        .into_iter()
        .map(|(code, title, items)| {
            let items: Vec<minijinja::Value> = items
                .into_iter()
                .map(|i| context! { code => i.code, title => i.title, description => i.description })
                .collect();
            context! { code, title, items }
        })
        .collect();
    context! {
        code => d.code, title => d.title, issuer => d.issuer, issued_on => d.issued_on.map(|x| x.to_string()),
        version => d.catalog_version, note => d.note, groups => groups,
    }
}

/// `GET /catalog`
pub async fn page(
    state: web::Data<AppState>,
    console: web::Data<Console>,
    viewer: Viewer,
) -> Result<HttpResponse, Fail> {
    viewer.user.require(&[Role::Reviewer, Role::Admin])?;
    let (directives, handling) = state
        .db(move |conn| {
            let mut out = Vec::new();
            for d in Directive::list(conn)? {
                let items = Indicator::of_directive(conn, &d.id, false)?;
                out.push((d, items));
            }
            Ok((out, Handling::load(conn)?))
        })
        .await?;
    let lang = viewer.lang;
    let ctx = context! {
        directives => directives.into_iter().map(|(d, items)| directive_view(d, items)).collect::<Vec<_>>(),
        handling_version => handling.version.clone(),
        levels => handling.levels.iter().filter(|l| !l.retired).map(|l| context! {
            name => handling.level_name(&l.entry.code, lang), basis => l.entry.basis.clone(),
        }).collect::<Vec<_>>(),
        measures => handling.measures.iter().filter(|m| !m.retired).map(|m| context! {
            system => m.entry.system.as_str(),
            name => handling.measure_name(&m.entry.code, lang),
            applies_to => m.entry.applies_to.iter().map(|c| format!("category-{}", c.as_str())).collect::<Vec<_>>(),
            basis => m.entry.basis.clone(),
            valid_from => m.entry.valid_from.map(|d| d.to_string()),
            valid_until => m.entry.valid_until.map(|d| d.to_string()),
        }).collect::<Vec<_>>(),
    };
    console.page(Some(&viewer), lang, "catalog.html", ctx)
}

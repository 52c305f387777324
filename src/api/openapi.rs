//! The OpenAPI 3 description, collected from the mounted handlers' own annotations,
//! and the page at `/docs` that renders it with a vendored Swagger UI.

use std::sync::OnceLock;

use actix_web::{App, HttpResponse, get, web};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, Response};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::web::problem::{FieldProblem, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "casetrack",
        description = "Compliance tracking for Directive 24-CT/TU: campaigns, violation cases, their handling, \
                       overdue escalation and reports. Errors are RFC 9457 problem+json documents whose `type` \
                       is `urn:casetrack:problem:<code>`; a 422 lists every bad field in `errors`."
    ),
    components(schemas(Problem, FieldProblem, super::imports::Refused)),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "me", description = "The signed-in user"),
        (name = "users", description = "Accounts (administrators)"),
        (name = "units", description = "The tree of party and government bodies"),
        (name = "catalog", description = "Directives and their indicators; the handling catalog (severity levels, measures)"),
        (name = "campaigns", description = "Inspection campaigns"),
        (name = "subjects", description = "The people and bodies cases are about, and their record"),
        (name = "cases", description = "Violation cases and their handling"),
        (name = "imports", description = "Registers of cases brought in from spreadsheets"),
        (name = "notifications", description = "Alerts and the e-mail outbox"),
        (name = "reports", description = "Figures for any period, unit, campaign or indicator"),
        (name = "audit", description = "Who changed what"),
        (name = "calendar", description = "The working-day calendar deadlines are counted in"),
        (name = "operations", description = "Probes and this description"),
    )
)]
struct ApiDoc;

/// The document for everything [`super::configure`] mounts.
pub fn document() -> Document {
    let (_, mut doc) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(super::configure).split_for_parts();
    Conventions.modify(&mut doc);
    doc
}

/// The document as served, built once.
fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().expect("the OpenAPI document serialises"))
}

/// What every operation shares, added once instead of on each handler: bearer
/// sign-in unless the handler declares its own `security`, and the problem+json
/// errors its shape allows.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        for (path, item) in doc.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            for op in
                [&mut item.get, &mut item.post, &mut item.patch, &mut item.put, &mut item.delete].into_iter().flatten()
            {
                add_errors(op, has_path_params);
            }
        }
    }
}

fn add_errors(op: &mut Operation, has_path_params: bool) {
    let secured = op.security.is_none();
    if secured {
        op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
    let takes_input = op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let errors = [
        (takes_input, "400", "The request could not be read (not JSON, or a malformed parameter)."),
        (secured, "401", "Not signed in, or the sign-in expired."),
        (secured, "403", "The caller's role does not allow this."),
        (has_path_params, "404", "Nothing with this id, or not visible to the caller."),
        (takes_input, "422", "Invalid values; `errors` names each field."),
        (true, "default", "Any other error (413, 415, 429, 503, …)."),
    ];
    for (applies, status, description) in errors {
        if applies && !op.responses.responses.contains_key(status) {
            op.responses.responses.insert(status.to_string(), problem(description).into());
        }
    }
}

fn problem(description: &str) -> Response {
    let mut r = Response::new(description);
    r.content.insert("application/problem+json".into(), Content::new(Some(Ref::from_schema_name("Problem"))).into());
    r
}

/// The OpenAPI document of this API.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(document_json())
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>casetrack API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"#;

/// A token typed into the page lives only as long as the page: never in `localStorage`,
/// where any script of this origin could read it later.
const INIT: &str = "window.ui = SwaggerUIBundle({url: '/api/v1/openapi.json', dom_id: '#ui', deepLinking: true, \
                    persistAuthorization: false, validatorUrl: null});\n";

/// A page that renders the OpenAPI document (Swagger UI, served from this binary).
#[utoipa::path(
    tag = "operations",
    security(()),
    responses((status = 200, description = "An HTML page", content_type = "text/html", body = String))
)]
#[get("/docs")]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(PAGE)
}

/// The page's script and style sheet.
#[utoipa::path(
    tag = "operations",
    security(()),
    params(("file" = String, Path, description = "swagger-ui-bundle.js, swagger-ui.css or init.js")),
    responses(
        (status = 200, description = "The file", content_type = "text/javascript", body = String),
        (status = 404, description = "No such file", content_type = "application/problem+json", body = Problem),
    )
)]
#[get("/docs/{file}")]
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, crate::error::Error> {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "swagger-ui-bundle.js" => (include_bytes!("../../docs/swagger-ui/swagger-ui-bundle.js"), "text/javascript"),
        "swagger-ui.css" => (include_bytes!("../../docs/swagger-ui/swagger-ui.css"), "text/css"),
        "init.js" => (INIT.as_bytes(), "text/javascript"),
        _ => return Err(crate::error::Error::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(format!("{kind}; charset=utf-8"))
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(body))
}

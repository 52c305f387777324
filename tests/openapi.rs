//! The OpenAPI document: every route the source declares is mounted and described,
//! nothing else is described, and `/docs` renders it from this server alone.

mod common;

use std::collections::BTreeSet;

use casetrack::domain::role::Role;
use common::spawn;
use reqwest::Method;

/// A (METHOD, full path) pair such as ("GET", "/api/v1/cases/{id}").
type Route = (String, String);

/// The routes handlers declare with actix's attributes, with the prefix `api::configure`
/// mounts each under; fails when a declared handler is not mounted at all.
fn declared_routes() -> BTreeSet<Route> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
    let mount = std::fs::read_to_string(format!("{dir}/mod.rs")).unwrap();
    let (top, v1) = mount.split_once("fn api_v1").expect("api::configure mounts /api/v1 through fn api_v1");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_str().unwrap().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        let mut pending: Option<(String, String)> = None;
        for line in source.lines().map(str::trim) {
            for method in ["get", "post", "patch", "put", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let route = rest.split('"').next().unwrap().to_string();
                    pending = Some((method.to_uppercase(), route));
                }
            }
            if let Some(rest) = line.strip_prefix("pub async fn ")
                && let Some((method, route)) = pending.take()
            {
                let name = rest.split('(').next().unwrap();
                let handler = format!(".service({module}::{name})");
                let prefix = if v1.contains(&handler) {
                    "/api/v1"
                } else if top.contains(&handler) {
                    ""
                } else {
                    panic!("{module}::{name} declares {method} {route} but api::configure does not mount it");
                };
                routes.insert((method, format!("{prefix}{route}")));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_mounted_route_is_described_and_nothing_else() {
    // With a metrics token, so that /metrics is served on this listener (401 without it).
    let app =
        common::spawn_with(|s| s.server.metrics_token = Some("metrics-token-0123456789".to_string().into())).await;
    let doc = app.call(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200).body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "an OpenAPI 3 document");
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.to_uppercase(), path.clone()));
        }
    }
    let declared = declared_routes();
    assert!(declared.len() > 40, "the scan found the handlers: {declared:?}");
    let undocumented: Vec<_> = declared.difference(&described).collect();
    let phantom: Vec<_> = described.difference(&declared).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:?}");
    assert!(phantom.is_empty(), "described but not declared by any handler: {phantom:?}");

    // Each described operation answers from a handler: no 405, and no 404 where no id is involved.
    let admin = app.signed_in("root", Role::Admin, None).await;
    // The latest audit checkpoint is a 404 only until the first is signed.
    let now = app.clock.now().naive_utc();
    app.with_conn(|c| {
        casetrack::ledger::run::checkpoint_now(c, &app.state.settings, now, casetrack::ledger::checkpoint::Mail::Now)
    })
    .expect("a checkpoint");
    for (method, path) in &described {
        if path == "/api/v1/auth/logout" {
            continue; // would end the sign-in the rest of the loop uses
        }
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{aid}", "x")
            .replace("{file}", "init.js")
            .replace("{year}", "2026");
        let body = (method != "GET").then(|| serde_json::json!({}));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let r = app.call(method.clone(), &concrete, Some(&admin.token), body, &[]).await;
        assert_ne!(r.status.as_u16(), 405, "{method} {path}");
        assert!(r.status.as_u16() < 500, "{method} {path}: {}", r.body);
        if !path.contains("{id}") {
            assert_ne!(r.status.as_u16(), 404, "{method} {path} is not mounted: {}", r.body);
        }
    }
}

#[tokio::test]
async fn operations_name_their_sign_in_errors_and_bodies() {
    let app = spawn().await;
    let doc = app.call(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200).body;
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();

    // Signed-in operations carry the bearer scheme and a 401; sign-in itself does not.
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let cases = op("/api/v1/cases", "get");
    assert_eq!(cases["security"][0]["bearer"], serde_json::json!([]));
    assert!(cases["responses"]["401"].is_object());
    assert!(cases["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "q" && p["in"] == "query"));
    let login = op("/api/v1/auth/login", "post");
    assert_eq!(login["security"], serde_json::json!([{}]));
    assert!(login["responses"]["429"].is_object());

    // Bodies and errors point at real schemas.
    let create = op("/api/v1/cases", "post");
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CaseInput"
    );
    assert_eq!(
        create["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    let case = &doc["components"]["schemas"]["CaseView"]["properties"];
    for field in ["id", "number", "status", "overdue", "deadline_at", "version"] {
        assert!(case[field].is_object(), "CaseView describes {field}");
    }
    let summary = op("/api/v1/reports/summary", "get");
    let kinds: Vec<&String> = summary["responses"]["200"]["content"].as_object().unwrap().keys().collect();
    assert!(kinds.iter().any(|k| k.as_str() == "text/csv"), "{kinds:?}");
}

#[tokio::test]
async fn the_docs_page_renders_from_this_server_alone() {
    let app = spawn().await;
    let page = app.call(Method::GET, "/docs", None, None, &[]).await.expect(200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let html = page.body.as_str().unwrap().to_string();
    assert!(!html.contains("http://") && !html.contains("https://"), "no external address: {html}");
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/init.js"] {
        assert!(html.contains(asset), "the page loads {asset}");
        let r = app.http.get(format!("{}{asset}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 50, "{asset} has content");
    }
    let init = app.http.get(format!("{}/docs/init.js", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    app.call(Method::GET, "/docs/other.js", None, None, &[]).await.expect(404);
}

/// `docs/openapi.json` is the document the service serves, so the repository documents
/// its own API. `UPDATE_OPENAPI=1 cargo test --test openapi` writes it after a change.
#[tokio::test]
async fn the_committed_document_is_the_one_served() {
    let app = spawn().await;
    let served = app.call(Method::GET, "/api/v1/openapi.json", None, None, &[]).await.expect(200).body;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&served).unwrap() + "\n").unwrap();
    }
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("docs/openapi.json is committed")).unwrap();
    assert!(committed == served, "docs/openapi.json is out of date: run UPDATE_OPENAPI=1 cargo test --test openapi");
}

/// The README and the documents under docs/ link only to files in the repository, and
/// every file they link to exists.
#[test]
fn the_docs_link_only_inside_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md")];
    docs.extend(std::fs::read_dir(root.join("docs")).unwrap().filter_map(Result::ok).map(|e| e.path()));
    let mut checked = 0;
    for doc in docs.iter().filter(|p| p.extension().is_some_and(|e| e == "md")) {
        let text = std::fs::read_to_string(doc).unwrap();
        for link in text.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
            if link.starts_with("http") || link.starts_with('#') || link.starts_with('<') {
                continue;
            }
            let file = link.split('#').next().unwrap();
            let target = doc.parent().unwrap().join(file);
            let resolved = target.canonicalize().unwrap_or_else(|_| panic!("{}: {link} does not exist", doc.display()));
            assert!(
                resolved.starts_with(root.canonicalize().unwrap()),
                "{}: {link} leaves the repository",
                doc.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "the documents link to {checked} files");
}

/// The document names each schema by its type's bare name, and a second type of the same
/// name silently replaces the first (two `SubjectView`s once did): every type that
/// describes itself to the document has a name of its own.
#[test]
fn every_schema_type_has_a_name_of_its_own() {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut described = false;
                for line in text.lines().map(str::trim) {
                    if line.starts_with("#[derive(") && line.contains("ToSchema") {
                        described = true;
                    } else if described && (line.starts_with("pub struct ") || line.starts_with("pub enum ")) {
                        let name = line.split_whitespace().nth(2).unwrap();
                        out.push(name.trim_end_matches(['{', '<', '(']).split('<').next().unwrap().to_string());
                        described = false;
                    } else if !line.starts_with("#[") && !line.starts_with("///") {
                        described = false;
                    }
                }
            }
        }
    }
    let mut names = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut names);
    assert!(names.len() > 40, "found {} schema types", names.len());
    names.sort();
    let twice: Vec<&String> = names.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
    assert!(twice.is_empty(), "schema types named twice: {twice:?}");
}

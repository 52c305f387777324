//! Catalogs are data: the default directive, importing another, re-importing a new version.

mod common;

use casetrack::domain::catalog::Catalog;
use common::world::World;
use common::{TestDb, spawn};
use serde_json::{Value, json};

fn catalog_json(toml_text: &str) -> Value {
    serde_json::to_value(Catalog::from_toml(toml_text).unwrap()).unwrap()
}

#[tokio::test]
async fn a_fresh_database_holds_24_ct_tu_with_25_indicators_in_3_groups() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let list = app.get("/api/v1/directives", &w.inspector.token).await.expect(200).body;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let d = &list["items"][0];
    assert_eq!(d["code"], "24-CT/TU");
    assert!(d["note"].as_str().unwrap().contains("paraphrase"));
    let id = d["id"].as_str().unwrap();
    let full = app.get(&format!("/api/v1/directives/{id}"), &w.inspector.token).await.expect(200).body;
    let indicators = full["indicators"].as_array().unwrap();
    assert_eq!(indicators.len(), 25);
    let mut groups: Vec<&str> = indicators.iter().map(|i| i["group"].as_str().unwrap()).collect();
    groups.dedup();
    assert_eq!(groups, vec!["1", "2", "3"]);
    assert_eq!(indicators[0]["code"], "1.1");
    let listed = app.get(&format!("/api/v1/indicators?directive_id={id}"), &w.ba_dinh_head.token).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 25);
    let measures = app.get("/api/v1/measures", &w.city_reviewer.token).await.expect(200);
    assert!(
        measures.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["code"] == "party_reprimand" && m["aliases"][0] == "reprimand" && m["label"] == "Khiển trách")
    );
}

/// Every list takes `limit` and `cursor`, the short catalog lists too, and pages them in
/// their own order.
#[tokio::test]
async fn catalog_lists_page_by_limit_and_cursor_like_every_list() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let t = &w.inspector.token;
    let all = app.get("/api/v1/indicators?limit=100", t).await.expect(200).body;
    let all: Vec<Value> = all["items"].as_array().unwrap().clone();
    assert_eq!(all.len(), 25);
    let mut walked = Vec::new();
    let mut next = "/api/v1/indicators?limit=10".to_string();
    loop {
        let page = app.get(&next, t).await.expect(200).body;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 10);
        walked.extend(items.iter().map(|i| i["code"].clone()));
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("/api/v1/indicators?limit=10&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(walked, all.iter().map(|i| i["code"].clone()).collect::<Vec<_>>(), "three pages, catalog order");
    let first = app.get("/api/v1/measures?limit=1", t).await.expect(200).body;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().expect("more measures follow");
    let second = app.get(&format!("/api/v1/measures?limit=1&cursor={cursor}"), t).await.expect(200).body;
    assert_ne!(second["items"][0]["code"], first["items"][0]["code"]);
    let one = app.get("/api/v1/directives?limit=1", t).await.expect(200).body;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert!(one["next_cursor"].is_null());
    for bad in ["/api/v1/indicators?limit=0", "/api/v1/measures?cursor=bm8", "/api/v1/directives?limit=501"] {
        let r = app.get(bad, t).await.expect(422);
        assert!(r.body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{bad}: {}", r.body);
    }
}

#[tokio::test]
async fn an_administrator_imports_another_catalog_and_a_new_version_keeps_cases_intact() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let resolution = catalog_json(include_str!("../config/catalogs/18-NQ-TU.toml"));
    app.post("/api/v1/directives", Some(&w.city_reviewer.token), resolution.clone()).await.expect(403);
    let r = app.post("/api/v1/directives", Some(&w.admin.token), resolution).await.expect(201);
    assert_eq!(r.body["kind"], "resolution");
    assert_eq!(r.body["indicators"].as_array().unwrap().len(), 15);

    // A case cites 1.1; the official text arrives with a new title for 1.1 and without 3.7.
    let mut body = w.case_body(&w.dien_bien, "Vi phạm quy định đảng viên");
    body["indicator_ids"] = json!([w.indicator("1.1").id]);
    let case = app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(201).body;
    let mut official = catalog_json(casetrack::domain::catalog::DEFAULT_CATALOG);
    official["directive"]["catalog_version"] = json!("2024.2-official");
    official["indicators"][0]["title"] = json!("Tiêu đề chính thức của biểu hiện 1.1");
    official["indicators"].as_array_mut().unwrap().pop();
    let r = app.post("/api/v1/directives", Some(&w.admin.token), official).await.expect(200);
    assert_eq!(
        r.body["import"],
        json!({"created": false, "indicators_added": 0, "indicators_updated": 24, "indicators_retired": 1})
    );
    let one_one = r.body["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "1.1").unwrap().clone();
    assert_eq!(one_one["id"], json!(w.indicator("1.1").id));
    assert_eq!(one_one["title"], "Tiêu đề chính thức của biểu hiện 1.1");
    let three_seven = r.body["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "3.7").unwrap().clone();
    assert_eq!(three_seven["retired"], true);

    let again =
        app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &w.inspector.token).await.expect(200);
    assert_eq!(again.body["indicator_ids"], json!([w.indicator("1.1").id]));
    // A retired indicator cannot be cited by new cases.
    let mut body = w.case_body(&w.dien_bien, "Chỉ số đã bỏ");
    body["indicator_ids"] = json!([w.indicator("3.7").id]);
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(422);
    assert_eq!(r.error_fields(), vec!["indicator_ids[0]"]);
}

#[tokio::test]
async fn a_broken_catalog_is_refused_entry_by_entry() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let before = app.audit_count();
    let mut broken = catalog_json(casetrack::domain::catalog::DEFAULT_CATALOG);
    broken["directive"]["kind"] = json!("decree");
    broken["indicators"][2]["group"] = json!("7");
    broken["indicators"][5]["title"] = json!("");
    let r = app.post("/api/v1/directives", Some(&w.admin.token), broken).await.expect(422);
    assert_eq!(r.error_fields(), vec!["directive.kind", "indicators[2].group", "indicators[5].title"]);
    assert_eq!(app.audit_count(), before);
}

#[test]
fn catalog_import_from_the_command_line() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/catalogs/18-NQ-TU.toml");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"));
    cmd.current_dir(dir.path()).env("DATABASE_URL", db.url()).env("CASETRACK__AUTH__JWT_SECRET", common::JWT_SECRET);
    let out = cmd.args(["catalog", "import"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Loaded 18-NQ/TU") && stdout.contains("15 indicators added"), "{stdout}");
    let out = cmd.output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Updated 18-NQ/TU"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[directive]\ncode = \"X\"\n").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"));
    cmd.current_dir(dir.path()).env("DATABASE_URL", db.url()).env("CASETRACK__AUTH__JWT_SECRET", common::JWT_SECRET);
    let out = cmd.args(["catalog", "import"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}

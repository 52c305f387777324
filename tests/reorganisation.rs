//! Units with a life: reorganisations that merge, split, rename and retire units, with
//! the history kept, scope and alerts following the successors, and the city's figures
//! unchanged across the change.

mod common;

use casetrack::domain::role::Role;
use casetrack::jobs::recipients::Resolver;
use casetrack::model::case::Case;
use casetrack::model::unit::Unit;
use common::world::World;
use common::{Login, TestApp, spawn};
use serde_json::{Value, json};

const BASIS: &str = "1656/NQ-UBTVQH15";

fn basis() -> Value {
    json!({"reference": BASIS, "issued_on": "2024-09-16", "title": "Nghị quyết về việc sắp xếp các đơn vị hành chính cấp xã"})
}

fn body(steps: Value) -> Value {
    json!({"effective_on": "2024-09-23", "basis": basis(), "steps": steps})
}

async fn reorganise(app: &TestApp, w: &World, dry_run: bool, steps: Value) -> common::Reply {
    let path = if dry_run { "/api/v1/reorganisations?dry_run=true" } else { "/api/v1/reorganisations" };
    app.post(path, Some(&w.admin.token), body(steps)).await
}

fn unit_now(app: &TestApp, id: &str) -> Unit {
    app.with_conn(|c| Unit::find(c, id)).unwrap().expect("unit")
}

fn case_now(app: &TestApp, id: &str) -> Case {
    use casetrack::db::schema::cases;
    use diesel::prelude::*;
    app.with_conn(|c| cases::table.find(id).select(Case::as_select()).first(c)).unwrap()
}

/// Accepts `case` into handling by `unit`, as the city reviewer.
async fn accept_into(app: &TestApp, w: &World, case: &Value, unit: &Unit) -> Value {
    let mut b = w.transition_body("accept");
    b["responsible_unit_id"] = json!(unit.id);
    w.act(app, &w.city_reviewer, case, b).await.expect(200).body
}

/// The Ba Đình district's wards merge into a new ward directly under the city, and the
/// district ends into the city.
fn ba_dinh_merge(w: &World) -> Value {
    json!([
        {"op": "merge", "from": ["BD-DIEN-BIEN", "BD-KIM-MA"],
         "to": {"code": "P-BA-DINH", "name": "Phường Ba Đình", "kind": "ward", "parent": "HN"}},
        {"op": "retire", "unit": w.ba_dinh.code, "successor": "HN"},
    ])
}

/// A rollup row's key, as one string, and its counts.
type Rollups = (Vec<(String, i64)>, Vec<(String, i32, i32)>);
type StatRow = (String, chrono::NaiveDate, String, String, String, String, String, i32);

/// The case and responsible-unit rollups summed over shards, without zeros.
fn rollups(app: &TestApp) -> Rollups {
    use casetrack::db::schema::{case_stats as s, responsible_subject_stats as r};
    use diesel::prelude::*;
    app.with_conn(|c| {
        let rows: Vec<StatRow> = s::table
            .select((
                s::indicator_id,
                s::detected_month,
                s::subject_unit_id,
                s::responsible_unit_id,
                s::campaign_id,
                s::status,
                s::decision_measure,
                s::cases,
            ))
            .load(c)
            .unwrap();
        let mut sums = std::collections::BTreeMap::<String, i64>::new();
        for (i, m, su, ru, ca, st, me, n) in rows {
            *sums.entry(format!("{i}|{m}|{su}|{ru}|{ca}|{st}|{me}")).or_default() += i64::from(n);
        }
        let cases = sums.into_iter().filter(|(_, n)| *n != 0).collect();
        let resp: Vec<(String, String, i32, i32)> = r::table
            .filter(r::detected.ne(0).or(r::unhandled.ne(0)))
            .select((r::responsible_unit_id, r::subject_key, r::detected, r::unhandled))
            .load(c)
            .unwrap();
        let mut resp: Vec<(String, i32, i32)> =
            resp.into_iter().map(|(u, k, d, n)| (format!("{u}|{k}"), d, n)).collect();
        resp.sort();
        (cases, resp)
    })
}

async fn summary(app: &TestApp, who: &Login, query: &str) -> Value {
    app.get(&format!("/api/v1/reports/summary{query}"), &who.token).await.expect(200).body
}

#[tokio::test]
async fn a_merge_keeps_history_and_hands_open_cases_scope_and_alerts_to_the_successor() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let kim_ma = app.unit("BD-KIM-MA", "Phường Kim Mã", "ward", Some(&w.ba_dinh));
    let unassigned = w.log_case(&app, &w.dien_bien, "Chưa phân công").await;
    let handled_here = w.log_case(&app, &kim_ma, "Đang xử lý tại Kim Mã").await;
    let handled_here = accept_into(&app, &w, &handled_here, &kim_ma).await;
    let closed = w.case_in(&app, "closed").await;
    let city_before = summary(&app, &w.city_reviewer, "").await;
    let period_before = summary(&app, &w.city_reviewer, "?from=2024-09-01&to=2024-09-30").await;

    // The dry run says what would happen and changes nothing.
    let audit_before = app.audit_count();
    let plan = reorganise(&app, &w, true, ba_dinh_merge(&w)).await.expect(200).body;
    assert_eq!(plan["applied"], false);
    assert_eq!(plan["established"][0]["code"], "P-BA-DINH");
    let ended: Vec<&str> = plan["ended"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(ended, ["BD-DIEN-BIEN", "BD-KIM-MA", "BA-DINH"]);
    assert_eq!(plan["moved_cases"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["moved_cases"][0]["number"], handled_here["number"]);
    assert_eq!(plan["moved_cases"][0]["to"], "P-BA-DINH");
    let stranded: Vec<&str> =
        plan["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(stranded, ["truong.badinh", "ubkt.badinh"]);
    assert_eq!(plan["campaigns"][0]["added_targets"], json!(["HN"]));
    assert_eq!(app.audit_count(), audit_before);
    assert!(unit_now(&app, &w.dien_bien.id).ended_on.is_none());

    let applied = reorganise(&app, &w, false, ba_dinh_merge(&w)).await.expect(201).body;
    assert_eq!(applied["applied"], true);
    let ward_id = applied["established"][0]["unit_id"].as_str().unwrap().to_string();
    let ward = unit_now(&app, &ward_id);
    assert_eq!(ward.established_on, chrono::NaiveDate::from_ymd_opt(2024, 9, 23));
    for id in [&w.dien_bien.id, &kim_ma.id, &w.ba_dinh.id] {
        let u = unit_now(&app, id);
        assert_eq!(u.ended_on, chrono::NaiveDate::from_ymd_opt(2024, 9, 23), "{}", u.code);
    }
    // Listed, with its lineage on both sides, and the unit API says it ended.
    let listed = app.get("/api/v1/reorganisations", &w.admin.token).await.expect(200).body;
    assert_eq!(listed["items"][0]["basis_reference"], BASIS);
    let lineage = app.get(&format!("/api/v1/units/{ward_id}/lineage"), &w.admin.token).await.expect(200).body;
    let from: Vec<&str> =
        lineage["predecessors"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    assert_eq!(from, ["BD-DIEN-BIEN", "BD-KIM-MA"]);
    let old = app.get(&format!("/api/v1/units/{}/lineage", w.dien_bien.id), &w.admin.token).await.expect(200).body;
    assert_eq!(old["successors"][0]["code"], "P-BA-DINH");
    assert_eq!(old["former"][0]["parent_id"], w.ba_dinh.id.as_str());
    let view = app.get(&format!("/api/v1/units/{}", w.dien_bien.id), &w.admin.token).await.expect(200).body;
    assert_eq!(view["ended_on"], "2024-09-23");

    // History is not rewritten: the cases keep the unit they were found in; the open case
    // handled by an ended ward is handled by the new ward now, and its timeline says why.
    let moved = case_now(&app, handled_here["id"].as_str().unwrap());
    assert_eq!(moved.subject_unit_id, kim_ma.id);
    assert_eq!(moved.responsible_unit_id.as_deref(), Some(ward_id.as_str()));
    assert_eq!(
        case_now(&app, closed["id"].as_str().unwrap()).responsible_unit_id.as_deref(),
        Some(w.ba_dinh.id.as_str())
    );
    let events = app
        .get(&format!("/api/v1/cases/{}/events", handled_here["id"].as_str().unwrap()), &w.city_reviewer.token)
        .await
        .expect(200)
        .body;
    let handed: Vec<&Value> =
        events["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "reorganised").collect();
    assert_eq!(handed.len(), 1, "{events}");
    // Who handed it over, when, from which unit to which, and under which decision.
    let event = handed[0];
    assert_eq!(event["actor_id"], w.admin.user.id.as_str());
    assert_eq!(event["at"].as_str().unwrap().get(..10), Some("2024-09-25"));
    assert_eq!((&event["detail"]["from"], &event["detail"]["to"]), (&json!("BD-KIM-MA"), &json!("P-BA-DINH")));
    assert_eq!(
        (&event["detail"]["from_name"], &event["detail"]["to_name"]),
        (&json!("Phường Kim Mã"), &json!("Phường Ba Đình"))
    );
    assert_eq!(event["detail"]["basis"], BASIS, "{event}");
    assert!(applied["id"].is_string(), "{applied}");
    assert_eq!(event["detail"]["reorganisation_id"], applied["id"], "{event}");

    // The new ward's reviewer sees the absorbed wards' whole history.
    let reviewer = app.signed_in("ubkt.phuongbadinh", Role::Reviewer, Some(&ward)).await;
    for case in [&unassigned, &handled_here, &closed] {
        app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &reviewer.token).await.expect(200);
    }
    // The ended district's people still sign in and see nothing.
    let theirs = app.get("/api/v1/cases", &w.ba_dinh_reviewer.token).await.expect(200).body;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    app.get(&format!("/api/v1/cases/{}", closed["id"].as_str().unwrap()), &w.ba_dinh_head.token).await.expect(404);
    app.get("/api/v1/me", &w.ba_dinh_head.token).await.expect(200);

    // Alerts: the ended district's head gets none; the new ward's reviewers and head do.
    let head = app.signed_in("truong.phuongbadinh", Role::UnitHead, Some(&ward)).await;
    app.patch(&format!("/api/v1/units/{ward_id}"), &w.admin.token, json!({"head_user_id": head.user.id}), None)
        .await
        .expect(200);
    let unassigned_now = case_now(&app, unassigned["id"].as_str().unwrap());
    let (to_head, to_reviewers) = app
        .with_conn(|c| {
            let mut r = Resolver::default();
            let head = r.resolve(c, &moved, &["responsible_head".into(), "parent_head".into()])?;
            let reviewers = r.resolve(c, &unassigned_now, &["responsible_head".into()])?;
            diesel::QueryResult::Ok((head, reviewers))
        })
        .unwrap();
    let emails = |rs: &[casetrack::jobs::recipients::Recipient]| rs.iter().map(|r| r.email.clone()).collect::<Vec<_>>();
    assert_eq!(emails(&to_head), ["truong.phuongbadinh@example.vn"]);
    let reviewers = emails(&to_reviewers);
    assert!(reviewers.contains(&"ubkt.phuongbadinh@example.vn".to_string()), "{reviewers:?}");
    assert!(!reviewers.contains(&"ubkt.badinh@example.vn".to_string()), "{reviewers:?}");

    // The city's figures are the same, and its by-unit rows roll the ended units into the
    // new ward.
    assert_eq!(summary(&app, &w.city_reviewer, "").await["cases"], city_before["cases"]);
    assert_eq!(summary(&app, &w.city_reviewer, "").await["subjects"], city_before["subjects"]);
    assert_eq!(
        summary(&app, &w.city_reviewer, "?from=2024-09-01&to=2024-09-30").await["cases"],
        period_before["cases"]
    );
    let rows = summary(&app, &w.city_reviewer, &format!("?unit_id={}", w.city.id)).await;
    let codes: Vec<&str> = rows["by_unit"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"P-BA-DINH") && !codes.contains(&"BA-DINH"), "{codes:?}");
    let ward_row = rows["by_unit"].as_array().unwrap().iter().find(|u| u["code"] == "P-BA-DINH").unwrap();
    assert_eq!(ward_row["detected"], 3, "{ward_row}");

    // Cut as the tree stood before the merge: the district and its wards, as they were.
    let then = summary(&app, &w.city_reviewer, &format!("?unit_id={}&as_of=2024-09-20", w.city.id)).await;
    let rows: Vec<(&str, i64)> = then["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["code"].as_str().unwrap(), u["detected"].as_i64().unwrap()))
        .collect();
    assert_eq!(rows, [("HN", 3), ("BA-DINH", 3)], "{}", then["by_unit"]);
    let ward_then = summary(&app, &w.city_reviewer, &format!("?unit_id={ward_id}&as_of=2024-09-20")).await;
    let rows: Vec<(&str, i64)> = ward_then["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["code"].as_str().unwrap(), u["detected"].as_i64().unwrap()))
        .collect();
    assert_eq!(rows, [("BD-DIEN-BIEN", 2), ("BD-KIM-MA", 1)]);
    let bad = app.get("/api/v1/reports/summary?as_of=20-09-2024", &w.city_reviewer.token).await.expect(422);
    assert_eq!(bad.error_fields(), ["as_of"]);

    // A case found after the merge cannot be placed in an ended ward; before it, it can.
    let mut late = w.case_body(&w.dien_bien, "Phát hiện sau sắp xếp");
    late["detected_on"] = json!("2024-09-24");
    let refused = app.post("/api/v1/cases", Some(&w.inspector.token), late).await.expect(422);
    assert_eq!(refused.error_fields(), ["subject.unit_id"]);
    let mut early = w.case_body(&w.dien_bien, "Phát hiện trước sắp xếp, ghi nhận sau");
    early["detected_on"] = json!("2024-09-20");
    app.post("/api/v1/cases", Some(&w.inspector.token), early).await.expect(201);
    // Nor handed to one.
    let mut fresh = w.case_body(&ward, "Mới");
    fresh["detected_on"] = json!("2024-09-24");
    let open = app.post("/api/v1/cases", Some(&w.inspector.token), fresh).await.expect(201).body;
    let mut b = w.transition_body("accept");
    b["responsible_unit_id"] = json!(kim_ma.id);
    let r = w.act(&app, &w.city_reviewer, &open, b).await.expect(422);
    assert_eq!(r.error_fields(), ["responsible_unit_id"]);
}

#[tokio::test]
async fn a_split_places_each_open_case_and_refuses_while_one_is_unplaced() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let first = w.log_case(&app, &w.cau_giay, "Vụ thứ nhất").await;
    let first = accept_into(&app, &w, &first, &w.cau_giay).await;
    let second = w.log_case(&app, &w.cau_giay, "Vụ thứ hai").await;
    let second = accept_into(&app, &w, &second, &w.cau_giay).await;
    let steps = |place: Value| {
        json!([{"op": "split", "from": "CAU-GIAY", "place": place, "to": [
            {"code": "P-CAU-GIAY", "name": "Phường Cầu Giấy", "kind": "ward", "parent": "HN"},
            {"code": "P-NGHIA-DO", "name": "Phường Nghĩa Đô", "kind": "ward", "parent": "HN"},
        ]}])
    };
    // One case placed by number, the other not: the dry run names the step, and so does
    // the apply, which changes nothing.
    let partial = json!({first["number"].as_str().unwrap(): "P-NGHIA-DO"});
    let r = reorganise(&app, &w, true, steps(partial.clone())).await.expect(422);
    assert_eq!(r.error_fields(), ["steps[0].place"]);
    let detail = r.body["errors"][0]["message"].as_str().unwrap().to_string();
    assert!(detail.contains(second["number"].as_str().unwrap()), "{detail}");
    let audit = app.audit_count();
    reorganise(&app, &w, false, steps(partial)).await.expect(422);
    assert_eq!(app.audit_count(), audit);
    assert!(unit_now(&app, &w.cau_giay.id).ended_on.is_none());

    // Placed by number and by id; a key that names nothing is a problem of its own.
    let typo = json!({first["number"].as_str().unwrap(): "P-NGHIA-DO", second["id"].as_str().unwrap(): "P-CAU-GIAY", "2024-999999": "P-CAU-GIAY"});
    let r = reorganise(&app, &w, true, steps(typo)).await.expect(422);
    assert_eq!(r.error_fields(), ["steps[0].place.2024-999999"]);
    let place = json!({first["number"].as_str().unwrap(): "P-NGHIA-DO", second["id"].as_str().unwrap(): "P-CAU-GIAY"});
    let plan = reorganise(&app, &w, false, steps(place)).await.expect(201).body;
    let target =
        |n: &Value| plan["moved_cases"].as_array().unwrap().iter().find(|m| m["number"] == *n).unwrap()["to"].clone();
    assert_eq!(target(&first["number"]), "P-NGHIA-DO");
    assert_eq!(target(&second["number"]), "P-CAU-GIAY");
    assert_eq!(plan["ended"][0]["successors"], json!(["P-CAU-GIAY", "P-NGHIA-DO"]));
    // The first successor keeps the ended unit's records (it sits under it).
    assert_eq!(unit_now(&app, &w.cau_giay.id).parent_id.as_deref(), plan["established"][0]["unit_id"].as_str());
}

#[tokio::test]
async fn a_bad_reorganisation_names_each_bad_step_and_changes_nothing() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let kim_ma = app.unit("BD-KIM-MA", "Phường Kim Mã", "ward", Some(&w.ba_dinh));
    let audit = app.audit_count();
    let cases: Vec<(Value, &[&str])> = vec![
        (json!([{"op": "merge", "from": ["KHONG-CO"], "to": "HN"}]), &["steps[0].from[0]"]),
        (
            json!([{"op": "retire", "unit": "BD-KIM-MA", "successor": "BD-DIEN-BIEN"},
                   {"op": "retire", "unit": "BD-DIEN-BIEN", "successor": "BD-KIM-MA"}]),
            &["steps[1].successor"],
        ),
        (
            json!([{"op": "merge", "from": ["BD-KIM-MA"], "to": "BD-DIEN-BIEN"},
                   {"op": "retire", "unit": "BD-KIM-MA", "successor": "HN"}]),
            &["steps[1].unit"],
        ),
        (
            json!([{"op": "merge", "from": ["BD-KIM-MA"], "to": "BD-DIEN-BIEN"},
                   {"op": "merge", "from": ["BD-DIEN-BIEN"], "to": "HN"}]),
            &["steps[0]"],
        ),
        (json!([{"op": "retire", "unit": "BA-DINH", "successor": "HN"}]), &["steps[0]"]),
        (json!([{"op": "merge", "from": ["HN"], "to": "HN"}]), &["steps[0].from[0]"]),
        (json!([{"op": "rename", "unit": "HN", "name": "  "}]), &["steps[0].name"]),
        (
            json!([{"op": "establish", "unit": {"code": "BA-DINH", "name": "Trùng mã", "kind": "ward", "parent": "HN"}}]),
            &["steps[0].unit.code"],
        ),
        (json!([]), &["steps"]),
    ];
    for (steps, fields) in cases {
        let r = reorganise(&app, &w, false, steps.clone()).await.expect(422);
        let mut got = r.error_fields();
        got.sort();
        let mut want: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{steps}: {}", r.body);
    }
    // A future effective date, and a date before a unit existed.
    let future = json!({"effective_on": "2024-10-01", "basis": basis(), "steps": [{"op": "rename", "unit": "HN", "name": "Hà Nội"}]});
    let r = app.post("/api/v1/reorganisations", Some(&w.admin.token), future).await.expect(422);
    assert_eq!(r.error_fields(), ["effective_on"]);
    app.with_conn(|c| {
        use casetrack::db::schema::units;
        use diesel::prelude::*;
        diesel::update(units::table.find(&kim_ma.id))
            .set(units::established_on.eq(chrono::NaiveDate::from_ymd_opt(2024, 9, 24)))
            .execute(c)
    })
    .unwrap();
    let r = reorganise(&app, &w, false, json!([{"op": "rename", "unit": "BD-KIM-MA", "name": "Phường Kim Mã mới"}]))
        .await
        .expect(422);
    assert_eq!(r.error_fields(), ["steps[0].unit"]);
    // Only administrators.
    let r = app.post("/api/v1/reorganisations", Some(&w.city_reviewer.token), body(ba_dinh_merge(&w))).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.audit_count(), audit);
    assert!(unit_now(&app, &w.ba_dinh.id).ended_on.is_none());
}

#[tokio::test]
async fn two_overlapping_reorganisations_at_once_cannot_both_succeed() {
    let app = spawn().await;
    let w = World::new(&app).await;
    app.unit("BD-KIM-MA", "Phường Kim Mã", "ward", Some(&w.ba_dinh));
    let second_admin = app.signed_in("quantri2", Role::Admin, None).await;
    let other = json!([
        {"op": "merge", "from": ["BD-DIEN-BIEN", "BD-KIM-MA"], "to": {"code": "P-DIEN-BIEN", "name": "Phường Điện Biên", "kind": "ward", "parent": "HN"}},
        {"op": "retire", "unit": "BA-DINH", "successor": "HN"},
    ]);
    let (a, b) = tokio::join!(
        app.post("/api/v1/reorganisations", Some(&w.admin.token), body(ba_dinh_merge(&w))),
        app.post("/api/v1/reorganisations", Some(&second_admin.token), body(other)),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 422], "{} / {}", a.body, b.body);
    let listed = app.get("/api/v1/reorganisations", &w.admin.token).await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_city_totals_are_the_same_after_many_wards_become_few() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // Two districts of twelve wards each (as 526 wards became 126, about four into one).
    let mut wards = Vec::new();
    for (d, district) in [&w.ba_dinh, &w.cau_giay].into_iter().enumerate() {
        for i in 0..12 {
            wards.push(app.unit(&format!("W{d}-{i:02}"), &format!("Phường số {i} khu {d}"), "ward", Some(district)));
        }
    }
    for (n, ward) in wards.iter().enumerate() {
        for k in 0..2 {
            let mut b = w.case_body(ward, &format!("Vụ {n}-{k}"));
            b["subject"]["person_name"] = json!(format!("Cán bộ {}", (n * 2 + k) % 31));
            b["detected_on"] = json!(format!("2024-09-{:02}", 1 + (n + k) % 20));
            let case = app.post("/api/v1/cases", Some(&w.inspector.token), b).await.expect(201).body;
            if (n + k) % 3 == 0 {
                accept_into(&app, &w, &case, ward).await;
            }
        }
    }
    // A person who moved between two wards, both cases handled by a third that merges:
    // one subject, counted once per responsible unit, in one hand-over.
    let first = app.post("/api/v1/cases", Some(&w.inspector.token), w.case_body(&wards[1], "Trước khi chuyển")).await;
    let first = first.expect(201).body;
    let subject = first["subject"]["id"].as_str().unwrap().to_string();
    app.patch(&format!("/api/v1/subjects/{subject}"), &w.city_reviewer.token, json!({"unit_id": wards[2].id}), None)
        .await
        .expect(200);
    let mut again = w.case_body(&wards[2], "Sau khi chuyển");
    again.as_object_mut().unwrap().remove("subject");
    again["subject_id"] = json!(subject);
    let second = app.post("/api/v1/cases", Some(&w.inspector.token), again).await.expect(201).body;
    for case in [&first, &second] {
        accept_into(&app, &w, case, &wards[0]).await;
    }
    let queries = ["", "?from=2024-09-01&to=2024-09-30", "?from=2024-09-05&to=2024-09-12"];
    let mut before = Vec::new();
    for q in queries {
        before.push(summary(&app, &w.city_reviewer, q).await);
    }
    let mut steps = Vec::new();
    for (g, group) in wards.chunks(4).enumerate() {
        let from: Vec<&str> = group.iter().map(|u| u.code.as_str()).collect();
        steps.push(json!({"op": "merge", "from": from,
            "to": {"code": format!("MOI-{g}"), "name": format!("Phường mới {g}"), "kind": "ward", "parent": "HN"}}));
    }
    steps.push(json!({"op": "merge", "from": ["BD-DIEN-BIEN"], "to": "MOI-0"}));
    steps.push(json!({"op": "retire", "unit": "BA-DINH", "successor": "HN"}));
    steps.push(json!({"op": "retire", "unit": "CAU-GIAY", "successor": "HN"}));
    let plan = reorganise(&app, &w, false, Value::Array(steps)).await.expect(201).body;
    assert_eq!(plan["ended"].as_array().unwrap().len(), 27);
    // The hand-over moved the rollups exactly as a recount from the cases finds them.
    let kept = rollups(&app);
    app.with_conn(|c| casetrack::model::rollup::rebuild(c).unwrap());
    assert_eq!(rollups(&app), kept, "what a recount finds");
    for (q, was) in queries.iter().zip(&before) {
        let now = summary(&app, &w.city_reviewer, q).await;
        for key in ["cases", "subjects", "by_indicator", "handling_rate", "by_measure"] {
            assert_eq!(now[key], was[key], "{key} for {q:?}");
        }
        // The six new wards' rows add up to the city's.
        let sep = if q.is_empty() { "?" } else { "&" };
        let rows = summary(&app, &w.city_reviewer, &format!("{q}{sep}unit_id={}", w.city.id)).await;
        let sum: i64 = rows["by_unit"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["code"] != "HN")
            .map(|u| u["detected"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, was["cases"]["detected"].as_i64().unwrap(), "{q:?}: {}", rows["by_unit"]);
        let codes: Vec<&str> =
            rows["by_unit"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
        assert!(codes.iter().all(|c| *c == "HN" || c.starts_with("MOI-")), "{codes:?}");
        if q.is_empty() {
            assert_eq!(codes.len(), 7, "the city and six new wards: {codes:?}");
        }
    }
}

#[tokio::test]
async fn a_published_mapping_becomes_one_reorganisation() {
    use casetrack::reorganisation::Step;
    use casetrack::reorganisation::mapping::{read, translate};
    let app = spawn().await;
    let w = World::new(&app).await;
    app.unit("BD-KIM-MA", "Phường Kim Mã", "ward", Some(&w.ba_dinh));
    let csv = "Mã đơn vị cũ,Mã đơn vị mới,Tên đơn vị mới,Loại đơn vị,Mã đơn vị cấp trên\n\
               BD-DIEN-BIEN,P-BA-DINH,Phường Ba Đình,Phường,\n\
               BD-KIM-MA,P-BA-DINH,Phường Ba Đình,Phường,\n\
               BA-DINH,HN,,,\n\
               CAU-GIAY,P-CAU-GIAY,Phường Cầu Giấy,Phường,HN\n\
               CAU-GIAY,P-NGHIA-DO,Phường Nghĩa Đô,Phường,HN\n\
               HN,HN,Thành phố Hà Nội (mới),,\n";
    let rows = read(csv.as_bytes()).unwrap();
    let t = app.with_conn(|c| translate(c, &rows)).unwrap();
    assert!(t.problems.is_empty());
    let ops: Vec<&str> = t
        .steps
        .iter()
        .map(|s| match s {
            Step::Establish { .. } => "establish",
            Step::Rename { .. } => "rename",
            Step::Merge { .. } => "merge",
            Step::Split { .. } => "split",
            Step::Retire { .. } => "retire",
        })
        .collect();
    assert_eq!(ops, ["establish", "rename", "establish", "establish", "merge", "merge", "split"]);
    assert_eq!(t.lines[4], [2, 3], "the merge into the new ward comes from rows 2 and 3");
    // A new unit without a parent goes under the one top-level unit.
    let Step::Establish { unit } = &t.steps[0] else { unreachable!() };
    assert_eq!(unit.parent.as_deref(), Some("HN"));
    let r = reorganise(&app, &w, false, serde_json::to_value(&t.steps).unwrap()).await.expect(201).body;
    assert_eq!(r["ended"].as_array().unwrap().len(), 4, "{r}");
    // A row without a new code, or a new unit without a kind, names its cell.
    let bad = read("a,b,c,d,e\nBD-X,,,,\nBD-Y,P-Y,Phường Y,tỉnh,\n".as_bytes()).unwrap();
    let t = app.with_conn(|c| translate(c, &bad)).unwrap();
    let cells: Vec<(usize, char)> = t.problems.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(cells, [(2, 'B'), (3, 'D')]);
}

/// How many of this database's sessions wait for a lock (PostgreSQL).
async fn lock_waiters(url: String) -> i64 {
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result::<N>(&mut c)
        .unwrap()
        .n
    })
    .await
    .unwrap()
}

/// Waits until `n` sessions wait for a lock.
async fn until_waiting(url: &str, n: i64) {
    for _ in 0..400 {
        if lock_waiters(url.to_string()).await >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{n} sessions never waited for a lock");
}

#[tokio::test]
async fn a_case_closed_while_a_reorganisation_runs_is_not_handed_over_and_counted_once() {
    let app = spawn().await;
    let w = World::new(&app).await;
    app.unit("BD-KIM-MA", "Phường Kim Mã", "ward", Some(&w.ba_dinh));
    let racing = w.log_case(&app, &w.dien_bien, "Kết luận giữa lúc sắp xếp").await;
    let racing = accept_into(&app, &w, &racing, &w.dien_bien).await;
    let other = w.log_case(&app, &w.dien_bien, "Được bàn giao").await;
    let other = accept_into(&app, &w, &other, &w.dien_bien).await;
    let id = racing["id"].as_str().unwrap().to_string();
    // The decision is recorded before, so the close writes nothing that references the case
    // ahead of its own update: it is first in the row's queue (a decision inserted in the
    // close would share the row with the holder and let the reorganisation overtake it).
    let decision = json!({"measure": "reprimand", "decided_on": "2024-09-24", "reference": "Quyết định số 12-QĐ/UBKT"});
    app.post(&format!("/api/v1/cases/{id}/decisions"), Some(&w.city_reviewer.token), decision).await.expect(201);
    let url = app.db.url();
    let postgres = app.db.backend() == casetrack::db::Backend::Postgres;
    // On PostgreSQL the worst order is forced: a session holds the case's row (as an
    // update would, so the close's decision may still reference it); the close queues for
    // it, then the reorganisation reads its plan (the case still open) and queues behind
    // the close; the row is let go, the close commits first, and the reorganisation's
    // hand-over must find the case closed. SQLite has one writer at a
    // time, so there the two simply race.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let holder = postgres.then(|| {
        let (url, id) = (url.clone(), id.clone());
        std::thread::spawn(move || {
            use diesel::connection::SimpleConnection;
            use diesel::prelude::*;
            let mut c = diesel::PgConnection::establish(&url).unwrap();
            c.batch_execute(&format!("BEGIN; SELECT id FROM cases WHERE id = '{id}' FOR NO KEY UPDATE;")).unwrap();
            locked.send(()).unwrap();
            held.recv().unwrap();
            c.batch_execute("COMMIT;").unwrap();
        })
    });
    if postgres {
        is_locked.recv().unwrap();
    }
    // A close names no unit, so it does not wait for the unit tree as the reorganisation
    // holds it, and stands on the decision already recorded.
    let close_body = || json!({"action": "close", "note": "Kết thúc xử lý"});
    let close = w.act(&app, &w.city_reviewer, &racing, close_body());
    let reorganised = async {
        if postgres {
            until_waiting(&url, 1).await;
        }
        reorganise(&app, &w, false, ba_dinh_merge(&w)).await
    };
    let let_go = async {
        if postgres {
            until_waiting(&url, 2).await;
            release.send(()).unwrap();
        }
    };
    let (closed, reorganised, ()) = tokio::join!(close, reorganised, let_go);
    if let Some(h) = holder {
        h.join().unwrap();
    }
    reorganised.expect(201);
    if !postgres && closed.status.as_u16() == 409 {
        // SQLite let the reorganisation write between the close's read and its write: the
        // close lost the race and changed nothing; the case was handed over open, and the
        // reviewer's second try closes it in the new ward.
        closed.expect_problem();
        assert_eq!(case_now(&app, &id).status.as_str(), "in_handling");
        w.act(&app, &w.city_reviewer, &racing, close_body()).await.expect(200);
    } else {
        closed.expect(200);
    }
    let new_ward = app.with_conn(|c| Unit::find_by_code(c, "P-BA-DINH")).unwrap().expect("the new ward");
    assert_eq!(case_now(&app, other["id"].as_str().unwrap()).responsible_unit_id, Some(new_ward.id.clone()));
    let after = case_now(&app, &id);
    assert_eq!(after.status.as_str(), "closed");
    let handed = after.responsible_unit_id == Some(new_ward.id.clone());
    if postgres {
        assert!(!handed, "the close came first, so the closed case stays with the unit that handled it");
    }
    // Its timeline says it was handed over exactly when it was.
    let events = app.get(&format!("/api/v1/cases/{id}/events"), &w.city_reviewer.token).await.expect(200).body;
    let moved = events["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "reorganised").count();
    assert_eq!(moved, handed as usize, "{events}");
    // The rollups moved exactly as a recount finds them: nothing counted twice.
    let kept = rollups(&app);
    app.with_conn(|c| casetrack::model::rollup::rebuild(c).unwrap());
    assert_eq!(rollups(&app), kept, "what a recount finds");
    let city = summary(&app, &w.city_reviewer, "").await;
    assert_eq!((city["cases"]["handled"].as_i64(), city["cases"]["in_handling"].as_i64()), (Some(1), Some(1)));
}

#[tokio::test]
async fn a_case_logged_while_its_unit_is_ended_is_refused_not_stored() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let url = app.db.url();
    let postgres = app.db.backend() == casetrack::db::Backend::Postgres;
    let before = app.audit_count();
    let cases = || {
        app.with_conn(|c| {
            use diesel::prelude::*;
            casetrack::db::schema::cases::table.count().get_result::<i64>(c).unwrap()
        })
    };
    let cases_before = cases();
    // A session ends Điện Biên as a reorganisation would: under the unit tree's lock on
    // PostgreSQL (the writer's lock on SQLite), committed once the case's write waits.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let unit = w.dien_bien.id.clone();
    let holder = std::thread::spawn(move || {
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;
        let end = format!("UPDATE units SET ended_on = '2024-09-01' WHERE id = '{unit}'; COMMIT;");
        if postgres {
            let mut c = diesel::PgConnection::establish(&url).unwrap();
            c.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('unit-tree', 0));").unwrap();
            locked.send(()).unwrap();
            held.recv().unwrap();
            c.batch_execute(&end).unwrap();
        } else {
            let mut c = diesel::SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
            c.batch_execute("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE;").unwrap();
            locked.send(()).unwrap();
            held.recv().unwrap();
            c.batch_execute(&end).unwrap();
        }
    });
    is_locked.recv().unwrap();
    let logged = app.post("/api/v1/cases", Some(&w.inspector.token), w.case_body(&w.dien_bien, "Giữa lúc sắp xếp"));
    let let_go = async {
        if postgres {
            until_waiting(&app.db.url(), 1).await;
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        release.send(()).unwrap();
    };
    let (r, ()) = tokio::join!(logged, let_go);
    holder.join().unwrap();
    let r = r.expect(422);
    assert_eq!(r.body["errors"][0]["field"], "subject.unit_id", "{}", r.body);
    assert_eq!(app.audit_count(), before, "nothing stored");
    assert_eq!(cases(), cases_before);
}

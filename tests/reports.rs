//! Report figures and their definitions, scoping, CSV and the monthly series.

mod common;

use std::collections::BTreeSet;

use casetrack::db::Backend;
use common::world::World;
use common::{Login, PASSWORD, TestApp, spawn};
use serde_json::{Value, json};

/// Cases shaped like the public reporting, small enough to count by hand:
/// - A, B: the same individual in Điện Biên (Ba Đình); A closed, B in handling
/// - C: the Cầu Giấy district as an organisation, closed; D: the same, dismissed
/// - E: another individual in Ba Đình, still open (detected a few days later)
async fn scenario(app: &TestApp, w: &World) {
    let reviewer = &w.city_reviewer;
    let close = |case: Value, measure: &'static str| async move {
        let case = w.act(app, reviewer, &case, w.transition_body("accept")).await.expect(200).body;
        let mut body = w.transition_body("close");
        body["decision"]["measure"] = json!(measure);
        w.act(app, reviewer, &case, body).await.expect(200);
    };
    let a = w.log_case(app, &w.dien_bien, "A").await;
    close(a, "reprimand").await;
    let b = w.log_case(app, &w.dien_bien, "B").await;
    w.act(app, reviewer, &b, w.transition_body("accept")).await.expect(200);
    let org = |title: &str| {
        let mut body = w.case_body(&w.cau_giay, title);
        body["subject"] = json!({"kind": "organization", "unit_id": w.cau_giay.id});
        body["indicator_ids"] = json!([w.indicator("3.1").id]);
        body
    };
    let c = app.post("/api/v1/cases", Some(&w.inspector.token), org("C")).await.expect(201).body;
    close(c, "warning").await;
    let d = app.post("/api/v1/cases", Some(&w.inspector.token), org("D")).await.expect(201).body;
    w.act(app, reviewer, &d, json!({"action": "dismiss", "note": "Không có vi phạm"})).await.expect(200);
    let mut e = w.case_body(&w.ba_dinh, "E");
    e["subject"]["person_name"] = json!("Trần Văn Cường");
    e["detected_on"] = json!("2024-09-24");
    app.post("/api/v1/cases", Some(&w.inspector.token), e).await.expect(201);
}

async fn relogin(app: &TestApp, who: &Login) -> String {
    app.login(&who.user.username, PASSWORD).await.expect(200).body["access_token"].as_str().unwrap().to_string()
}

fn counts(v: &Value) -> Vec<i64> {
    ["detected", "handled", "dismissed", "open", "in_handling", "remediated", "overdue"]
        .iter()
        .map(|k| v[*k].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_summary_counts_cases_and_subjects_as_official_reports_do() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    // E was logged 2024-09-25T03:00Z: past its review deadline on 2024-10-11.
    app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 10, 11, 0, 0, 0).unwrap());
    let token = relogin(&app, &w.city_reviewer).await;

    let r = app.get("/api/v1/reports/summary", &token).await.expect(200).body;
    assert_eq!(counts(&r["cases"]), vec![4, 2, 1, 1, 1, 0, 1], "{r}");
    // Three subjects with a standing violation; only Cầu Giấy has all of its cases closed.
    // A and B are one person: one repeat violator.
    assert_eq!(r["subjects"], json!({"detected": 3, "handled": 1, "repeat": 1}));
    assert_eq!(r["handling_rate"], 0.5);

    let rows = r["by_indicator"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0]["code"].as_str(), counts(&rows[0])), (Some("2.5"), vec![3, 1, 0, 1, 1, 0, 1]));
    assert_eq!((rows[1]["code"].as_str(), counts(&rows[1])), (Some("3.1"), vec![1, 1, 1, 0, 0, 0, 0]));
    assert_eq!(rows[1]["title"], json!(w.indicator("3.1").title));

    let units: Vec<(String, Vec<i64>)> =
        r["by_unit"].as_array().unwrap().iter().map(|u| (u["code"].as_str().unwrap().into(), counts(u))).collect();
    assert_eq!(
        units,
        vec![
            ("HN".into(), vec![4, 2, 1, 1, 1, 0, 1]),
            ("BA-DINH".into(), vec![3, 1, 0, 1, 1, 0, 1]),
            ("CAU-GIAY".into(), vec![1, 1, 1, 0, 0, 0, 0]),
        ]
    );
    let mut measures: Vec<(String, i64)> = r["by_measure"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["label"].as_str().unwrap().to_string(), m["count"].as_i64().unwrap()))
        .collect();
    measures.sort();
    assert_eq!(measures, vec![("Cảnh cáo".to_string(), 1), ("Khiển trách".to_string(), 1)]);
}

#[tokio::test]
async fn cuts_by_period_campaign_and_unit() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    let t = &w.city_reviewer.token;
    // E was detected on 2024-09-24, the others on 2024-09-20: both period edges are inclusive.
    let r = app.get("/api/v1/reports/summary?from=2024-09-20&to=2024-09-23", t).await.expect(200).body;
    assert_eq!(r["cases"]["detected"], 3);
    let r = app.get("/api/v1/reports/summary?from=2024-09-24&to=2024-09-24", t).await.expect(200).body;
    assert_eq!((r["cases"]["detected"].as_i64(), r["subjects"]["detected"].as_i64()), (Some(1), Some(1)));
    let r = app.get(&format!("/api/v1/reports/summary?unit_id={}", w.cau_giay.id), t).await.expect(200).body;
    assert_eq!(r["subjects"], json!({"detected": 1, "handled": 1, "repeat": 0}));
    assert_eq!(r["by_unit"][0]["code"], "CAU-GIAY");
    let r = app.get(&format!("/api/v1/reports/summary?campaign_id={}", w.campaign.id), t).await.expect(200).body;
    assert_eq!(r["cases"]["detected"], 4);
    let r =
        app.get(&format!("/api/v1/reports/summary?directive_id={}", w.campaign.directive_id), t).await.expect(200).body;
    assert_eq!(r["cases"]["detected"], 4);
    // Whole months come from the report rollup, ragged ends from the cases: each mix agrees.
    for (period, detected, subjects) in [
        ("from=2024-09-01&to=2024-09-30", 4, 3),
        ("from=2024-08-15&to=2024-10-10", 4, 3),
        ("from=2024-09-21&to=2024-10-31", 1, 1),
        ("from=2024-09-01&to=2024-09-23", 3, 2),
        ("to=2024-08-31", 0, 0),
        ("from=2024-10-01", 0, 0),
    ] {
        let r = app.get(&format!("/api/v1/reports/summary?{period}"), t).await.expect(200).body;
        let found = (r["cases"]["detected"].as_i64(), r["subjects"]["detected"].as_i64());
        assert_eq!(found, (Some(detected), Some(subjects)), "{period}");
        let cited: i64 = r["by_indicator"].as_array().unwrap().iter().map(|i| i["detected"].as_i64().unwrap()).sum();
        assert_eq!(cited, detected, "{period}: each case here cites one indicator");
    }
    let bad = app.get("/api/v1/reports/summary?from=2024-10-01&to=2024-09-01&unit_id=x", t).await.expect(422);
    assert_eq!(bad.error_fields(), vec!["to", "unit_id"]);
}

type RollupRow = (String, chrono::NaiveDate, String, String, String, String, String, i32);

/// Sums rows that differ only in their shard, leaving out keys that sum to 0, in key order.
fn summed<K: Ord>(rows: Vec<(K, i32)>) -> Vec<(K, i32)> {
    let mut sums = std::collections::BTreeMap::new();
    for (key, n) in rows {
        *sums.entry(key).or_insert(0) += n;
    }
    sums.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// The rollup's keys with a non-zero count (over every shard), in key order.
fn rollup(app: &TestApp) -> Vec<RollupRow> {
    use casetrack::db::schema::case_stats as s;
    use diesel::prelude::*;
    type Key = (String, chrono::NaiveDate, String, String, String, String, String);
    let rows: Vec<(Key, i32)> = app.with_conn(|c| {
        s::table
            .select((
                (
                    s::indicator_id,
                    s::detected_month,
                    s::subject_unit_id,
                    s::responsible_unit_id,
                    s::campaign_id,
                    s::status,
                    s::decision_measure,
                ),
                s::cases,
            ))
            .load(c)
            .unwrap()
    });
    summed(rows).into_iter().map(|((i, m, u, r, c, st, d), n)| (i, m, u, r, c, st, d, n)).collect()
}

/// Rows of the case and status rollups not yet folded into shard 0.
fn unfolded(app: &TestApp) -> i64 {
    use casetrack::db::schema::{case_stats, status_stats};
    use diesel::prelude::*;
    app.with_conn(|c| {
        let cases: i64 = case_stats::table.filter(case_stats::shard.ne(0)).count().get_result(c).unwrap();
        cases + status_stats::table.filter(status_stats::shard.ne(0)).count().get_result::<i64>(c).unwrap()
    })
}

/// The subject rollup's rows with a count, in key order.
fn subject_rollup(app: &TestApp) -> Vec<(String, String, i32, i32)> {
    use casetrack::db::schema::subject_stats as s;
    use diesel::prelude::*;
    app.with_conn(|c| {
        s::table
            .filter(s::detected.ne(0).or(s::unhandled.ne(0)))
            .order(s::subject_key)
            .select((s::subject_key, s::subject_unit_id, s::detected, s::unhandled))
            .load(c)
            .unwrap()
    })
}

/// The all-time status rollup's keys with a count (over every shard), in key order.
fn status_rollup(app: &TestApp) -> Vec<(String, String, String, String, String, i32)> {
    use casetrack::db::schema::status_stats as s;
    use diesel::prelude::*;
    type Key = (String, String, String, String, String);
    let rows: Vec<(Key, i32)> = app.with_conn(|c| {
        s::table
            .select((
                (s::subject_unit_id, s::responsible_unit_id, s::campaign_id, s::directive_id, s::status),
                s::cases,
            ))
            .load(c)
            .unwrap()
    });
    summed(rows).into_iter().map(|((u, r, c, d, st), n)| (u, r, c, d, st, n)).collect()
}

/// The responsible-unit rollup's rows with a count, in key order.
fn responsible_rollup(app: &TestApp) -> Vec<(String, String, String, i32, i32)> {
    use casetrack::db::schema::responsible_subject_stats as r;
    use diesel::prelude::*;
    app.with_conn(|c| {
        r::table
            .filter(r::detected.ne(0).or(r::unhandled.ne(0)))
            .order((r::responsible_unit_id, r::subject_key))
            .select((r::responsible_unit_id, r::subject_key, r::subject_unit_id, r::detected, r::unhandled))
            .load(c)
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn folds_running_beside_concurrent_creates_and_steps_lose_no_count() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let accepted = w.log_case(&app, &w.dien_bien, "Đã tiếp nhận").await;
    w.act(&app, &w.city_reviewer, &accepted, w.transition_body("accept")).await.expect(200);
    let titles: Vec<String> = (0..30).map(|i| format!("Cùng lúc {i}")).collect();
    let creates = futures_util::future::join_all(titles.iter().map(|t| w.log_case(&app, &w.dien_bien, t)));
    let folds = || async {
        for _ in 0..10 {
            casetrack::jobs::sweep_once(&app.state.pool, &app.state.settings, &app.clock).await.unwrap();
        }
    };
    let (created, ()) = tokio::join!(creates, folds());
    // Steps that move counts between the same rows, at once and beside folds too.
    let steps = created.iter().take(10).map(|case| w.act(&app, &w.city_reviewer, case, w.transition_body("accept")));
    let (stepped, ()) = tokio::join!(futures_util::future::join_all(steps), folds());
    for r in stepped {
        r.expect(200);
    }
    casetrack::jobs::sweep_once(&app.state.pool, &app.state.settings, &app.clock).await.unwrap();
    let (kept, statuses) = (rollup(&app), status_rollup(&app));
    let open: i32 = kept.iter().filter(|r| r.0.is_empty() && r.5 == "open").map(|r| r.7).sum();
    assert_eq!(open, 20, "30 logged at once, 10 of them accepted since");
    app.with_conn(|c| casetrack::model::rollup::rebuild(c).unwrap());
    assert_eq!((rollup(&app), status_rollup(&app)), (kept, statuses), "what a recount finds");
}

#[tokio::test]
async fn the_report_rollup_matches_a_recount_after_every_kind_of_change() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    // An edit that moves a case to another month, unit and pair of indicators...
    let mut f = w.case_body(&w.dien_bien, "F");
    f["indicator_ids"] = json!([w.indicator("1.1").id]);
    let moved = app.post("/api/v1/cases", Some(&w.inspector.token), f).await.expect(201).body;
    let path = format!("/api/v1/cases/{}", moved["id"].as_str().unwrap());
    let edit = json!({
        "detected_on": "2024-08-30",
        "subject": {"kind": "organization", "unit_id": w.cau_giay.id},
        "indicator_ids": [w.indicator("1.6").id, w.indicator("3.1").id],
    });
    app.patch(&path, &w.inspector.token, edit, None).await.expect(200);
    // ...a closed case reopened, which clears its decision...
    let closed = w.case_in(&app, "closed").await;
    let reopen = json!({"action": "reopen", "note": "Phát hiện thêm tình tiết mới", "due_at": "2024-11-30"});
    w.act(&app, &w.city_reviewer, &closed, reopen).await.expect(200);
    // ...and handed to another responsible unit.
    let path = format!("/api/v1/cases/{}", closed["id"].as_str().unwrap());
    let hand_over = json!({"responsible_unit_id": w.cau_giay.id});
    app.patch(&path, &w.city_reviewer.token, hand_over, None).await.expect(200);

    let kept = rollup(&app);
    let august: Vec<&RollupRow> = kept.iter().filter(|r| r.1.to_string() == "2024-08-01").collect();
    assert_eq!(august.len(), 3, "F counts once as a case and once per indicator: {august:?}");
    assert!(august.iter().all(|r| r.2 == w.cau_giay.id && r.7 == 1));
    let r = app.get("/api/v1/reports/summary", &w.city_reviewer.token).await.expect(200).body;
    let codes: Vec<&str> = r["by_indicator"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["1.6", "2.5", "3.1"], "1.1 lost its only case to the edit, and is no row");
    let subjects = subject_rollup(&app);
    // The Cầu Giấy body is one record, whichever case named it first.
    let org = app.get("/api/v1/subjects?kind=organization", &w.city_reviewer.token).await.expect(200).body;
    let org = org["items"].as_array().unwrap().iter().find(|s| s["unit_id"] == w.cau_giay.id.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cau_giay: Vec<_> = subjects.iter().filter(|s| s.0 == org).collect();
    assert_eq!(cau_giay, vec![&(org.clone(), w.cau_giay.id.clone(), 2, 1)], "C closed, D dismissed, F open");
    let responsible = responsible_rollup(&app);
    assert!(!responsible.is_empty(), "the scenario names responsible units");
    let statuses = status_rollup(&app);
    let all_time: i32 = statuses.iter().map(|r| r.5).sum();
    assert_eq!(all_time, kept.iter().filter(|r| r.0.is_empty()).map(|r| r.7).sum::<i32>(), "every case, once");
    // On PostgreSQL changes add to shards 1–8, which the sweep folds into shard 0 without
    // changing a count; SQLite writes shard 0 only.
    match app.db.backend() {
        Backend::Postgres => assert!(unfolded(&app) > 0, "the changes wrote shards beside shard 0"),
        Backend::Sqlite => assert_eq!(unfolded(&app), 0),
    }
    casetrack::jobs::sweep_once(&app.state.pool, &app.state.settings, &app.clock).await.unwrap();
    assert_eq!(unfolded(&app), 0, "the sweep folded every shard");
    assert_eq!((rollup(&app), status_rollup(&app)), (kept.clone(), statuses.clone()), "and changed no count");
    app.with_conn(|c| casetrack::model::rollup::rebuild(c).unwrap());
    assert_eq!(status_rollup(&app), statuses, "the status rollup too");
    assert_eq!(rollup(&app), kept, "what each change wrote is what a recount finds");
    assert_eq!(subject_rollup(&app), subjects);
    assert_eq!(responsible_rollup(&app), responsible);
    let r = app.get("/api/v1/reports/summary", &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(r["cases"]["detected"], 6);
    assert_eq!(r["cases"]["in_handling"], 2, "B and the reopened case");
}

#[tokio::test]
async fn each_reader_counts_only_their_subtree() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    let r = app.get("/api/v1/reports/summary", &w.cau_giay_head.token).await.expect(200).body;
    assert_eq!(counts(&r["cases"]), vec![1, 1, 1, 0, 0, 0, 0]);
    assert_eq!(r["subjects"], json!({"detected": 1, "handled": 1, "repeat": 0}));
    // Ba Đình's reviewer sees its own three cases and C, which Ba Đình was made responsible for.
    let r = app.get("/api/v1/reports/summary", &w.ba_dinh_reviewer.token).await.expect(200).body;
    assert_eq!(counts(&r["cases"]), vec![4, 2, 0, 1, 1, 0, 0]);
    // A and B are one person: one repeat violator.
    assert_eq!(r["subjects"], json!({"detected": 3, "handled": 1, "repeat": 1}));
    // Asking for a wider cut does not widen the scope.
    let r = app.get(&format!("/api/v1/reports/summary?unit_id={}", w.city.id), &w.cau_giay_head.token).await;
    assert_eq!(counts(&r.expect(200).body["cases"]), vec![1, 1, 1, 0, 0, 0, 0]);
    app.get("/api/v1/reports/summary", &w.inspector.token).await.expect(403);
    app.get("/api/v1/reports/summary", &w.admin.token).await.expect(403);
}

#[tokio::test]
async fn the_summary_exports_as_csv_a_spreadsheet_opens() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    for (path, accept) in [("/api/v1/reports/summary?format=csv", "*/*"), ("/api/v1/reports/summary", "text/csv")] {
        let res = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&w.city_reviewer.token)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 byte-order mark");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        // The official sentence opens the file, then a blank line, then the figures.
        let (lead, rest) = text.split_once("\n").unwrap();
        assert_eq!(
            lead.trim_matches(['"', '\r']),
            "Phát hiện 3 tổ chức, cá nhân có vi phạm; đã xử lý 1 tổ chức, cá nhân (33,3%)."
        );
        let rest = rest.split_once("\n").unwrap().1;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(rest.as_bytes());
        let header = reader.headers().unwrap().clone();
        assert_eq!((&header[3], &header[5], &header[10]), ("Phát hiện", "Không vi phạm", "Tỷ lệ xử lý"));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][0], "Tổng số vụ việc");
        assert_eq!((&rows[0][3], &rows[0][4], &rows[0][10]), ("4", "2", "50,0%"));
        assert_eq!(&rows[1][0], "Tổ chức, cá nhân");
        assert_eq!(
            (&rows[1][3], &rows[1][4], &rows[1][10]),
            ("3", "1", "33,3%"),
            "the official rate, Vietnamese-written"
        );
        let indicator = rows.iter().find(|r| &r[1] == "3.1").unwrap();
        assert_eq!(&indicator[2], w.indicator("3.1").title.as_str());
        // The measures have a header of their own; their counts are not under "Phát hiện".
        // Measures by name and system, never by code; cases and decisions under their own words.
        let at = rows
            .iter()
            .position(|r| &r[0] == "Hình thức xử lý" && &r[3] == "Số vụ việc đã xử lý")
            .expect("a measure header");
        assert_eq!(rows[at - 1].iter().collect::<String>(), "", "a blank line before it");
        let reprimand = rows[at..].iter().find(|r| &r[2] == "Khiển trách").expect("the measure row");
        assert_eq!((&reprimand[1], &reprimand[3]), ("Kỷ luật đảng", "1"));
        let decided = rows.iter().position(|r| &r[0] == "Quyết định xử lý" && &r[3] == "Số quyết định");
        assert!(decided.is_some_and(|d| d > at), "the decisions follow under their own header");
        assert!(!rows.iter().any(|r| r.iter().any(|c| c == "party_reprimand" || c == "reprimand")), "no codes");
    }
}

#[tokio::test]
async fn the_monthly_series_counts_by_month_of_detection() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    let mut body = w.case_body(&w.ba_dinh, "Tháng tám");
    body["detected_on"] = json!("2024-08-30");
    app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(201);
    let r = app.get("/api/v1/reports/series?interval=month", &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(
        r["items"],
        json!([{"period": "2024-08", "detected": 1, "handled": 0}, {"period": "2024-09", "detected": 4, "handled": 2}])
    );
    app.get("/api/v1/reports/series?interval=week", &w.city_reviewer.token).await.expect(422);
}

#[tokio::test]
async fn the_case_list_exports_as_csv_with_its_filters_and_scope() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    let export = |token: String, query: &'static str| {
        let app = &app;
        async move {
            let res =
                app.http.get(format!("{}/api/v1/cases?{query}", app.base)).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
            let bytes = res.bytes().await.unwrap();
            assert!(bytes.starts_with("\u{feff}".as_bytes()));
            let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
            csv::Reader::from_reader(text.as_bytes()).records().map(Result::unwrap).collect::<Vec<_>>()
        }
    };
    let rows = export(w.city_reviewer.token.clone(), "format=csv&status=closed").await;
    let mut titles: Vec<&str> = rows.iter().map(|r| &r[3]).collect();
    titles.sort();
    assert_eq!(titles, vec!["A", "C"]);
    let a = rows.iter().find(|r| &r[3] == "A").unwrap();
    assert_eq!((&a[5], &a[6], &a[8], &a[13]), ("Phường Điện Biên", "Nguyễn Văn Bình", "2.5", "Khiển trách"));
    assert_eq!((&a[1], &a[4]), ("Đã xử lý", "Cá nhân"), "statuses and kinds by their names");
    assert!(a[9].len() == 10 && a[9].as_bytes()[2] == b'/', "detected on as dd/mm/yyyy: {}", &a[9]);
    assert_eq!(export(w.city_reviewer.token.clone(), "format=csv").await.len(), 5);
    // A unit head exports only their subtree: Cầu Giấy's two cases.
    assert_eq!(export(w.cau_giay_head.token.clone(), "format=csv").await.len(), 2);
    app.get("/api/v1/cases?format=pdf", &w.city_reviewer.token).await.expect(422);
}

async fn fetch(app: &TestApp, token: &str, path: &str) -> (String, Vec<u8>) {
    let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    (ct, res.bytes().await.unwrap().to_vec())
}

fn sheet(bytes: &[u8]) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// A part of the XLSX package, as text: what calamine does not read (print setup, filters).
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    std::io::read_to_string(zip.by_name(name).unwrap()).unwrap()
}

/// The sheet prints on A4 landscape, one page wide, its header atop every page, and its
/// header is a filter.
fn assert_printable(bytes: &[u8], sheet_name: &str, header_row: u32) {
    let book = part(bytes, "xl/workbook.xml");
    assert!(book.contains(&format!("<sheet name=\"{sheet_name}\"")), "{book}");
    let row = header_row + 1;
    assert!(book.contains(&format!("!${row}:${row}</definedName>")), "print titles: {book}");
    let sheet = part(bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(&format!("<autoFilter ref=\"A{row}:")), "{sheet}");
    let setup = sheet.split("<pageSetup ").nth(1).expect("a page setup").split("/>").next().unwrap();
    for attr in ["paperSize=\"9\"", "orientation=\"landscape\"", "fitToHeight=\"0\""] {
        assert!(setup.contains(attr), "{attr} in {setup}");
    }
    let widths: Vec<f64> = sheet
        .split("<col ")
        .skip(1)
        .filter_map(|c| c.split("width=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    assert!(widths.iter().any(|w| *w > 12.0), "columns fitted to their text: {widths:?}");
    assert!(sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"), "{sheet}");
}

#[tokio::test]
async fn the_summary_and_the_case_list_export_as_xlsx() {
    use calamine::Data;
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    let (ct, bytes) = fetch(&app, &w.city_reviewer.token, "/api/v1/reports/summary?format=xlsx&from=2024-09-01").await;
    assert_eq!(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_printable(&bytes, "Báo cáo tổng hợp", 2);
    let rows = sheet(&bytes);
    assert!(rows[0][0].to_string().starts_with("Báo cáo tổng hợp"), "{:?}", rows[0]);
    assert!(rows[0][0].to_string().contains("01/09/2024"));
    assert!(rows[1][0].to_string().starts_with("Phát hiện 3 tổ chức, cá nhân có vi phạm"), "{:?}", rows[1]);
    assert_eq!(rows[2][3], Data::String("Phát hiện".into()));
    assert_eq!(rows[3][0], Data::String("Tổng số vụ việc".into()));
    assert_eq!((rows[3][3].clone(), rows[3][4].clone()), (Data::Float(4.0), Data::Float(2.0)), "figures are numbers");
    assert_eq!(rows[3][10], Data::Float(0.5), "the rate is a number");
    assert!(part(&bytes, "xl/styles.xml").contains("formatCode=\"0.0%\""), "shown as a percentage");
    let measures = rows.iter().position(|r| r[0] == Data::String("Hình thức xử lý".into())).unwrap();
    assert_eq!(rows[measures][3], Data::String("Số vụ việc đã xử lý".into()), "the measures under their own header");
    assert!(
        rows.iter()
            .any(|r| r[1] == Data::String("3.1".into()) && r[2] == Data::String(w.indicator("3.1").title.clone()))
    );

    let (_, bytes) = fetch(&app, &w.cau_giay_head.token, "/api/v1/cases?format=xlsx").await;
    assert_printable(&bytes, "Danh sách vụ việc", 2);
    let rows = sheet(&bytes);
    assert_eq!(rows[2][0], Data::String("Số vụ việc".into()));
    assert_eq!(rows.len(), 3 + 2, "title, blank, header and Cầu Giấy's two cases");
    assert!(matches!(rows[3][9], Data::DateTime(_)), "detected on is a date: {:?}", rows[3][9]);
    assert!(matches!(rows[3][16], Data::DateTime(_)), "logged at is a date and time: {:?}", rows[3][16]);
    let statuses = ["Chờ tiếp nhận", "Đang xử lý", "Đã khắc phục", "Đã xử lý", "Không vi phạm"];
    assert!(statuses.contains(&rows[3][1].to_string().as_str()), "{:?}", rows[3][1]);

    // English when asked for: the same sheet in the reader's words.
    let res = app
        .http
        .get(format!("{}/api/v1/reports/summary?format=csv", app.base))
        .bearer_auth(&w.city_reviewer.token)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(text.contains("All cases") && text.contains("Handling rate") && text.contains("50.0%"), "{text}");
}

/// The scope is written twice (the single read spells it per variant so its statement is
/// prepared once; lists and reports share one predicate), so this proves they agree: for
/// every kind of caller, the cases `GET /cases/{id}` shows, the list, its export and the
/// report's counts are the same cases.
#[tokio::test]
async fn every_caller_reads_lists_exports_and_counts_the_same_cases() {
    let app = spawn().await;
    let w = World::new(&app).await;
    scenario(&app, &w).await;
    // A Điện Biên case that Cầu Giấy handles: in Cầu Giấy's scope only as the responsible unit.
    let handled_elsewhere = w.log_case(&app, &w.dien_bien, "Cầu Giấy xử lý").await;
    let mut accept = w.transition_body("accept");
    accept["responsible_unit_id"] = json!(w.cau_giay.id);
    w.act(&app, &w.city_reviewer, &handled_elsewhere, accept).await.expect(200);

    let list = |token: String| {
        let app = &app;
        async move {
            let r = app.get("/api/v1/cases?limit=500", &token).await.expect(200);
            r.body["items"].as_array().unwrap().clone()
        }
    };
    let everything = list(w.city_reviewer.token.clone()).await;
    let total: i64 = app
        .with_conn(|c| {
            use diesel::prelude::*;
            casetrack::db::schema::cases::table.count().get_result(c)
        })
        .unwrap();
    assert_eq!(everything.len() as i64, total, "the city reviewer sees every case");

    let callers = [
        (&w.inspector, true),
        (&w.outsider, true),
        (&w.city_reviewer, false),
        (&w.ba_dinh_reviewer, false),
        (&w.ba_dinh_head, false),
        (&w.cau_giay_head, false),
    ];
    let mut sizes = Vec::new();
    for (who, is_inspector) in callers {
        let listed = list(who.token.clone()).await;
        let ids: BTreeSet<&str> = listed.iter().map(|c| c["id"].as_str().unwrap()).collect();
        for case in &everything {
            let id = case["id"].as_str().unwrap();
            let status = app.get(&format!("/api/v1/cases/{id}"), &who.token).await.status.as_u16();
            assert_eq!(status == 200, ids.contains(id), "{} reading {id}: {status}", who.user.username);
        }
        let csv = app.get("/api/v1/cases?format=csv", &who.token).await.expect(200);
        let text = csv.body.as_str().unwrap().trim_start_matches('\u{feff}').to_string();
        let mut exported: Vec<String> =
            csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.unwrap()[0].to_string()).collect();
        let mut numbers: Vec<String> = listed.iter().map(|c| c["number"].as_str().unwrap().to_string()).collect();
        exported.sort();
        numbers.sort();
        assert_eq!(exported, numbers, "{}: the export is the list", who.user.username);
        let report = app.get("/api/v1/reports/summary", &who.token).await;
        if is_inspector {
            report.expect(403);
        } else {
            let cases = &report.expect(200).body["cases"];
            let by = |s: &str| listed.iter().filter(|c| c["status"] == s).count() as i64;
            let wanted = json!({
                "detected": listed.len() as i64 - by("dismissed"), "handled": by("closed"), "dismissed": by("dismissed"),
                "open": by("open"), "in_handling": by("in_handling"), "remediated": by("remediated"),
            });
            for key in ["detected", "handled", "dismissed", "open", "in_handling", "remediated"] {
                assert_eq!(cases[key], wanted[key], "{}: {key}", who.user.username);
            }
        }
        sizes.push((who.user.username.clone(), listed.len()));
    }
    // The callers see different, non-empty parts, so the comparison says something.
    let counts: BTreeSet<usize> = sizes.iter().map(|(_, n)| *n).collect();
    assert!(counts.len() >= 3 && sizes.iter().any(|(_, n)| *n == 0), "{sizes:?}");
    assert!(sizes.iter().filter(|(_, n)| *n > 0).count() >= 4, "{sizes:?}");
}

//! Durability: the real binary logging cases under concurrent load is killed with SIGKILL,
//! restarted, and every case it acknowledged is still there, numbered once.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casetrack::app::prepare_database;
use casetrack::db::schema::cases;
use common::TestDb;
use common::binary::casetrack;
use common::process::{KillOnDrop, free_port, wait_ready};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde_json::{Value, json};

/// Starts `serve` (no sweeper) on a free port; returns the child and its base URL.
fn serve(db: &TestDb, dir: &std::path::Path) -> (KillOnDrop, String) {
    let port = free_port();
    let child = casetrack(db, dir)
        .args(["serve", "--no-sweeper"])
        .env("CASETRACK__SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (KillOnDrop(child), format!("http://127.0.0.1:{port}"))
}

async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "thanhtra1", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

async fn get(http: &reqwest::Client, url: String, token: &str) -> Value {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[test]
fn every_acknowledged_case_survives_kill_9_and_no_number_is_handed_out_twice() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let demo = casetrack(&db, dir.path()).args(["demo", "--cases", "20"]).output().unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let stdout = String::from_utf8_lossy(&demo.stdout);
    let password = stdout.split("the password ").nth(1).and_then(|r| r.split(')').next()).unwrap().to_string();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let (mut child, base) = serve(&db, dir.path());
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    rt.block_on(async {
        wait_ready(base.rsplit(':').next().unwrap().parse().unwrap()).await;
        let token = sign_in(&http, &base, &password).await;
        let campaigns = get(&http, format!("{base}/api/v1/campaigns?status=active"), &token).await;
        let campaign = campaigns["items"][0].clone();
        let indicators = get(
            &http,
            format!("{base}/api/v1/indicators?directive_id={}", campaign["directive_id"].as_str().unwrap()),
            &token,
        )
        .await;
        let body = json!({
            "campaign_id": campaign["id"], "indicator_ids": [indicators["items"][0]["id"]], "severity": "high",
            "subject": {"kind": "organization", "unit_id": campaign["target_unit_ids"][0]},
            "title": "Ghi nhận trong lúc máy chủ bị dừng đột ngột", "description": "Kiểm tra độ bền.",
            "detected_on": campaign["starts_on"],
        });

        // Eight writers, each at most 300 cases, until the server dies under them.
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (http, url, token, body) =
                    (http.clone(), format!("{base}/api/v1/cases"), token.clone(), body.clone());
                let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    for _ in 0..300 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let Ok(r) = http.post(&url).bearer_auth(&token).json(&body).send().await else { break };
                        if r.status() != 201 {
                            break;
                        }
                        let Ok(case) = r.json::<Value>().await else { break };
                        let entry =
                            (case["id"].as_str().unwrap().to_string(), case["number"].as_str().unwrap().to_string());
                        acknowledged.lock().unwrap().push(entry);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let killed = Command::new("kill").args(["-KILL", &child.0.id().to_string()]).status().unwrap();
        assert!(killed.success());
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
    });
    let _ = child.0.wait();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 10, "the load wrote something before the kill: {}", acknowledged.len());

    // Restarted, the server serves every case it acknowledged, under the number it gave.
    let (_child, base) = serve(&db, dir.path());
    rt.block_on(async {
        wait_ready(base.rsplit(':').next().unwrap().parse().unwrap()).await;
        let token = sign_in(&http, &base, &password).await;
        for (id, number) in &acknowledged {
            let case = get(&http, format!("{base}/api/v1/cases/{id}"), &token).await;
            assert_eq!(case["number"].as_str(), Some(number.as_str()));
        }
    });
    let pool = prepare_database(&db.settings()).unwrap();
    let mut pooled = pool.get().unwrap();
    let conn: &mut casetrack::db::DbConn = &mut pooled;
    let repeated: Vec<(String, i64)> = cases::table
        .group_by(cases::number)
        .select((cases::number, count_star()))
        .having(count_star().gt(1))
        .load(conn)
        .unwrap();
    assert!(repeated.is_empty(), "numbers handed out twice: {repeated:?}");
}

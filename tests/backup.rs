//! Backups: `casetrack backup` while cases and files are being written, `casetrack restore`
//! into an empty data folder, and the refusals that keep either from destroying data.

mod common;

use std::process::Output;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use casetrack::db::Backend;
use common::binary::casetrack;
use common::process::{KillOnDrop, free_port, wait_ready};
use common::world::World;
use common::{PASSWORD, TestApp, TestDb, spawn};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A case and its evidence file, as the service acknowledged them.
struct Acked {
    case_id: String,
    attachment_id: String,
    bytes: Vec<u8>,
    at: Instant,
}

async fn log_with_file(app: &TestApp, w: &World, n: usize) -> Acked {
    let case = w.log_case(app, &w.dien_bien, &format!("Sao lưu {n}")).await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let bytes = format!("%PDF-1.4\n% biên bản số {n}\n%%EOF\n").into_bytes();
    let part = Part::bytes(bytes.clone()).file_name(format!("bien-ban-{n}.pdf")).mime_str("application/pdf").unwrap();
    let res = app
        .http
        .post(format!("{}/api/v1/cases/{case_id}/attachments", app.base))
        .bearer_auth(&w.inspector.token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    Acked { case_id, attachment_id: body["id"].as_str().unwrap().to_string(), bytes, at: Instant::now() }
}

/// Seals and signs the audit trail now; the checkpoint's size.
fn checkpoint(app: &TestApp) -> i64 {
    let now = app.clock.now().naive_utc();
    let mail = casetrack::ledger::checkpoint::Mail::Now;
    app.with_conn(|c| casetrack::ledger::run::checkpoint_now(c, &app.state.settings, now, mail))
        .expect("checkpoint")
        .size
}

async fn run(mut cmd: std::process::Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_write_load_restores_every_acknowledged_case_and_file() {
    let app = spawn().await;
    let work = tempfile::tempdir().unwrap();
    let backup_dir = work.path().join("sao-luu");
    if app.db.backend() == Backend::Postgres {
        // The command copies SQLite; PostgreSQL has pg_dump, and says so before touching anything.
        let mut cmd = casetrack(&app.db, work.path());
        cmd.arg("backup").arg(&backup_dir);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
        assert!(!backup_dir.exists());
        return;
    }
    let w = World::new(&app).await;
    let TestDb::Sqlite { dir: data } = &app.db else { unreachable!("SQLite above") };
    // As the service leaves it on first start when no secret is configured.
    let secret = "bí-mật-ký-phiên-đủ-dài-0123456789abcdef";
    std::fs::write(data.path().join("jwt_secret"), secret).unwrap();

    // Four writers log cases with a file each while the backup runs.
    let acked = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let seq = std::sync::atomic::AtomicUsize::new(0);
    let writer = || async {
        while !stop.load(Ordering::SeqCst) {
            let n = seq.fetch_add(1, Ordering::SeqCst);
            let a = log_with_file(&app, &w, n).await;
            acked.lock().unwrap().push(a);
        }
    };
    let backup = async {
        while acked.lock().unwrap().len() < 12 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // The audit trail sealed and signed so far goes into the backup.
        checkpoint(&app);
        let started = Instant::now();
        let mut cmd = casetrack(&app.db, work.path());
        cmd.arg("backup").arg(&backup_dir);
        let out = run(cmd).await;
        // A few more after it, so writes ran throughout.
        let target = acked.lock().unwrap().len() + 8;
        while acked.lock().unwrap().len() < target {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::SeqCst);
        (started, out)
    };
    let (_, _, _, _, (started, out)) = tokio::join!(writer(), writer(), writer(), writer(), backup);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("the signing secret"));
    let acked = acked.into_inner().unwrap();
    let before: Vec<&Acked> = acked.iter().filter(|a| a.at < started).collect();
    assert!(before.len() >= 12 && acked.len() > before.len(), "{} before, {} in all", before.len(), acked.len());

    // A second backup into the same folder is refused and leaves the first as it was.
    let manifest = std::fs::read_to_string(backup_dir.join("backup.json")).unwrap();
    let mut again = casetrack(&app.db, work.path());
    again.arg("backup").arg(&backup_dir);
    let out = run(again).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not empty") && stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(backup_dir.join("backup.json")).unwrap(), manifest);

    // The service goes on and signs a checkpoint that the backup does not hold.
    let later = checkpoint(&app);

    // Restored into an empty data folder, served by a fresh process. The operator kept
    // the audit signing key and the checkpoint copies apart from the backup, and puts
    // them in place first.
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("data")).unwrap();
    let key = casetrack::ledger::checkpoint::key_path(&app.state.settings);
    let copies = casetrack::ledger::checkpoint::file_path(&app.state.settings);
    std::fs::copy(&key, site.path().join("data/audit_signing_key")).unwrap();
    std::fs::copy(&copies, site.path().join("data/audit_checkpoints.txt")).unwrap();
    let restored_db = site.path().join("data/casetrack.db");
    let restored = TestDb::Beside { url: format!("sqlite://{}", restored_db.display()), backend: Backend::Sqlite };
    let mut restore = casetrack(&restored, site.path());
    restore.arg("restore").arg(&backup_dir);
    let out = run(restore).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(site.path().join("data/jwt_secret")).unwrap(), secret);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("The restore is marked in the audit trail"), "{said}");
    // Verification tells the restore from a truncation: the checkpoint signed after the
    // backup is superseded by the signed restore, not reported as entries cut off.
    let mut verify = casetrack(&restored, site.path());
    verify.args(["audit", "verify", "--checkpoint"]).arg(site.path().join("data/audit_checkpoints.txt"));
    let out = run(verify).await;
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}{}", stderr(&out));
    assert!(said.contains("Restored from a backup taken"), "{said}");
    assert!(said.contains(&format!("Checkpoint of {later} entries (epoch 1): superseded")), "{said}");
    // Restoring over it is refused: the data there is kept.
    let mut over = casetrack(&restored, site.path());
    over.arg("restore").arg(&backup_dir);
    let out = run(over).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already"), "{}", stderr(&out));

    let port = free_port();
    let mut serve = casetrack(&restored, site.path());
    serve.arg("serve").arg("--no-sweeper").env("CASETRACK__SERVER__BIND", format!("127.0.0.1:{port}"));
    let _server = KillOnDrop(serve.spawn().unwrap());
    wait_ready(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": w.inspector.user.username, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("the restored accounts sign in").to_string();
    for a in &before {
        let res = http.get(format!("{base}/api/v1/cases/{}", a.case_id)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200, "case {} acknowledged before the backup", a.case_id);
        let file = http
            .get(format!("{base}/api/v1/cases/{}/attachments/{}", a.case_id, a.attachment_id))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(file.status(), 200);
        assert_eq!(file.bytes().await.unwrap().to_vec(), a.bytes, "the file of case {}", a.case_id);
    }
}

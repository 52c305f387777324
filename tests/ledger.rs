//! The tamper-evident audit trail: entries sealed in order, checkpoints signed with a key
//! outside the database, and verification that names the first entry that breaks and
//! how — each change made directly in SQL, as someone with the database would.

mod common;

use std::path::PathBuf;

use casetrack::ledger::checkpoint::Mail;
use casetrack::ledger::run::{self, Verdict};
use casetrack::ledger::verify::Kind;
use common::world::World;
use common::{TestApp, spawn};
use diesel::connection::SimpleConnection;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

/// Cases logged, handled and given evidence: audit entries, timeline events and a file.
async fn busy(app: &TestApp) -> (World, Vec<Value>) {
    let w = World::new(app).await;
    let mut cases = Vec::new();
    for title in ["Vi phạm giờ giấc", "Chậm giải quyết hồ sơ", "Thái độ với người dân"] {
        cases.push(w.log_case(app, &w.dien_bien, title).await);
    }
    w.act(app, &w.city_reviewer, &cases[0], w.transition_body("accept")).await.expect(200);
    let part = Part::bytes(b"Bien ban kiem tra".to_vec()).file_name("bien-ban.txt").mime_str("text/plain").unwrap();
    let res = app
        .http
        .post(format!("{}/api/v1/cases/{}/attachments", app.base, cases[1]["id"].as_str().unwrap()))
        .bearer_auth(&w.inspector.token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    (w, cases)
}

/// Seals everything written so far: on PostgreSQL a transaction of another test still
/// running holds the horizon back for a moment (transaction ids are the server's).
fn seal_everything(app: &TestApp) {
    let now = app.clock.now().naive_utc();
    for _ in 0..400 {
        app.with_conn(|c| casetrack::ledger::seal_all(c, now)).expect("seals");
        if app.with_conn(casetrack::ledger::unsealed).expect("counts") == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("entries stayed unsealed");
}

/// Seals and signs now; the checkpoint's note written to a file of its own.
fn checkpoint(app: &TestApp, dir: &std::path::Path, name: &str) -> (PathBuf, i64) {
    seal_everything(app);
    let now = app.clock.now().naive_utc();
    let kept = app.with_conn(|c| run::checkpoint_now(c, &app.state.settings, now, Mail::Now)).expect("checkpoint");
    let file = dir.join(name);
    std::fs::write(&file, &kept.note).unwrap();
    (file, kept.size)
}

fn verify(app: &TestApp, files: &[PathBuf]) -> Verdict {
    app.with_conn(|c| run::verify(c, &app.state.settings, files, None, &mut |_, _| {}))
}

fn sql(app: &TestApp, statements: &str) {
    app.with_conn(|c| match c {
        casetrack::db::DbConn::Pg(c) => c.batch_execute(statements),
        casetrack::db::DbConn::Sqlite(c) => c.batch_execute(statements),
    })
    .unwrap_or_else(|e| panic!("{statements}: {e}"));
}

/// The column that orders a sealed table's rows on the test's database (the rowid on
/// SQLite, `seal_mark` on PostgreSQL), as `db::dialect::mark_column` says.
fn mark(app: &TestApp) -> &'static str {
    match app.db.backend() {
        casetrack::db::Backend::Sqlite => "rowid",
        casetrack::db::Backend::Postgres => "seal_mark",
    }
}

fn one(app: &TestApp, query: &str) -> String {
    strings(app, query).into_iter().next().unwrap_or_else(|| panic!("{query}: no row"))
}

fn strings(app: &TestApp, query: &str) -> Vec<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let rows = app.with_conn(|c| diesel::sql_query(query).load::<V>(c)).unwrap_or_else(|e| panic!("{query}: {e}"));
    rows.into_iter().map(|r| r.v).collect()
}

fn broke(v: &Verdict) -> (Kind, Option<i64>) {
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    let b = v.report.as_ref().unwrap().first_break.clone().expect("verification fails");
    assert!(!v.ok());
    (b.kind, b.seq)
}

#[tokio::test]
async fn an_untouched_trail_verifies_against_its_signed_checkpoints() {
    let app = spawn().await;
    let (w, cases) = busy(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let (first, size) = checkpoint(&app, dir.path(), "first.txt");
    assert!(size > 10, "audit entries, timeline events and the file are sealed: {size}");
    let streams = strings(&app, "SELECT stream AS v FROM ledger GROUP BY stream ORDER BY stream");
    assert_eq!(streams, ["audit", "event", "file"]);
    // The note is a C2SP checkpoint: origin, size, root; a signature line.
    let note = std::fs::read_to_string(&first).unwrap();
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!((lines[0], lines[1], lines[3]), ("casetrack", size.to_string().as_str(), ""), "{note}");
    assert!(lines[4].starts_with("\u{2014} casetrack "), "{note}");

    // Every row the application wrote carries its seal order, set by the insert itself.
    let m = mark(&app);
    for table in ["audit_log", "case_events", "case_attachments"] {
        let unmarked = one(&app, &format!("SELECT CAST(COUNT(*) AS TEXT) AS v FROM {table} WHERE {m} <= 0"));
        assert_eq!(unmarked, "0", "{table}");
    }
    let first_mark = one(&app, &format!("SELECT CAST(MAX({m}) AS TEXT) AS v FROM case_events"));

    // More work, a second checkpoint; both hold.
    w.act(&app, &w.city_reviewer, &cases[2], w.transition_body("dismiss")).await;
    let later_mark =
        one(&app, &format!("SELECT CAST(MIN({m}) AS TEXT) AS v FROM case_events WHERE {m} > {first_mark}"));
    assert!(later_mark.parse::<i64>().unwrap() > first_mark.parse::<i64>().unwrap(), "a later write comes later");
    w.log_case(&app, &w.dien_bien, "Sử dụng xe công sai mục đích").await;
    let (second, later) = checkpoint(&app, dir.path(), "second.txt");
    assert!(later > size);
    let v = verify(&app, &[first.clone(), second.clone()]);
    assert!(v.ok(), "{:?} {:?}", v.problems, v.report.as_ref().map(|r| r.first_break.clone()));
    assert_eq!(v.report.as_ref().unwrap().held, vec![size as u64, later as u64]);
    // The copies file the service appends to holds both, and verifies as one file.
    let copies = casetrack::ledger::checkpoint::file_path(&app.state.settings);
    assert_eq!(run::notes_in(&std::fs::read_to_string(&copies).unwrap()).len(), 2);
    assert!(verify(&app, &[copies]).ok());

    // Administrators read the checkpoints; nobody else does.
    let latest = app.get("/api/v1/audit/checkpoints/latest", &w.admin.token).await.expect(200);
    assert_eq!(latest.body, Value::String(std::fs::read_to_string(&second).unwrap()));
    let list = app.get("/api/v1/audit/checkpoints", &w.admin.token).await.expect(200).body;
    assert_eq!(list["items"][0]["size"], later);
    assert!(list["verifier_key"].as_str().unwrap().starts_with("casetrack+"), "{list}");
    app.get("/api/v1/audit/checkpoints", &w.city_reviewer.token).await.expect(403);
    app.get("/api/v1/audit/checkpoints/latest", &w.inspector.token).await.expect(403);
}

#[tokio::test]
async fn a_doubtful_checkpoint_is_a_failure_never_a_pass() {
    let app = spawn().await;
    busy(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = checkpoint(&app, dir.path(), "good.txt");
    // Signed by another key of the same name.
    let other = casetrack::ledger::checkpoint::Keys::load(&dir.path().join("other.key"), "casetrack", true).unwrap();
    let size: i64 = one(&app, "SELECT CAST(COUNT(*) AS TEXT) AS v FROM ledger").parse().unwrap();
    let root = app.with_conn(|c| casetrack::ledger::tree::root(c, size as u64)).unwrap();
    let forged = dir.path().join("forged.txt");
    std::fs::write(&forged, other.sign("casetrack", size as u64, root, "").unwrap()).unwrap();
    // Unreadable, and missing.
    let garbled = dir.path().join("garbled.txt");
    std::fs::write(&garbled, "casetrack\n12\nnot a hash\n").unwrap();
    for bad in [forged, garbled, dir.path().join("missing.txt")] {
        let v = verify(&app, &[good.clone(), bad.clone()]);
        assert!(!v.ok() && !v.problems.is_empty(), "{}", bad.display());
    }
    // Without the deployment's key and without --key, nothing can be checked.
    let key = casetrack::ledger::checkpoint::key_path(&app.state.settings);
    std::fs::rename(&key, dir.path().join("moved.key")).unwrap();
    let v = verify(&app, std::slice::from_ref(&good));
    assert!(!v.ok() && v.problems[0].contains("no key"), "{:?}", v.problems);
    // Given the verifier key, it is checked.
    let vkey =
        casetrack::ledger::checkpoint::Keys::load(&dir.path().join("moved.key"), "casetrack", false).unwrap().vkey;
    let v = app.with_conn(|c| run::verify(c, &app.state.settings, &[good], Some(&vkey), &mut |_, _| {}));
    assert!(v.ok(), "{:?}", v.problems);
}

/// A trail with a checkpoint, before it is tampered with.
async fn sealed() -> (TestApp, tempfile::TempDir, PathBuf, i64) {
    let app = spawn().await;
    busy(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let (file, size) = checkpoint(&app, dir.path(), "checkpoint.txt");
    assert!(verify(&app, std::slice::from_ref(&file)).ok());
    (app, dir, file, size)
}

/// The ledger position of a stream's entry.
fn seq_of(app: &TestApp, stream: &str, id: &str) -> i64 {
    one(app, &format!("SELECT CAST(seq AS TEXT) AS v FROM ledger WHERE stream = '{stream}' AND entry_id = '{id}'"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let (app, _dir, file, _) = sealed().await;
    let id = one(
        &app,
        &format!(
            "SELECT id AS v FROM audit_log WHERE action = 'create' AND entity_type = 'case' ORDER BY {}, id LIMIT 1",
            mark(&app)
        ),
    );
    sql(&app, &format!("UPDATE audit_log SET after = REPLACE(after, 'open', 'dismissed') WHERE id = '{id}'"));
    assert_eq!(broke(&verify(&app, &[file])), (Kind::Edited, Some(seq_of(&app, "audit", &id))));
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    let (app, _dir, file, _) = sealed().await;
    let id = one(&app, &format!("SELECT id AS v FROM case_events ORDER BY {}, id LIMIT 1 OFFSET 1", mark(&app)));
    let seq = seq_of(&app, "event", &id);
    sql(&app, &format!("DELETE FROM case_events WHERE id = '{id}'"));
    assert_eq!(broke(&verify(&app, &[file])), (Kind::Missing, Some(seq)));
}

#[tokio::test]
async fn an_entry_slipped_in_among_the_sealed_ones_is_named() {
    let (app, _dir, file, _) = sealed().await;
    let m = mark(&app);
    let first = one(&app, &format!("SELECT CAST(MIN({m}) AS TEXT) AS v FROM audit_log"));
    sql(
        &app,
        "INSERT INTO audit_log (id, at, action, entity_type, entity_id) \
         VALUES ('00000000-0000-7000-8000-000000000001', '2024-09-01 08:00:00', 'decide', 'case', 'x')",
    );
    // Put before the first sealed entry, where the order column has room.
    sql(&app, &format!("UPDATE audit_log SET {m} = {first} - 1 WHERE id = '00000000-0000-7000-8000-000000000001'"));
    let v = verify(&app, &[file]);
    let b = v.report.as_ref().unwrap().first_break.clone().expect("verification fails");
    assert_eq!(b.kind, Kind::Inserted);
    assert_eq!(b.entry, Some(("audit".into(), "00000000-0000-7000-8000-000000000001".into())));
}

#[tokio::test]
async fn two_entries_that_swap_places_are_named() {
    let (app, _dir, file, _) = sealed().await;
    let a = one(&app, "SELECT entry_id AS v FROM ledger WHERE stream = 'audit' ORDER BY seq LIMIT 1 OFFSET 2");
    let b = one(&app, "SELECT entry_id AS v FROM ledger WHERE stream = 'audit' ORDER BY seq LIMIT 1 OFFSET 3");
    let (sa, sb) = (seq_of(&app, "audit", &a), seq_of(&app, "audit", &b));
    sql(
        &app,
        &format!(
            "UPDATE ledger SET entry_id = 'swap' WHERE seq = {sa}; \
             UPDATE ledger SET entry_id = '{a}' WHERE seq = {sb}; \
             UPDATE ledger SET entry_id = '{b}' WHERE seq = {sa};"
        ),
    );
    assert_eq!(broke(&verify(&app, &[file])), (Kind::Reordered, Some(sa)));
}

/// Drops every sealed entry from `cut` on, with its place in the ledger and its hashes:
/// someone dropping the last day would do it so, and a backup taken at `cut` entries
/// looks so once restored.
fn cut_at(app: &TestApp, cut: i64) {
    let first_hash = casetrack::ledger::tree::first_index(cut as u64);
    for (stream, table) in [("audit", "audit_log"), ("event", "case_events"), ("file", "case_attachments")] {
        sql(
            app,
            &format!(
                "DELETE FROM {table} WHERE id IN (SELECT entry_id FROM ledger WHERE stream = '{stream}' AND seq >= {cut})"
            ),
        );
    }
    sql(app, &format!("DELETE FROM ledger WHERE seq >= {cut}; DELETE FROM ledger_hashes WHERE idx >= {first_hash};"));
}

#[tokio::test]
async fn a_trail_cut_short_after_a_checkpoint_is_named() {
    let (app, _dir, file, size) = sealed().await;
    let cut = size - 3;
    cut_at(&app, cut);
    assert_eq!(broke(&verify(&app, &[file])), (Kind::Truncated, Some(cut)));
}

#[tokio::test]
async fn a_signed_restore_of_an_older_backup_is_told_apart_from_a_truncation() {
    let app = spawn().await;
    let (w, cases) = busy(&app).await;
    let dir = tempfile::tempdir().unwrap();
    // The backup is taken at `size` entries; the service goes on and signs `later`.
    let (_, size) = checkpoint(&app, dir.path(), "backup-time.txt");
    w.act(&app, &w.city_reviewer, &cases[2], w.transition_body("dismiss")).await.expect(200);
    w.log_case(&app, &w.dien_bien, "Sau thời điểm sao lưu").await;
    let (later, later_size) = checkpoint(&app, dir.path(), "later.txt");
    let copies = casetrack::ledger::checkpoint::file_path(&app.state.settings);

    // The backup is restored: the log is its first `size` entries again. Unsigned, that
    // is a truncation.
    cut_at(&app, size);
    sql(&app, &format!("DELETE FROM ledger_checkpoints WHERE size > {size}"));
    assert_eq!(broke(&verify(&app, std::slice::from_ref(&copies))), (Kind::Truncated, Some(size)));

    // Signed with the deployment's key, it is a restore: the later checkpoint is
    // superseded, the earlier one holds, and the restore is in the audit log.
    let now = app.clock.now().naive_utc();
    let marked = app.with_conn(|c| run::mark_restore(c, &app.state.settings, "2024-09-25T02:00:00Z", now)).unwrap();
    assert_eq!(marked.size, size);
    assert!(
        marked.note.contains("\ncasetrack-epoch 2\ncasetrack-restored-from 2024-09-25T02:00:00Z\n"),
        "{}",
        marked.note
    );
    let v = verify(&app, std::slice::from_ref(&copies));
    assert!(v.ok(), "{:?} {:?}", v.problems, v.report.as_ref().map(|r| r.first_break.clone()));
    let r = v.report.unwrap();
    assert_eq!(r.superseded, vec![(later_size as u64, 1, size as u64)]);
    assert_eq!(r.restores, vec![(size as u64, 2, "2024-09-25T02:00:00Z".to_string())]);
    assert!(r.held.contains(&(size as u64)), "{:?}", r.held);
    assert_eq!(one(&app, "SELECT action AS v FROM audit_log WHERE entity_type = 'audit_log'"), "restore");
    // With only the copy mailed before the restore at hand, the restore the database
    // keeps (signed, so not forgeable without the key) tells.
    let v = verify(&app, std::slice::from_ref(&later));
    assert!(v.ok());
    assert_eq!(v.report.unwrap().superseded.len(), 1);
    // The administrator's page says so in the same words.
    let admin = common::visitor::Visitor::signed_in(&app, "quantri").await;
    let page = admin.get("/admin/ledger").await;
    admin.post("/admin/ledger/verify", &[("_csrf", &page.csrf())]).await.expect(303);
    let mut said = String::new();
    for _ in 0..200 {
        said = admin.get("/admin/ledger").await.text().to_string();
        if said.contains("Toàn vẹn:") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(said.contains("khôi phục từ bản sao lưu lập lúc 25/09/2024 09:00: nhật ký tiếp tục từ"), "{said}");

    // The log goes on in the new epoch; its checkpoints must hold like any other.
    w.log_case(&app, &w.dien_bien, "Sau khi khôi phục").await;
    let (next, _) = checkpoint(&app, dir.path(), "next.txt");
    assert!(std::fs::read_to_string(&next).unwrap().contains("\ncasetrack-epoch 2\n"));
    let v = verify(&app, &[copies.clone(), next]);
    assert!(v.ok(), "{:?} {:?}", v.problems, v.report.as_ref().map(|r| r.first_break.clone()));
    // And tampering after a restore is caught as before.
    let id = one(&app, "SELECT entry_id AS v FROM ledger WHERE stream = 'audit' ORDER BY seq DESC LIMIT 1");
    sql(&app, &format!("UPDATE audit_log SET after = '{{}}' WHERE id = '{id}'"));
    assert_eq!(broke(&verify(&app, &[copies])).0, Kind::Edited);
}

#[tokio::test]
async fn checkpoints_are_mailed_to_the_configured_addresses_with_the_note_attached() {
    let app = common::spawn_with(move |s| {
        s.audit.mail_to = vec!["Ủy ban Kiểm tra Thành ủy <ubkt@example.vn>".into(), "luutru@example.vn".into()];
    })
    .await;
    let (w, _) = busy(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = app.state.settings.clone();
    // The service's loop mails one a day at most; an operator's checkpoint goes at once.
    seal_everything(&app);
    let now = app.clock.now().naive_utc();
    let first = app.with_conn(|c| run::checkpoint_now(c, &settings, now, Mail::WhenDue)).unwrap();
    let mailer = app.mail.clone();
    let sent = casetrack::jobs::deliver_once(&app.state.pool, &settings, &mailer, &app.clock).await.unwrap();
    assert_eq!(sent.sent, 2, "{sent:?}");
    w.log_case(&app, &w.dien_bien, "Trong cùng ngày").await;
    seal_everything(&app);
    let second = app.with_conn(|c| run::checkpoint_now(c, &settings, now, Mail::WhenDue)).unwrap();
    assert!(second.size > first.size);
    let queued = one(&app, "SELECT CAST(COUNT(*) AS TEXT) AS v FROM outbox WHERE checkpoint_size IS NOT NULL");
    assert_eq!(queued, "2", "the second, within the day, is kept but not mailed");
    w.log_case(&app, &w.dien_bien, "Ngày hôm sau").await;
    let (third, _) = checkpoint(&app, dir.path(), "third.txt");
    let sent = casetrack::jobs::deliver_once(&app.state.pool, &settings, &mailer, &app.clock).await.unwrap();
    assert_eq!(sent.sent, 2, "{sent:?}");

    // Each message greets its reader, says what the checkpoint covers and how to check it,
    // and carries the note byte for byte; the attachment verifies the database.
    let mails: Vec<Vec<u8>> = app.mail.sent().await.into_iter().map(|(_, raw)| raw.into_bytes()).collect();
    assert_eq!(mails.len(), 4);
    let third_note = std::fs::read_to_string(&third).unwrap();
    let mut greeted = Vec::new();
    for raw in &mails {
        let mail = mailparse::parse_mail(raw).unwrap();
        let subject = mail.headers.iter().find(|h| h.get_key() == "Subject").unwrap().get_value();
        assert!(subject.starts_with("[casetrack] Điểm chốt nhật ký thao tác: "), "{subject}");
        let text = mail.subparts[0].get_body().unwrap();
        let attached = mail.subparts[1].get_body().unwrap();
        assert!(text.contains("casetrack audit verify --checkpoint checkpoint-"), "{text}");
        assert!(text.contains(&attached), "the note is in the text as well");
        greeted.push(text.lines().next().unwrap().to_string());
        if attached == third_note {
            let file = dir.path().join("mailed.txt");
            std::fs::write(&file, &attached).unwrap();
            assert!(verify(&app, &[file]).ok());
            assert!(subject.ends_with(&format!(" {} mục", third_note.lines().nth(1).unwrap())), "{subject}");
        }
    }
    greeted.sort();
    greeted.dedup();
    assert_eq!(greeted, ["Kính gửi: luutru@example.vn,", "Kính gửi: Ủy ban Kiểm tra Thành ủy,"]);
}

#[tokio::test]
async fn two_instances_seal_one_sequence() {
    let app = spawn().await;
    let (w, _) = busy(&app).await;
    let other = app.beside(|_| {});
    let now = app.clock.now().naive_utc();
    // Writes through both instances while both seal, several times over.
    for round in 0..4 {
        let logged = async {
            for i in 0..3 {
                w.log_case(&app, &w.dien_bien, &format!("Vòng {round}, vụ {i}")).await;
            }
        };
        let (a, b) = (app.state.pool.clone(), other.state.pool.clone());
        let first = tokio::task::spawn_blocking(move || casetrack::ledger::seal_all(&mut a.get().unwrap(), now));
        let second = tokio::task::spawn_blocking(move || casetrack::ledger::seal_all(&mut b.get().unwrap(), now));
        let ((), first, second) = tokio::join!(logged, first, second);
        first.unwrap().expect("seals");
        second.unwrap().expect("seals");
    }
    let dir = tempfile::tempdir().unwrap();
    let (file, size) = checkpoint(&other, dir.path(), "checkpoint.txt");
    let entries: i64 = one(
        &app,
        "SELECT CAST((SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM case_events) \
         + (SELECT COUNT(*) FROM case_attachments) AS TEXT) AS v",
    )
    .parse()
    .unwrap();
    assert_eq!(size, entries, "every entry sealed once");
    let v = verify(&app, &[file]);
    assert!(v.ok(), "{:?} {:?}", v.problems, v.report.map(|r| r.first_break));
}

#[tokio::test]
async fn a_case_proof_holds_without_the_database_and_a_changed_record_does_not() {
    let app = spawn().await;
    let (w, cases) = busy(&app).await;
    let path = format!("/api/v1/cases/{}/audit-proof", cases[0]["id"].as_str().unwrap());
    let none = app.get(&path, &w.city_reviewer.token).await.expect(409);
    assert_eq!(none.body["type"], "urn:casetrack:problem:no-checkpoint");
    let dir = tempfile::tempdir().unwrap();
    checkpoint(&app, dir.path(), "checkpoint.txt");
    let before = app.audit_count();
    let body = app.get(&path, &w.city_reviewer.token).await.expect(200).body;
    assert_eq!(app.audit_count(), before + 1, "the export is audited");
    // Logged and accepted: two audit entries and two timeline events, in sealed order.
    let streams: Vec<&str> =
        body["entries"].as_array().unwrap().iter().map(|e| e["stream"].as_str().unwrap()).collect();
    assert_eq!(streams.iter().filter(|s| **s == "audit").count(), 2, "{body}");
    assert_eq!(streams.iter().filter(|s| **s == "event").count(), 2, "{body}");
    // Administrators do not read cases.
    app.get(&path, &w.admin.token).await.expect(403);

    let proof: casetrack::ledger::proof::CaseProof = serde_json::from_value(body.clone()).unwrap();
    let vkey = proof.verifier_key.clone().expect("the server names its key");
    assert_eq!(casetrack::ledger::proof::check(&proof, &vkey, "casetrack"), Ok(4));
    let mut changed = proof.clone();
    changed.entries[0].record = changed.entries[0].record.replace("open", "closed");
    assert!(casetrack::ledger::proof::check(&changed, &vkey, "casetrack").is_err());
    let other = casetrack::ledger::checkpoint::Keys::load(&dir.path().join("other.key"), "casetrack", true).unwrap();
    assert!(casetrack::ledger::proof::check(&proof, &other.vkey, "casetrack").is_err(), "another key");

    // The command line checks the file the same way, and verifies the database.
    let file = dir.path().join("proof.json");
    std::fs::write(&file, body.to_string()).unwrap();
    let cli = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casetrack"));
        cmd.current_dir(dir.path())
            .env("DATABASE_URL", app.db.url())
            .env("CASETRACK__AUTH__JWT_SECRET", common::JWT_SECRET)
            .env("CASETRACK__AUDIT__SIGNING_KEY_FILE", casetrack::ledger::checkpoint::key_path(&app.state.settings));
        cmd.args(args).output().unwrap()
    };
    let out = cli(&["audit", "check-proof", file.to_str().unwrap(), "--key", &vkey]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&file, serde_json::to_string(&changed).unwrap()).unwrap();
    let out = cli(&["audit", "check-proof", file.to_str().unwrap(), "--key", &vkey]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let copies = casetrack::ledger::checkpoint::file_path(&app.state.settings);
    let out = cli(&["audit", "verify", "--checkpoint", copies.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("The audit trail verifies."), "{stdout}");
    sql(&app, "UPDATE case_events SET detail = '{}' WHERE kind = 'created'");
    let out = cli(&["audit", "verify", "--checkpoint", copies.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED: edited at entry"), "{stdout}");
}

#[tokio::test]
async fn administrators_read_the_latest_checkpoint_and_verify_from_the_console() {
    use common::visitor::Visitor;
    let app = spawn().await;
    busy(&app).await;
    Visitor::signed_in(&app, "ubkt.thanhpho").await.get("/admin/ledger").await.expect(403);
    let v = Visitor::signed_in(&app, "quantri").await;
    v.get("/admin/ledger").await.expect(200).contains("Chưa có điểm chốt nào.").contains("Chưa kiểm tra lần nào");
    let dir = tempfile::tempdir().unwrap();
    let (_, size) = checkpoint(&app, dir.path(), "checkpoint.txt");
    let key = casetrack::ledger::checkpoint::Keys::load(
        &casetrack::ledger::checkpoint::key_path(&app.state.settings),
        "casetrack",
        false,
    )
    .unwrap()
    .vkey;
    let fingerprint = key.split('+').nth(1).unwrap().to_string();
    let page = v.get("/admin/ledger").await;
    page.expect(200).contains("Số mục đã niêm phong").contains(&fingerprint).contains(&size.to_string());
    // Verification runs beside the page, which shows it running and then its outcome.
    let until = |wanted: &'static str| {
        let v = &v;
        async move {
            for _ in 0..200 {
                let page = v.get("/admin/ledger").await;
                if page.text().contains(wanted) {
                    return page;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the page never said {wanted:?}");
        }
    };
    v.post("/admin/ledger/verify", &[("_csrf", &page.csrf())]).await.expect(303);
    until("Toàn vẹn:").await.contains(&format!("{size} mục khớp với 1 điểm chốt đã ký"));
    let id = one(&app, &format!("SELECT id AS v FROM case_events ORDER BY {}, id LIMIT 1", mark(&app)));
    let seq = seq_of(&app, "event", &id);
    sql(&app, &format!("UPDATE case_events SET detail = '{{}}' WHERE id = '{id}'"));
    v.post("/admin/ledger/verify", &[("_csrf", &page.csrf())]).await.expect(303);
    until("Không toàn vẹn").await.contains(&format!("nội dung bị sửa tại mục số {seq}"));
}

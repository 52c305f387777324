//! Operations: probes, first run of the real binary, the command line, migrations under contention.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use casetrack::app::prepare_database;
use casetrack::auth::password;
use casetrack::db::{Backend, DbUrl, PING_AFTER_IDLE, build_pool};
use casetrack::model::user::User;
use common::binary::casetrack;
use common::process::{KillOnDrop, free_port, wait_ready};
use common::{TestDb, spawn};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

#[tokio::test]
async fn probes_report_liveness_and_readiness() {
    let app = spawn().await;
    let r = app.call(reqwest::Method::GET, "/healthz", None, None, &[]).await.expect(200);
    assert_eq!(r.body["status"], "ok");
    let r = app.call(reqwest::Method::GET, "/readyz", None, None, &[]).await.expect(200);
    assert_eq!(r.body["status"], "ready");

    // Forget that a migration ran: the instance is no longer ready.
    app.with_conn(|c| match c {
        casetrack::db::DbConn::Pg(pg) => pg.batch_execute("DELETE FROM __diesel_schema_migrations"),
        casetrack::db::DbConn::Sqlite(s) => s.batch_execute("DELETE FROM __diesel_schema_migrations"),
    })
    .unwrap();
    let r = app.call(reqwest::Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(r.status, 503);
}

/// `/metrics` in Prometheus's text format: requests by route template, the pool, cases and
/// outbox messages by status; behind a bearer token when one is configured.
#[tokio::test]
async fn metrics_count_requests_by_route_and_cases_by_status_behind_an_optional_token() {
    let app =
        common::spawn_with(|s| s.server.metrics_token = Some("metrics-token-0123456789".to_string().into())).await;
    let w = common::world::World::new(&app).await;
    let case = app.post("/api/v1/cases", Some(&w.inspector.token), w.case_body(&w.ba_dinh, "M")).await.expect(201);
    let id = case.body["id"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/cases/{id}"), &w.inspector.token).await.expect(200);
    let scrape = |token: Option<&'static str>| {
        let mut r = app.http.get(format!("{}/metrics", app.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    assert_eq!(scrape(Some("wrong-token-0123456789")).await.unwrap().status(), 401);
    let r = scrape(Some("metrics-token-0123456789")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    let line = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
    };
    assert!(line(r#"casetrack_http_requests_total{method="GET",route="/api/v1/cases/{id}",status="200"}"#) >= 1.0);
    assert!(line(r#"casetrack_http_requests_total{method="POST",route="/api/v1/cases",status="201"}"#) >= 1.0);
    assert!(line(r#"casetrack_http_request_duration_seconds_count{method="POST",route="/api/v1/cases"}"#) >= 1.0);
    assert!(!text.contains(&id), "a route template, never the address");
    assert_eq!(line(r#"casetrack_cases{status="open"}"#), 1.0, "the case just logged");
    assert!(line(r#"casetrack_db_pool_connections{state="in_use"}"#) >= 1.0, "the scrape's own");
    assert!(line("casetrack_db_pool_wait_seconds_count") >= 1.0);
    assert!(line("casetrack_sweep_runs_total") >= 0.0, "sweeps are counted from the start");
}

#[test]
fn first_run_creates_the_database_and_an_administrator_whose_password_is_printed_once() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut serve = casetrack(&db, dir.path());
    serve.arg("serve").env("CASETRACK__SERVER__BIND", format!("127.0.0.1:{port}")).stdout(Stdio::piped());
    if db.backend() == Backend::Sqlite {
        // The zero-configuration default: data/casetrack.db under the working folder.
        serve.env_remove("DATABASE_URL");
    }
    let mut child = KillOnDrop(serve.spawn().unwrap());
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    // No terminal: the password goes to a file only this user reads, and only its path is printed.
    let mut printed = String::new();
    let file = loop {
        let line = lines.next().expect("serve printed the first administrator").unwrap();
        printed.push_str(&line);
        if let Some(path) = line.trim().strip_prefix("password file: ") {
            break dir.path().join(path);
        }
    };
    let password = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert_eq!(password.len(), 20, "a generated password");
    assert!(!printed.contains(&password), "the password itself is never printed: {printed}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    if db.backend() == Backend::Sqlite {
        assert!(dir.path().join("data/casetrack.db").exists());
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let status = rt.block_on(async {
        wait_ready(port).await;
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    });
    assert_eq!(status, 200);

    // SIGTERM: a graceful stop.
    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(child.0.wait().unwrap().success());

    // A second start finds the administrator and prints no password.
    let port = free_port();
    serve.env("CASETRACK__SERVER__BIND", format!("127.0.0.1:{port}"));
    let mut child = KillOnDrop(serve.spawn().unwrap());
    let mut stdout = child.0.stdout.take().unwrap();
    rt.block_on(wait_ready(port));
    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut printed).unwrap();
    assert!(child.0.wait().unwrap().success());
    assert!(!printed.contains("password"), "{printed}");
}

/// With JSON logs: the first administrator's password is one JSON line, startup says what
/// it runs on, and every request is one access line naming the route template and user
/// but never the token or the password.
#[test]
fn json_logs_carry_the_startup_summary_an_access_line_per_request_and_the_first_password() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut serve = casetrack(&db, dir.path());
    serve
        .arg("serve")
        .env("CASETRACK__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("CASETRACK__LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = KillOnDrop(serve.spawn().unwrap());
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&stdout.next().unwrap().unwrap()).expect("one JSON line");
    assert!(first["fields"]["password"].is_null(), "no password in a log line: {first}");
    let file = dir.path().join(first["fields"]["password_file"].as_str().expect("the password's file as a field"));
    let password = std::fs::read_to_string(file).unwrap().trim().to_string();
    assert_eq!(first["fields"]["username"], "admin");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let (token, user_id) = rt.block_on(async {
        wait_ready(port).await;
        let http = reqwest::Client::new();
        let login: serde_json::Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["access_token"].as_str().unwrap().to_string();
        let me: serde_json::Value =
            http.get(format!("{base}/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let missing = "01900000-0000-7000-8000-000000000000";
        let r = http.get(format!("{base}/api/v1/users/{missing}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 404);
        (token, me["id"].as_str().unwrap().to_string())
    });
    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    let mut logged = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut logged).unwrap();
    assert!(child.0.wait().unwrap().success());
    let lines: Vec<serde_json::Value> =
        logged.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let summary = lines.iter().find(|l| l["fields"]["message"] == "casetrack is serving").expect("a startup summary");
    for field in ["version", "backend", "database", "config_files", "mail", "sweep", "bind"] {
        assert!(!summary["fields"][field].is_null(), "{field} in {summary}");
    }
    assert!(!summary["fields"]["database"].as_str().unwrap().contains("postgres://"), "no URL, so no credentials");
    let access: Vec<&serde_json::Value> = lines.iter().filter(|l| l["target"] == "casetrack::access").collect();
    let case = access.iter().find(|l| l["fields"]["route"] == "/api/v1/users/{id}").expect("the read is logged");
    assert_eq!(case["fields"]["status"], 404);
    assert_eq!(case["fields"]["user_id"], user_id.as_str());
    assert!(case["fields"]["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(access.iter().any(|l| l["fields"]["route"] == "/api/v1/auth/login" && l["fields"]["status"] == 200));
    assert!(!logged.contains(&token) && !logged.contains(&password), "{logged}");
}

#[test]
fn user_create_takes_the_password_from_stdin_or_generates_one() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let pool = prepare_database(&db.settings()).unwrap();
    let mut conn = pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    casetrack::model::unit::Unit {
        id: casetrack::model::new_id(),
        code: "HN".into(),
        name: "Hà Nội".into(),
        kind: "city".into(),
        parent_id: None,
        head_user_id: None,
        email: None,
        version: 1,
        created_at: now,
        updated_at: now,
        established_on: None,
        ended_on: None,
    }
    .insert(&mut conn)
    .unwrap();

    let mut child = casetrack(&db, dir.path())
        .args(["user", "create", "--username", "uvkt", "--role", "reviewer", "--unit", "hn"])
        .args(["--full-name", "Vũ Văn Kiểm", "--email", "kiem@hanoi.gov.vn", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("mật khẩu từ stdin\n".as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Password"));
    let user = User::find_by_username(&mut conn, "uvkt").unwrap().unwrap();
    assert_eq!((user.full_name.as_str(), user.role.as_str()), ("Vũ Văn Kiểm", "reviewer"));
    assert!(password::verify("mật khẩu từ stdin", &user.password_hash));

    let out = casetrack(&db, dir.path())
        .args(["user", "create", "--username", "ttv", "--role", "inspector"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let generated = stdout.lines().find_map(|l| l.strip_prefix("Password (shown once): ")).unwrap();
    let user = User::find_by_username(&mut conn, "ttv").unwrap().unwrap();
    assert!(password::verify(generated, &user.password_hash));

    let out = casetrack(&db, dir.path())
        .args(["user", "create", "--username", "truongdv", "--role", "unit_head"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a refused account is the caller's mistake");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--unit"), "{stderr}");
}

/// The accounts an operator can manage without the API: a list, a password reset (from
/// stdin or generated and printed once) that ends the account's sign-ins, and
/// deactivation, each audited like the API's; the last administrator stays.
#[test]
fn user_list_reset_password_and_deactivate_from_the_command_line_are_audited() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let pool = prepare_database(&db.settings()).unwrap();
    let mut conn = pool.get().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = casetrack(&db, dir.path());
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert!(run(&["user", "create", "--username", "quantri", "--role", "admin"], None).0 == Some(0));
    assert!(run(&["user", "create", "--username", "ttv", "--role", "inspector"], None).0 == Some(0));
    let (ok, listed, _) = run(&["user", "list"], None);
    assert!(
        ok == Some(0) && listed.contains("quantri") && listed.contains("ttv") && listed.contains("inspector"),
        "{listed}"
    );

    // A session of ttv's, which a reset must end.
    let ttv = User::find_by_username(&mut conn, "ttv").unwrap().unwrap();
    let now = chrono::Utc::now().naive_utc();
    let session = casetrack::model::session::Session {
        id: casetrack::model::new_id(),
        user_id: ttv.id.clone(),
        client_addr: None,
        created_at: now,
        expires_at: now + chrono::Duration::hours(1),
        revoked_at: None,
    };
    session.insert(&mut conn).unwrap();
    assert!(casetrack::model::session::Session::active_user(&mut conn, &session.id, &ttv.id, now).unwrap().is_some());
    let (ok, out, err) = run(&["user", "reset-password", "ttv", "--password-stdin"], Some("một mật khẩu mới dài\n"));
    assert!(ok == Some(0), "{err}");
    assert!(!out.contains("shown once"));
    let after = User::find_by_username(&mut conn, "ttv").unwrap().unwrap();
    assert!(password::verify("một mật khẩu mới dài", &after.password_hash));
    assert!(casetrack::model::session::Session::active_user(&mut conn, &session.id, &ttv.id, now).unwrap().is_none());
    let (ok, out, _) = run(&["user", "reset-password", "ttv"], None);
    let generated = out.lines().find_map(|l| l.strip_prefix("Password (shown once): ")).expect("printed once");
    assert!(
        ok == Some(0)
            && password::verify(generated, &User::find_by_username(&mut conn, "ttv").unwrap().unwrap().password_hash)
    );
    let (ok, _, err) = run(&["user", "reset-password", "ttv", "--password-stdin"], Some("ngan\n"));
    assert!(ok == Some(2) && err.contains("password"), "a weak password is refused: {err}");

    let (ok, _, err) = run(&["user", "deactivate", "ttv"], None);
    assert!(ok == Some(0), "{err}");
    assert!(!User::find_by_username(&mut conn, "ttv").unwrap().unwrap().active);
    let (_, listed, _) = run(&["user", "list"], None);
    assert!(!listed.contains("ttv"), "deactivated accounts are left out unless --all: {listed}");
    assert!(run(&["user", "list", "--all"], None).1.contains("ttv"));
    let (ok, _, err) = run(&["user", "deactivate", "quantri"], None);
    assert!(ok == Some(2) && err.contains("last active administrator"), "{err}");
    let (ok, _, err) = run(&["user", "deactivate", "nobody"], None);
    assert!(ok == Some(2) && err.contains("nobody"), "{err}");

    use casetrack::db::schema::audit_log as a;
    use diesel::prelude::*;
    let updates: i64 = a::table
        .filter(a::entity_id.eq(&ttv.id))
        .filter(a::action.eq("update"))
        .count()
        .get_result::<i64>(&mut **conn)
        .unwrap();
    assert_eq!(updates, 3, "two resets and a deactivation, each audited");
}

#[test]
fn unusable_configuration_stops_startup_naming_the_key() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    for (key, value, named) in [
        ("CASETRACK__MAIL__TRANSPORT", "pigeon", "mail.transport"),
        ("DATABASE_URL", "mysql://localhost/casetrack", "database.url"),
        ("CASETRACK__SERVER__PUBLIC_URL", "not a url", "server.public_url"),
        ("CASETRACK__ESCALATION__INTERVAL_SECS", "soon", "escalation.interval_secs"),
        ("CASETRACK__ESCALATION__SEND_WINDOW", "late", "escalation.send_window"),
    ] {
        let out = casetrack(&db, dir.path()).arg("migrate").env(key, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{key}: {stderr}");
    }
    let out = casetrack(&db, dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1/x")
        .env_remove("CASETRACK__AUTH__JWT_SECRET")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth.jwt_secret"));
    let out = casetrack(&db, dir.path())
        .arg("migrate")
        .env("CASETRACK__MAIL__TRANSPORT", "smtp")
        .env("CASETRACK__MAIL__SMTP_URL", "http://mail.example")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mail.smtp_url"));
}

/// What an operator mistypes is named: an unknown key in a file or the environment, a
/// folder or profile that is not there, a file that is not TOML (file and line), and a
/// PostgreSQL database that does not exist — each one line, exit code 2.
#[test]
fn configuration_mistakes_are_one_line_naming_the_key_file_or_database() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).trim().to_string())
    };
    let (code, err) = run(casetrack(&db, dir.path()).arg("migrate").env("CASETRACK__SERVER__BINDD", "0.0.0.0:1"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("server.bindd") && err.contains("CASETRACK__SERVER__BINDD"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(conf.join("default.toml"), "[server]\nbind = \"127.0.0.1:0\"\nbodylimit = 5\n").unwrap();
    let (code, err) = run(casetrack(&db, dir.path()).arg("migrate").arg("--config-dir").arg(&conf));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("server.bodylimit"), "{err}");

    std::fs::write(conf.join("default.toml"), "[server]\nbind = \"127.0.0.1:0\"\ntimezone = Asia\n").unwrap();
    let (code, err) = run(casetrack(&db, dir.path()).arg("migrate").arg("--config-dir").arg(&conf));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("default.toml") && err.contains("line 3"), "{err}");

    let (code, err) = run(casetrack(&db, dir.path()).arg("migrate").arg("--config-dir").arg(dir.path().join("nope")));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--config-dir") && err.contains("nope"), "{err}");

    std::fs::write(conf.join("default.toml"), "").unwrap();
    let (code, err) =
        run(casetrack(&db, dir.path()).arg("migrate").arg("--config-dir").arg(&conf).env("CASETRACK_PROFILE", "prod"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("prod.toml"), "{err}");

    let missing = "postgres://postgres@127.0.0.1:5432/casetrack_no_such_database";
    let (code, err) = run(casetrack(&db, dir.path())
        .arg("migrate")
        .env("DATABASE_URL", missing)
        .env("CASETRACK__AUTH__JWT_SECRET", "0123456789abcdef0123456789abcdef-test"));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("127.0.0.1:5432/casetrack_no_such_database") && err.contains("does not exist"), "{err}");
}

#[test]
fn escalate_once_sweeps_delivers_and_exits() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let out = casetrack(&db, dir.path()).args(["escalate", "--once"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Sweep: 0 step(s), 0 alert(s)") && stdout.contains("Delivery: 0 sent"), "{stdout}");
    assert!(dir.path().join("data/outbox").is_dir(), "the file transport's folder is created");
}

#[test]
fn reports_recount_rebuilds_the_rollup_from_cases_written_in_sql() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let demo = casetrack(&db, dir.path()).args(["demo", "--cases", "40"]).output().unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let total = |sql: &str| -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = db.settings().db_url().unwrap().connect().unwrap();
        diesel::RunQueryDsl::get_result::<N>(diesel::sql_query(sql), &mut conn).unwrap().n
    };
    let counted = "SELECT CAST(COALESCE(SUM(cases), 0) AS BIGINT) AS n FROM case_stats WHERE indicator_id = ''";
    assert_eq!(total(counted), 40, "the demo's cases were counted as they were logged");
    let mut conn = db.settings().db_url().unwrap().connect().unwrap();
    conn.batch_execute(
        "DELETE FROM case_stats; DELETE FROM status_stats; DELETE FROM subject_stats; DELETE FROM responsible_subject_stats; \
         UPDATE cases SET status = 'closed' WHERE status = 'open'",
    )
    .unwrap();
    let out = casetrack(&db, dir.path()).args(["reports", "recount"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("recounted"));
    assert_eq!(total(counted), 40);
    let open = "SELECT CAST(COALESCE(SUM(cases), 0) AS BIGINT) AS n FROM case_stats WHERE status = 'open'";
    assert_eq!(total(open), 0, "the recount reads the cases as they are now");
    let all_time = "SELECT CAST(COALESCE(SUM(cases), 0) AS BIGINT) AS n FROM status_stats";
    assert_eq!(total(all_time), 40, "the all-time status rollup is recounted too");
    let open_all_time = "SELECT CAST(COALESCE(SUM(cases), 0) AS BIGINT) AS n FROM status_stats WHERE status = 'open'";
    assert_eq!(total(open_all_time), 0);
    let standing = "SELECT COUNT(*) AS n FROM cases WHERE status <> 'dismissed'";
    let per_subject = "SELECT CAST(COALESCE(SUM(detected), 0) AS BIGINT) AS n FROM subject_stats";
    assert_eq!(total(per_subject), total(standing), "each standing case counts once for its subject");
    let unclosed = "SELECT COUNT(*) AS n FROM cases WHERE status NOT IN ('dismissed', 'closed')";
    let unhandled = "SELECT CAST(COALESCE(SUM(unhandled), 0) AS BIGINT) AS n FROM subject_stats";
    assert_eq!(total(unhandled), total(unclosed));
    let with_responsible =
        "SELECT COUNT(*) AS n FROM cases WHERE status <> 'dismissed' AND responsible_unit_id IS NOT NULL";
    let per_responsible = "SELECT CAST(COALESCE(SUM(detected), 0) AS BIGINT) AS n FROM responsible_subject_stats";
    assert!(total(with_responsible) > 0, "the demo names responsible units");
    assert_eq!(total(per_responsible), total(with_responsible), "and once per responsible unit");
}

#[test]
fn instances_starting_together_apply_migrations_once() {
    let db = TestDb::empty();
    let settings = db.settings();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let s = settings.clone();
            std::thread::spawn(move || prepare_database(&s).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let pool = prepare_database(&settings).unwrap();
    assert!(casetrack::db::migrate::is_up_to_date(&mut pool.get().unwrap()).unwrap());
}

/// The server-side id of a pooled PostgreSQL connection.
fn backend_pid(conn: &mut casetrack::db::DbConn) -> QueryResult<i32> {
    let casetrack::db::DbConn::Pg(pg) = conn else { panic!("a PostgreSQL connection") };
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("pg_backend_pid()")).get_result(pg)
}

#[test]
fn the_pool_keeps_live_connections_and_replaces_ones_the_server_dropped() {
    let db = TestDb::new();
    let pool = build_pool(&DbUrl::parse(&db.url()).unwrap(), 1).unwrap();

    // A temporary table lives as long as its connection: it tells whether the pool kept it.
    let mut conn = pool.get().unwrap();
    conn.batch_execute("CREATE TEMPORARY TABLE marker (x INTEGER)").unwrap();
    assert!(conn.batch_execute("SELECT no_such_column FROM marker").is_err());
    drop(conn);
    let mut conn = pool.get().unwrap();
    conn.batch_execute("SELECT x FROM marker").expect("a live connection is kept after a failed statement");
    drop(conn);

    if db.backend() == Backend::Postgres {
        let mut admin = diesel::PgConnection::establish(&db.url()).unwrap();
        let mut end = |pid: i32| admin.batch_execute(&format!("SELECT pg_terminate_backend({pid})")).unwrap();

        // Dropped while in use: the one request that meets it fails, and the pool replaces it.
        let mut conn = pool.get().unwrap();
        let first = backend_pid(&mut conn).unwrap();
        end(first);
        assert!(backend_pid(&mut conn).is_err());
        drop(conn);
        let mut conn = pool.get().unwrap();
        let second = backend_pid(&mut conn).expect("a new connection replaced the dead one");
        assert_ne!(second, first);
        drop(conn);

        // Dropped during a lull: the pool finds out before handing it out.
        end(second);
        std::thread::sleep(PING_AFTER_IDLE + Duration::from_millis(100));
        let mut conn = pool.get().unwrap();
        let third = backend_pid(&mut conn).expect("the dead connection was not handed out");
        assert_ne!(third, second);
    }
}

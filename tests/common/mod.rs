//! Test harness: a real server on port 0 over a database of its own.
//!
//! Without `TEST_DATABASE_URL` each test gets a temporary SQLite file; with
//! `TEST_DATABASE_URL=postgres://…` each test gets a copy of the migrated template,
//! made ahead of it and dropped behind it by threads of the test process ([`Keeper`]).
#![allow(dead_code)]

pub mod binary;
pub mod builder;
pub mod process;
pub mod smtp;
pub mod visitor;
pub mod world;

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::web;
use casetrack::accounts::{UserInput, create as create_user};
use casetrack::app::Application;
use casetrack::clock::Clock;
use casetrack::config::Settings;
use casetrack::db::Backend;
use casetrack::domain::role::Role;
use casetrack::jobs::sender::DeliveryReport;
use casetrack::jobs::sweep::SweepReport;
use casetrack::model::unit::Unit;
use casetrack::model::user::User;
use casetrack::model::{Actor, new_id};
use casetrack::state::AppState;
use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PASSWORD: &str = "mật-khẩu-thử-nghiệm-2024";

/// Loopback test connections need no TLS. Keeping libpq away from OpenSSL also
/// avoids a known crash at process exit: an r2d2 worker still connecting while
/// OpenSSL is being torn down (rust-openssl#1133, diesel#3441).
fn without_tls(url: &str) -> String {
    let mut u = url::Url::parse(url).expect("TEST_DATABASE_URL parses");
    if !u.query_pairs().any(|(k, _)| k == "sslmode") {
        u.query_pairs_mut().append_pair("sslmode", "disable");
    }
    u.to_string()
}

/// A database that exists for one test.
pub enum TestDb {
    Sqlite {
        dir: tempfile::TempDir,
    },
    Postgres {
        server_url: String,
        name: String,
    },
    /// Another test's database, which that test owns and drops.
    Beside {
        url: String,
        backend: Backend,
    },
}

impl TestDb {
    /// A new database on the backend the environment selects: on PostgreSQL a copy of
    /// the migrated template (the server starts with nothing to migrate), on SQLite a new file.
    pub fn new() -> Self {
        Self::create(true)
    }

    /// A new database with nothing in it, not even the migrations (for the tests of
    /// migrating itself).
    pub fn empty() -> Self {
        Self::create(false)
    }

    fn create(migrated: bool) -> Self {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            None => TestDb::Sqlite { dir: tempfile::tempdir().expect("temp dir") },
            Some(url) => {
                let url = without_tls(&url);
                let name = if migrated {
                    keeper(&url).ready.lock().unwrap().recv().expect("a copy of the template")
                } else {
                    let name = test_db_name();
                    admin(&url).batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
                    name
                };
                TestDb::Postgres { server_url: url, name }
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { dir } => format!("sqlite://{}", dir.path().join("casetrack.db").display()),
            TestDb::Postgres { server_url, name } => {
                let mut u = url::Url::parse(server_url).expect("TEST_DATABASE_URL parses");
                u.set_path(name);
                u.to_string()
            }
            TestDb::Beside { url, .. } => url.clone(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            TestDb::Sqlite { .. } => Backend::Sqlite,
            TestDb::Postgres { .. } => Backend::Postgres,
            TestDb::Beside { backend, .. } => *backend,
        }
    }

    /// Settings pointing at this database, a free port and a fixed secret.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::defaults();
        s.database.url = SecretString::from(self.url());
        s.database.pool_size = 4;
        s.server.bind = "127.0.0.1:0".into();
        s.auth.jwt_secret = Some(SecretString::from(JWT_SECRET));
        // The scenarios of most tests are written in calendar days (2024, before the
        // shipped calendar's years); tests/calendar.rs counts working days.
        s.escalation.day_kind = "calendar".into();
        // The audit signing key beside the database: the SQLite file's folder, or a folder
        // of this PostgreSQL database's own (shared by instances beside it).
        if self.backend() == Backend::Postgres {
            s.audit.signing_key_file = self.pg_key_dir().join("audit_signing_key").display().to_string();
        }
        s
    }

    /// Where a PostgreSQL test database's audit key and checkpoints go.
    pub fn pg_key_dir(&self) -> std::path::PathBuf {
        let url = self.url();
        let name = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_string();
        std::env::temp_dir().join(format!("{name}-audit"))
    }
}

/// The migrated PostgreSQL database every test database is copied from: made once per
/// set of migrations (named by their digest, so a changed migration makes a new one and
/// the old ones are dropped), shared by all test processes, built under an advisory lock.
fn pg_template(server_url: &str) -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        use diesel::prelude::*;
        use sha2::{Digest, Sha256};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        let mut files: Vec<std::path::PathBuf> = walk(&dir);
        files.sort();
        let mut digest = Sha256::new();
        for f in &files {
            digest.update(f.strip_prefix(&dir).unwrap().to_string_lossy().as_bytes());
            digest.update(std::fs::read(f).unwrap());
        }
        let name = format!("casetrack_tpl_{}", &hex::encode(digest.finalize())[..16]);
        let mut admin = PgConnection::establish(server_url).expect("PostgreSQL is reachable");
        admin.batch_execute("SELECT pg_advisory_lock(7262011)").expect("template lock");
        #[derive(QueryableByName)]
        struct Db {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        let templates: Vec<String> =
            diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'casetrack\\_tpl\\_%'")
                .load::<Db>(&mut admin)
                .expect("list templates")
                .into_iter()
                .map(|d| d.datname)
                .collect();
        if !templates.contains(&name) {
            for old in &templates {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)"));
            }
            let building = format!("{name}_building");
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).expect("clear a template");
            admin.batch_execute(&format!("CREATE DATABASE {building}")).expect("create the template");
            let mut u = url::Url::parse(server_url).unwrap();
            u.set_path(&building);
            let conn = PgConnection::establish(u.as_str()).expect("connect to the template");
            casetrack::db::migrate::run_pending(&mut casetrack::db::DbConn::Pg(conn)).expect("migrate the template");
            admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).expect("name the template");
        }
        admin.batch_execute("SELECT pg_advisory_unlock(7262011)").expect("template unlock");
        name
    })
    .clone()
}

/// A new test database's name: this process's id first, so that a later run can tell
/// the leftovers of a process that has ended ([`clear_leftovers`]).
fn test_db_name() -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    format!("casetrack_test_{}_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst), &new_id()[24..])
}

fn admin(server_url: &str) -> PgConnection {
    PgConnection::establish(server_url)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"))
}

/// Copies of the template made one ahead, and databases dropped behind, each by a thread
/// of this process: a PostgreSQL test waits neither for its copy nor for its drop, the
/// slow parts of its set-up, which the server does while the tests run.
struct Keeper {
    ready: std::sync::Mutex<std::sync::mpsc::Receiver<String>>,
    done: std::sync::Mutex<std::sync::mpsc::Sender<String>>,
}

fn keeper(server_url: &str) -> &'static Keeper {
    static KEEPER: std::sync::OnceLock<Keeper> = std::sync::OnceLock::new();
    KEEPER.get_or_init(|| {
        let template = pg_template(server_url);
        clear_leftovers(&mut admin(server_url));
        let (to_test, ready) = std::sync::mpsc::sync_channel::<String>(1);
        let url = server_url.to_string();
        std::thread::spawn(move || {
            let mut admin = admin(&url);
            loop {
                let name = test_db_name();
                admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")).expect("copy the template");
                if to_test.send(name).is_err() {
                    return;
                }
            }
        });
        let (done, finished) = std::sync::mpsc::channel::<String>();
        let url = server_url.to_string();
        std::thread::spawn(move || {
            let mut admin = admin(&url);
            for name in finished {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        });
        Keeper { ready: std::sync::Mutex::new(ready), done: std::sync::Mutex::new(done) }
    })
}

/// Drops the test databases of processes that have ended: the copy a process made ahead
/// and did not use, and drops it had not finished when it exited.
fn clear_leftovers(admin: &mut PgConnection) {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Db {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<String> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'casetrack\\_test\\_%'")
            .load::<Db>(admin)
            .map(|rows| rows.into_iter().map(|d| d.datname).collect())
            .unwrap_or_default();
    for name in names {
        let pid = name.trim_start_matches("casetrack_test_").split('_').next().unwrap_or_default();
        if !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { walk(&path) } else { vec![path] }
        })
        .collect()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { server_url, name } = self {
            let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("{name}-audit")));
            // Dropped behind the tests by the keeper's thread.
            let _ = keeper(server_url).done.lock().unwrap().send(std::mem::take(name));
        }
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    /// The loopback metrics listener's port, when `server.metrics_bind` asked for one.
    pub metrics_port: Option<u16>,
    pub http: reqwest::Client,
    pub state: web::Data<AppState>,
    pub clock: Clock,
    pub db: TestDb,
    /// Where the jobs this test runs send mail ([`TestApp::run_jobs`]): memory, or SMTP
    /// with [`builder::AppBuilder::with_mail`].
    pub mail: casetrack::mail::Mailer,
}

/// A signed-in user of a test.
pub struct Login {
    pub user: User,
    pub token: String,
    pub refresh_token: String,
}

/// A response read in full.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The field names a 422 lists.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts that the reply is a problem+json document for its status.
    #[track_caller]
    pub fn expect_problem(self) -> Self {
        let status = self.status.as_u16();
        self.expect(status)
    }

    /// Asserts the status and that an error is problem+json.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        if status >= 400 {
            assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"), "{}", self.body);
            assert_eq!(self.body["status"], json!(status));
        }
        self
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts a server after `tune` adjusts its settings.
pub async fn spawn_with(tune: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_on(TestDb::new(), tune)
}

/// Starts a server on `db` after `tune` adjusts its settings.
pub fn spawn_on(db: TestDb, tune: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = db.settings();
    tune(&mut settings);
    let clock = Clock::manual(Utc.with_ymd_and_hms(2024, 9, 25, 3, 0, 0).unwrap());
    let app = Application::build(settings, clock.clone()).expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (state, metrics_port) = (app.state.clone(), app.metrics_port());
    tokio::spawn(app.run_until_stopped());
    let mail = casetrack::mail::Mailer::memory();
    TestApp { base, metrics_port, http: reqwest::Client::new(), state, clock, db, mail }
}

impl TestApp {
    /// A test app described before it starts: units, users, mail over SMTP, settings.
    pub fn builder() -> builder::AppBuilder {
        builder::AppBuilder::default()
    }

    /// A second instance on the same database, as behind a load balancer: its own port,
    /// pool and clock (set to this one's time), the same signing secret.
    pub fn beside(&self, tune: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::Beside { url: self.db.url(), backend: self.db.backend() };
        let other = spawn_on(db, tune);
        other.clock.set(self.clock.now());
        other
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value, if_match: Option<&str>) -> Reply {
        let extra: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.call(Method::PATCH, path, Some(token), Some(body), &extra).await
    }

    /// Runs database work directly, as the server would.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut casetrack::db::DbConn) -> T) -> T {
        let mut conn = self.state.pool.get().expect("pooled connection");
        f(&mut conn)
    }

    /// Creates a unit directly (no HTTP), under `parent` when given.
    pub fn unit(&self, code: &str, name: &str, kind: &str, parent: Option<&Unit>) -> Unit {
        let now = self.clock.now_naive();
        let unit = Unit {
            id: new_id(),
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            parent_id: parent.map(|p| p.id.clone()),
            head_user_id: None,
            email: None,
            version: 1,
            created_at: now,
            updated_at: now,
            established_on: None,
            ended_on: None,
        };
        self.with_conn(|c| unit.insert(c)).expect("unit inserted");
        unit
    }

    /// Creates a user directly with [`PASSWORD`].
    pub fn user(&self, username: &str, role: Role, unit: Option<&Unit>) -> User {
        let input = UserInput {
            username: username.into(),
            full_name: format!("Nguyễn Văn {username}"),
            email: Some(format!("{username}@example.vn")),
            role,
            unit_id: unit.map(|u| u.id.clone()),
        };
        let now = self.clock.now_naive();
        // One hash of PASSWORD for every user of this process: argon2 is the slowest step
        // of setting up a test, and a hash verifies however many accounts carry it.
        static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let hash = HASH.get_or_init(|| casetrack::auth::password::hash(PASSWORD).expect("hashed")).clone();
        self.with_conn(|c| create_user(c, &Actor::system(), input, hash, now)).expect("user created")
    }

    /// Signs in over HTTP.
    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.post("/api/v1/auth/login", None, json!({"username": username, "password": password})).await
    }

    /// Creates a user and signs them in.
    pub async fn signed_in(&self, username: &str, role: Role, unit: Option<&Unit>) -> Login {
        let user = self.user(username, role, unit);
        let r = self.login(username, PASSWORD).await.expect(200);
        Login {
            user,
            token: r.body["access_token"].as_str().unwrap().to_string(),
            refresh_token: r.body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// One sweep and one delivery pass at the clock's time, the mail kept in [`TestApp::mail`].
    pub async fn run_jobs(&self) -> (SweepReport, DeliveryReport) {
        casetrack::jobs::run_once(&self.state.pool, &self.state.settings, &self.mail, &self.clock)
            .await
            .expect("jobs ran")
    }

    /// The mail the jobs sent through [`TestApp::mail`], oldest first.
    pub async fn sent(&self) -> Vec<smtp::Received> {
        self.mail.sent().await.into_iter().map(|(rcpt_to, data)| smtp::Received { rcpt_to, data }).collect()
    }

    /// Rows in the audit log (to show that a refused request wrote nothing).
    pub fn audit_count(&self) -> i64 {
        use casetrack::db::schema::audit_log;
        use diesel::prelude::*;
        self.with_conn(|c| audit_log::table.count().get_result(c)).expect("count audit")
    }
}

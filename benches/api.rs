//! The main paths under load, on SQLite and on PostgreSQL.
//!
//! `cargo bench --bench api [-- --quick] [--backend sqlite|postgres] [--rows N] [--secs S]
//! [--only SCENARIO,…] [--keep]`
//!
//! For each backend: loads `casetrack demo` and multiplies its cases with SQL up to
//! the row count, times the overdue sweep directly at a tenth of the rows and at all
//! of them, starts the release binary (`serve --no-sweeper`), drives HTTP load with
//! wrk (many keep-alive connections), and prints one `BENCH` line per scenario.
//! Needs `wrk` on the PATH and, for PostgreSQL, a server at `BENCH_PG_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use casetrack::app::prepare_database;
use casetrack::auth::token::TokenKeys;
use casetrack::auth::{CurrentUser, TokenOnly};
use casetrack::casework::{self, CaseInput, Ctx};
use casetrack::config::Settings;
use casetrack::db::{Backend, DbConn, DbPool};
use casetrack::domain::role::Role;
use casetrack::model::user::User;
use chrono::{Duration as Span, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{Value, json};

/// The server as a child process: the same helpers the tests use.
#[path = "../tests/common/process.rs"]
mod process;
use process::{KillOnDrop, free_port, wait_ready};

const BIN: &str = env!("CARGO_BIN_EXE_casetrack");
const CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
const SECRET: &str = "benchmark-only-signing-secret-0123456789abcdef0123456789";
/// Cases the overdue scenario makes due before each timed sweep.
const DUE: i64 = 1000;
const SWEEP_RUNS: usize = 3;
const SEARCH: &str = "ho so qua han";
/// What a reviewer types to find a person: the start of the most common family name.
const SUBJECT_PREFIX: &str = "nguyen";

struct Opts {
    rows: i64,
    secs: u64,
    backends: Vec<Backend>,
    pg: String,
    /// Scenario name prefixes to run (all when empty).
    only: Vec<String>,
    /// Leave the loaded database behind, for profiling by hand.
    keep: bool,
    /// The short version: fewer rows, shorter runs.
    quick: bool,
}

impl Opts {
    fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| scenario.starts_with(p.as_str()))
    }
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let quick = args.iter().any(|a| a == "--quick");
    let backends = match value("--backend").as_deref() {
        Some("sqlite") => vec![Backend::Sqlite],
        Some("postgres") => vec![Backend::Postgres],
        _ => vec![Backend::Sqlite, Backend::Postgres],
    };
    Opts {
        rows: value("--rows").and_then(|v| v.parse().ok()).unwrap_or(if quick { 100_000 } else { 1_000_000 }),
        secs: value("--secs").and_then(|v| v.parse().ok()).unwrap_or(if quick { 5 } else { 15 }),
        backends,
        pg: std::env::var("BENCH_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        only: value("--only").map(|v| v.split(',').map(str::to_string).collect()).unwrap_or_default(),
        keep: args.iter().any(|a| a == "--keep"),
        quick,
    }
}

fn main() {
    let opts = opts();
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("The benchmark drives load with wrk: install it first (apt-get install wrk).");
        std::process::exit(2);
    }
    for backend in &opts.backends {
        let started = Instant::now();
        run(&opts, *backend);
        eprintln!("# {} done in {:.0?}", name(*backend), started.elapsed());
    }
}

fn name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// A database for one run, dropped afterwards (PostgreSQL) or deleted with its folder.
struct BenchDb {
    url: String,
    pg_drop: Option<(String, String)>,
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((server, db)) = &self.pg_drop
            && let Ok(mut c) = PgConnection::establish(server)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

fn database(opts: &Opts, backend: Backend, dir: &Path) -> BenchDb {
    match backend {
        Backend::Sqlite => BenchDb { url: format!("sqlite://{}/bench.db", dir.display()), pg_drop: None },
        Backend::Postgres => {
            let db = format!("casetrack_bench_{}", std::process::id());
            let mut c = PgConnection::establish(&opts.pg).expect("PostgreSQL reachable at BENCH_PG_URL");
            // Separate statements: CREATE DATABASE refuses to run inside a multi-statement batch.
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).unwrap();
            c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
            let server = opts.pg.rsplit_once('/').unwrap().0;
            let url = format!("{server}/{db}?sslmode=disable");
            BenchDb { url, pg_drop: (!opts.keep).then(|| (opts.pg.clone(), db)) }
        }
    }
}

fn command(db: &BenchDb, dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .arg("--config-dir")
        .arg(CONFIG_DIR)
        .env("DATABASE_URL", &db.url)
        .env("CASETRACK__AUTH__JWT_SECRET", SECRET)
        .env("CASETRACK__CASES__ATTACHMENT_DIR", dir.join("attachments"))
        .env("RUST_LOG", "warn");
    cmd
}

fn run(opts: &Opts, backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(opts, backend, dir.path());
    let dir = Folder { dir: Some(dir), keep: opts.keep, url: db.url.clone() };
    let demo = command(&db, dir.path()).arg("demo").output().expect("casetrack demo runs");
    assert!(demo.status.success(), "demo failed: {}", String::from_utf8_lossy(&demo.stderr));
    let demo_out = String::from_utf8_lossy(&demo.stdout).to_string();
    let password = demo_out
        .split("every demo user has the password ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("demo prints its password")
        .to_string();

    let mut settings = Settings::defaults();
    settings.database.url = db.url.clone().into();
    let pool = prepare_database(&settings).expect("database prepared");
    let originals = count(&pool);
    let label = name(backend);

    // The sweep at a tenth of the rows, then at all of them: its cost should follow the due cases.
    if opts.wants("overdue_sweep") {
        let small = (opts.rows / 10).max(10_000).max(originals);
        grow(&pool, backend, small);
        let (small_rows, small_ms) = sweeps(&pool, &settings);
        grow(&pool, backend, opts.rows);
        let (rows, big_ms) = sweeps(&pool, &settings);
        print_sweep(label, small_rows, &small_ms, None);
        print_sweep(label, rows, &big_ms, Some(median(&big_ms) / median(&small_ms)));
    } else {
        grow(&pool, backend, opts.rows);
    }
    let rows = count(&pool);

    // The server, on the loaded database.
    let serve = || {
        let port = free_port();
        let server = KillOnDrop(
            command(&db, dir.path())
                .args(["serve", "--no-sweeper"])
                .env("CASETRACK__SERVER__BIND", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("server starts"),
        );
        (server, port)
    };
    let (mut server, port) = serve();
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    rt.block_on(wait_ready(port));
    let idle_rss = rss_mb(server.0.id(), "VmRSS");

    let fx = rt.block_on(Fixture::load(&http, &base, &password));
    let wrk = Wrk { base: base.clone(), dir: dir.path().to_path_buf(), secs: opts.secs };

    let line = |scenario: &str, conc: u32, r: &WrkResult, ratio: Option<f64>| {
        let ratio = ratio.map(|x| format!(" ratio={x:.2}")).unwrap_or_default();
        println!(
            "BENCH scenario={scenario} backend={label} rows={rows} conc={conc} rps={:.0} p50_ms={:.2} p99_ms={:.2}{ratio}",
            r.rps, r.p50_ms, r.p99_ms
        );
    };
    // A scenario: run if wanted, print its line, hand back the result.
    let scenario = |name: &str, conc: u32, user: Option<&str>, script: &Script| {
        opts.wants(name).then(|| {
            let r = wrk.run(name, conc, user, script);
            line(name, conc, &r, None);
            r
        })
    };

    let health = (opts.wants("healthz") || opts.wants("get_case"))
        .then(|| wrk.run("healthz", 32, None, &Script::get("/healthz")));
    if let Some(h) = &health {
        line("healthz", 32, h, None);
    }
    if let Some(h) = health.filter(|_| opts.wants("get_case")) {
        // Information, not an aim: HTTP on the same cores bounds this share at x/(1+x) of
        // the in-process read rate (docs/BENCHMARKS.md).
        let get = wrk.run("get_case", 32, Some(&fx.reviewer), &Script::get_random_case(&fx.case_ids));
        line("get_case", 32, &get, None);
        // The same reads without HTTP: what the database allows on this machine, and what
        // share of /healthz that is before any HTTP work is added. As many threads as
        // pooled connections, as the server's blocking pool has.
        let conc = settings.database.pool_size as usize;
        let raw = raw_reads(&pool, &fx.reviewer, &fx.case_ids, conc, Duration::from_secs(opts.secs));
        println!(
            "BENCH scenario=get_case_raw backend={label} rows={rows} conc={conc} raw_rps={raw:.0} of_healthz={:.2} \
             get_case_of_healthz={:.2}",
            raw / h.rps,
            get.rps / h.rps
        );
    }

    // Everyone arriving at 8:00: sign-ins at 16 connections while case reads run at 16.
    // Passwords are hashed on threads of their own with no connection held, so the reads'
    // tail should stay near its quiet figure (aim: at most 3×).
    if opts.wants("login_storm") {
        let reads = Script::get_random_case(&fx.case_ids);
        let quiet = wrk.run("login_storm_quiet", 16, Some(&fx.reviewer), &reads);
        let signin = Script::post("/api/v1/auth/login", &json!({"username": "thanhtra2", "password": password}));
        let (storm, signins) = std::thread::scope(|s| {
            let signins = s.spawn(|| wrk.run("login_storm_signins", 16, None, &signin));
            let storm = wrk.run("login_storm_reads", 16, Some(&fx.reviewer), &reads);
            (storm, signins.join().expect("sign-in load ran"))
        });
        println!(
            "BENCH scenario=login_storm backend={label} rows={rows} conc=16+16 quiet_p99_ms={:.2} storm_p99_ms={:.2} \
             ratio={:.2} reads_rps={:.0} signin_rps={:.0} signin_p99_ms={:.2}",
            quiet.p99_ms,
            storm.p99_ms,
            storm.p99_ms / quiet.p99_ms,
            storm.rps,
            signins.rps,
            signins.p99_ms
        );
    }

    let list = format!("/api/v1/cases?unit_id={}&status=in_handling&limit=50", fx.district_id);
    scenario("list_cases", 8, Some(&fx.reviewer), &Script::get(&list));
    let search = format!("/api/v1/cases?q={}&limit=50", SEARCH.replace(' ', "%20"));
    scenario("search", 8, Some(&fx.reviewer), &Script::get(&search));
    let summary = Script::get("/api/v1/reports/summary");
    scenario("report_summary_city", 4, Some(&fx.reviewer), &summary);
    scenario("report_summary_district", 4, Some(&fx.district_head), &summary);
    // Not an aim of its own: a cut by period, whose subjects are counted over that period's cases.
    let year = Script::get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31");
    scenario("report_summary_city_year", 4, Some(&fx.reviewer), &year);

    // The registry as the log form's suggestions and the API search it, for the most common
    // family name (a long run of the index): the city's reviewer, a ward's head (a small
    // subtree), an inspector (the units their campaigns target). Aim: p99 ≤ 20 ms. Four
    // connections: on two cores the rate is as high at four as at eight, and more only
    // queue (docs/BENCHMARKS.md).
    let names = Script::get(&format!("/api/v1/subjects?q={}&limit=20", SUBJECT_PREFIX.replace(' ', "%20")));
    scenario("subject_search_city", 4, Some(&fx.reviewer), &names);
    scenario("subject_search_ward", 4, Some(&fx.district_head), &names);
    scenario("subject_search_inspector", 4, Some(&fx.inspector), &names);

    // The console, as the reviewer sees it: the queue, a case page, the city's reports.
    if opts.wants("console") {
        let cookie = rt.block_on(console_cookie(&base, "ubkt.thanhpho", &password));
        let with = |s: Script| s.with_header("Cookie", &cookie);
        scenario("console_queue", 8, None, &with(Script::get("/")));
        scenario("console_case", 8, None, &with(Script::get_random_case_at("/cases/", &fx.case_ids)));
        scenario("console_reports_city", 4, None, &with(Script::get("/reports")));
        let kb = rt.block_on(first_visit_kb(&base, &cookie));
        println!("BENCH scenario=console_first_visit backend={label} rows={rows} transferred_kb={kb:.1}");
    }

    // Logging cases at 32 connections, beside two limits measured without HTTP on the same
    // pool and settings: the same create transaction, and a one-row INSERT transaction (what
    // the database commits a second at most, `commit_floor`). Aim: at least 0.1 of the floor.
    if opts.wants("create_case") {
        let span = Duration::from_secs(opts.secs);
        let create = wrk.run("create_case", 32, Some(&fx.inspector), &Script::post("/api/v1/cases", &fx.case_body));
        let raw = raw_creates(&pool, &settings, &fx.case_body, 32, span);
        let floor = commit_floor(&pool, 32, span);
        println!(
            "BENCH scenario=create_case backend={label} rows={rows} conc=32 rps={:.0} p50_ms={:.2} p99_ms={:.2} \
             of_raw={:.2} of_floor={:.3}",
            create.rps,
            create.p50_ms,
            create.p99_ms,
            create.rps / raw,
            create.rps / floor
        );
        println!("BENCH scenario=create_case_raw backend={label} rows={rows} conc=32 raw_rps={raw:.0}");
        println!("BENCH scenario=commit_floor backend={label} rows={rows} conc=32 rps={floor:.0}");
    }

    // Accepting cases at 32 connections, each request a case of its own that is still open:
    // a transition writes the case, a timeline event and an audit entry (the two sealed).
    if opts.wants("transition") {
        let ids = open_cases(&pool, 100_000);
        let body = json!({
            "action": "accept", "note": "Tiếp nhận", "responsible_unit_id": fx.district_id, "due_at": "2031-12-31",
        });
        let r = wrk.run("transition", 32, Some(&fx.reviewer), &Script::post_each_case(&ids, "/transitions", &body));
        line("transition", 32, &r, None);
    }

    // Creates without pause, a minute at a time, with the server's RSS after each: it should
    // stay flat (aim: at most 120 MB, no growth over the second half). A server of its own,
    // so that what the earlier scenarios left in memory (the reports' high-water mark, a
    // sign-in's argon2 block) is not counted as the creates'.
    if opts.wants("sustained_create") {
        let (rounds, each) = if opts.quick { (4, 15) } else { (10, 60) };
        let (server, port) = serve();
        rt.block_on(wait_ready(port));
        let base = format!("http://127.0.0.1:{port}");
        let wrk = Wrk { secs: each, base, ..wrk.clone() };
        let create = Script::post("/api/v1/cases", &fx.case_body);
        let mut rss = Vec::new();
        for round in 1..=rounds {
            let r = wrk.run("sustained_create", 32, Some(&fx.inspector), &create);
            rss.push(rss_mb(server.0.id(), "VmRSS"));
            println!(
                "BENCH scenario=sustained_create backend={label} round={round} secs={each} conc=32 rps={:.0} \
                 p99_ms={:.2} rss_mb={:.1}",
                r.rps,
                r.p99_ms,
                rss[rss.len() - 1]
            );
        }
        let half = &rss[rss.len() / 2 - 1..];
        let growth = half.iter().cloned().fold(f64::MIN, f64::max) - half[0];
        let peak = rss.iter().cloned().fold(f64::MIN, f64::max);
        println!(
            "BENCH scenario=sustained_create_memory backend={label} peak_rss_mb={peak:.1} second_half_growth_mb={growth:.1}"
        );
    }

    let peak_rss = rss_mb(server.0.id(), "VmHWM");
    println!("BENCH memory backend={label} idle_rss_mb={idle_rss:.1} peak_rss_mb={peak_rss:.1}");
    drop(server.0.kill());

    if opts.wants("audit_verify") {
        audit_verify(&pool, &db, dir.path(), backend, label, rows);
    }

    // Last, as it changes the tree: 500 wards become 120.
    if opts.wants("reorganise") {
        reorganise(&pool, &settings, label, rows);
    }
}

/// Up to `n` ids of cases still open.
fn open_cases(pool: &DbPool, n: i64) -> Vec<String> {
    use casetrack::db::schema::cases;
    use diesel::prelude::*;
    let mut conn = pool.get().unwrap();
    cases::table.filter(cases::status.eq("open")).select(cases::id).limit(n).load(&mut **conn).unwrap()
}

/// The audit trail at city scale: every copied case gets the timeline events and audit
/// entries of the case it copies, the whole is sealed, and `casetrack audit verify`
/// checks it against a signed checkpoint at a tenth of the log and at all of it, timed,
/// with the verifying process's peak memory (which should not follow the log).
fn audit_verify(pool: &DbPool, db: &BenchDb, dir: &Path, backend: Backend, label: &str, rows: i64) {
    let cli = |args: &[&str]| {
        let started = Instant::now();
        let mut child = command(db, dir).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let pid = child.id();
        let mut peak = 0.0f64;
        while child.try_wait().unwrap().is_none() {
            peak = peak.max(rss_mb(pid, "VmHWM"));
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "casetrack {args:?}: {said}{}", String::from_utf8_lossy(&out.stderr));
        (started.elapsed().as_secs_f64(), peak, said)
    };
    // The key, and a first checkpoint of what the demo wrote, verified: the small log
    // whose peak memory the big one's is compared with.
    cli(&["audit", "checkpoint"]);
    let copies = dir.join(if backend == Backend::Postgres { "data" } else { "." }).join("audit_checkpoints.txt");
    let copies = copies.to_str().unwrap().to_string();
    let (_, small_peak, said) = cli(&["audit", "verify", "--checkpoint", &copies]);
    assert!(said.contains("The audit trail verifies."), "{said}");
    let started = Instant::now();
    let tail = match backend {
        Backend::Postgres => "substring(x.number from position('-' in x.number) + 1)",
        Backend::Sqlite => "substr(x.number, instr(x.number, '-') + 1)",
    };
    let sql = format!(
        "BEGIN;          CREATE TEMP TABLE bench_copies AS SELECT x.id AS new_id, o.id AS old_id FROM cases x            JOIN cases o ON o.number = {tail} WHERE x.number LIKE 'X%';          INSERT INTO case_events (id, case_id, at, actor_id, kind, detail)            SELECT m.new_id || ':' || e.id, m.new_id, e.at, e.actor_id, e.kind, e.detail            FROM bench_copies m JOIN case_events e ON e.case_id = m.old_id;          INSERT INTO audit_log (id, at, actor_id, client_addr, action, entity_type, entity_id, before, after)            SELECT m.new_id || ':' || a.id, a.at, a.actor_id, a.client_addr, a.action, a.entity_type, m.new_id,              a.before, a.after            FROM bench_copies m JOIN audit_log a ON a.entity_type = 'case' AND a.entity_id = m.old_id;          DROP TABLE bench_copies; COMMIT;"
    );
    let mut conn = pool.get().unwrap();
    conn.batch_execute(&sql).expect("the copies' trail");
    settle(&mut conn);
    let total = casetrack::ledger::unsealed(&mut conn).unwrap() + casetrack::ledger::size(&mut conn).unwrap();
    eprintln!("# {total} entries to seal, written in {:.1?}", started.elapsed());
    // Sealed in the sweep's batches, timed; then a checkpoint (nothing left for it to
    // seal) and the whole log verified.
    let now = Utc::now().naive_utc();
    let before = casetrack::ledger::size(&mut conn).unwrap();
    let started = Instant::now();
    while casetrack::ledger::seal(&mut conn, now).unwrap() > 0 {}
    let seal_secs = started.elapsed().as_secs_f64();
    let sealed = casetrack::ledger::size(&mut conn).unwrap() - before;
    cli(&["audit", "checkpoint"]);
    let size = casetrack::ledger::size(&mut conn).unwrap();
    let (secs, peak, said) = cli(&["audit", "verify", "--checkpoint", &copies]);
    assert!(said.contains("The audit trail verifies."), "{said}");
    println!(
        "BENCH scenario=audit_verify backend={label} rows={rows} entries={size} secs={secs:.1} entries_per_sec={:.0} \
         peak_rss_mb={peak:.1} small_log_peak_rss_mb={small_peak:.1}",
        size as f64 / secs
    );
    println!(
        "BENCH scenario=audit_seal backend={label} rows={rows} entries={sealed} secs={seal_secs:.1} entries_per_sec={:.0}",
        sealed as f64 / seal_secs
    );
}

/// A reorganisation like 2025's at city scale: the demo's 126 wards and communes and
/// more beside them, 500 in all, the cases spread over them (open ones handled by their
/// ward), then a mapping merges the 500 into 120 new wards. Times the dry run, the
/// apply, and the city's summary report before and after.
fn reorganise(pool: &DbPool, settings: &Settings, label: &str, rows: i64) {
    use casetrack::model::unit::Unit;
    use casetrack::reorganisation::{Basis, NewUnitSpec, ReorganisationInput, Step, UnitRef};
    const OLD: usize = 500;
    const NEW: usize = 120;
    let mut conn = pool.get().unwrap();
    let started = Instant::now();
    let units = Unit::all(&mut conn).unwrap();
    let city = units.iter().find(|u| u.parent_id.is_none()).expect("the demo city").clone();
    // Today's wards and communes of the demo, and more beside them up to 500.
    let mut wards: Vec<Unit> = units
        .iter()
        .filter(|u| ["ward", "commune"].contains(&u.kind.as_str()) && u.ended_on.is_none())
        .cloned()
        .collect();
    let now = Utc::now().naive_utc();
    while wards.len() < OLD {
        let n = wards.len();
        let ward = Unit {
            id: casetrack::model::new_id(),
            code: format!("BW-{n:03}"),
            name: format!("Phường thử {n}"),
            kind: "ward".into(),
            parent_id: Some(city.id.clone()),
            head_user_id: None,
            email: None,
            version: 1,
            created_at: now,
            updated_at: now,
            established_on: None,
            ended_on: None,
        };
        ward.insert(&mut conn).unwrap();
        wards.push(ward);
    }
    // Every case to a ward by the last three hex digits of its subject's key (a person
    // stays in one ward); the open ones in handling are handled by the ward they were found in.
    let values: Vec<String> = (0..4096).map(|n| format!("('{:03x}', '{}')", n, wards[n % wards.len()].id)).collect();
    let sql = format!(
        "BEGIN; CREATE TEMP TABLE bench_wards (digits TEXT, ward_id TEXT); \
         INSERT INTO bench_wards VALUES {}; \
         UPDATE cases SET subject_unit_id = bench_wards.ward_id FROM bench_wards \
         WHERE substr(cases.subject_key, 34, 3) = bench_wards.digits; \
         DROP TABLE bench_wards; \
         UPDATE cases SET responsible_unit_id = subject_unit_id \
         WHERE responsible_unit_id IS NOT NULL AND status IN ('in_handling', 'remediated'); COMMIT;",
        values.join(", ")
    );
    conn.batch_execute(&sql).expect("cases spread over the wards");
    casetrack::model::rollup::rebuild(&mut conn).expect("recount");
    settle(&mut conn);
    eprintln!("# {OLD} wards and their cases ready in {:.1?}", started.elapsed());

    let old: Vec<&Unit> = wards.iter().collect();
    let steps: Vec<Step> = (0..NEW)
        .map(|g| {
            let from =
                old.iter().enumerate().filter(|(i, _)| i * NEW / old.len() == g).map(|(_, u)| u.code.clone()).collect();
            let to = UnitRef::New(NewUnitSpec {
                code: format!("PM-{g:03}"),
                name: format!("Phường mới {g}"),
                kind: "ward".into(),
                parent: Some(city.code.clone()),
            });
            Step::Merge { from, to }
        })
        .collect();
    let input = || ReorganisationInput {
        effective_on: Some(Utc::now().date_naive().to_string()),
        basis: Some(Basis {
            reference: Some("1656/NQ-UBTVQH15".into()),
            issued_on: Some("2025-06-16".into()),
            title: Some("Sắp xếp đơn vị hành chính cấp xã (thử tải)".into()),
        }),
        steps: Some(steps.clone()),
    };
    let admin = User::find_by_username(&mut conn, "admin").unwrap().expect("the server made its first administrator");
    let caller = CurrentUser {
        user: admin,
        role: Role::Admin,
        session_id: "bench".into(),
        client_addr: "127.0.0.1".into(),
        unit_ended: false,
    };
    let settings = Arc::new(settings.clone());
    let report = |conn: &mut DbConn| {
        let scope = casetrack::model::case::CaseScope::Subtree(city.id.clone());
        let filter = casetrack::model::case::CaseFilter::default();
        let mut ms = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            casetrack::reports::summary_of(conn, &scope, &filter, Some(city.id.clone()), None, now).unwrap();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        median(&ms)
    };
    let before_ms = report(&mut conn);
    let t = Instant::now();
    let plan = casetrack::reorganisation::reorganise(
        &mut conn,
        &Ctx::new(settings.clone(), Utc::now()),
        &caller,
        input(),
        true,
    )
    .expect("the dry run passes");
    let dry_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    casetrack::reorganisation::reorganise(&mut conn, &Ctx::new(settings.clone(), Utc::now()), &caller, input(), false)
        .expect("the apply passes");
    let apply_s = t.elapsed().as_secs_f64();
    let after_ms = report(&mut conn);
    // And once the server has settled, as autovacuum and the next checkpoint would.
    settle(&mut conn);
    let settled_ms = report(&mut conn);
    println!(
        "BENCH scenario=reorganise backend={label} rows={rows} ended={} established={} moved_cases={} dry_run_s={dry_s:.1} \
         apply_s={apply_s:.1} city_report_ms_before={before_ms:.1} city_report_ms_after={after_ms:.1} \
         city_report_ms_settled={settled_ms:.1}",
        plan.ended.len(),
        plan.established.len(),
        plan.moved_cases.len()
    );
}

/// The run's folder: deleted afterwards unless `--keep` asked to leave it (and the database).
struct Folder {
    dir: Option<tempfile::TempDir>,
    keep: bool,
    url: String,
}

impl Folder {
    fn path(&self) -> &Path {
        self.dir.as_ref().expect("folder present until dropped").path()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if self.keep
            && let Some(dir) = self.dir.take()
        {
            eprintln!("# kept: {} (DATABASE_URL={})", dir.keep().display(), self.url);
        }
    }
}

/// The one BIGINT a `SELECT COUNT(*) AS n …` answers.
fn scalar(pool: &DbPool, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = pool.get().unwrap();
    diesel::sql_query(sql).get_result::<N>(&mut **conn).unwrap().n
}

fn count(pool: &DbPool) -> i64 {
    scalar(pool, "SELECT COUNT(*) AS n FROM cases")
}

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Copies the demo's cases (with their indicators) until the table holds `target` rows.
///
/// Copies of unfinished cases get a far deadline, so only the sweep scenario makes cases
/// due. So that the data looks like a city's over years rather than one year repeated,
/// copy `n` is detected `n mod 10` years earlier, and its individuals are the demo's
/// people in one of 100 generations (`n mod 100`): about 50,000 distinct people, where
/// a verbatim copy would leave the demo's few hundred.
fn grow(pool: &DbPool, backend: Backend, target: i64) {
    let have = count(pool);
    let originals = scalar(pool, "SELECT COUNT(*) AS n FROM cases WHERE number NOT LIKE 'X%'");
    if have >= target {
        return;
    }
    let first = (have - originals) / originals + 1;
    let last = (target - originals + originals - 1) / originals;
    let started = Instant::now();
    let (series, uuid) = match backend {
        Backend::Postgres => (format!("generate_series({first}, {last}) AS g(n)"), "gen_random_uuid()::text".to_string()),
        Backend::Sqlite => (
            format!("(WITH RECURSIVE s(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM s WHERE n < {last}) SELECT n FROM s) AS g"),
            // Materialised first: SQLite may evaluate randomblob() once per reference.
            "substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(h, 14, 3) || '-8' || substr(h, 18, 3) || '-' || substr(h, 21, 12)".to_string(),
        ),
    };
    let far = ts((Utc::now() + Span::days(3650)).naive_utc());
    let detected = match backend {
        Backend::Postgres => "(c.detected_on - make_interval(years => (m.n % 10)::int))::date",
        Backend::Sqlite => "date(c.detected_on, '-' || (m.n % 10) || ' years')",
    };
    // A person's copies are a hundred people of the same name and unit (one in a hundred
    // of the copies each): the record's id with its last two digits replaced, a record of
    // its own made below. A body keeps its record.
    let copy_key = match backend {
        Backend::Postgres => {
            "CASE WHEN c.subject_kind = 'individual' THEN substr(c.subject_key, 1, 34) || lpad((m.n % 100)::text, 2, '0') \
             ELSE c.subject_key END"
        }
        Backend::Sqlite => {
            "CASE WHEN c.subject_kind = 'individual' THEN substr(c.subject_key, 1, 34) || printf('%02d', m.n % 100) \
             ELSE c.subject_key END"
        }
    };
    let map = match backend {
        Backend::Postgres => format!(
            "CREATE TEMP TABLE bench_map AS SELECT c.id AS old_id, {uuid} AS new_id, g.n AS n \
             FROM cases c CROSS JOIN {series} WHERE c.number NOT LIKE 'X%';"
        ),
        Backend::Sqlite => format!(
            "CREATE TEMP TABLE bench_raw AS SELECT c.id AS old_id, lower(hex(randomblob(16))) AS h, g.n AS n \
             FROM cases c CROSS JOIN {series} WHERE c.number NOT LIKE 'X%'; \
             CREATE TEMP TABLE bench_map AS SELECT old_id, {uuid} AS new_id, n FROM bench_raw; DROP TABLE bench_raw;"
        ),
    };
    let sql = format!(
        "BEGIN; {map} \
         INSERT INTO subjects (id, kind, name, unit_id, position, categories, identifier, search_name, merged_into, \
           version, created_at, updated_at) \
         SELECT k.id, s.kind, s.name, s.unit_id, s.position, s.categories, NULL, s.search_name, NULL, 1, \
           s.created_at, s.updated_at \
         FROM (SELECT DISTINCT {copy_key} AS id, c.subject_id AS original FROM bench_map m \
               JOIN cases c ON c.id = m.old_id WHERE c.subject_kind = 'individual') k \
         JOIN subjects s ON s.id = k.original \
         WHERE NOT EXISTS (SELECT 1 FROM subjects t WHERE t.id = k.id); \
         INSERT INTO cases (id, number, campaign_id, directive_id, subject_kind, subject_unit_id, person_name, \
           person_position, subject_key, title, description, detected_on, severity, status, responsible_unit_id, \
           due_at, deadline_at, decision_measure, decision_decided_on, decision_reference, closed_at, search_text, \
           created_by, version, created_at, updated_at, subject_id) \
         SELECT m.new_id, 'X' || m.n || '-' || c.number, c.campaign_id, c.directive_id, c.subject_kind, \
           c.subject_unit_id, c.person_name, c.person_position, {copy_key}, \
           c.title, c.description, {detected}, \
           c.severity, c.status, c.responsible_unit_id, c.due_at, \
           CASE WHEN c.status IN ('open', 'in_handling') THEN '{far}' ELSE c.deadline_at END, \
           c.decision_measure, c.decision_decided_on, c.decision_reference, c.closed_at, c.search_text, c.created_by, \
           c.version, c.created_at, c.updated_at, {copy_key} \
         FROM bench_map m JOIN cases c ON c.id = m.old_id; \
         INSERT INTO case_indicators (case_id, indicator_id) \
           SELECT m.new_id, ci.indicator_id FROM bench_map m JOIN case_indicators ci ON ci.case_id = m.old_id; \
         DROP TABLE bench_map; COMMIT;"
    );
    let sql = if backend == Backend::Postgres { sql.replace("'{far}'", &format!("'{far}'::timestamp")) } else { sql };
    let mut conn = pool.get().unwrap();
    conn.batch_execute(&sql).expect("bulk copy of cases");
    // What `casetrack reports recount` does after cases were written in SQL.
    casetrack::model::rollup::rebuild(&mut conn).expect("recount of the report rollup");
    settle(&mut conn);
    let subjects = scalar(pool, "SELECT COUNT(*) AS n FROM subjects");
    eprintln!("# {} cases of {subjects} subjects loaded in {:.1?}", count(pool), started.elapsed());
}

/// What autovacuum does after bulk writes: it sets the visibility map, which index-only
/// scans need, and clears dead row versions. Then a checkpoint, so that timing starts
/// on a settled server. Each its own statement: VACUUM refuses to run in a batch.
fn settle(conn: &mut DbConn) {
    match conn {
        DbConn::Pg(_) => {
            conn.batch_execute("VACUUM ANALYZE").expect("vacuum");
            conn.batch_execute("CHECKPOINT").expect("checkpoint");
        }
        DbConn::Sqlite(_) => conn.batch_execute("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)").expect("analyze"),
    }
}

/// Clears what is already due, then times `SWEEP_RUNS` sweeps that each find `DUE` newly due cases.
fn sweeps(pool: &DbPool, settings: &Settings) -> (i64, Vec<f64>) {
    let mut conn = pool.get().unwrap();
    let now = Utc::now().naive_utc();
    casetrack::jobs::sweep::sweep(&mut conn, &settings.escalation, settings.time_zone().unwrap(), now, "bench.local")
        .unwrap();
    let mut times = Vec::new();
    for _ in 0..SWEEP_RUNS {
        let sql = format!(
            "UPDATE cases SET deadline_at = '{}' WHERE id IN (SELECT id FROM cases \
             WHERE status IN ('open', 'in_handling') AND deadline_at > '{}' ORDER BY id LIMIT {DUE})",
            ts(now - Span::hours(1)),
            ts(now + Span::days(365)),
        );
        conn.batch_execute(&sql).unwrap();
        let started = Instant::now();
        let report = casetrack::jobs::sweep::sweep(
            &mut conn,
            &settings.escalation,
            settings.time_zone().unwrap(),
            now,
            "bench.local",
        )
        .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(report.steps as i64, DUE, "the sweep found the due cases");
    }
    (count(pool), times)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn print_sweep(label: &str, rows: i64, ms: &[f64], ratio: Option<f64>) {
    let max = ms.iter().cloned().fold(0.0, f64::max);
    let ratio = ratio.map(|x| format!(" ratio={x:.2}")).unwrap_or_default();
    println!(
        "BENCH scenario=overdue_sweep backend={label} rows={rows} conc=1 due={DUE} rps={:.2} p50_ms={:.1} p99_ms={max:.1}{ratio}",
        1000.0 / median(ms),
        median(ms)
    );
}

/// `work` run over and over by `conc` threads for `span`, each time on a connection from
/// `pool`, as a request would get one: runs per second.
fn raw_rate<W>(pool: &DbPool, conc: usize, span: Duration, work: W) -> f64
where
    W: Fn(&mut DbConn, u64) + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..conc)
        .map(|_| {
            let (pool, work, done, stop) = (pool.clone(), work.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut conn = pool.get().unwrap();
                    work(&mut conn, done.fetch_add(1, Ordering::Relaxed));
                }
            })
        })
        .collect();
    std::thread::sleep(span);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// The `POST /cases` transaction run in-process by `conc` threads for `span`: cases per second.
fn raw_creates(pool: &DbPool, settings: &Settings, body: &Value, conc: usize, span: Duration) -> f64 {
    let settings = Arc::new(settings.clone());
    let user = {
        let mut conn = pool.get().unwrap();
        User::find_by_username(&mut conn, "thanhtra1").unwrap().expect("the demo inspector")
    };
    let caller = CurrentUser {
        user,
        role: Role::Inspector,
        session_id: "bench".into(),
        client_addr: "127.0.0.1".into(),
        unit_ended: false,
    };
    let body = body.clone();
    raw_rate(pool, conc, span, move |conn, _| {
        let input: CaseInput = serde_json::from_value(body.clone()).unwrap();
        let ctx = Ctx::new(settings.clone(), Utc::now());
        casework::log(conn, &ctx, &caller, input).expect("case logged");
    })
}

/// One-row INSERT transactions (through `write_tx`, as every write goes) by `conc` threads
/// for `span`: the most commits a second this database gives on this pool.
fn commit_floor(pool: &DbPool, conc: usize, span: Duration) -> f64 {
    pool.get().unwrap().batch_execute("CREATE TABLE IF NOT EXISTS bench_floor (n BIGINT NOT NULL)").unwrap();
    let rate = raw_rate(pool, conc, span, move |conn, n| {
        casetrack::db::write_tx(conn, |c| {
            diesel::sql_query(format!("INSERT INTO bench_floor (n) VALUES ({n})")).execute(c).map(drop)
        })
        .expect("row inserted");
    });
    pool.get().unwrap().batch_execute("DROP TABLE bench_floor").unwrap();
    rate
}

/// What `GET /cases/{id}` reads (session check, scoped case read) run in-process by `conc`
/// threads for `span`, over the same case ids as the HTTP scenario: reads per second.
fn raw_reads(pool: &DbPool, token: &str, ids: &[String], conc: usize, span: Duration) -> f64 {
    let keys = TokenKeys::new(SECRET.as_bytes());
    let caller = TokenOnly::from_token(&keys, token, Utc::now().timestamp(), "127.0.0.1".into()).expect("a live token");
    let ids = ids.to_vec();
    raw_rate(pool, conc, span, move |conn, n| {
        let id = &ids[(n as usize).wrapping_mul(2_654_435_761) % ids.len()];
        casework::read(conn, caller.clone(), id, Utc::now().naive_utc()).expect("case read");
    })
}

fn rss_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Tokens and ids the scenarios use, read from the running server.
struct Fixture {
    reviewer: String,
    district_head: String,
    inspector: String,
    district_id: String,
    case_ids: Vec<String>,
    case_body: Value,
}

impl Fixture {
    async fn load(http: &reqwest::Client, base: &str, password: &str) -> Self {
        let login = |user: &'static str| {
            let url = format!("{base}/api/v1/auth/login");
            let body = json!({"username": user, "password": password});
            async move {
                let r: Value = http.post(url).json(&body).send().await.unwrap().json().await.unwrap();
                r["access_token"].as_str().unwrap_or_else(|| panic!("{user} signs in: {r}")).to_string()
            }
        };
        let (reviewer, district_head, inspector) =
            (login("ubkt.thanhpho").await, login("truong.ba-dinh").await, login("thanhtra1").await);
        let get = |path: String, token: String| async move {
            let r = http.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
            assert!(r.status().is_success(), "GET {path}: {}", r.status());
            r.json::<Value>().await.unwrap()
        };
        let me = get("/api/v1/me".into(), district_head.clone()).await;
        let district_id = me["unit_id"].as_str().unwrap().to_string();
        let cases = get("/api/v1/cases?limit=500".into(), reviewer.clone()).await;
        let case_ids =
            cases["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
        let campaigns = get("/api/v1/campaigns".into(), inspector.clone()).await;
        let campaign = campaigns["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["status"] == "active")
            .expect("the inspector has an active campaign")
            .clone();
        let target = campaign["target_unit_ids"][0].as_str().unwrap().to_string();
        let directive = campaign["directive_id"].as_str().unwrap().to_string();
        let indicators = get(format!("/api/v1/indicators?directive_id={directive}"), inspector.clone()).await;
        let case_body = json!({
            "campaign_id": campaign["id"],
            "subject": {"kind": "organization", "unit_id": target},
            "indicator_ids": [indicators["items"][0]["id"]],
            "title": "Chậm giải quyết hồ sơ của người dân",
            "description": "Ghi nhận trong đợt kiểm tra (benchmark).",
            "detected_on": campaign["starts_on"],
            "severity": "medium",
        });
        let probe =
            http.post(format!("{base}/api/v1/cases")).bearer_auth(&inspector).json(&case_body).send().await.unwrap();
        assert_eq!(probe.status(), 201, "the benchmark's case is valid: {}", probe.text().await.unwrap());
        Fixture { reviewer, district_head, inspector, district_id, case_ids, case_body }
    }
}

/// Signs in through the console's form; the `Cookie` header that carries the session.
async fn console_cookie(base: &str, user: &str, password: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = http.get(format!("{base}/sign-in")).send().await.unwrap();
    let cookie_of = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no {name} cookie"))
            .to_string()
    };
    let signin = cookie_of(&form, "ct_signin");
    let html = form.text().await.unwrap();
    let token = html.split("name=\"_csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("_csrf", token.as_str()), ("next", "/"), ("username", user), ("password", password)])
        .finish();
    let r = http
        .post(format!("{base}/sign-in"))
        .header("cookie", signin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "console sign-in");
    cookie_of(&r, "ct_session")
}

/// What a first visit moves over the wire, compressed: the sign-in page, the start page
/// after it and every asset they name, in kilobytes.
async fn first_visit_kb(base: &str, cookie: &str) -> f64 {
    let http = reqwest::Client::new();
    let fetch = |path: String, cookie: Option<&str>| {
        let mut req = http.get(format!("{base}{path}")).header("accept-encoding", "gzip, br");
        if let Some(c) = cookie {
            req = req.header("cookie", c.to_string());
        }
        async move {
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "GET {path}: {}", r.status());
            r.bytes().await.unwrap().len()
        }
    };
    let mut total = fetch("/sign-in".into(), None).await + fetch("/".into(), Some(cookie)).await;
    // The assets the pages name (read from an uncompressed copy of the start page).
    let page = http.get(format!("{base}/")).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
    let page = page.replace("&#x2f;", "/");
    for asset in page.split("\"/assets/").skip(1).filter_map(|s| s.split('"').next()) {
        total += fetch(format!("/assets/{asset}"), None).await;
    }
    total as f64 / 1024.0
}

/// A wrk Lua script.
struct Script(String);

impl Script {
    fn get(path: &str) -> Self {
        Script(format!("wrk.method = \"GET\"\nwrk.path = \"{path}\"\n"))
    }

    fn get_random_case(ids: &[String]) -> Self {
        Self::get_random_case_at("/api/v1/cases/", ids)
    }

    /// A GET of `prefix` + a random id per request.
    fn get_random_case_at(prefix: &str, ids: &[String]) -> Self {
        let list: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
        Script(format!(
            "local ids = {{{}}}\nrequest = function()\n  return wrk.format(\"GET\", \"{prefix}\" .. ids[math.random(#ids)])\nend\n",
            list.join(",")
        ))
    }

    /// The same requests with one more header.
    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.0.push_str(&format!("wrk.headers[\"{name}\"] = \"{value}\"\n"));
        self
    }

    /// A POST of `body` to `/api/v1/cases/{id}{suffix}`, each request the next of `ids`
    /// (wrk's two threads take every other one), so no case is asked twice.
    fn post_each_case(ids: &[String], suffix: &str, body: &Value) -> Self {
        let list: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
        let body = body.to_string().replace('\\', "\\\\").replace('"', "\\\"");
        Script(format!(
            "local ids = {{{}}}\nlocal threads = 0\n\
             function setup(thread)\n  thread:set(\"first\", threads)\n  threads = threads + 1\nend\n\
             function init(args)\n  i = first\nend\n\
             wrk.method = \"POST\"\nwrk.body = \"{body}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
             function request()\n  i = i + 2\n  \
             return wrk.format(nil, \"/api/v1/cases/\" .. ids[(i % #ids) + 1] .. \"{suffix}\")\nend\n",
            list.join(",")
        ))
    }

    fn post(path: &str, body: &Value) -> Self {
        let body = body.to_string().replace('\\', "\\\\").replace('"', "\\\"");
        Script(format!(
            "wrk.method = \"POST\"\nwrk.path = \"{path}\"\nwrk.body = \"{body}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ))
    }
}

#[derive(Clone)]
struct Wrk {
    base: String,
    dir: PathBuf,
    secs: u64,
}

struct WrkResult {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Wrk {
    /// Runs wrk with `conc` keep-alive connections; fails on any non-2xx answer.
    fn run(&self, scenario: &str, conc: u32, token: Option<&str>, script: &Script) -> WrkResult {
        let path = self.dir.join(format!("{scenario}.lua"));
        let mut lua = script.0.clone();
        if let Some(t) = token {
            lua.push_str(&format!("wrk.headers[\"Authorization\"] = \"Bearer {t}\"\n"));
        }
        std::fs::File::create(&path).unwrap().write_all(lua.as_bytes()).unwrap();
        let out = Command::new("wrk")
            // A long timeout: a slow scenario must show its latency, not drop out as zero.
            .args(["-t2", &format!("-c{conc}"), &format!("-d{}s", self.secs), "--timeout", "60s", "--latency", "-s"])
            .arg(&path)
            .arg(&self.base)
            .output()
            .expect("wrk runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success() && !text.contains("Non-2xx"), "{scenario}: wrk reported errors:\n{text}");
        let field = |prefix: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_string()))
                .unwrap_or_else(|| panic!("{scenario}: no {prefix} in\n{text}"))
        };
        WrkResult {
            rps: field("Requests/sec:").parse().unwrap(),
            p50_ms: millis(&field("50%")),
            p99_ms: millis(&field("99%")),
        }
    }
}

/// wrk's "1.23ms", "456.00us", "1.02s" as milliseconds.
fn millis(v: &str) -> f64 {
    let (num, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    num.parse::<f64>().unwrap() * factor
}

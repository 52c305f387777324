//! The demo dataset: realistic shape, printed logins that work, loaded once.

mod common;

use std::process::Command;

use casetrack::app::prepare_database;
use casetrack::auth::password;
use casetrack::db::schema::cases;
use casetrack::model::user::User;
use common::{JWT_SECRET, TestDb};
use diesel::dsl::count_star;
use diesel::prelude::*;

fn demo(db: &TestDb, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_casetrack"))
        .current_dir(dir)
        .env("DATABASE_URL", db.url())
        .env("CASETRACK__AUTH__JWT_SECRET", JWT_SECRET)
        .env("RUST_LOG", "warn")
        .arg("demo")
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_demo_loads_a_realistic_city_once_and_its_logins_work() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let out = demo(&db, dir.path(), &["--cases", "300"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("300 cases"), "{stdout}");
    let pw = stdout.split("the password ").nth(1).and_then(|r| r.split(')').next()).unwrap().to_string();

    let pool = prepare_database(&db.settings()).unwrap();
    let mut pooled = pool.get().unwrap();
    let conn: &mut casetrack::db::DbConn = &mut pooled;
    for username in ["thanhtra1", "ubkt.thanhpho", "ubkt.ba-dinh", "truong.ba-dinh", "truong.thanh-tri"] {
        let user = User::find_by_username(conn, username).unwrap().unwrap_or_else(|| panic!("{username} exists"));
        assert!(password::verify(&pw, &user.password_hash), "{username}'s printed password works");
    }
    let by_status: Vec<(String, i64)> =
        cases::table.group_by(cases::status).select((cases::status, count_star())).load(conn).unwrap();
    let count = |s: &str| by_status.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
    assert_eq!(by_status.iter().map(|(_, n)| n).sum::<i64>(), 300);
    for s in ["open", "in_handling", "remediated", "closed", "dismissed"] {
        assert!(count(s) > 0, "some cases are {s}");
    }
    let closed_share = count("closed") as f64 / 300.0;
    assert!((0.35..0.6).contains(&closed_share), "roughly the public proportions, got {closed_share}");
    #[allow(deprecated)]
    let indicators: i64 = cases::table
        .inner_join(casetrack::db::schema::case_indicators::table)
        .select(diesel::dsl::count_distinct(casetrack::db::schema::case_indicators::indicator_id))
        .first(conn)
        .unwrap();
    assert!(indicators >= 20, "cases spread over the indicators, got {indicators}");

    let again = demo(&db, dir.path(), &[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

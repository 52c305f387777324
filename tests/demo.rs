//! The demo dataset: realistic shape, printed logins that work, loaded once.

mod common;

use std::process::Command;

use casetrack::app::prepare_database;
use casetrack::auth::password;
use casetrack::db::schema::{cases, reorganisations};
use casetrack::model::case::{Case, CaseScope};
use casetrack::model::reorganisation::successors_of;
use casetrack::model::unit::Unit;
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
    for username in ["thanhtra1", "ubkt.thanhpho", "ubkt.ba-dinh", "truong.ba-dinh", "truong.thanh-tri", "truong.so-tc"]
    {
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

    // Today's Hanoi: 126 wards and communes alive, the districts ended into the city on
    // 1 July 2025 by a reorganisation the demo applied, the merged departments with them.
    let units = Unit::all(conn).unwrap();
    let alive = |kind: &str| units.iter().filter(|u| u.kind == kind && u.ended_on.is_none()).count();
    assert_eq!((alive("ward"), alive("commune")), (51, 75), "the 126 wards and communes of Resolution 1656");
    assert_eq!(alive("district"), 0);
    let july = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let districts: Vec<&Unit> = units.iter().filter(|u| u.kind == "district").collect();
    assert_eq!(districts.len(), 30);
    assert!(districts.iter().all(|d| d.ended_on == Some(july)));
    let city = units.iter().find(|u| u.code == "HN").unwrap();
    assert_eq!(successors_of(conn, &districts[0].id).unwrap()[0].id, city.id);
    let applied: Vec<(chrono::NaiveDate, String)> = reorganisations::table
        .order(reorganisations::effective_on)
        .select((reorganisations::effective_on, reorganisations::basis_reference))
        .load(conn)
        .unwrap();
    assert_eq!(applied.len(), 2, "the departments of March 2025 and the wards of July 2025");
    assert_eq!(applied[1], (july, "1656/NQ-UBTVQH15".to_string()));
    let hang_bac = units.iter().find(|u| u.code == "HOAN-KIEM-HANG-BAC").unwrap();
    assert_eq!(successors_of(conn, &hang_bac.id).unwrap()[0].code, "P-HOAN-KIEM");

    // Cases before the change were found in the former units, and today's successor sees them.
    let found: Vec<(String, String)> = cases::table.select((cases::id, cases::subject_unit_id)).load(conn).unwrap();
    let mut in_former_wards = 0;
    for (case_id, unit_id) in &found {
        let unit = units.iter().find(|u| &u.id == unit_id).unwrap();
        if unit.kind == "ward" && unit.ended_on.is_some() {
            in_former_wards += 1;
            let now = successors_of(conn, &unit.id).unwrap()[0].clone();
            assert!(now.ended_on.is_none(), "{} went to a living ward", unit.name);
            let scope = CaseScope::Subtree(now.id.clone());
            assert!(Case::find_visible(conn, case_id, &scope).unwrap().is_some(), "{} sees {case_id}", now.name);
        }
    }
    assert!(in_former_wards > 0, "some cases were found in the wards of before July 2025");
    let after: i64 = cases::table.filter(cases::detected_on.ge(july)).count().get_result(conn).unwrap();
    assert!(after > 0 && after < 300, "cases on both sides of the change, got {after} after");

    // Dates follow the day the demo is loaded: the last months, a share overdue, not all.
    let today = chrono::Utc::now().date_naive();
    let latest: chrono::NaiveDate =
        cases::table.select(diesel::dsl::max(cases::detected_on)).first::<Option<_>>(conn).unwrap().unwrap();
    assert!((today - latest).num_days() < 30, "the newest case is recent, got {latest}");
    let overdue: i64 = cases::table
        .filter(casetrack::model::case::overdue_at(chrono::Utc::now().naive_utc()))
        .count()
        .get_result(conn)
        .unwrap();
    assert!((9..=90).contains(&overdue), "a believable share overdue (3 % to 30 %), got {overdue} of 300");

    let again = demo(&db, dir.path(), &[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

//! `casetrack demo`: a realistic dataset to try the product on.
//!
//! Today's Hanoi and how it came to be: the city, its party bodies and departments,
//! the 30 districts and a sample of their wards as they stood at the start of 2025,
//! the departments merged on 1 March 2025 and the 126 wards and communes of 1 July
//! 2025, both applied with the same reorganisation an administrator runs. Users of
//! every role, three campaigns and about 900 cases over the 25 indicators in the last
//! eighteen months (at least since January 2025), handled in roughly the public
//! proportions: old cases mostly handled, recent ones mostly open, a few overdue.

mod city;

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use std::sync::Arc;

use crate::accounts::{UserInput, create as create_user};
use crate::auth::CurrentUser;
use crate::casework::{self, CaseInput, Ctx, DecisionInput, SubjectInput, TransitionInput};
use crate::config::Settings;
use crate::db::schema::{campaigns, cases, units};
use crate::db::{DbConn, write_tx};
use crate::domain::case_terms::SubjectKind;
use crate::domain::role::Role;
use crate::domain::workflow::Status;
use crate::error::Error;
use crate::model::campaign::Campaign;
use crate::model::directive::{Directive, Indicator};
use crate::model::unit::Unit;
use crate::model::user::User;
use crate::model::{Actor, new_id};

const SURNAMES: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
/// Middle and given names by gender, so a "Thị" is never a "Tuấn".
const MEN: ([&str; 4], [&str; 8]) =
    (["Văn", "Minh", "Quang", "Đức"], ["An", "Bình", "Cường", "Dũng", "Hùng", "Nam", "Tuấn", "Sơn"]);
const WOMEN: ([&str; 3], [&str; 7]) = (["Thị", "Thu", "Thanh"], ["Hà", "Hương", "Lan", "Thảo", "Mai", "Hoa", "Yến"]);

/// A full Vietnamese name whose given name fits its middle name's gender.
fn full_name(dice: &mut Dice) -> String {
    let surname = *dice.pick(&SURNAMES);
    if dice.below(2) == 0 {
        format!("{surname} {} {}", dice.pick(&MEN.0), dice.pick(&MEN.1))
    } else {
        format!("{surname} {} {}", dice.pick(&WOMEN.0), dice.pick(&WOMEN.1))
    }
}
const POSITIONS: [&str; 5] =
    ["Chuyên viên", "Phó trưởng phòng", "Trưởng phòng", "Cán bộ địa chính", "Công chức một cửa"];
/// Bodies of a ward or commune's government since 1 July 2025 that a finding may name.
const BODIES: [&str; 4] =
    ["Văn phòng HĐND và UBND", "Phòng Kinh tế", "Phòng Văn hóa - Xã hội", "Trung tâm Phục vụ hành chính công"];
const TITLES: [[&str; 3]; 3] = [
    ["Chưa khắc phục khuyết điểm sau kiểm điểm", "Vi phạm quy chế làm việc", "Chậm kê khai tài sản, thu nhập"],
    ["Chậm giải ngân vốn đầu tư công", "Đùn đẩy hồ sơ lên cấp trên", "Tồn đọng hồ sơ quá hạn"],
    [
        "Nhũng nhiễu người dân khi giải quyết thủ tục",
        "Yêu cầu giấy tờ ngoài quy định",
        "Chậm trả lời kiến nghị doanh nghiệp",
    ],
];

/// A small deterministic generator, so every demo database looks alike.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What the demo created, and the logins to print.
pub struct DemoSummary {
    pub units: usize,
    pub cases: usize,
    pub password: String,
    pub logins: Vec<(String, String)>,
}

/// The login part of a unit's code: `P-BA-DINH` → `ba-dinh`, `SO-TC` → `so-tc`.
fn login_of(code: &str) -> String {
    code.strip_prefix("P-").or_else(|| code.strip_prefix("X-")).unwrap_or(code).to_lowercase()
}

/// The first day of the demo's history: eighteen months back, and never later than the
/// start of 2025, so that the reorganisations of 2025 have cases before them.
pub fn history_starts(today: NaiveDate) -> NaiveDate {
    (today - Duration::days(548)).min(NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"))
}

/// How a case logged `age` days ago stands today: older cases are mostly handled, recent
/// ones mostly open, and a few old ones lag (those are the overdue ones).
fn status_for(dice: &mut Dice, age: i64) -> Status {
    // closed, dismissed, remediated, in handling; the rest open
    let shares: [usize; 4] = match age {
        181.. => [60, 12, 24, 3],
        61..=180 => [40, 9, 26, 20],
        15..=60 => [10, 5, 12, 60],
        _ => [0, 3, 0, 30],
    };
    let roll = dice.below(100);
    let mut bound = 0;
    for (share, status) in
        shares.iter().zip([Status::Closed, Status::Dismissed, Status::Remediated, Status::InHandling])
    {
        bound += share;
        if roll < bound {
            // A step needs its days: a case found yesterday cannot be closed yet.
            let needs = match status {
                Status::Closed => 31,
                Status::Remediated => 11,
                Status::Dismissed => 4,
                _ => 2,
            };
            return if age >= needs { status } else { Status::Open };
        }
    }
    Status::Open
}

/// Loads the demo; refuses a database that already holds cases unless `force`.
pub fn load(
    conn: &mut DbConn,
    settings: &Settings,
    now: NaiveDateTime,
    force: bool,
    case_count: usize,
) -> Result<DemoSummary, String> {
    let existing: i64 = cases::table.count().get_result(conn).map_err(|e| e.to_string())?;
    if existing > 0 && !force {
        return Err(format!(
            "the database already holds {existing} cases; run `casetrack demo --force` to add demo data anyway"
        ));
    }
    if units::table.filter(units::code.eq("HN")).count().get_result::<i64>(conn).map_err(|e| e.to_string())? > 0 {
        return Err("the demo units (code HN) are already present; the demo loads only once per database".into());
    }
    let today = now.date();
    let starts = history_starts(today);
    let password = crate::auth::password::generate();
    // Every demo login shares the password: hashed once.
    let hash = crate::auth::password::hash(&password)?;
    let err = |e: diesel::result::Error| e.to_string();
    let user = |conn: &mut DbConn, username: &str, role: Role, unit: Option<&Unit>| {
        let input = UserInput {
            username: username.into(),
            full_name: full_name(&mut Dice(
                username.bytes().fold(7, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
            )),
            email: Some(format!("{username}@demo.hanoi.gov.vn")),
            role,
            unit_id: unit.map(|u| u.id.clone()),
        };
        create_user(conn, &Actor::system(), input, hash.clone(), now).map_err(|e| e.to_string())
    };

    let before = city::found(conn, now, starts)?;
    let city = before.iter().find(|u| u.code == "HN").cloned().ok_or("the demo city is missing")?;
    let inspectors: Vec<_> =
        (1..=3).map(|i| user(conn, &format!("thanhtra{i}"), Role::Inspector, Some(&city))).collect::<Result<_, _>>()?;
    let reviewer = user(conn, "ubkt.thanhpho", Role::Reviewer, Some(&city))?;
    // The account that applies the 2025 reorganisations; switched off once they are, so
    // that the first real administrator is still created on first start.
    let loader = UserInput {
        username: "demo.sapxep".into(),
        full_name: "Tài khoản nạp dữ liệu mẫu".into(),
        email: None,
        role: Role::Admin,
        unit_id: None,
    };
    let loader = create_user(conn, &Actor::system(), loader, hash.clone(), now).map_err(|e| e.to_string())?;

    let directive = Directive::find_by_code(conn, "24-CT/TU").map_err(err)?.ok_or("the 24-CT/TU catalog is missing")?;
    let indicators = Indicator::of_directive(conn, &directive.id, false).map_err(err)?;
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    let (first_year, this_year) = (starts.year(), today.year());
    let campaigns = [
        (
            "Kiểm tra việc thực hiện Chỉ thị 24-CT/TU".to_string(),
            "inspection",
            starts,
            date(this_year, 12, 31).max(today + Duration::days(180)),
        ),
        (format!("Kiểm tra công vụ năm {first_year}"), "duty_audit", date(first_year, 1, 1), date(first_year, 12, 31)),
        (
            format!("Giám sát chuyên đề cải cách hành chính năm {this_year}"),
            "supervision",
            date(this_year, 1, 1),
            date(this_year, 12, 31),
        ),
    ];
    let members: Vec<String> = inspectors.iter().map(|u| u.id.clone()).collect();
    let mut campaign_rows = Vec::new();
    for (title, kind, starts_on, ends_on) in campaigns {
        let c = Campaign {
            id: new_id(),
            title,
            kind: kind.into(),
            directive_id: directive.id.clone(),
            starts_on,
            ends_on,
            // Every campaign takes cases while the demo logs them; the past ones are concluded after.
            status: "active".into(),
            lead_id: members[0].clone(),
            created_by: members[0].clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        write_tx(conn, |x| c.insert(x, &members, std::slice::from_ref(&city.id))).map_err(err)?;
        campaign_rows.push(c);
    }

    let settings = Arc::new(settings.clone());
    let as_caller = |user: &User, role: Role| CurrentUser {
        user: user.clone(),
        role,
        session_id: "demo".into(),
        client_addr: "casetrack demo".into(),
        unit_ended: false,
    };
    let inspectors: Vec<CurrentUser> = inspectors.iter().map(|u| as_caller(u, Role::Inspector)).collect();
    let reviewer = as_caller(&reviewer, Role::Reviewer);
    let loader = as_caller(&loader, Role::Admin);

    // Every case's day of detection first, in order, so that each is logged in the
    // city as it stood that day and the reorganisations come between them.
    let mut dice = Dice(24_2023);
    let span = (today - starts).num_days().max(2);
    let mut found_on: Vec<NaiveDate> =
        (0..case_count).map(|_| starts + Duration::days(dice.below(span as usize - 1) as i64)).collect();
    found_on.sort();
    let mut changes =
        city::changes().into_iter().filter(|c| c.effective_on > starts && c.effective_on <= today).peekable();
    let mut alive = alive_on(conn, starts)?;
    let mut people: Vec<(String, String, String)> = Vec::new(); // a pool, so some people have several cases
    let failed = |what: &str, e: Error| format!("demo {what}: {e}");
    for (n, detected) in found_on.into_iter().enumerate() {
        while let Some(change) = changes.next_if(|c| c.effective_on <= detected) {
            let at = Ctx::new(settings.clone(), change.effective_on.and_hms_opt(8, 0, 0).expect("time").and_utc());
            city::apply(conn, &at, &loader, &change)?;
            alive = alive_on(conn, change.effective_on)?;
            follow_successors(conn, &mut people, &alive)?;
        }
        let subject_unit = pick_subject(&mut dice, &alive).ok_or("the demo city has no units")?;
        let covering: Vec<&Campaign> =
            campaign_rows.iter().filter(|c| c.starts_on <= detected && detected <= c.ends_on).collect();
        let campaign = *dice.pick(&covering);
        let logged = (detected.and_hms_opt(9, 0, 0).expect("time") + Duration::days(dice.below(4) as i64))
            .min(now - Duration::hours(2))
            .and_utc();
        let individual = dice.below(10) < 7;
        let (subject_unit, person_name, person_position) = if individual {
            let seen: Vec<&(String, String, String)> =
                people.iter().filter(|(unit_id, _, _)| alive.iter().any(|u| &u.id == unit_id)).collect();
            if !seen.is_empty() && dice.below(4) == 0 {
                // Someone seen before: the same subject, in the same unit (or its successor).
                let (unit_id, name, pos) = (*dice.pick(&seen)).clone();
                let unit = alive.iter().find(|u| u.id == unit_id).cloned().unwrap_or(subject_unit);
                (unit, Some(name), Some(pos))
            } else {
                let name = full_name(&mut dice);
                let pos = dice.pick(&POSITIONS).to_string();
                people.push((subject_unit.id.clone(), name.clone(), pos.clone()));
                (subject_unit, Some(name), Some(pos))
            }
        } else {
            (subject_unit, None, None)
        };
        let indicator = dice.pick(&indicators);
        let group = indicator.group_code.parse::<usize>().unwrap_or(1).clamp(1, 3) - 1;
        let title = dice.pick(&TITLES[group]).to_string();
        let status = status_for(&mut dice, (now.and_utc() - logged).num_days());
        let input = CaseInput {
            campaign_id: Some(campaign.id.clone()),
            subject: Some(SubjectInput {
                kind: Some(if individual { SubjectKind::Individual } else { SubjectKind::Organization }.into()),
                unit_id: Some(subject_unit.id.clone()),
                person_name,
                person_position,
                categories: None,
                // Every third finding about a ward or commune names the body inside it.
                body_name: (!individual && n % 3 == 0 && matches!(subject_unit.kind.as_str(), "ward" | "commune"))
                    .then(|| BODIES[n / 3 % BODIES.len()].to_string()),
                identifier: None,
            }),
            indicator_ids: Some(vec![indicator.id.clone()]),
            title: Some(format!("{title} tại {}", subject_unit.name)),
            description: Some(format!("{} — phát hiện qua đợt \"{}\".", indicator.title, campaign.title)),
            detected_on: Some(detected.to_string()),
            severity: Some(
                ["less_serious", "less_serious", "serious", "serious", "very_serious"][dice.below(5)].into(),
            ),
            ..CaseInput::default()
        };
        let author = &inspectors[n % inspectors.len()];
        let at = |days: i64| Ctx::new(settings.clone(), logged + Duration::days(days));
        let (case, _) = casework::log(conn, &at(0), author, input).map_err(|e| failed("log", e))?;
        handle(conn, &at, &reviewer, &case.id, status, individual, &subject_unit, (n, &mut dice))?;
    }
    for c in &campaign_rows {
        if c.ends_on < today {
            diesel::update(campaigns::table.find(&c.id))
                .set(campaigns::status.eq("concluded"))
                .execute(conn)
                .map_err(err)?;
        }
    }
    // Today's city: every living unit below the city has a head; two wards have reviewers.
    let living: Vec<Unit> = Unit::all(conn).map_err(err)?.into_iter().filter(|u| u.ended_on.is_none()).collect();
    for u in living.iter().filter(|u| u.parent_id.is_some()) {
        let head = user(conn, &format!("truong.{}", login_of(&u.code)), Role::UnitHead, Some(u))?;
        diesel::update(units::table.find(&u.id)).set(units::head_user_id.eq(&head.id)).execute(conn).map_err(err)?;
    }
    for code in ["P-BA-DINH", "P-HOAN-KIEM"] {
        if let Some(u) = living.iter().find(|u| u.code == code) {
            user(conn, &format!("ubkt.{}", login_of(code)), Role::Reviewer, Some(u))?;
        }
    }
    diesel::update(crate::db::schema::users::table.find(&loader.user.id))
        .set(crate::db::schema::users::active.eq(false))
        .execute(conn)
        .map_err(err)?;

    let logins = vec![
        ("thanhtra1".to_string(), "inspector".to_string()),
        ("ubkt.thanhpho".to_string(), "reviewer, city".to_string()),
        ("ubkt.ba-dinh".to_string(), "reviewer, Phường Ba Đình".to_string()),
        ("truong.ba-dinh".to_string(), "unit head, Phường Ba Đình".to_string()),
    ];
    let units = Unit::all(conn).map_err(err)?.len();
    Ok(DemoSummary { units, cases: case_count, password, logins })
}

/// The units a case found on `day` may name: alive that day, below the city.
fn alive_on(conn: &mut DbConn, day: NaiveDate) -> Result<Vec<Unit>, String> {
    Ok(Unit::all(conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|u| u.parent_id.is_some() && u.ended_on.is_none_or(|end| end > day))
        .collect())
}

/// Wards and communes most often, departments and districts less, party bodies seldom.
fn pick_subject(dice: &mut Dice, alive: &[Unit]) -> Option<Unit> {
    let of = |kinds: &[&str]| -> Vec<&Unit> { alive.iter().filter(|u| kinds.contains(&u.kind.as_str())).collect() };
    let groups =
        [(60, of(&["ward", "commune"])), (15, of(&["district"])), (20, of(&["department"])), (5, of(&["party_body"]))];
    let roll = dice.below(100);
    let mut bound = 0;
    for (share, units) in &groups {
        bound += share;
        if roll < bound && !units.is_empty() {
            return Some((*dice.pick(units)).clone());
        }
    }
    alive.first().cloned()
}

/// After a reorganisation, the people seen in an ended unit belong to its successor.
fn follow_successors(conn: &mut DbConn, people: &mut [(String, String, String)], alive: &[Unit]) -> Result<(), String> {
    let mut went: HashMap<String, Option<String>> = HashMap::new();
    for (unit_id, _, _) in people.iter_mut() {
        if alive.iter().any(|u| &u.id == unit_id) {
            continue;
        }
        let to = match went.get(unit_id.as_str()) {
            Some(to) => to.clone(),
            None => {
                let to = crate::model::reorganisation::successors_of(conn, unit_id)
                    .map_err(|e| e.to_string())?
                    .first()
                    .map(|u| u.id.clone());
                went.insert(unit_id.clone(), to.clone());
                to
            }
        };
        if let Some(to) = to {
            *unit_id = to;
        }
    }
    Ok(())
}

/// Takes a logged case to `status` through the operations the API runs, at the moments
/// the story needs, so timelines, audit records and rollups are the real ones.
#[allow(clippy::too_many_arguments)]
fn handle(
    conn: &mut DbConn,
    at: &dyn Fn(i64) -> Ctx,
    reviewer: &CurrentUser,
    case_id: &str,
    status: Status,
    individual: bool,
    subject_unit: &Unit,
    (n, dice): (usize, &mut Dice),
) -> Result<(), String> {
    let failed = |what: &str, e: Error| format!("demo {what}: {e}");
    let act = |conn: &mut DbConn, days: i64, input: TransitionInput| {
        casework::transition(conn, &at(days), reviewer, case_id, None, input).map(drop)
    };
    let note = |text: &str| Some(text.to_string());
    if status != Status::Open && status != Status::Dismissed {
        // A district's case is handled by the district; any other body handles its own.
        let due = (at(1).now + Duration::days(30 + dice.below(60) as i64)).to_rfc3339();
        let accept = TransitionInput {
            action: Some("accept".into()),
            responsible_unit_id: Some(subject_unit.id.clone()),
            due_at: Some(due),
            ..TransitionInput::default()
        };
        act(conn, 1, accept).map_err(|e| failed("accept", e))?;
    }
    let next = match status {
        Status::Remediated => Some((
            10,
            TransitionInput {
                action: Some("report_remediation".into()),
                note: note("Đã khắc phục xong"),
                ..TransitionInput::default()
            },
        )),
        Status::Dismissed => Some((
            3,
            TransitionInput {
                action: Some("dismiss".into()),
                note: note("Không đủ căn cứ kết luận vi phạm"),
                ..TransitionInput::default()
            },
        )),
        Status::Closed => {
            let decided = at(29).now.date_naive();
            let measure = if individual { *dice.pick(&FOR_PEOPLE) } else { *dice.pick(&FOR_BODIES) };
            let decision = DecisionInput {
                measure: Some(measure.into()),
                decided_on: Some(decided.to_string()),
                reference: Some(format!("{}-QĐ/UBKT", 100 + n)),
                ..DecisionInput::default()
            };
            Some((
                30,
                TransitionInput {
                    action: Some("close".into()),
                    decision: Some(decision),
                    ..TransitionInput::default()
                },
            ))
        }
        _ => None,
    };
    if let Some((days, input)) = next {
        act(conn, days, input).map_err(|e| failed(status.as_str(), e))?;
    }
    Ok(())
}

/// Handling as practice reports it: mostly self-criticism reviews, reprimands and
/// warnings; removal and expulsion rare.
const FOR_PEOPLE: [&str; 20] = [
    "self_review",
    "self_review",
    "self_review",
    "self_review",
    "self_review",
    "self_review",
    "reminder",
    "criticism",
    "party_reprimand",
    "party_reprimand",
    "party_reprimand",
    "party_reprimand",
    "party_warning",
    "party_warning",
    "party_warning",
    "state_reprimand",
    "state_reprimand",
    "state_warning",
    "party_removal",
    "party_expulsion",
];
/// A body gets handling, never discipline.
const FOR_BODIES: [&str; 6] = ["self_review", "self_review", "self_review", "criticism", "remediation", "reminder"];

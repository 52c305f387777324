//! `casetrack demo`: a realistic dataset to try the product on.
//!
//! Hanoi's city, several departments, the 30 districts, a sample of communes,
//! users of every role, three campaigns and about 900 cases over the 25
//! indicators, handled in roughly the public proportions, some overdue.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use std::sync::Arc;

use crate::accounts::{UserInput, create as create_user};
use crate::auth::CurrentUser;
use crate::casework::{self, CaseInput, Ctx, DecisionInput, SubjectInput, TransitionInput};
use crate::config::Settings;
use crate::db::schema::{campaigns, cases, units};
use crate::db::{DbConn, write_tx};
use crate::domain::case_terms::SubjectKind;
use crate::domain::fold::fold;
use crate::domain::role::Role;
use crate::domain::workflow::Status;
use crate::error::ApiError;
use crate::model::campaign::Campaign;
use crate::model::directive::{Directive, Indicator};
use crate::model::unit::Unit;
use crate::model::user::User;
use crate::model::{Actor, new_id};

const DISTRICTS: [&str; 30] = [
    "Ba Đình",
    "Hoàn Kiếm",
    "Tây Hồ",
    "Long Biên",
    "Cầu Giấy",
    "Đống Đa",
    "Hai Bà Trưng",
    "Hoàng Mai",
    "Thanh Xuân",
    "Nam Từ Liêm",
    "Bắc Từ Liêm",
    "Hà Đông",
    "Sơn Tây",
    "Ba Vì",
    "Phúc Thọ",
    "Đan Phượng",
    "Hoài Đức",
    "Quốc Oai",
    "Thạch Thất",
    "Chương Mỹ",
    "Thanh Oai",
    "Thường Tín",
    "Phú Xuyên",
    "Ứng Hòa",
    "Mỹ Đức",
    "Sóc Sơn",
    "Đông Anh",
    "Gia Lâm",
    "Mê Linh",
    "Thanh Trì",
];
const COMMUNES: [(&str, [&str; 3]); 5] = [
    ("Ba Đình", ["Điện Biên", "Kim Mã", "Ngọc Hà"]),
    ("Hoàn Kiếm", ["Hàng Bạc", "Hàng Trống", "Tràng Tiền"]),
    ("Tây Hồ", ["Bưởi", "Nhật Tân", "Quảng An"]),
    ("Cầu Giấy", ["Dịch Vọng", "Nghĩa Đô", "Yên Hòa"]),
    ("Đống Đa", ["Cát Linh", "Láng Hạ", "Ô Chợ Dừa"]),
];
const DEPARTMENTS: [(&str, &str); 4] = [
    ("SO-KHDT", "Sở Kế hoạch và Đầu tư"),
    ("SO-TTTT", "Sở Thông tin và Truyền thông"),
    ("SO-NV", "Sở Nội vụ"),
    ("BTC-TU", "Ban Tổ chức Thành ủy"),
];
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

fn code_of(name: &str) -> String {
    fold(name).to_uppercase().replace(' ', "-")
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
    let password = crate::auth::password::generate();
    // Every demo login shares the password: hashed once.
    let hash = crate::auth::password::hash(&password)?;
    let err = |e: diesel::result::Error| e.to_string();
    let unit = |conn: &mut DbConn, code: &str, name: &str, kind: &str, parent: Option<&Unit>| -> Result<Unit, String> {
        let u = Unit {
            id: new_id(),
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            parent_id: parent.map(|p| p.id.clone()),
            head_user_id: None,
            email: Some(format!("vanphong.{}@hanoi.gov.vn", code.to_lowercase())),
            version: 1,
            created_at: now,
            updated_at: now,
            established_on: None,
            ended_on: None,
        };
        write_tx(conn, |c| u.insert(c)).map_err(err)?;
        Ok(u)
    };
    let user = |conn: &mut DbConn, username: &str, role: Role, unit: &Unit| {
        let input = UserInput {
            username: username.into(),
            full_name: full_name(&mut Dice(
                username.bytes().fold(7, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
            )),
            email: Some(format!("{username}@demo.hanoi.gov.vn")),
            role,
            unit_id: Some(unit.id.clone()),
        };
        create_user(conn, &Actor::system(), input, hash.clone(), now).map_err(|e| e.to_string())
    };

    let city = unit(conn, "HN", "Thành phố Hà Nội", "city", None)?;
    let mut all_units = vec![city.clone()];
    for (code, name) in DEPARTMENTS {
        all_units.push(unit(conn, code, name, "department", Some(&city))?);
    }
    let mut districts = Vec::new();
    for name in DISTRICTS {
        let kind_name =
            if ["Sơn Tây"].contains(&name) { format!("Thị xã {name}") } else { format!("Quận/Huyện {name}") };
        let d = unit(conn, &code_of(name), &kind_name, "district", Some(&city))?;
        districts.push(d.clone());
        all_units.push(d);
    }
    for (district, communes) in COMMUNES {
        let parent = districts.iter().find(|d| d.code == code_of(district)).cloned().ok_or("district missing")?;
        for c in communes {
            all_units.push(unit(
                conn,
                &format!("{}-{}", parent.code, code_of(c)),
                &format!("Phường {c}"),
                "ward",
                Some(&parent),
            )?);
        }
    }

    let inspectors: Vec<_> =
        (1..=3).map(|i| user(conn, &format!("thanhtra{i}"), Role::Inspector, &city)).collect::<Result<_, _>>()?;
    let reviewer = user(conn, "ubkt.thanhpho", Role::Reviewer, &city)?;
    for d in &districts {
        let head = user(conn, &format!("truong.{}", d.code.to_lowercase()), Role::UnitHead, d)?;
        diesel::update(units::table.find(&d.id)).set(units::head_user_id.eq(&head.id)).execute(conn).map_err(err)?;
    }
    for d in districts.iter().take(2) {
        user(conn, &format!("ubkt.{}", d.code.to_lowercase()), Role::Reviewer, d)?;
    }

    let directive = Directive::find_by_code(conn, "24-CT/TU").map_err(err)?.ok_or("the 24-CT/TU catalog is missing")?;
    let indicators = Indicator::of_directive(conn, &directive.id, false).map_err(err)?;
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    let campaigns = [
        ("Kiểm tra công vụ năm 2023–2024", "duty_audit", date(2023, 9, 1), date(2024, 6, 30), "concluded"),
        ("Kiểm tra việc thực hiện Chỉ thị 24-CT/TU", "inspection", date(2024, 1, 1), date(2024, 12, 31), "active"),
        ("Giám sát chuyên đề cải cách hành chính", "supervision", date(2024, 3, 1), date(2024, 12, 31), "active"),
    ];
    let members: Vec<String> = inspectors.iter().map(|u| u.id.clone()).collect();
    let mut campaign_rows = Vec::new();
    for (title, kind, starts, ends, status) in campaigns {
        let c = Campaign {
            id: new_id(),
            title: title.into(),
            kind: kind.into(),
            directive_id: directive.id.clone(),
            starts_on: starts,
            ends_on: ends,
            // Every campaign takes cases while the demo logs them; the first is concluded after.
            status: if status == "concluded" { "active" } else { status }.into(),
            lead_id: members[0].clone(),
            created_by: members[0].clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        write_tx(conn, |x| c.insert(x, &members, std::slice::from_ref(&city.id))).map_err(err)?;
        campaign_rows.push((c, status));
    }

    let mut dice = Dice(24_2023);
    let subjects: Vec<&Unit> = all_units.iter().filter(|u| u.kind != "city").collect();
    // Handling as practice reports it: mostly self-criticism reviews, reprimands and
    // warnings; removal and expulsion rare; a body gets handling, never discipline.
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
    const FOR_BODIES: [&str; 6] = ["self_review", "self_review", "self_review", "criticism", "remediation", "reminder"];
    let mut people: Vec<(String, String, String)> = Vec::new(); // a pool, so some people have several cases
    // Every case is logged and handled through the same operations the API runs, at the
    // moments the story needs, so timelines, audit records and rollups are the real ones.
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
    let failed = |what: &str, e: ApiError| format!("demo {what}: {e}");
    for n in 0..case_count {
        let campaign = &campaign_rows[n % campaign_rows.len()].0;
        let span = (campaign.ends_on.min(date(2024, 9, 20)) - campaign.starts_on).num_days().max(1);
        let detected = campaign.starts_on + Duration::days(dice.below(span as usize) as i64);
        let logged = detected.and_hms_opt(9, 0, 0).expect("time").and_utc() + Duration::days(dice.below(5) as i64);
        let mut subject_unit = *dice.pick(&subjects);
        let individual = dice.below(10) < 7;
        let (person_name, person_position) = if individual {
            if !people.is_empty() && dice.below(4) == 0 {
                // Someone seen before: the same subject, in the same unit.
                let (unit_id, name, pos) = dice.pick(&people).clone();
                subject_unit = subjects.iter().find(|u| u.id == unit_id).copied().unwrap_or(subject_unit);
                (Some(name), Some(pos))
            } else {
                let name = full_name(&mut dice);
                let pos = dice.pick(&POSITIONS).to_string();
                people.push((subject_unit.id.clone(), name.clone(), pos.clone()));
                (Some(name), Some(pos))
            }
        } else {
            (None, None)
        };
        let indicator = dice.pick(&indicators);
        let group = indicator.group_code.parse::<usize>().unwrap_or(1).clamp(1, 3) - 1;
        let title = dice.pick(&TITLES[group]).to_string();
        // Roughly the public proportions: about 40 % handled, some dismissed, the rest in progress.
        let roll = dice.below(100);
        let status = match roll {
            0..=47 => Status::Closed,
            48..=54 => Status::Dismissed,
            55..=71 => Status::InHandling,
            72..=77 => Status::Remediated,
            _ => Status::Open,
        };
        let input = CaseInput {
            campaign_id: Some(campaign.id.clone()),
            subject: Some(SubjectInput {
                kind: Some(if individual { SubjectKind::Individual } else { SubjectKind::Organization }.into()),
                unit_id: Some(subject_unit.id.clone()),
                person_name,
                person_position,
                categories: None,
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
        let act = |conn: &mut DbConn, days: i64, input: TransitionInput| {
            casework::transition(conn, &at(days), &reviewer, &case.id, None, input).map(drop)
        };
        let note = |text: &str| Some(text.to_string());
        if status != Status::Open && status != Status::Dismissed {
            let responsible = subject_unit.parent_id.clone().unwrap_or(subject_unit.id.clone());
            let due = (logged + Duration::days(20 + dice.below(60) as i64)).to_rfc3339();
            let accept = TransitionInput {
                action: Some("accept".into()),
                responsible_unit_id: Some(responsible),
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
                let decided = (logged + Duration::days(30)).date_naive().min(date(2024, 9, 20)).max(detected);
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
    }
    for (c, status) in &campaign_rows {
        if *status == "concluded" {
            diesel::update(campaigns::table.find(&c.id))
                .set(campaigns::status.eq("concluded"))
                .execute(conn)
                .map_err(err)?;
        }
    }

    let logins = vec![
        ("thanhtra1".to_string(), "inspector".to_string()),
        ("ubkt.thanhpho".to_string(), "reviewer, city".to_string()),
        ("ubkt.ba-dinh".to_string(), "reviewer, Ba Đình".to_string()),
        ("truong.ba-dinh".to_string(), "unit head, Ba Đình".to_string()),
    ];
    Ok(DemoSummary { units: all_units.len(), cases: case_count, password, logins })
}

//! `casetrack demo`: a realistic dataset to try the product on.
//!
//! Hanoi's city, several departments, the 30 districts, a sample of communes,
//! users of every role, three campaigns and about 900 cases over the 25
//! indicators, handled in roughly the public proportions, some overdue.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::api::users::{UserInput, create_user};
use crate::config::Settings;
use crate::db::schema::{cases, units};
use crate::db::{DbConn, write_tx};
use crate::domain::deadline::review_deadline;
use crate::domain::fold::fold;
use crate::domain::role::Role;
use crate::model::campaign::Campaign;
use crate::model::case::{Case, CaseEvent};
use crate::model::directive::{Directive, Indicator};
use crate::model::unit::Unit;
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
const MIDDLE: [&str; 6] = ["Văn", "Thị", "Minh", "Quang", "Thu", "Đức"];
const GIVEN: [&str; 10] = ["An", "Bình", "Cường", "Dũng", "Hà", "Hương", "Lan", "Nam", "Thảo", "Tuấn"];
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
        };
        write_tx(conn, |c| u.insert(c)).map_err(err)?;
        Ok(u)
    };
    let user = |conn: &mut DbConn, username: &str, role: Role, unit: &Unit| {
        let input = UserInput {
            username: username.into(),
            full_name: format!("{username} (demo)"),
            email: Some(format!("{username}@demo.hanoi.gov.vn")),
            role,
            unit_id: Some(unit.id.clone()),
        };
        create_user(conn, &Actor::system(), input, &password, now).map_err(|e| e.to_string())
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
                "commune",
                Some(&parent),
            )?);
        }
    }

    let inspectors: Vec<_> =
        (1..=3).map(|i| user(conn, &format!("thanhtra{i}"), Role::Inspector, &city)).collect::<Result<_, _>>()?;
    user(conn, "ubkt.thanhpho", Role::Reviewer, &city)?;
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
            status: status.into(),
            lead_id: members[0].clone(),
            created_by: members[0].clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        write_tx(conn, |x| c.insert(x, &members, std::slice::from_ref(&city.id))).map_err(err)?;
        campaign_rows.push(c);
    }

    let mut dice = Dice(24_2023);
    let subjects: Vec<&Unit> = all_units.iter().filter(|u| u.kind != "city").collect();
    let measures: Vec<String> = settings.cases.measures.iter().map(|m| m.code.clone()).collect();
    let mut people: Vec<(String, String, String)> = Vec::new(); // a pool, so some people have several cases
    write_tx(conn, |conn| -> Result<(), diesel::result::Error> {
        for n in 0..case_count {
            let campaign = &campaign_rows[n % campaign_rows.len()];
            let span = (campaign.ends_on.min(date(2024, 9, 20)) - campaign.starts_on).num_days().max(1);
            let detected = campaign.starts_on + Duration::days(dice.below(span as usize) as i64);
            let logged = detected.and_hms_opt(9, 0, 0).expect("time") + Duration::days(dice.below(5) as i64);
            let mut subject_unit = *dice.pick(&subjects);
            let individual = dice.below(10) < 7;
            let (person_name, person_position) = if individual {
                if !people.is_empty() && dice.below(4) == 0 {
                    // Someone seen before: the same subject, in the same unit.
                    let (unit_id, name, pos) = dice.pick(&people).clone();
                    subject_unit = subjects.iter().find(|u| u.id == unit_id).copied().unwrap_or(subject_unit);
                    (Some(name), Some(pos))
                } else {
                    let name = format!("{} {} {}", dice.pick(&SURNAMES), dice.pick(&MIDDLE), dice.pick(&GIVEN));
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
                0..=47 => "closed",
                48..=54 => "dismissed",
                55..=71 => "in_handling",
                72..=77 => "remediated",
                _ => "open",
            };
            let responsible =
                (status != "open").then(|| subject_unit.parent_id.clone().unwrap_or(subject_unit.id.clone()));
            let due = (status != "open").then(|| logged + Duration::days(20 + dice.below(60) as i64));
            let mut case = Case {
                id: new_id(),
                number: Case::next_number(conn, chrono::Datelike::year(&logged))?,
                campaign_id: campaign.id.clone(),
                directive_id: directive.id.clone(),
                subject_kind: if individual { "individual" } else { "organization" }.into(),
                subject_unit_id: subject_unit.id.clone(),
                person_name,
                person_position,
                subject_key: String::new(),
                title: format!("{title} tại {}", subject_unit.name),
                description: format!("{} — phát hiện qua đợt \"{}\".", indicator.title, campaign.title),
                detected_on: detected,
                severity: ["low", "medium", "high"][dice.below(3)].into(),
                status: status.into(),
                responsible_unit_id: responsible,
                due_at: due,
                deadline_at: match status {
                    "open" => Some(review_deadline(logged, settings.escalation.review_days)),
                    "in_handling" => due,
                    _ => None,
                },
                decision_measure: (status == "closed").then(|| dice.pick(&measures).clone()),
                decision_decided_on: (status == "closed")
                    .then(|| (logged + Duration::days(30)).date().min(date(2024, 9, 20))),
                decision_reference: (status == "closed").then(|| format!("{}-QĐ/UBKT", 100 + n)),
                closed_at: matches!(status, "closed" | "dismissed").then(|| logged + Duration::days(30)),
                search_text: String::new(),
                created_by: members[n % members.len()].clone(),
                version: 1,
                created_at: logged,
                updated_at: logged,
            };
            case.subject_key = match &case.person_name {
                Some(p) => format!("person:{}:{}", case.subject_unit_id, fold(p)),
                None => format!("org:{}", case.subject_unit_id),
            };
            case.search_text = case.search_text_of(&subject_unit.name);
            case.insert(conn, std::slice::from_ref(&indicator.id))?;
            CaseEvent::record(
                conn,
                &case.id,
                Some(&case.created_by),
                logged,
                "created",
                serde_json::json!({"number": case.number, "demo": true}),
            )?;
        }
        Ok(())
    })
    .map_err(err)?;

    let logins = vec![
        ("thanhtra1".to_string(), "inspector".to_string()),
        ("ubkt.thanhpho".to_string(), "reviewer, city".to_string()),
        ("ubkt.ba-dinh".to_string(), "reviewer, Ba Đình".to_string()),
        ("truong.ba-dinh".to_string(), "unit head, Ba Đình".to_string()),
    ];
    Ok(DemoSummary { units: all_units.len(), cases: case_count, password, logins })
}

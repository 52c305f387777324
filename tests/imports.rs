//! Bringing in the registers agencies already keep: a dry run that lists every problem at
//! once, an import that is all or nothing (or skips the bad rows when asked), a second
//! import of the same file that creates nothing, legacy-encoded text, rows that name
//! units since ended, and reports that count imported cases as logged ones.

mod common;

use std::collections::BTreeSet;

use casetrack::import::columns::columns;
use common::world::World;
use common::{Reply, TestApp, spawn};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A register as rows of cells under the template's headers (columns A…Y).
struct Register {
    rows: Vec<Vec<String>>,
}

impl Register {
    fn new() -> Self {
        Register { rows: Vec::new() }
    }

    /// A row; `cells` names columns by letter ("B" → detected on).
    fn row(&mut self, cells: &[(&str, &str)]) -> usize {
        let mut row = vec![String::new(); columns().len()];
        for (letter, value) in cells {
            let i = letter.bytes().fold(0usize, |n, b| n * 26 + (b - b'A' + 1) as usize) - 1;
            row[i] = value.to_string();
        }
        self.rows.push(row);
        self.rows.len() + 1
    }

    /// Changes one cell of spreadsheet row `line`.
    fn set(&mut self, line: usize, letter: &str, value: &str) {
        let i = letter.bytes().fold(0usize, |n, b| n * 26 + (b - b'A' + 1) as usize) - 1;
        self.rows[line - 2][i] = value.to_string();
    }

    fn headers() -> Vec<String> {
        columns().into_iter().map(|c| c.header).collect()
    }

    fn xlsx(&self) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in Self::headers().iter().enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        for (r, row) in self.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
                let (r, c) = (r as u32 + 1, c as u16);
                // Every seventh detection date as a date cell, as people's sheets mix both.
                match chrono::NaiveDate::parse_from_str(cell, "%d/%m/%Y") {
                    Ok(d) if c == 1 && r % 7 == 0 => sheet.write_datetime_with_format(r, c, d, &date).map(drop),
                    _ => sheet.write_string(r, c, cell).map(drop),
                }
                .unwrap();
            }
        }
        book.save_to_buffer().unwrap()
    }

    fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(Self::headers()).unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }
}

async fn send(app: &TestApp, token: &str, query: &str, name: &str, bytes: Vec<u8>) -> Reply {
    let part = Part::bytes(bytes).file_name(name.to_string());
    let res = app
        .http
        .post(format!("{}/api/v1/imports/cases{query}", app.base))
        .bearer_auth(token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    Reply { status, headers, body }
}

fn count_cases(app: &TestApp) -> i64 {
    use casetrack::db::schema::cases;
    use diesel::prelude::*;
    app.with_conn(|c| cases::table.count().get_result(c)).unwrap()
}

/// (row, column, code) of every problem an answer lists.
fn problems(body: &Value) -> BTreeSet<(i64, String, String)> {
    body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["row"].as_i64().unwrap(),
                p["column"].as_str().unwrap_or("").to_string(),
                p["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const NAMES: [&str; 12] = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Cường",
    "Phạm Minh Đức",
    "Hoàng Thị Hà",
    "Vũ Quang Huy",
    "Đặng Thu Hương",
    "Bùi Văn Khánh",
    "Đỗ Thị Lan",
    "Ngô Đức Mạnh",
    "Dương Thị Ngọc",
    "Lý Văn Phúc",
];

/// A believable register of `n` rows from the third quarter of 2024: people and bodies
/// of Điện Biên, Ba Đình and Cầu Giấy, every status, decisions on the closed ones (a
/// party member who is a civil servant gets both).
fn register(w: &World, n: usize) -> Register {
    let mut reg = Register::new();
    for i in 0..n {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).unwrap() + chrono::Duration::days((i % 80) as i64);
        let found = day.format("%d/%m/%Y").to_string();
        let decided = (day + chrono::Duration::days(5)).format("%d/%m/%Y").to_string();
        let organisation = i % 5 == 4;
        let unit = ["Phường Điện Biên", "BA-DINH", "Quận Cầu Giấy"][i % 3];
        let status = ["Chờ tiếp nhận", "Đang xử lý", "Đã xử lý", "Đã xử lý", "Không vi phạm"][i % 5];
        let reference = format!("UBKT-2024/{i:03}");
        let description = format!("Chậm giải quyết hồ sơ hành chính của công dân, hồ sơ số {i}. Quá hạn 15 ngày.");
        let mut cells: Vec<(&str, String)> = vec![
            ("A", reference),
            ("B", found),
            ("C", w.campaign.title.clone()),
            ("D", if organisation { "Tổ chức" } else { "Cá nhân" }.into()),
            ("H", unit.into()),
            ("I", if i % 4 == 0 { "2.5; 3.1" } else { "2.5" }.into()),
            ("K", description),
            ("L", if i % 3 == 0 { "Nghiêm trọng" } else { "Ít nghiêm trọng" }.into()),
            ("M", status.into()),
        ];
        if !organisation {
            cells.push(("E", NAMES[i % NAMES.len()].into()));
            cells.push(("F", "Chuyên viên".into()));
            cells.push(("G", "Đảng viên chính thức; Công chức".into()));
        }
        if status != "Chờ tiếp nhận" {
            cells.push(("N", "Quận Ba Đình".into()));
        }
        if status == "Đang xử lý" {
            cells.push(("O", "31/10/2024".into()));
        }
        if status == "Đã xử lý" {
            if organisation {
                cells.extend([("P", "Hình thức xử lý khác".into()), ("R", "Phê bình".into())]);
            } else {
                cells.extend([
                    ("P", "Kỷ luật đảng".into()),
                    ("Q", "Ủy ban Kiểm tra Quận ủy Ba Đình".into()),
                    ("R", "Khiển trách".into()),
                    ("S", format!("{i}-QĐ/UBKT")),
                ]);
                if i % 2 == 0 {
                    cells.extend([
                        ("U", "Kỷ luật hành chính".into()),
                        ("V", "Chủ tịch UBND quận Ba Đình".into()),
                        ("W", "Khiển trách".into()),
                        ("X", format!("{i}/QĐ-UBND")),
                        ("Y", decided.clone()),
                    ]);
                }
            }
            cells.push(("T", decided));
        }
        let cells: Vec<(&str, &str)> = cells.iter().map(|(k, v)| (*k, v.as_str())).collect();
        reg.row(&cells);
    }
    reg
}

#[tokio::test]
async fn a_register_is_checked_whole_then_imported_all_or_nothing_and_only_once() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut reg = register(&w, 300);
    // A dozen mistakes as people make them, each on a row of its own.
    let planted: Vec<(usize, &str, &str, &str)> = vec![
        (5, "B", "32/13/2024", "register-date"),
        (17, "B", "01/12/2024", "not-future"),
        (29, "C", "Đợt kiểm tra không có", "no-campaign-named"),
        (41, "D", "Hộ gia đình", "one-of"),
        (53, "E", "", "person-name-needed"),
        (65, "H", "Phường Không Có", "no-unit"),
        (77, "I", "9.9", "no-indicator-code"),
        (89, "L", "Rất rất nặng", "unknown-severity"),
        (101, "M", "Đã xử lý", "status-needs-decision"),
        (113, "N", "", "required"),
        (125, "R", "Khai trừ", "measure-not-for-subject"),
        (137, "T", "01/06/2024", "decision-before-detection"),
    ];
    for (line, col, value, _) in &planted {
        reg.set(*line, col, value);
    }
    // Row 101 is an organisation row turned "closed" with no decision; row 113 a case
    // being handled with no unit; row 125 an organisation given a party member's measure;
    // row 137 a decision dated before the finding.
    for (line, kind, status) in
        [(101, "Tổ chức", "Đã xử lý"), (113, "Cá nhân", "Đang xử lý"), (125, "Tổ chức", "Đã xử lý")]
    {
        reg.set(line, "D", kind);
        reg.set(line, "M", status);
        for col in ["P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "E", "F", "G"] {
            reg.set(line, col, "");
        }
        if kind == "Cá nhân" {
            reg.set(line, "E", "Nguyễn Văn An");
        }
    }
    reg.set(113, "N", "");
    reg.set(125, "P", "Kỷ luật đảng");
    reg.set(125, "R", "Khai trừ");
    reg.set(125, "T", "20/09/2024");
    reg.set(137, "M", "Đã xử lý");
    reg.set(137, "D", "Cá nhân");
    reg.set(137, "E", "Trần Thị Bích");
    reg.set(137, "G", "Đảng viên chính thức");
    reg.set(137, "N", "Quận Ba Đình");
    reg.set(137, "P", "Kỷ luật đảng");
    reg.set(137, "R", "Khiển trách");
    for col in ["U", "V", "W", "X", "Y"] {
        reg.set(137, col, "");
    }
    let file = reg.xlsx();
    let token = &w.city_reviewer.token;

    let dry = send(&app, token, "?dry_run=true", "so-theo-doi-2024.xlsx", file.clone()).await.expect(200);
    let expected: BTreeSet<(i64, String, String)> =
        planted.iter().map(|(l, c, _, code)| (*l as i64, c.to_string(), code.to_string())).collect();
    assert_eq!(problems(&dry.body), expected, "{:#}", dry.body["problems"]);
    let first = dry.body["problems"].as_array().unwrap().iter().find(|p| p["row"] == 77).unwrap();
    assert_eq!(first["text"], "Dòng 77, cột I (Biểu hiện): Không có biểu hiện mã 9.9 trong 24-CT/TU.");
    assert_eq!(dry.body["rows"], 300);
    assert_eq!(dry.body["cases"], 288);
    // Twelve names in three units, and the bodies of those units: each subject once.
    assert_eq!(dry.body["subjects_matched"], 0);
    let new_subjects = dry.body["subjects_new"].as_i64().unwrap();
    assert!((4..=12 * 3 + 3).contains(&new_subjects), "{}", dry.body);
    assert_eq!(count_cases(&app), 0, "a dry run writes nothing");

    // All or nothing: one bad row, nothing imported, the dry run's answer as a problem.
    let refused = send(&app, token, "", "so-theo-doi-2024.xlsx", file.clone()).await.expect(422);
    assert_eq!(refused.body["type"], "urn:casetrack:problem:import-refused");
    assert_eq!(problems(&refused.body), expected);
    assert_eq!(count_cases(&app), 0);

    // The good rows only.
    let done = send(&app, token, "?skip_invalid=true", "so-theo-doi-2024.xlsx", file.clone()).await.expect(201);
    assert_eq!(done.body["cases"], 288);
    let skipped: Vec<i64> = done.body["skipped_rows"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(skipped, planted.iter().map(|p| p.0 as i64).collect::<Vec<_>>());
    assert_eq!(count_cases(&app), 288);
    let id = done.body["id"].as_str().unwrap().to_string();
    let record = app.get(&format!("/api/v1/imports/{id}"), token).await.expect(200).body;
    assert_eq!(record["cases_created"], 288);
    assert_eq!(record["rows_skipped"], 12);
    assert_eq!(record["file_name"], "so-theo-doi-2024.xlsx");
    assert_eq!(record["digest"].as_str().unwrap().len(), 64);

    // A case as imported: its original date, status, decisions, timeline and audit entry.
    let listed = app.get("/api/v1/cases?limit=500", token).await.expect(200).body;
    let items = listed["items"].as_array().unwrap();
    let closed = items
        .iter()
        .find(|c| c["status"] == "closed" && c["subject"]["person_name"] == "Lê Hoàng Cường")
        .expect("a closed case about a person");
    let case_id = closed["id"].as_str().unwrap();
    let decisions = app.get(&format!("/api/v1/cases/{case_id}/decisions"), token).await.expect(200).body;
    let systems: BTreeSet<&str> =
        decisions["items"].as_array().unwrap().iter().map(|d| d["system"].as_str().unwrap()).collect();
    assert!(systems.contains("party"), "{decisions}");
    let events = app.get(&format!("/api/v1/cases/{case_id}/events"), token).await.expect(200).body;
    let imported = &events["items"][0];
    assert_eq!(imported["kind"], "imported");
    assert_eq!(imported["detail"]["file_name"], "so-theo-doi-2024.xlsx");
    let audit = app.get(&format!("/api/v1/audit?entity_id={case_id}"), &w.admin.token).await.expect(200).body;
    assert_eq!(audit["items"][0]["action"], "import");

    // A later register about the same people finds them on record.
    let mut later = register(&w, 3);
    for line in 2..=4 {
        later.set(line, "A", &format!("UBKT-2024/MOI-{line}"));
    }
    let r = send(&app, token, "?dry_run=true", "bo-sung.xlsx", later.xlsx()).await.expect(200);
    assert_eq!(
        (r.body["subjects_new"].as_i64(), r.body["subjects_matched"].as_i64()),
        (Some(0), Some(3)),
        "{}",
        r.body
    );

    // The same file again: nothing new, every good row reported as imported before.
    let again = send(&app, token, "?skip_invalid=true", "so-theo-doi-2024.xlsx", file).await.expect(201);
    assert_eq!(again.body["cases"], 0);
    assert_eq!(again.body["already_imported"].as_array().unwrap().len(), 288);
    assert_eq!(count_cases(&app), 288);
    let listed = app.get("/api/v1/imports", token).await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn who_may_import_what() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut reg = Register::new();
    let base = [
        ("B", "20/09/2024"),
        ("C", w.campaign.title.as_str()),
        ("D", "Cá nhân"),
        ("E", "Nguyễn Văn An"),
        ("I", "2.5"),
        ("K", "Chậm giải quyết hồ sơ."),
        ("L", "Nghiêm trọng"),
        ("M", "Chờ tiếp nhận"),
    ];
    let mut in_ba_dinh = base.to_vec();
    in_ba_dinh.push(("H", "Phường Điện Biên"));
    let mut in_cau_giay = base.to_vec();
    in_cau_giay.push(("H", "Quận Cầu Giấy"));
    reg.row(&in_ba_dinh);
    reg.row(&in_cau_giay);
    let file = reg.csv().into_bytes();
    // A reviewer of Ba Đình: the Cầu Giấy row lies outside their scope.
    let r = send(&app, &w.ba_dinh_reviewer.token, "?dry_run=true", "r.csv", file.clone()).await.expect(200);
    assert_eq!(problems(&r.body), BTreeSet::from([(3, "H".to_string(), "outside-scope".to_string())]));
    // The city's reviewer and an administrator may import both; inspectors and heads not at all.
    send(&app, &w.city_reviewer.token, "?dry_run=true", "r.csv", file.clone()).await.expect(200);
    let r = send(&app, &w.admin.token, "?dry_run=true", "r.csv", file.clone()).await.expect(200);
    assert_eq!(r.body["cases"], 2);
    send(&app, &w.inspector.token, "?dry_run=true", "r.csv", file.clone()).await.expect(403);
    send(&app, &w.ba_dinh_head.token, "?dry_run=true", "r.csv", file).await.expect(403);
    // The template, for those who import.
    let t =
        app.http.get(format!("{}/api/v1/imports/cases/template.xlsx", app.base)).bearer_auth(&w.city_reviewer.token);
    let t = t.send().await.unwrap();
    assert_eq!(t.status(), 200);
    let bytes = t.bytes().await.unwrap();
    use calamine::Reader;
    let book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), ["Sổ theo dõi", "Hướng dẫn", "Danh mục"]);
    // A reviewer sees their own imports only; another's is not found.
    let r = app.get("/api/v1/imports", &w.ba_dinh_reviewer.token).await.expect(200).body;
    assert_eq!(r["items"], json!([]));
}

#[tokio::test]
async fn files_that_are_no_register_are_refused_and_change_nothing() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let token = &w.city_reviewer.token;
    for (name, bytes, code) in [
        ("a.pdf", b"%PDF-1.4 not a sheet".to_vec(), "not-a-register"),
        ("empty.csv", b"".to_vec(), "file-empty"),
        ("b.xlsx", b"PK\x03\x04 broken".to_vec(), "not-a-register"),
        ("c.csv", "Ghi chú,Họ tên\nx,y\n".as_bytes().to_vec(), "unknown-column"),
    ] {
        let r = send(&app, token, "", name, bytes).await.expect(422);
        let codes: BTreeSet<String> = problems(&r.body).into_iter().map(|p| p.2).collect();
        assert!(codes.contains(code), "{name}: {}", r.body);
    }
    assert_eq!(count_cases(&app), 0);
}

/// `text` in TCVN3 (ABC) bytes, as a CSV saved from a .VnTime sheet holds it.
fn tcvn3(text: &str) -> Vec<u8> {
    use casetrack::import::legacy::from_tcvn3;
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                return c as u8;
            }
            (0xA1u8..=0xFF)
                .find(|b| from_tcvn3(&char::from(*b).to_string()) == c.to_string())
                .unwrap_or_else(|| panic!("{c} has no TCVN3 byte"))
        })
        .collect()
}

#[tokio::test]
async fn a_register_typed_in_tcvn3_is_converted_to_unicode() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut reg = Register::new();
    reg.row(&[
        ("A", "HS-01"),
        ("B", "20/09/2024"),
        ("C", "kiểm tra công vụ quý iii/2024"),
        ("D", "cá nhân"),
        ("E", "Nguyễn Văn Bình"),
        ("H", "Phường Điện Biên"),
        ("I", "2.5"),
        ("K", "Chậm giải quyết hồ sơ đất đai của công dân."),
        ("L", "nghiêm trọng"),
        ("M", "chờ tiếp nhận"),
    ]);
    let bytes = tcvn3(&reg.csv());
    assert!(std::str::from_utf8(&bytes).is_err(), "legacy bytes, not UTF-8");
    let r = send(&app, &w.city_reviewer.token, "", "tcvn3.csv", bytes).await.expect(201);
    assert_eq!(r.body["converted_from"], "TCVN3 (ABC, .VnTime)");
    let listed = app.get("/api/v1/cases", &w.city_reviewer.token).await.expect(200).body;
    let case = &listed["items"][0];
    assert_eq!(case["subject"]["person_name"], "Nguyễn Văn Bình");
    assert_eq!(case["description"], "Chậm giải quyết hồ sơ đất đai của công dân.");
}

#[tokio::test]
async fn rows_naming_ended_units_go_to_those_units_as_they_were() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let merge = json!({
        "effective_on": "2024-09-01",
        "basis": {"reference": "1656/NQ-UBTVQH15", "issued_on": "2024-08-20", "title": "Nghị quyết sắp xếp đơn vị hành chính"},
        "steps": [{"op": "merge", "from": ["BD-DIEN-BIEN"], "to": {"code": "P-BA-DINH", "name": "Phường Ba Đình", "kind": "ward", "parent": "BA-DINH"}}],
    });
    app.post("/api/v1/reorganisations", Some(&w.admin.token), merge).await.expect(201);
    let mut reg = Register::new();
    let row = |found: &'static str| {
        vec![
            ("B", found),
            ("C", "Kiểm tra công vụ quý III/2024"),
            ("D", "Tổ chức"),
            ("H", "Phường Điện Biên"),
            ("I", "2.5"),
            ("K", "Không niêm yết thủ tục hành chính."),
            ("L", "Ít nghiêm trọng"),
            ("M", "Không vi phạm"),
            ("N", "Quận Ba Đình"),
        ]
    };
    reg.row(&row("15/08/2024"));
    reg.row(&row("20/09/2024"));
    let token = &w.city_reviewer.token;
    let r = send(&app, token, "?dry_run=true", "cu.csv", reg.csv().into_bytes()).await.expect(200);
    // Found before the merge: Điện Biên as it was; after it, the ward no longer existed.
    assert_eq!(problems(&r.body), BTreeSet::from([(3, "H".to_string(), "unit-gone-on".to_string())]), "{}", r.body);
    let r = send(&app, token, "?skip_invalid=true", "cu.csv", reg.csv().into_bytes()).await.expect(201);
    assert_eq!(r.body["cases"], 1);
    let listed = app.get("/api/v1/cases", token).await.expect(200).body;
    assert_eq!(listed["items"][0]["subject"]["unit_id"], json!(w.dien_bien.id));
}

/// The same cases logged one by one through the API, as `register` rows describe them.
async fn log_one_by_one(app: &TestApp, w: &World) {
    let indicator = w.indicator("2.5").id.clone();
    let cases: [(&str, &str, &str); 4] = [
        ("Nguyễn Văn An", "2024-09-20", "open"),
        ("Trần Thị Bích", "2024-09-21", "in_handling"),
        ("Lê Hoàng Cường", "2024-09-22", "closed"),
        ("Phạm Minh Đức", "2024-09-23", "dismissed"),
    ];
    for (name, day, status) in cases {
        let body = json!({
            "campaign_id": w.campaign.id,
            "subject": {"kind": "individual", "unit_id": w.dien_bien.id, "person_name": name,
                        "person_position": "Chuyên viên", "categories": ["party_member", "civil_servant"]},
            "indicator_ids": [indicator], "title": "Chậm giải quyết hồ sơ",
            "description": "Chậm giải quyết hồ sơ. Quá hạn.", "detected_on": day, "severity": "serious",
        });
        let case = app.post("/api/v1/cases", Some(&w.inspector.token), body).await.expect(201).body;
        let actions: Vec<Value> = match status {
            "in_handling" => {
                vec![json!({"action": "accept", "responsible_unit_id": w.ba_dinh.id, "due_at": "2024-10-31"})]
            }
            "closed" => vec![
                json!({"action": "accept", "responsible_unit_id": w.ba_dinh.id, "due_at": "2024-10-31"}),
                json!({"action": "close", "decision": {"system": "party", "measure": "party_reprimand", "decided_on": "2024-09-24"}}),
            ],
            "dismissed" => vec![json!({"action": "dismiss", "note": "Không vi phạm"})],
            _ => vec![],
        };
        for a in actions {
            w.act(app, &w.city_reviewer, &case, a).await.expect(200);
        }
    }
}

#[tokio::test]
async fn reports_count_imported_cases_as_the_same_cases_logged() {
    let logged = spawn().await;
    let wl = World::new(&logged).await;
    log_one_by_one(&logged, &wl).await;

    let imported = spawn().await;
    let wi = World::new(&imported).await;
    let mut reg = Register::new();
    for (name, day, status) in [
        ("Nguyễn Văn An", "20/09/2024", "Chờ tiếp nhận"),
        ("Trần Thị Bích", "21/09/2024", "Đang xử lý"),
        ("Lê Hoàng Cường", "22/09/2024", "Đã xử lý"),
        ("Phạm Minh Đức", "23/09/2024", "Không vi phạm"),
    ] {
        let mut cells = vec![
            ("B", day),
            ("C", "Kiểm tra công vụ quý III/2024"),
            ("D", "Cá nhân"),
            ("E", name),
            ("F", "Chuyên viên"),
            ("G", "Đảng viên chính thức; Công chức"),
            ("H", "BD-DIEN-BIEN"),
            ("I", "2.5"),
            ("K", "Chậm giải quyết hồ sơ. Quá hạn."),
            ("L", "Nghiêm trọng"),
            ("M", status),
        ];
        if status != "Chờ tiếp nhận" {
            cells.push(("N", "Quận Ba Đình"));
        }
        if status == "Đang xử lý" {
            cells.push(("O", "31/10/2024"));
        }
        if status == "Đã xử lý" {
            cells.extend([("P", "Kỷ luật đảng"), ("R", "Khiển trách"), ("T", "24/09/2024")]);
        }
        reg.row(&cells);
    }
    send(&imported, &wi.city_reviewer.token, "", "so.xlsx", reg.xlsx()).await.expect(201);

    let period = "/api/v1/reports/summary?from=2024-07-01&to=2024-09-30";
    let a = logged.get(period, &wl.city_reviewer.token).await.expect(200).body;
    let b = imported.get(period, &wi.city_reviewer.token).await.expect(200).body;
    // The two databases give their catalogs their own ids; everything else is the same.
    fn without_ids(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| *k != "id" && !k.ends_with("_id"))
                    .map(|(k, v)| (k.clone(), without_ids(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(without_ids).collect()),
            other => other.clone(),
        }
    }
    for key in ["cases", "subjects", "handling_rate", "by_indicator", "by_measure", "decisions"] {
        assert_eq!(without_ids(&a[key]), without_ids(&b[key]), "{key}");
    }
    let units = |r: &Value| -> Vec<(Value, Value)> {
        r["by_unit"].as_array().unwrap().iter().map(|u| (u["code"].clone(), u["detected"].clone())).collect()
    };
    assert_eq!(units(&a), units(&b));
    // Dismissed as no violation: not among those detected, in either.
    assert_eq!(a["cases"]["detected"], 3);
}

/// The value of hidden field `name` on a page.
fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("no field {name}")) + key.len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_console_previews_a_register_and_imports_the_valid_rows() {
    use common::visitor::Visitor;
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut reg = Register::new();
    let good = [
        ("A", "HS-09"),
        ("B", "20/09/2024"),
        ("C", "Kiểm tra công vụ quý III/2024"),
        ("D", "Cá nhân"),
        ("E", "Nguyễn Văn An"),
        ("H", "Phường Điện Biên"),
        ("I", "2.5"),
        ("K", "Chậm giải quyết hồ sơ."),
        ("L", "Nghiêm trọng"),
        ("M", "Chờ tiếp nhận"),
    ];
    reg.row(&good);
    let mut bad = good.to_vec();
    bad[0] = ("A", "HS-10");
    bad[5] = ("H", "Phường Không Có");
    reg.row(&bad);

    let inspector = Visitor::signed_in(&app, "thanhtra1").await;
    inspector.get("/imports").await.expect(403);
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let page = v.get("/imports").await;
    page.expect(200).contains("Nhập sổ theo dõi từ tệp").contains("/imports/template.xlsx");
    let template = v.get("/imports/template.xlsx").await;
    template.expect(200);
    assert!(template.header("content-type").unwrap().contains("spreadsheetml"));

    let csrf = page.csrf();
    let part = reqwest::multipart::Part::bytes(reg.csv().into_bytes()).file_name("so-theo-doi.csv");
    let form = reqwest::multipart::Form::new().text("_csrf", csrf.clone()).part("file", part);
    let preview = v.post_multipart("/imports/preview", form).await;
    preview
        .expect(200)
        .contains("Có 1 lỗi ở 1 dòng")
        .contains("<mark class=\"bad-cell\">H3</mark>")
        .contains("Không có đơn vị này.")
        .contains("Chỉ nhập 1 dòng hợp lệ");
    assert_eq!(count_cases(&app), 0, "a preview writes nothing");

    let digest = hidden(&preview.html, "digest");
    let fields =
        [("_csrf", csrf.as_str()), ("digest", &digest), ("file_name", "so-theo-doi.csv"), ("skip_invalid", "true")];
    let done = v.post("/imports/apply", &fields).await;
    done.expect(200).contains("Đã nhập tệp so-theo-doi.csv.").contains("1 dòng có lỗi không được nhập.");
    assert_eq!(count_cases(&app), 1);
    // The file was used up: confirming again asks for it again and imports nothing.
    v.post("/imports/apply", &fields).await.expect(422).contains("đề nghị chọn tệp và kiểm tra lại");
    assert_eq!(count_cases(&app), 1);
    // A digest that is no digest names no file.
    let forged = [("_csrf", csrf.as_str()), ("digest", "../../etc/passwd"), ("file_name", "x")];
    assert_ne!(v.post("/imports/apply", &forged).await.status.as_u16(), 200);

    // The case's timeline says where it came from; the page lists the import.
    let listed = app.get("/api/v1/cases", &w.city_reviewer.token).await.expect(200).body;
    let case_page = v.get(&format!("/cases/{}", listed["items"][0]["id"].as_str().unwrap())).await;
    case_page.expect(200).contains("Nhập từ tệp so-theo-doi.csv, dòng 2");
    v.get("/imports").await.expect(200).contains("Các lần nhập trước").contains("so-theo-doi.csv");
}

#[tokio::test]
async fn operators_import_from_the_command_line_with_progress() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut reg = Register::new();
    let good = [
        ("A", "HS-21"),
        ("B", "20/09/2024"),
        ("C", w.campaign.title.as_str()),
        ("D", "Tổ chức"),
        ("H", "CAU-GIAY"),
        ("I", "2.5"),
        ("K", "Không công khai thủ tục hành chính."),
        ("L", "Ít nghiêm trọng"),
        ("M", "Chờ tiếp nhận"),
    ];
    reg.row(&good);
    let mut bad = good.to_vec();
    bad[0] = ("A", "HS-22");
    bad[4] = ("H", "Phường Không Có");
    reg.row(&bad);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("so-theo-doi.xlsx");
    std::fs::write(&file, reg.xlsx()).unwrap();
    let run_as = |who: &str, extra: &[&str]| {
        let mut cmd = common::binary::casetrack(&app.db, dir.path());
        cmd.args(["import", "cases", file.to_str().unwrap(), "--as", who]).args(extra);
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let run = |extra: &[&str]| run_as("ubkt.thanhpho", extra);
    let (ok, said, progress) = run(&["--dry-run"]);
    assert!(!ok, "a problem is a failure: {said}");
    assert!(said.contains("Row 3, column H (Đơn vị): There is no such unit."), "{said}");
    assert!(said.contains("Would create: 1 case(s)"), "{said}");
    assert!(progress.contains("checking: 2/2 rows"), "plain progress lines off a terminal: {progress}");
    assert_eq!(count_cases(&app), 0);
    let (ok, said, why) = run(&[]);
    assert!(!ok, "{said}");
    assert!(why.contains("nothing imported: 1 problem(s) in the file"), "{why}");
    assert_eq!(count_cases(&app), 0, "all or nothing");
    let (ok, said, _) = run(&["--skip-invalid"]);
    assert!(ok, "{said}");
    assert!(said.contains("Created: 1 case(s)") && said.contains("1 row(s) skipped"), "{said}");
    assert_eq!(count_cases(&app), 1);
    let (ok, said, why) = run_as("thanhtra1", &["--dry-run"]);
    assert!(!ok, "an inspector may not import: {said}");
    assert!(why.to_lowercase().contains("role"), "{why}");
}

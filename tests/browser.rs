//! The console in a real Chromium, driven through chromedriver: one pass through a case's
//! life by each role, with axe-core checking the main pages for accessibility.
//!
//! Needs Debian's `chromium` and `chromium-driver`, so it is left out of a plain
//! `cargo test`; `.ci/run` runs it with `cargo test --test browser -- --ignored`, and there
//! a missing browser is a failure, never a skip. Screenshots of every step (and the step
//! that failed) are kept under `target/browser/`.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{KillOnDrop, free_port};
use common::world::World;
use common::{PASSWORD, spawn};
use serde_json::Value;
use thirtyfour::prelude::*;
use thirtyfour::{ChromiumLikeCapabilities, DesiredCapabilities};

const AXE: &str = include_str!("assets/axe-core/axe.min.js");

type Step = Result<(), String>;

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&dir).expect("target/browser can be made");
    dir
}

/// chromedriver on a port of its own, for as long as the test runs.
async fn chromedriver() -> (KillOnDrop, String) {
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver} ({e}): install Debian's chromium and chromium-driver"));
    let guard = KillOnDrop(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (guard, url)
}

async fn browser(driver_url: &str) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    let binary = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    caps.set_binary(&binary).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--lang=vi",
        "--window-size=1366,900",
    ] {
        caps.add_arg(arg).unwrap();
    }
    let driver = WebDriver::new(driver_url, caps).await.expect("a Chromium session starts");
    driver.set_script_timeout(Duration::from_secs(30)).await.unwrap();
    driver
}

/// Runs one step; saves a screenshot of how it ended and fails the test (with the
/// screenshot's path) when it did not go as expected.
async fn step(d: &WebDriver, name: &str, f: impl std::future::Future<Output = Step>) {
    let started = Instant::now();
    let outcome = f.await;
    eprintln!("browser step {name}: {:?}", started.elapsed());
    let shot = shots_dir().join(format!("{name}{}.png", if outcome.is_err() { "-FAILED" } else { "" }));
    let _ = d.screenshot(&shot).await;
    if let Err(why) = outcome {
        let url = d.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        panic!("step {name} failed at {url}: {why} (screenshot: {})", shot.display());
    }
}

fn e(err: WebDriverError) -> String {
    err.to_string()
}

/// Waits (up to 10 s, as a page loads after a click) for the page to show `text`.
async fn page_has(d: &WebDriver, text: &str) -> Step {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The page may be replaced while it is read: read it again.
        let body = match d.find(By::Tag("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if body.contains(text) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("page lacks {text:?}: {body}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(d: &WebDriver, username: &str) -> Step {
    // Polled, not found at once: after a sign-out the sign-in page may still be loading.
    d.query(By::Id("username")).first().await.map_err(e)?.send_keys(username).await.map_err(e)?;
    d.find(By::Id("password")).await.map_err(e)?.send_keys(PASSWORD).await.map_err(e)?;
    let submit = By::Css("form[action='/sign-in'] button[type=submit]");
    d.find(submit.clone()).await.map_err(e)?.click().await.map_err(e)?;
    // A click that lands while the page is still settling can be lost: wait for the
    // sign-in form to go, and press again if it stays.
    for attempt in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        match d.find_all(submit.clone()).await.map_err(e)?.first() {
            None => return Ok(()),
            Some(button) if attempt % 10 == 9 => button.click().await.map_err(e)?,
            Some(_) => {}
        }
    }
    Err(format!("still on the sign-in page after signing in as {username}"))
}

/// Waits (up to 10 s) until the browser is at `url`.
async fn wait_for_url(d: &WebDriver, url: &str) -> Step {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = d.current_url().await.map_err(e)?.to_string();
        if now == url {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("expected to be at {url}, still at {now}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_out(d: &WebDriver) -> Step {
    d.find(By::Css("form[action='/sign-out'] button")).await.map_err(e)?.click().await.map_err(e)
}

/// Ticks an indicator of group 2 in the log form, opening its group first.
async fn tick_indicator(d: &WebDriver, id: &str) -> Step {
    open_action(d, "2. Đùn đẩy, né tránh, sợ trách nhiệm trong giải quyết công việc").await.ok();
    d.find(By::Css(format!("input[name=indicator_ids][value='{id}']"))).await.map_err(e)?.click().await.map_err(e)
}

/// Sets a date field's value as the date picker would (its typed form depends on the locale).
async fn set_date(d: &WebDriver, css: &str, date: &str) -> Step {
    let script = "document.querySelector(arguments[0]).value = arguments[1];";
    d.execute(script, vec![Value::from(css), Value::from(date)]).await.map_err(e).map(drop)
}

/// axe-core on the current page: no serious or critical finding.
async fn accessible(d: &WebDriver) -> Step {
    d.execute(AXE, Vec::<Value>::new()).await.map_err(e)?;
    let run = r#"const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.id + ': ' + v.help + ' @ ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
          .catch(err => done(['axe failed: ' + err]));"#;
    let found: Vec<String> = d.execute_async(run, Vec::<Value>::new()).await.map_err(e)?.convert().map_err(e)?;
    if found.is_empty() { Ok(()) } else { Err(format!("accessibility findings: {found:#?}")) }
}

/// Opens the folded form (or group) labelled `label`, waiting for the page to offer it.
async fn open_action(d: &WebDriver, label: &str) -> Step {
    page_has(d, label).await.map_err(|_| format!("no {label:?} offered"))?;
    for summary in d.find_all(By::Css("details > summary")).await.map_err(e)? {
        if summary.text().await.map_err(e)? == label {
            return summary.click().await.map_err(e);
        }
    }
    Err(format!("no {label:?} to open"))
}

async fn submit_open_action(d: &WebDriver) -> Step {
    d.find(By::Css("details[open] button.primary")).await.map_err(e)?.click().await.map_err(e)
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver; .ci/run runs it with --ignored"]
async fn a_case_from_logging_to_conclusion_in_the_browser() {
    let t = Instant::now();
    // Screenshots are this run's only: a FAILED one left from an earlier run would mislead.
    for old in std::fs::read_dir(shots_dir()).unwrap().flatten() {
        if old.path().extension().is_some_and(|e| e == "png") {
            let _ = std::fs::remove_file(old.path());
        }
    }
    let (_chromedriver, driver_url) = chromedriver().await;
    eprintln!("chromedriver up: {:?}", t.elapsed());
    let app = spawn().await;
    let w = World::new(&app).await;
    eprintln!("app up: {:?}", t.elapsed());
    let d = browser(&driver_url).await;
    eprintln!("browser up: {:?}", t.elapsed());
    let evidence = shots_dir().join("bien-ban.pdf");
    std::fs::write(&evidence, b"%PDF-1.4 bien ban kiem tra").unwrap();

    // The inspector signs in and logs a case with evidence.
    step(&d, "01-inspector-sign-in", async {
        d.goto(format!("{}/", app.base)).await.map_err(e)?;
        accessible(&d).await?;
        sign_in(&d, "thanhtra1").await?;
        page_has(&d, "Việc của tôi").await?;
        accessible(&d).await
    })
    .await;
    step(&d, "02-inspector-logs-case", async {
        d.find(By::Css(".campaigns a.button")).await.map_err(e)?.click().await.map_err(e)?;
        d.find(By::Id("unit-search")).await.map_err(e)?.send_keys("dien bien").await.map_err(e)?;
        let option =
            d.find(By::Css(format!("#subject_unit_id option[value='{}']", w.dien_bien.id))).await.map_err(e)?;
        if option.attr("hidden").await.map_err(e)?.is_some() {
            return Err("the unit search hid the unit it should find".into());
        }
        let other = d.find(By::Css(format!("#subject_unit_id option[value='{}']", w.cau_giay.id))).await.map_err(e)?;
        if other.attr("hidden").await.map_err(e)?.is_none() {
            return Err("the unit search kept a unit that does not match".into());
        }
        option.click().await.map_err(e)?;
        d.find(By::Css("input[name=subject_kind][value=individual]")).await.map_err(e)?.click().await.map_err(e)?;
        d.find(By::Id("person_name")).await.map_err(e)?.send_keys("Nguyễn Văn Bình").await.map_err(e)?;
        let indicator = w.indicator("2.5").id.clone();
        tick_indicator(&d, &indicator).await?;
        set_date(&d, "#detected_on", "2024-09-20").await?;
        d.find(By::Id("title")).await.map_err(e)?.send_keys("Giữ hồ sơ quá hạn 30 ngày").await.map_err(e)?;
        d.find(By::Id("description"))
            .await
            .map_err(e)?
            .send_keys("Hồ sơ giải ngân bị giữ quá hạn.")
            .await
            .map_err(e)?;
        d.find(By::Id("files")).await.map_err(e)?.send_keys(evidence.display().to_string()).await.map_err(e)?;
        accessible(&d).await?;
        d.find(By::Css("form.case-form button.primary")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Giữ hồ sơ quá hạn 30 ngày").await?;
        page_has(&d, "bien-ban.pdf").await?;
        page_has(&d, "Chờ tiếp nhận").await?;
        accessible(&d).await?;
        sign_out(&d).await
    })
    .await;
    let case_url = {
        let listed = app.get("/api/v1/cases", &w.city_reviewer.token).await.body;
        format!("{}/cases/{}", app.base, listed["items"][0]["id"].as_str().expect("the case was logged"))
    };

    // The reviewer accepts it from the queue.
    step(&d, "03-reviewer-accepts", async {
        sign_in(&d, "ubkt.thanhpho").await?;
        page_has(&d, "Vụ việc chờ xử lý").await?;
        accessible(&d).await?;
        d.find(By::Css("table.cases a")).await.map_err(e)?.click().await.map_err(e)?;
        open_action(&d, "Tiếp nhận").await?;
        let unit = d.find(By::Css("details[open] select[name=responsible_unit_id]")).await.map_err(e)?;
        thirtyfour::components::SelectElement::new(&unit)
            .await
            .map_err(e)?
            .select_by_value(&w.ba_dinh.id)
            .await
            .map_err(e)?;
        set_date(&d, "details[open] input[name=due_at]", "2024-10-31").await?;
        submit_open_action(&d).await?;
        page_has(&d, "Đang xử lý").await?;
        page_has(&d, "31/10/2024").await?;
        sign_out(&d).await
    })
    .await;

    // The unit head follows the alert email's link on a phone, signs in, reports remediation.
    step(&d, "04-unit-head-on-a-phone", async {
        d.set_window_rect(0, 0, 390, 844).await.map_err(e)?;
        d.goto(&case_url).await.map_err(e)?;
        page_has(&d, "Đăng nhập").await?;
        sign_in(&d, "truong.badinh").await?;
        wait_for_url(&d, &case_url).await?;
        accessible(&d).await?;
        open_action(&d, "Báo cáo khắc phục").await?;
        d.find(By::Css("details[open] textarea[name=note]"))
            .await
            .map_err(e)?
            .send_keys("Đã trả hồ sơ, kiểm điểm cán bộ.")
            .await
            .map_err(e)?;
        submit_open_action(&d).await?;
        page_has(&d, "Đã khắc phục").await?;
        let width: i64 = d
            .execute("return document.documentElement.scrollWidth;", Vec::<Value>::new())
            .await
            .map_err(e)?
            .convert()
            .map_err(e)?;
        if width > 390 {
            return Err(format!("the page is {width} px wide on a 390 px screen"));
        }
        let _ = d.screenshot(&shots_dir().join("04-unit-head-case-at-390px.png")).await;
        sign_out(&d).await
    })
    .await;

    // The reviewer concludes it with a decision.
    step(&d, "05-reviewer-concludes", async {
        d.set_window_rect(0, 0, 1366, 900).await.map_err(e)?;
        d.goto(&case_url).await.map_err(e)?;
        sign_in(&d, "ubkt.thanhpho").await?;
        open_action(&d, "Kết luận").await?;
        let measure = d.find(By::Css("details[open] select[name=measure]")).await.map_err(e)?;
        thirtyfour::components::SelectElement::new(&measure)
            .await
            .map_err(e)?
            .select_by_value("party_reprimand")
            .await
            .map_err(e)?;
        set_date(&d, "details[open] input[name=decided_on]", "2024-09-25").await?;
        submit_open_action(&d).await?;
        page_has(&d, "Đã xử lý").await?;
        page_has(&d, "Kỷ luật đảng: Khiển trách").await?;
        accessible(&d).await
    })
    .await;

    // Then the state decision on the same person, beside the party's.
    step(&d, "05b-reviewer-records-the-state-decision", async {
        open_action(&d, "Ghi nhận quyết định xử lý").await?;
        let measure = d.find(By::Css("details[open] select[name=measure]")).await.map_err(e)?;
        thirtyfour::components::SelectElement::new(&measure)
            .await
            .map_err(e)?
            .select_by_value("state_warning")
            .await
            .map_err(e)?;
        d.find(By::Css("details[open] input[name=authority]"))
            .await
            .map_err(e)?
            .send_keys("Chủ tịch UBND phường")
            .await
            .map_err(e)?;
        set_date(&d, "details[open] input[name=decided_on]", "2024-09-25").await?;
        submit_open_action(&d).await?;
        page_has(&d, "Kỷ luật hành chính: Cảnh cáo").await?;
        page_has(&d, "Kỷ luật đảng: Khiển trách").await?;
        let _ = d.screenshot(&shots_dir().join("05b-two-decisions-at-1366px.png")).await;
        accessible(&d).await
    })
    .await;

    // The report counts the case as handled, in the words officials quote.
    step(&d, "06-reviewer-reads-the-report", async {
        d.find(By::LinkText("Báo cáo")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Phát hiện 1 tổ chức, cá nhân có vi phạm; đã xử lý 1 tổ chức, cá nhân (100,0%).").await?;
        accessible(&d).await
    })
    .await;
    // The same official is found again: the form shows the record as the name is typed,
    // the reviewer sees the repeat, and the report counts the person once.
    step(&d, "06b-a-repeat-violation", async {
        sign_out(&d).await?;
        sign_in(&d, "thanhtra1").await?;
        d.find(By::Css(".campaigns a.button")).await.map_err(e)?.click().await.map_err(e)?;
        d.find(By::Css(format!("#subject_unit_id option[value='{}']", w.dien_bien.id)))
            .await
            .map_err(e)?
            .click()
            .await
            .map_err(e)?;
        d.find(By::Css("input[name=subject_kind][value=individual]")).await.map_err(e)?.click().await.map_err(e)?;
        d.find(By::Id("person_name")).await.map_err(e)?.send_keys("Nguyễn Văn Bình").await.map_err(e)?;
        page_has(&d, "Phường Điện Biên: Đã có 1 vụ việc, lần gần nhất cảnh cáo 09/2024").await?;
        let _ = d.screenshot(&shots_dir().join("06b-the-form-knows-the-official.png")).await;
        let indicator = w.indicator("2.6").id.clone();
        tick_indicator(&d, &indicator).await?;
        set_date(&d, "#detected_on", "2024-09-24").await?;
        d.find(By::Id("title")).await.map_err(e)?.send_keys("Tiếp tục chậm trả hồ sơ").await.map_err(e)?;
        d.find(By::Id("description")).await.map_err(e)?.send_keys("Lại giữ hồ sơ quá hạn.").await.map_err(e)?;
        d.find(By::Css("form.case-form button.primary")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Tiếp tục chậm trả hồ sơ").await?;
        sign_out(&d).await?;
        sign_in(&d, "ubkt.thanhpho").await?;
        d.find(By::LinkText("Vụ việc")).await.map_err(e)?.click().await.map_err(e)?;
        d.find(By::LinkText("Tiếp tục chậm trả hồ sơ")).await.ok();
        let repeat = app.get("/api/v1/cases?repeat=true", &w.city_reviewer.token).await.body;
        let id = repeat["items"][0]["id"].as_str().ok_or("the repeat is listed")?.to_string();
        d.goto(&format!("{}/cases/{id}", app.base)).await.map_err(e)?;
        page_has(&d, "Tái phạm: 1 vụ việc trước, lần gần nhất cảnh cáo 09/2024").await?;
        accessible(&d).await?;
        d.find(By::LinkText("Báo cáo")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Phát hiện 1 tổ chức, cá nhân có vi phạm").await?;
        page_has(&d, "Trong đó tái phạm: 1 tổ chức, cá nhân").await?;
        accessible(&d).await?;
        // The official's record, on a phone, and the catalogs the reviewer decides by.
        d.set_window_rect(0, 0, 390, 844).await.map_err(e)?;
        let subject = repeat["items"][0]["subject"]["id"].as_str().ok_or("the case names its subject")?.to_string();
        d.goto(&format!("{}/subjects/{subject}", app.base)).await.map_err(e)?;
        page_has(&d, "Các vụ việc").await?;
        let _ = d.screenshot(&shots_dir().join("06c-an-officials-record-at-390px.png")).await;
        accessible(&d).await?;
        // The reviewer adds the personnel number the agency uses, from the record's page.
        d.find(By::Id("s-identifier")).await.map_err(e)?.send_keys("HN-CB-0042").await.map_err(e)?;
        d.find(By::Css("form[action$='/edit'] button.primary")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "HN-CB-0042").await?;
        let _ = d.screenshot(&shots_dir().join("06c-the-record-corrected-at-390px.png")).await;
        accessible(&d).await?;
        d.set_window_rect(0, 0, 1366, 900).await.map_err(e)?;
        d.find(By::LinkText("Danh mục")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Khai trừ").await?;
        let _ = d.screenshot(&shots_dir().join("06d-the-catalogs.png")).await;
        accessible(&d).await
    })
    .await;

    // The administrator creates a user and moves a unit.
    step(&d, "07-admin-creates-a-user-and-moves-a-unit", async {
        sign_out(&d).await?;
        sign_in(&d, "quantri").await?;
        page_has(&d, "Quản trị").await?;
        d.find(By::LinkText("Người dùng")).await.map_err(e)?.click().await.map_err(e)?;
        open_action(&d, "Tạo người dùng mới").await?;
        d.find(By::Id("u-username")).await.map_err(e)?.send_keys("thanhtra5").await.map_err(e)?;
        d.find(By::Id("u-name")).await.map_err(e)?.send_keys("Đỗ Thị Mai").await.map_err(e)?;
        d.find(By::Css("form[action='/admin/users'] button.primary")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Đã tạo người dùng thanhtra5.").await?;
        accessible(&d).await?;
        d.goto(format!("{}/admin/units/{}", app.base, w.dien_bien.id)).await.map_err(e)?;
        let parent = d.find(By::Id("e-parent")).await.map_err(e)?;
        thirtyfour::components::SelectElement::new(&parent)
            .await
            .map_err(e)?
            .select_by_value(&w.cau_giay.id)
            .await
            .map_err(e)?;
        d.find(By::Css("form.card button.primary")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Phường Điện Biên").await?;
        accessible(&d).await
    })
    .await;
    let moved = app.get(&format!("/api/v1/units/{}", w.dien_bien.id), &w.admin.token).await.body;
    assert_eq!(moved["parent_id"].as_str(), Some(w.cau_giay.id.as_str()), "{moved}");
    let summary = app.get("/api/v1/reports/summary", &w.city_reviewer.token).await.body;
    assert_eq!(summary["cases"]["handled"], 1, "{summary}");

    // The administrator carries the ward into a new one: a mapping uploaded, its preview
    // read, applied; the new ward's reviewer finds the case the old ward's inspector logged.
    let mapping = shots_dir().join("sap-xep.csv");
    std::fs::write(
        &mapping,
        "\u{feff}Mã đơn vị cũ,Mã đơn vị mới,Tên đơn vị mới,Loại đơn vị,Mã đơn vị cấp trên\nBD-DIEN-BIEN,P-BA-DINH,Phường Ba Đình,Phường,HN\n",
    )
    .unwrap();
    step(&d, "08-admin-reorganises-from-a-mapping", async {
        d.find(By::LinkText("Sắp xếp tổ chức")).await.map_err(e)?.click().await.map_err(e)?;
        accessible(&d).await?;
        set_date(&d, "#r-date", "2024-09-23").await?;
        d.find(By::Id("r-ref")).await.map_err(e)?.send_keys("1656/NQ-UBTVQH15").await.map_err(e)?;
        d.find(By::Id("r-title"))
            .await
            .map_err(e)?
            .send_keys("Nghị quyết về việc sắp xếp các đơn vị hành chính cấp xã của thành phố Hà Nội")
            .await
            .map_err(e)?;
        d.find(By::Id("r-file")).await.map_err(e)?.send_keys(mapping.display().to_string()).await.map_err(e)?;
        d.find(By::Css("form[action='/admin/reorganisations/preview'] button"))
            .await
            .map_err(e)?
            .click()
            .await
            .map_err(e)?;
        page_has(&d, "Thành lập mới: 1 đơn vị").await?;
        page_has(&d, "Phường Ba Đình").await?;
        accessible(&d).await?;
        let _ = d.screenshot(&shots_dir().join("08-the-preview-at-1366px.png")).await;
        d.set_window_rect(0, 0, 390, 844).await.map_err(e)?;
        let _ = d.screenshot(&shots_dir().join("08-the-preview-at-390px.png")).await;
        d.set_window_rect(0, 0, 1366, 900).await.map_err(e)?;
        d.find(By::Css("form[action='/admin/reorganisations/apply'] button"))
            .await
            .map_err(e)?
            .click()
            .await
            .map_err(e)?;
        page_has(&d, "Đã áp dụng sắp xếp có hiệu lực từ ngày 23/09/2024.").await?;
        page_has(&d, "1656/NQ-UBTVQH15").await?;
        accessible(&d).await
    })
    .await;
    let ward = app
        .with_conn(|c| casetrack::model::unit::Unit::find_by_code(c, "P-BA-DINH"))
        .unwrap()
        .expect("the new ward was established");
    app.user("ubkt.phuongbadinh", casetrack::domain::role::Role::Reviewer, Some(&ward));
    step(&d, "09-the-new-wards-reviewer-finds-the-old-case", async {
        sign_out(&d).await?;
        sign_in(&d, "ubkt.phuongbadinh").await?;
        d.goto(&case_url).await.map_err(e)?;
        page_has(&d, "Giữ hồ sơ quá hạn 30 ngày").await?;
        page_has(&d, "Phường Điện Biên").await?;
        accessible(&d).await
    })
    .await;

    // The city's reviewer brings in the ward's register: the file checked, the preview
    // read, the import confirmed.
    let register = shots_dir().join("so-theo-doi.csv");
    let headers: Vec<String> = casetrack::import::columns::columns().into_iter().map(|c| c.header).collect();
    let mut row = vec![String::new(); headers.len()];
    for (i, v) in [
        (0, "UBKT-P-01"),
        (1, "24/09/2024"),
        (2, "Kiểm tra công vụ quý III/2024"),
        (3, "Cá nhân"),
        (4, "Phạm Thị Thu"),
        (7, "Phường Ba Đình"),
        (8, "2.5"),
        (10, "Chậm trả kết quả hồ sơ đăng ký kinh doanh."),
        (11, "Ít nghiêm trọng"),
        (12, "Chờ tiếp nhận"),
    ] {
        row[i] = v.to_string();
    }
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(&headers).unwrap();
    csv.write_record(&row).unwrap();
    std::fs::write(&register, csv.into_inner().unwrap()).unwrap();
    step(&d, "10-reviewer-imports-a-register", async {
        sign_out(&d).await?;
        sign_in(&d, "ubkt.thanhpho").await?;
        d.find(By::LinkText("Nhập sổ")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Nhập sổ theo dõi từ tệp").await?;
        accessible(&d).await?;
        d.find(By::Id("i-file")).await.map_err(e)?.send_keys(register.display().to_string()).await.map_err(e)?;
        d.find(By::Css("form[action='/imports/preview'] button")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "1 vụ việc sẽ được tạo").await?;
        accessible(&d).await?;
        let _ = d.screenshot(&shots_dir().join("10-the-import-preview-at-1366px.png")).await;
        d.set_window_rect(0, 0, 390, 844).await.map_err(e)?;
        let _ = d.screenshot(&shots_dir().join("10-the-import-preview-at-390px.png")).await;
        d.set_window_rect(0, 0, 1366, 900).await.map_err(e)?;
        d.find(By::Css("form[action='/imports/apply'] button")).await.map_err(e)?.click().await.map_err(e)?;
        page_has(&d, "Đã nhập tệp so-theo-doi.csv.").await?;
        accessible(&d).await
    })
    .await;
    d.quit().await.unwrap();
}

//! Overdue escalation with an injected clock: the mail kept in memory, and over a real SMTP
//! conversation on loopback where delivery itself (outages, retries, a silent server) is tested.

mod common;

use casetrack::config::Settings;
use casetrack::db::schema::{outbox, units};
use casetrack::jobs::{self, sender::DeliveryReport, sweep::SweepReport};
use casetrack::mail::Mailer;
use chrono::{DateTime, TimeZone, Utc};
use common::builder::{AppBuilder, Started};
use common::smtp::{Received, SmtpSink};
use common::world::World;
use common::{PASSWORD, TestApp};
use diesel::prelude::*;
use secrecy::SecretString;
use serde_json::{Value, json};

struct Scene {
    app: TestApp,
    w: World,
    /// The loopback mail server, in scenes over SMTP; other scenes keep mail in memory.
    sink: Option<SmtpSink>,
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

impl Scene {
    /// A scene whose mail is kept in memory.
    async fn new(tune: impl FnOnce(&mut Settings) + Send + 'static) -> Scene {
        Scene::build(TestApp::builder(), tune).await
    }

    /// A scene whose mail goes over SMTP to a server on loopback.
    async fn over_smtp(tune: impl FnOnce(&mut Settings) + Send + 'static) -> Scene {
        Scene::build(TestApp::builder().with_mail(), tune).await
    }

    async fn build(app: AppBuilder, tune: impl FnOnce(&mut Settings) + Send + 'static) -> Scene {
        let Started { app, smtp: sink, .. } = app
            .tune(|s| {
                s.mail.from = "Hệ thống casetrack <casetrack@hanoi.gov.vn>".into();
                s.server.public_url = "https://casetrack.hanoi.gov.vn".into();
            })
            .tune(tune)
            .spawn()
            .await;
        let w = World::new(&app).await;
        // Heads: Ba Đình and Cầu Giấy have one; the city has none but a mailbox.
        app.with_conn(|c| {
            diesel::update(units::table.find(&w.ba_dinh.id))
                .set(units::head_user_id.eq(&w.ba_dinh_head.user.id))
                .execute(c)?;
            diesel::update(units::table.find(&w.cau_giay.id))
                .set(units::head_user_id.eq(&w.cau_giay_head.user.id))
                .execute(c)?;
            diesel::update(units::table.find(&w.city.id)).set(units::email.eq("vanphong@hanoi.gov.vn")).execute(c)
        })
        .unwrap();
        Scene { app, w, sink }
    }

    fn sink(&self) -> &SmtpSink {
        self.sink.as_ref().expect("a scene over SMTP")
    }

    /// One sweep and one delivery pass, through the app's mailer (SMTP in scenes over SMTP).
    async fn run(&self) -> (SweepReport, DeliveryReport) {
        self.app.run_jobs().await
    }

    /// Every message sent so far, oldest first.
    async fn messages(&self) -> Vec<Received> {
        match &self.sink {
            Some(sink) => sink.messages(),
            None => self.app.sent().await,
        }
    }

    /// Everyone a message went to, sorted.
    async fn recipients(&self) -> Vec<String> {
        let mut all: Vec<String> = self.messages().await.iter().flat_map(|m| m.rcpt_to.clone()).collect();
        all.sort();
        all
    }

    /// A Điện Biên case accepted with Ba Đình responsible, due at the end of 2024-10-31 (17:00 UTC).
    async fn case_in_handling(&self, title: &str) -> Value {
        let case = self.w.log_case(&self.app, &self.w.dien_bien, title).await;
        self.w.act(&self.app, &self.w.city_reviewer, &case, self.w.transition_body("accept")).await.expect(200).body
    }

    fn outbox_statuses(&self) -> Vec<String> {
        self.app.with_conn(|c| outbox::table.order(outbox::id).select(outbox::status).load(c)).unwrap()
    }

    async fn token(&self, username: &str) -> String {
        self.app.login(username, PASSWORD).await.expect(200).body["access_token"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn each_level_reaches_its_people_exactly_once() {
    let s = Scene::new(|_| {}).await;
    let case = s.case_in_handling("Chậm giải ngân vốn đầu tư công").await;
    let number = case["number"].as_str().unwrap().to_string();

    // Nothing is due yet.
    s.app.clock.set(at(2024, 10, 28, 0));
    assert_eq!(s.run().await.0.steps, 0);

    // Three days before the deadline: a reminder to the head of the responsible unit.
    s.app.clock.set(at(2024, 10, 29, 0));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.steps, swept.alerts, delivered.sent), (1, 1, 1));
    assert_eq!(s.recipients().await, vec!["truong.badinh@example.vn"]);
    let mail = &s.messages().await[0];
    assert!(mail.subject().contains("Sắp đến hạn") && mail.subject().contains(&number), "{}", mail.subject());
    assert!(mail.header("To").contains("Nguyễn Văn truong.badinh"), "{}", mail.header("To"));
    assert!(mail.header("Message-ID").ends_with("@hanoi.gov.vn>"));
    let text = mail.text();
    assert!(text.contains("Kính gửi đồng chí Nguyễn Văn truong.badinh"), "{text}");
    // Due 2024-10-31 (a date): the email says that date, not the midnight after it.
    assert!(
        text.contains("Chậm giải ngân vốn đầu tư công") && text.lines().any(|l| l.trim() == "Hạn xử lý: 31/10/2024"),
        "{text}"
    );
    assert!(text.contains(&format!("https://casetrack.hanoi.gov.vn/cases/{}", case["id"].as_str().unwrap())));

    // Sweeping again at the same moment, or later before the next level, sends nothing more.
    s.run().await;
    s.app.clock.set(at(2024, 10, 31, 12));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.steps, delivered.sent), (0, 0));
    assert_eq!(s.messages().await.len(), 1);

    // At the deadline: the head again.
    s.app.clock.set(at(2024, 11, 1, 0));
    assert_eq!(s.run().await.1.sent, 1);
    // Seven days on: the head of the unit above (the city has no head: its mailbox) and the reviewers.
    s.app.clock.set(at(2024, 11, 8, 0));
    assert_eq!(s.run().await.1.sent, 3);
    // Thirty days on: the city-level reviewers.
    s.app.clock.set(at(2024, 12, 1, 0));
    assert_eq!(s.run().await.1.sent, 1);
    assert_eq!(
        s.recipients().await,
        vec![
            "truong.badinh@example.vn",
            "truong.badinh@example.vn",
            "ubkt.badinh@example.vn",
            "ubkt.thanhpho@example.vn",
            "ubkt.thanhpho@example.vn",
            "vanphong@hanoi.gov.vn",
        ]
    );
    assert_eq!(s.run().await.1.sent, 0);

    // In the product: the head's notifications and the case's timeline.
    let token = s.token("truong.badinh").await;
    let mine = s.app.get("/api/v1/me/notifications", &token).await.expect(200).body;
    let levels: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|n| n["level"].as_str().unwrap()).collect();
    assert_eq!(levels, vec!["overdue", "reminder"]);
    assert_eq!(mine["items"][0]["case_number"], json!(number));
    let first = mine["items"][0]["id"].as_str().unwrap();
    let r = s
        .app
        .call(reqwest::Method::POST, &format!("/api/v1/me/notifications/{first}/read"), Some(&token), None, &[])
        .await;
    assert_eq!(r.status, 204);
    let unread = s.app.get("/api/v1/me/notifications?unread=true", &token).await.expect(200).body;
    assert_eq!(unread["items"].as_array().unwrap().len(), 1);

    let reviewer = s.token("ubkt.thanhpho").await;
    let events = s
        .app
        .get(&format!("/api/v1/cases/{}/events?limit=500", case["id"].as_str().unwrap()), &reviewer)
        .await
        .expect(200);
    let kinds: Vec<&str> =
        events.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "alert").count(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == "alert_sent").count(), 6);
}

#[tokio::test]
async fn an_open_case_past_its_review_deadline_alerts_its_reviewers() {
    let s = Scene::new(|_| {}).await;
    s.w.log_case(&s.app, &s.w.dien_bien, "Chưa được xem xét").await;
    // Logged 2024-09-25T03:00Z; review deadline 15 days later. An hour past it, the
    // reminder and the overdue level have both been reached: both fire, and the
    // reviewers they name hear of it once each.
    s.app.clock.set(at(2024, 10, 10, 4));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.steps, delivered.sent), (2, 2));
    assert_eq!(s.recipients().await, vec!["ubkt.badinh@example.vn", "ubkt.thanhpho@example.vn"]);
    assert!(s.messages().await[0].subject().contains("Đã quá hạn"));
}

#[tokio::test]
async fn a_case_first_swept_far_overdue_reaches_everyone_in_the_chain_once() {
    let s = Scene::new(|_| {}).await;
    let case = s.case_in_handling("Tồn đọng hồ sơ từ trước khi dùng hệ thống").await;
    // First swept 40 days past its deadline (imported data, or a long outage): every level
    // has been reached at once.
    s.app.clock.set(at(2024, 12, 11, 0));
    let (swept, delivered) = s.run().await;
    assert_eq!(swept.steps, 4, "reminder, overdue, escalated and city all fire");
    assert_eq!(
        s.recipients().await,
        vec!["truong.badinh@example.vn", "ubkt.badinh@example.vn", "ubkt.thanhpho@example.vn", "vanphong@hanoi.gov.vn"],
        "the responsible head, the parent unit's mailbox, the reviewers and the city's, each once"
    );
    assert_eq!(delivered.sent, 4);
    // Nothing fires again, however often it is swept.
    s.app.clock.set(at(2024, 12, 20, 0));
    let (again, sent) = s.run().await;
    assert_eq!((again.steps, sent.sent), (0, 0));
    let head = s.token("truong.badinh").await;
    let mine = s.app.get("/api/v1/me/notifications", &head).await.expect(200).body;
    let levels: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|n| n["level"].as_str().unwrap()).collect();
    assert_eq!(levels, vec!["overdue"], "the head hears once, under the highest level that names them");
    assert_eq!(mine["items"][0]["case_number"], case["number"]);
}

#[tokio::test]
async fn a_recipient_gets_one_digest_per_sweep() {
    let s = Scene::new(|_| {}).await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        numbers.push(s.case_in_handling(&format!("Vụ việc thứ {i}")).await["number"].as_str().unwrap().to_string());
    }
    // First swept at the deadline: the reminder and the overdue level fire for each case
    // (six steps), and the head hears of each case once, in one digest.
    s.app.clock.set(at(2024, 11, 1, 0));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.steps, swept.alerts, swept.messages, delivered.sent), (6, 3, 1, 1));
    let mail = &s.messages().await[0];
    assert_eq!(mail.subject(), "[casetrack] 3 vụ việc cần xử lý");
    for n in &numbers {
        assert!(mail.text().contains(n.as_str()), "digest lists {n}");
    }
}

#[tokio::test]
async fn a_long_digest_lists_the_most_overdue_and_says_how_many_more() {
    let s = Scene::new(|s| s.escalation.digest_max_items = 2).await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        let case = s.case_in_handling(&format!("Vụ việc dài {i}")).await;
        numbers.push(case["number"].as_str().unwrap().to_string());
    }
    // The first case is the most overdue: its deadline moved back five days.
    s.app
        .with_conn(|c| {
            diesel::update(
                casetrack::db::schema::cases::table.filter(casetrack::db::schema::cases::number.eq(&numbers[0])),
            )
            .set(casetrack::db::schema::cases::deadline_at.eq(at(2024, 10, 26, 17).naive_utc()))
            .execute(c)
        })
        .unwrap();
    s.app.clock.set(at(2024, 11, 1, 0));
    s.run().await;
    let mail = &s.messages().await[0];
    let text = mail.text();
    assert_eq!(mail.subject(), "[casetrack] 3 vụ việc cần xử lý");
    assert!(text.contains(&format!("1. [Đã quá hạn] Vụ việc {}", numbers[0])), "most overdue first: {text}");
    assert_eq!(numbers.iter().filter(|n| text.contains(n.as_str())).count(), 2, "{text}");
    assert!(text.contains("... và 1 vụ việc khác."), "{text}");
    assert!(text.contains("https://casetrack.hanoi.gov.vn/cases?overdue=true&sort=deadline"), "{text}");
}

#[tokio::test]
async fn without_digest_each_alert_is_its_own_message() {
    let s = Scene::new(|s| s.escalation.digest = false).await;
    for i in 0..3 {
        s.case_in_handling(&format!("Vụ việc thứ {i}")).await;
    }
    s.app.clock.set(at(2024, 11, 1, 0));
    assert_eq!(s.run().await.1.sent, 3);
}

#[tokio::test]
async fn an_smtp_outage_loses_nothing_and_doubles_nothing() {
    let s = Scene::over_smtp(|s| s.escalation.retry_base_secs = 60).await;
    s.case_in_handling("Gửi khi máy chủ thư ngừng").await;
    let port = s.sink().addr.port();
    s.sink().stop();

    s.app.clock.set(at(2024, 11, 1, 0));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.alerts, delivered.sent, delivered.retried), (1, 0, 1));
    assert_eq!(s.outbox_statuses(), vec!["pending"]);
    let admin = s.token("quantri").await;
    let listed = s.app.get("/api/v1/admin/outbox?status=pending", &admin).await.expect(200).body;
    assert_eq!(listed["items"][0]["attempts"], 1);
    assert!(listed["items"][0]["last_error"].as_str().is_some_and(|e| !e.is_empty()));
    // Still down a minute later: the next attempt waits twice as long.
    s.app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(s.run().await.1.retried, 1);
    s.app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(s.run().await.1, DeliveryReport::default(), "backing off");

    // The server is back: delivered exactly once.
    let back = SmtpSink::start_on(port, s.sink().received.clone()).await;
    s.app.clock.advance(chrono::Duration::seconds(60));
    assert_eq!(s.run().await.1.sent, 1);
    assert_eq!(s.run().await.1.sent, 0);
    assert_eq!(back.messages().len(), 1);
    assert_eq!(s.outbox_statuses(), vec!["sent"]);
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_marked_failed_and_an_administrator_requeues_it() {
    let s = Scene::over_smtp(|s| {
        s.escalation.max_attempts = 2;
        s.escalation.retry_base_secs = 1;
    })
    .await;
    s.case_in_handling("Không gửi được").await;
    let port = s.sink().addr.port();
    s.sink().stop();
    s.app.clock.set(at(2024, 11, 1, 0));
    s.run().await;
    s.app.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(s.run().await.1.failed, 1);
    assert_eq!(s.outbox_statuses(), vec!["failed"]);

    let admin = s.token("quantri").await;
    let failed = s.app.get("/api/v1/admin/outbox?status=failed", &admin).await.expect(200).body;
    let id = failed["items"][0]["id"].as_str().unwrap().to_string();
    let inspector = s.token("thanhtra1").await;
    s.app.post(&format!("/api/v1/admin/outbox/{id}/retry"), Some(&inspector), json!({})).await.expect(403);
    let r =
        s.app.call(reqwest::Method::POST, &format!("/api/v1/admin/outbox/{id}/retry"), Some(&admin), None, &[]).await;
    assert_eq!(r.expect(200).body["status"], "pending");

    let back = SmtpSink::start_on(port, s.sink().received.clone()).await;
    assert_eq!(s.run().await.1.sent, 1);
    assert_eq!(back.messages().len(), 1);
}

#[tokio::test]
async fn closing_a_case_cancels_what_was_not_sent() {
    let s = Scene::over_smtp(|_| {}).await;
    let case = s.case_in_handling("Sẽ được đóng trước khi gửi").await;
    s.sink().stop();
    s.app.clock.set(at(2024, 11, 1, 0));
    assert_eq!(s.run().await.1.retried, 1);

    let reviewer = s.token("ubkt.thanhpho").await;
    let path = format!("/api/v1/cases/{}/transitions", case["id"].as_str().unwrap());
    let mut body = s.w.transition_body("close");
    body["decision"]["decided_on"] = json!("2024-10-30");
    s.app.post(&path, Some(&reviewer), body).await.expect(200);
    assert_eq!(s.outbox_statuses(), vec!["cancelled"]);

    let _back = SmtpSink::start_on(s.sink().addr.port(), s.sink().received.clone()).await;
    s.app.clock.advance(chrono::Duration::hours(1));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.steps, delivered.sent), (0, 0));
    assert!(s.messages().await.is_empty());
}

#[tokio::test]
async fn a_new_deadline_starts_a_new_series() {
    let s = Scene::new(|_| {}).await;
    let case = s.case_in_handling("Được gia hạn").await;
    s.app.clock.set(at(2024, 11, 1, 0));
    assert_eq!(s.run().await.1.sent, 1);

    let reviewer = s.token("ubkt.thanhpho").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    s.app.patch(&path, &reviewer, json!({"due_at": "2024-11-20"}), None).await.expect(200);
    s.app.clock.set(at(2024, 11, 2, 0));
    assert_eq!(s.run().await.0.steps, 0, "no longer overdue");
    s.app.clock.set(at(2024, 11, 21, 0));
    let (swept, delivered) = s.run().await;
    // The new deadline's reminder and overdue levels, reached together: one message.
    assert_eq!((swept.steps, delivered.sent), (2, 1));
    assert_eq!(s.messages().await.len(), 2);
}

#[tokio::test]
async fn concurrent_sweepers_alert_each_step_once() {
    let s = Scene::new(|_| {}).await;
    for i in 0..4 {
        s.case_in_handling(&format!("Đồng thời {i}")).await;
    }
    s.app.clock.set(at(2024, 11, 1, 0));
    let (settings, mailer) = (&s.app.state.settings, s.app.mail.clone());
    let run = || jobs::run_once(&s.app.state.pool, settings, &mailer, &s.app.clock);
    let (a, b, c) = tokio::join!(run(), run(), run());
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    // Each case's reminder and overdue step, once whoever swept.
    assert_eq!(a.0.steps + b.0.steps + c.0.steps, 8);
    assert_eq!(a.1.sent + b.1.sent + c.1.sent, 1, "one digest to the head");
    assert_eq!(s.messages().await.len(), 1);
    assert_eq!(s.messages().await[0].text().matches("Đồng thời").count(), 4);
}

/// Two instances on one database, as behind a load balancer, both sweeping and both
/// delivering at once: every step is decided once and every message leaves once.
#[tokio::test]
async fn two_instances_sweep_and_deliver_each_alert_once() {
    let s = Scene::new(|_| {}).await;
    let mail = s.app.state.settings.mail.clone();
    let other = s.app.beside(move |o| o.mail = mail);
    for i in 0..4 {
        s.case_in_handling(&format!("Hai phiên bản {i}")).await;
    }
    // The second instance takes requests too: a case it logs is swept like the others.
    let logged = s.w.log_case(&other, &s.w.dien_bien, "Hai phiên bản 4").await;
    s.w.act(&other, &s.w.city_reviewer, &logged, s.w.transition_body("accept")).await.expect(200);
    for app in [&s.app, &other] {
        app.clock.set(at(2024, 11, 1, 0));
    }
    // Both send through one mailbox, as two instances through one mail server.
    let sweep = |app: &TestApp| {
        let (pool, settings, clock) = (app.state.pool.clone(), app.state.settings.clone(), app.clock.clone());
        let mailer = s.app.mail.clone();
        async move {
            let mut total = (0, 0);
            for _ in 0..3 {
                let (swept, delivered) = jobs::run_once(&pool, &settings, &mailer, &clock).await.unwrap();
                total = (total.0 + swept.steps, total.1 + delivered.sent);
            }
            total
        }
    };
    let (a, b) = tokio::join!(sweep(&s.app), sweep(&other));
    assert_eq!(a.0 + b.0, 10, "each case's reminder and overdue step, once, whoever swept: {a:?} {b:?}");
    assert_eq!(a.1 + b.1, 1, "one digest to the head");
    assert_eq!(s.messages().await.len(), 1);
    assert_eq!(s.messages().await[0].text().matches("Hai phiên bản").count(), 5);
}

#[tokio::test]
async fn mail_waits_for_the_sending_window() {
    let s = Scene::new(|s| s.escalation.send_window = "07:30-17:30".into()).await;
    s.case_in_handling("Ngoài giờ hành chính").await;
    // 2024-11-01 13:00 UTC is 20:00 in Hanoi: the alert is decided but held.
    s.app.clock.set(at(2024, 11, 1, 13));
    let (swept, delivered) = s.run().await;
    assert_eq!(swept.alerts, 1);
    assert!(delivered.outside_window);
    assert!(s.messages().await.is_empty());
    // 02:00 UTC is 09:00 in Hanoi.
    s.app.clock.set(at(2024, 11, 2, 2));
    assert_eq!(s.run().await.1.sent, 1);
}

#[tokio::test]
async fn the_file_transport_writes_each_message_to_the_outbox_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_path_buf();
    let s = Scene::new(move |s| {
        s.mail.transport = "file".into();
        s.mail.outbox_dir = folder;
    })
    .await;
    s.case_in_handling("Ghi ra tệp").await;
    s.app.clock.set(at(2024, 11, 1, 0));
    let settings = &s.app.state.settings;
    let mailer = Mailer::from_settings(&settings.mail).unwrap();
    assert_eq!(jobs::run_once(&s.app.state.pool, settings, &mailer, &s.app.clock).await.unwrap().1.sent, 1);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(raw.contains("Message-ID:"));
}

#[tokio::test]
async fn a_mail_server_that_never_answers_stalls_no_sweep_and_the_mail_goes_once_it_recovers() {
    use casetrack::db::schema::escalation_steps;
    // A listener that accepts connections and never says a word, on the port the mail
    // server will later answer on.
    let port = common::process::free_port();
    let mute = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let held: std::sync::Arc<std::sync::Mutex<Vec<tokio::net::TcpStream>>> = Default::default();
    let keep = held.clone();
    let listener = tokio::spawn(async move {
        while let Ok((socket, _)) = mute.accept().await {
            keep.lock().unwrap().push(socket);
        }
    });
    let s = Scene::over_smtp(move |s| {
        s.mail.smtp_url = Some(SecretString::from(format!("smtp://127.0.0.1:{port}")));
        s.mail.timeout_secs = 30;
        s.mail.send_timeout_secs = 4;
        s.escalation.interval_secs = 1;
    })
    .await;
    s.case_in_handling("Thư gửi không đi").await;
    // A second case, not due until it is made due below.
    let second = s.case_in_handling("Vụ việc đến hạn trong lúc chờ").await;
    let set_deadline = |when: DateTime<Utc>| {
        s.app
            .with_conn(|c| {
                diesel::update(casetrack::db::schema::cases::table.find(second["id"].as_str().unwrap()))
                    .set(casetrack::db::schema::cases::deadline_at.eq(when.naive_utc()))
                    .execute(c)
            })
            .unwrap()
    };
    set_deadline(at(2030, 1, 1, 0));
    s.app.clock.set(at(2024, 11, 1, 0));
    let settings = (*s.app.state.settings).clone();
    let mailer = Mailer::from_settings(&settings.mail).unwrap();
    jobs::spawn_background(s.app.state.pool.clone(), settings, mailer, s.app.clock.clone());
    let steps = || s.app.with_conn(|c| escalation_steps::table.count().get_result::<i64>(c)).unwrap();
    wait_until("the first sweep", || steps() == 2).await;
    wait_until("the stalled delivery to start", || !held.lock().unwrap().is_empty()).await;
    // While delivery waits on the silent server, a case made due is swept within the
    // next interval or two.
    set_deadline(at(2024, 10, 31, 0));
    let stalled_at = std::time::Instant::now();
    wait_until("the sweep of the second case", || steps() == 4).await;
    assert!(stalled_at.elapsed() < std::time::Duration::from_secs(4), "the sweep waited for the mail server");
    // The delivery gives up after its timeout and counts the attempt as failed, unsent.
    wait_until("the attempt to fail", || {
        s.app.with_conn(|c| outbox::table.filter(outbox::attempts.gt(0)).count().get_result::<i64>(c)).unwrap() > 0
    })
    .await;
    assert!(s.messages().await.is_empty());
    // The server recovers on the same port; after the backoff the message goes, once.
    listener.abort();
    let _ = listener.await;
    held.lock().unwrap().clear();
    let received: std::sync::Arc<std::sync::Mutex<Vec<common::smtp::Received>>> = Default::default();
    let recovered = SmtpSink::start_on(port, received.clone()).await;
    s.app.clock.advance(chrono::Duration::minutes(30));
    wait_until("delivery after recovery", || !received.lock().unwrap().is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let mails = recovered.messages();
    let ids: std::collections::BTreeSet<String> = mails.iter().map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), mails.len(), "no message was sent twice");
    let statuses = s.outbox_statuses();
    assert!(statuses.iter().all(|st| st == "sent"), "{statuses:?}");
}

/// Waits (up to 20 s) until `done` holds.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_person_who_chose_a_daily_digest_gets_one_message_at_their_time() {
    let s = Scene::new(|_| {}).await;
    let head = s.token("truong.badinh").await;
    let r = s.app.patch("/api/v1/me", &head, json!({"digest_daily_at": "25:00"}), None).await.expect(422);
    assert_eq!(r.error_fields(), vec!["digest_daily_at"]);
    let me = s.app.patch("/api/v1/me", &head, json!({"digest_daily_at": null}), None).await.expect(200).body;
    assert_eq!(me["digest_daily_at"], json!(null));
    let me = s.app.patch("/api/v1/me", &head, json!({"digest_daily_at": "08:00"}), None).await.expect(200).body;
    assert_eq!(me["digest_daily_at"], "08:00");
    s.case_in_handling("Vụ việc sáng sớm").await;
    let later = s.case_in_handling("Vụ việc thứ hai trong ngày").await;
    let set_deadline = |when: DateTime<Utc>| {
        s.app
            .with_conn(|c| {
                diesel::update(casetrack::db::schema::cases::table.find(later["id"].as_str().unwrap()))
                    .set(casetrack::db::schema::cases::deadline_at.eq(when.naive_utc()))
                    .execute(c)
            })
            .unwrap()
    };
    set_deadline(at(2030, 1, 1, 0));
    // 2024-10-29 00:00 UTC is 07:00 in Hanoi: the reminder is decided, the mail waits for 08:00.
    s.app.clock.set(at(2024, 10, 29, 0));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.alerts, delivered.sent), (1, 0));
    // Another case due in a later sweep before 08:00 joins the same waiting message.
    set_deadline(at(2024, 11, 1, 0));
    s.app.clock.set(at(2024, 10, 29, 0) + chrono::Duration::minutes(30));
    let (swept, delivered) = s.run().await;
    assert_eq!((swept.alerts, swept.messages, delivered.sent), (1, 0, 0));
    // 01:00 UTC is 08:00 in Hanoi: one message with both cases.
    s.app.clock.set(at(2024, 10, 29, 1));
    assert_eq!(s.run().await.1.sent, 1);
    let mails = s.messages().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject(), "[casetrack] 2 vụ việc cần xử lý");
}

//! The working-day calendar: reading and replacing a year, and deadlines counted on it.

mod common;

use chrono::{TimeZone, Utc};
use common::spawn_with;
use common::world::World;
use serde_json::json;

/// A server counting working days, its clock at Thursday 24 April 2025, 10:00 in Hanoi.
async fn working_days() -> (common::TestApp, World) {
    let app = spawn_with(|s| {
        s.escalation.day_kind = "working".into();
        s.escalation.review_days = 3;
    })
    .await;
    app.clock.set(Utc.with_ymd_and_hms(2025, 4, 24, 3, 0, 0).unwrap());
    let w = World::new(&app).await;
    (app, w)
}

#[tokio::test]
async fn the_shipped_calendar_is_loaded_and_anyone_signed_in_reads_a_year() {
    let (app, w) = working_days().await;
    let y = app.get("/api/v1/calendar?year=2025", &w.inspector.token).await.expect(200).body;
    assert_eq!(y["year"], 2025);
    let holidays: Vec<&str> = y["holidays"].as_array().unwrap().iter().map(|h| h["date"].as_str().unwrap()).collect();
    assert!(holidays.contains(&"2025-01-29") && holidays.contains(&"2025-09-02"), "{y}");
    assert_eq!(y["working_weekend_days"][0]["date"], "2025-04-26");
    assert_eq!(y["holidays"][1]["provisional"], true, "Tết is marked to be checked");
    // This year when none is named; an empty year for one never loaded.
    assert_eq!(app.get("/api/v1/calendar", &w.inspector.token).await.expect(200).body["year"], 2025);
    let empty = app.get("/api/v1/calendar?year=2031", &w.inspector.token).await.expect(200).body;
    assert_eq!(empty["holidays"], json!([]));
    app.get("/api/v1/calendar?year=20250", &w.inspector.token).await.expect(422);
}

#[tokio::test]
async fn an_administrator_replaces_a_year_and_bad_entries_are_named_with_nothing_stored() {
    let (app, w) = working_days().await;
    let before = app.audit_count();
    let bad = json!({
        "holidays": [{"date": "2026-01-01", "name": "Tết Dương lịch"}, {"date": "2025-05-01", "name": "Sai năm"}, {"date": "2026-01-01", "name": "Lặp"}],
        "working_weekend_days": [{"date": "2026-01-05", "name": "Thứ Hai"}],
    });
    let r =
        app.call(reqwest::Method::PUT, "/api/v1/calendar/2026", Some(&w.admin.token), Some(bad), &[]).await.expect(422);
    assert_eq!(r.error_fields(), vec!["holidays[1].date", "holidays[2].date", "working_weekend_days[0].date"]);
    assert_eq!(app.audit_count(), before);
    let good = json!({
        "holidays": [{"date": "2026-01-01", "name": "Tết Dương lịch"}, {"date": "2026-01-02", "name": "Nghỉ hoán đổi"}],
        "working_weekend_days": [{"date": "2026-01-10", "name": "Làm bù cho 2/1"}],
    });
    let r = app
        .call(reqwest::Method::PUT, "/api/v1/calendar/2026", Some(&w.inspector.token), Some(good.clone()), &[])
        .await;
    r.expect(403);
    let r = app
        .call(reqwest::Method::PUT, "/api/v1/calendar/2026", Some(&w.admin.token), Some(good), &[])
        .await
        .expect(200);
    assert_eq!(r.body["holidays"].as_array().unwrap().len(), 2);
    assert_eq!(app.audit_count(), before + 1);
    let read = app.get("/api/v1/calendar?year=2026", &w.inspector.token).await.expect(200).body;
    assert_eq!(read["working_weekend_days"][0]["date"], "2026-01-10");
}

#[tokio::test]
async fn a_review_deadline_counts_working_days_and_stays_when_the_calendar_changes() {
    let (app, w) = working_days().await;
    // Logged Thursday 24 April; three working days: Friday 25, Saturday 26 (make-up), Monday 28.
    let case = w.log_case(&app, &w.dien_bien, "Hạn xem xét theo ngày làm việc").await;
    assert_eq!(case["deadline_at"], "2025-04-28T17:00:00Z", "the end of Monday 28 April in Hanoi");
    assert_eq!(case["deadline_on"], "2025-04-28", "served with the date it ends with");
    // Making Monday 28 a holiday later does not move the deadline already set.
    let year = app.get("/api/v1/calendar?year=2025", &w.admin.token).await.expect(200).body;
    let mut holidays = year["holidays"].as_array().unwrap().clone();
    holidays.push(json!({"date": "2025-04-28", "name": "Nghỉ thêm"}));
    let body = json!({"holidays": holidays, "working_weekend_days": year["working_weekend_days"]});
    app.call(reqwest::Method::PUT, "/api/v1/calendar/2025", Some(&w.admin.token), Some(body), &[]).await.expect(200);
    let again = app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &w.city_reviewer.token).await;
    assert_eq!(again.body["deadline_at"], "2025-04-28T17:00:00Z");
    // A case logged after the change counts on the new calendar at once (the calendar the
    // first create read is not kept past a change): Friday 25, Saturday 26, Tuesday 29.
    let later = w.log_case(&app, &w.dien_bien, "Hạn xem xét sau khi đổi lịch").await;
    assert_eq!(later["deadline_on"], "2025-04-29");
}

#[tokio::test]
async fn a_handling_deadline_can_be_given_in_working_days() {
    let (app, w) = working_days().await;
    let case = w.log_case(&app, &w.dien_bien, "Hạn xử lý theo ngày làm việc").await;
    let accept = |extra: serde_json::Value| {
        let mut body = json!({"action": "accept", "responsible_unit_id": w.ba_dinh.id});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let r =
        w.act(&app, &w.city_reviewer, &case, accept(json!({"due_at": "2025-05-30", "due_in_working_days": 5}))).await;
    assert_eq!(r.expect(422).error_fields(), vec!["due_in_working_days"]);
    for bad in [0, -3, 10_000] {
        let r = w.act(&app, &w.city_reviewer, &case, accept(json!({"due_in_working_days": bad}))).await;
        assert_eq!(r.expect(422).error_fields(), vec!["due_in_working_days"], "{bad}");
    }
    // Five working days from Thursday 24 April: 25, 26 (make-up), 28, 29, then 30 April and
    // 1–2 May are off, so Monday 5 May.
    let r = w.act(&app, &w.city_reviewer, &case, accept(json!({"due_in_working_days": 5}))).await.expect(200);
    assert_eq!(r.body["due_at"], "2025-05-05T17:00:00Z");
    assert_eq!(r.body["due_on"], "2025-05-05");
}

#[tokio::test]
async fn the_sending_window_skips_holidays_and_weekends() {
    let app = spawn_with(move |s| {
        s.escalation.day_kind = "working".into();
        s.escalation.send_window = "07:30-17:30".into();
    })
    .await;
    app.clock.set(Utc.with_ymd_and_hms(2025, 4, 24, 3, 0, 0).unwrap());
    let w = World::new(&app).await;
    {
        use diesel::prelude::*;
        app.with_conn(|c| {
            diesel::update(casetrack::db::schema::units::table.find(&w.ba_dinh.id))
                .set(casetrack::db::schema::units::head_user_id.eq(&w.ba_dinh_head.user.id))
                .execute(c)
        })
        .unwrap();
    }
    let case = w.log_case(&app, &w.dien_bien, "Cảnh báo trong ngày nghỉ").await;
    let accept = json!({"action": "accept", "responsible_unit_id": w.ba_dinh.id, "due_in_working_days": 1});
    w.act(&app, &w.city_reviewer, &case, accept).await.expect(200);
    let (settings, mailer) = (app.state.settings.clone(), app.mail.clone());
    // Wednesday 30 April 2025, 09:00 in Hanoi: overdue, but a public holiday.
    app.clock.set(Utc.with_ymd_and_hms(2025, 4, 30, 2, 0, 0).unwrap());
    let swept = casetrack::jobs::sweep_once(&app.state.pool, &settings, &app.clock).await.unwrap();
    assert!(swept.alerts > 0);
    let held = casetrack::jobs::deliver_once(&app.state.pool, &settings, &mailer, &app.clock).await.unwrap();
    assert!(held.outside_window && held.sent == 0);
    // Saturday 3 May is no working day either; Monday 5 May at 09:00 is.
    app.clock.set(Utc.with_ymd_and_hms(2025, 5, 3, 2, 0, 0).unwrap());
    assert!(
        casetrack::jobs::deliver_once(&app.state.pool, &settings, &mailer, &app.clock).await.unwrap().outside_window
    );
    app.clock.set(Utc.with_ymd_and_hms(2025, 5, 5, 2, 0, 0).unwrap());
    let sent = casetrack::jobs::deliver_once(&app.state.pool, &settings, &mailer, &app.clock).await.unwrap();
    assert!(!sent.outside_window && sent.sent > 0, "{sent:?}");
    assert_eq!(app.sent().await.len(), sent.sent, "what was counted as sent was sent, and nothing before");
}

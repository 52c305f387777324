//! Bad input gets a precise problem+json answer and changes nothing; a 500 leaks nothing.

mod common;

use casetrack::domain::role::Role;
use common::{spawn, spawn_with};
use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn unreadable_bodies_are_400_and_change_nothing() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let before = app.audit_count();
    let send = |body: &'static str, content_type: &'static str| {
        let (app, token) = (&app, admin.token.clone());
        async move {
            let res = app
                .http
                .post(format!("{}/api/v1/units", app.base))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let ct = res.headers()["content-type"].to_str().unwrap().to_string();
            (status, ct, res.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, ct, body) = send("{\"code\": \"HN\",", "application/json").await;
    assert_eq!((status, ct.as_str()), (400, "application/problem+json"));
    assert!(body["detail"].as_str().unwrap().contains("không phải JSON hợp lệ"), "{body}");
    let (status, _, body) = send("[1, 2]", "application/json").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(send("", "application/json").await.0, 400);
    let (status, _, body) = send("code=HN", "application/x-www-form-urlencoded").await;
    assert_eq!(status, 415);
    assert!(body["detail"].as_str().unwrap().contains("application/json"));
    assert_eq!(app.audit_count(), before);
}

/// Problems speak Vietnamese unless the request asks for English; the `type` codes and the
/// field names are the same in both.
#[tokio::test]
async fn problems_speak_the_language_asked_for() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let bad = json!({"code": "HN", "name": "ẩ".repeat(201), "kind": "town", "parent_id": null});
    let send = |accept_language: Option<&'static str>| {
        let (app, token, bad) = (&app, admin.token.clone(), bad.clone());
        async move {
            let mut req = app.http.post(format!("{}/api/v1/units", app.base)).bearer_auth(token).json(&bad);
            if let Some(l) = accept_language {
                req = req.header("accept-language", l);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status().as_u16(), 422);
            let lang = res.headers()["content-language"].to_str().unwrap().to_string();
            (lang, res.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (lang, vi) = send(None).await;
    assert_eq!(lang, "vi");
    assert_eq!(vi["title"], "Có trường chưa hợp lệ");
    assert_eq!(vi["detail"], "Cần sửa 2 trường: name, kind.");
    assert_eq!(vi["errors"][0]["message"], "Tối đa 200 ký tự.");
    assert!(vi["errors"][1]["message"].as_str().unwrap().starts_with("Phải là một trong các giá trị: "), "{vi}");
    let (lang, en) = send(Some("en-GB,en;q=0.9")).await;
    assert_eq!(lang, "en");
    assert_eq!(en["title"], "Some fields are not valid");
    assert_eq!(en["errors"][0]["message"], "At most 200 characters.");
    assert_eq!(
        (en["type"].clone(), en["errors"][1]["field"].clone()),
        (vi["type"].clone(), vi["errors"][1]["field"].clone())
    );
    // Vietnamese preferred over English, or a language the service does not speak: Vietnamese.
    assert_eq!(send(Some("vi-VN,en;q=0.5")).await.0, "vi");
    assert_eq!(send(Some("fr")).await.0, "vi");
    assert_eq!(send(Some("fr, en;q=0.3")).await.0, "en");

    // A clash names the status in the reader's words; actix's own 404 and the sign-in too.
    let r = app.call(Method::GET, "/api/v1/nothing", None, None, &[("accept-language", "en")]).await;
    assert_eq!((r.status.as_u16(), r.body["title"].as_str()), (404, Some("Not found")));
    let r = app.call(Method::GET, "/api/v1/nothing", None, None, &[]).await;
    assert_eq!((r.status.as_u16(), r.body["title"].as_str()), (404, Some("Không tìm thấy")));
    let r = app.call(Method::GET, "/api/v1/me", None, None, &[("accept-language", "en")]).await;
    assert_eq!(r.body["title"], "Sign-in required");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_with(|s| s.server.body_limit_bytes = 2048).await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let r = app
        .post("/api/v1/units", Some(&admin.token), json!({"code": "HN", "name": "Hà Nội ".repeat(500), "kind": "city"}))
        .await
        .expect(413);
    assert_eq!(r.body["type"], "urn:casetrack:problem:payload-too-large");
    assert_eq!(r.body["detail"], "Nội dung gửi lên vượt quá giới hạn 2 KB.", "the limit is said");
    app.post("/api/v1/units", Some(&admin.token), json!({"code": "HN", "name": "Hà Nội", "kind": "city"}))
        .await
        .expect(201);
}

#[tokio::test]
async fn text_longer_than_allowed_is_named() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let r = app
        .post("/api/v1/units", Some(&admin.token), json!({"code": "HN", "name": "ẩ".repeat(201), "kind": "city"}))
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["name"]);
    assert_eq!(r.body["errors"][0]["message"], "Tối đa 200 ký tự.");
}

#[tokio::test]
async fn unknown_routes_methods_and_ids_are_problem_documents() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    app.get("/api/v1/nothing-here", &admin.token).await.expect(404);
    app.get("/api/v1/units/not-a-uuid", &admin.token).await.expect(404);
    app.get("/api/v1/units/0191d3d6-0000-7000-8000-000000000000", &admin.token).await.expect(404);
    let r = app.call(Method::DELETE, "/api/v1/me", Some(&admin.token), None, &[]).await;
    assert!(r.status == 404 || r.status == 405, "{}", r.status);
    assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"));
}

#[tokio::test]
async fn a_server_fault_is_a_plain_500_with_a_request_id() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    app.with_conn(|c| match c {
        casetrack::db::DbConn::Pg(pg) => pg.batch_execute("DROP TABLE audit_log"),
        casetrack::db::DbConn::Sqlite(s) => s.batch_execute("DROP TABLE audit_log"),
    })
    .unwrap();
    let r = app.get("/api/v1/audit", &admin.token).await.expect(500);
    let text = r.body.to_string().to_lowercase();
    for leak in ["audit_log", "table", "relation", "sql", "diesel"] {
        assert!(!text.contains(leak), "500 body leaks `{leak}`: {text}");
    }
    assert!(r.header("x-request-id").is_some_and(|id| id.len() >= 32));
}

#[tokio::test]
async fn vietnamese_text_round_trips_unchanged() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let name = "Ủy ban Kiểm tra Thành ủy — Phường Nghĩa Đô, Quận Cầu Giấy (đợt 2/2024)";
    let r = app.post("/api/v1/units", Some(&admin.token), json!({"code": "UBKT", "name": name, "kind": "other"})).await;
    let id = r.expect(201).body["id"].as_str().unwrap().to_string();
    let r = app.get(&format!("/api/v1/units/{id}"), &admin.token).await.expect(200);
    assert_eq!(r.body["name"], name);
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"username": "dothihang", "full_name": "Đỗ Thị Hằng", "role": "inspector"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["full_name"], "Đỗ Thị Hằng");
}

/// Found by the schema fuzzer: PostgreSQL refuses text holding NUL, which made a 500.
#[tokio::test]
async fn the_nul_character_is_refused_by_name_not_with_a_500() {
    let app = spawn().await;
    let admin = app.signed_in("root", Role::Admin, None).await;
    let r = app.get("/api/v1/users?unit_id=%00x&active=false", &admin.token).await.expect(422);
    assert_eq!(r.error_fields(), vec!["unit_id"]);
    let before = app.audit_count();
    let body = json!({"code": "X\u{0}", "name": "Phường", "kind": "ward"});
    app.post("/api/v1/units", Some(&admin.token), body).await.expect(400);
    assert_eq!(app.audit_count(), before, "nothing was written");
    // A backslash before "u0000" is ordinary text.
    let body = json!({"code": "BS-1", "name": "Tổ \\u0000", "kind": "department"});
    app.post("/api/v1/units", Some(&admin.token), body).await.expect(201);
}

//! Account administration: who may, what is checked, what is recorded.

mod common;

use casetrack::domain::role::Role;
use common::{PASSWORD, spawn};
use serde_json::json;

#[tokio::test]
async fn an_administrator_creates_an_account_and_its_password_is_shown_once() {
    let app = spawn().await;
    let district = app.unit("BA-DINH", "Quận Ba Đình", "district", None);
    let admin = app.signed_in("quantri", Role::Admin, None).await;

    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"username": "truongphong", "full_name": "Trần Thị Hương", "email": "huong@badinh.hanoi.gov.vn",
                   "role": "unit_head", "unit_id": district.id}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["full_name"], "Trần Thị Hương");
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location"), Some(format!("/api/v1/users/{id}")));
    let generated = r.body["initial_password"].as_str().unwrap().to_string();

    app.login("truongphong", &generated).await.expect(200);
    let again = app.get(&format!("/api/v1/users/{id}"), &admin.token).await.expect(200);
    assert!(again.body.get("initial_password").is_none());
    assert!(again.body.get("password_hash").is_none());

    let audit = app.get(&format!("/api/v1/audit?entity_type=user&entity_id={id}"), &admin.token).await.expect(200);
    let entry = &audit.body["items"][0];
    assert_eq!(entry["action"], "create");
    assert_eq!(entry["actor_id"], json!(admin.user.id));
    assert_eq!(entry["client_addr"], "127.0.0.1");
    assert_eq!(entry["after"]["full_name"], "Trần Thị Hương");
    assert!(entry["after"].get("password_hash").is_none());
}

#[tokio::test]
async fn every_bad_field_is_listed_and_nothing_is_written() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let before = app.audit_count();

    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"username": "a b", "full_name": "  ", "email": "not-an-email", "role": "superuser"}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["username", "full_name", "email", "role"]);
    assert!(r.body["errors"][3]["message"].as_str().unwrap().contains("unit_head"));

    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"username": "kiemtra", "full_name": "Lê Văn Kiểm", "role": "reviewer"}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["unit_id"]);

    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"username": "kiemtra", "full_name": "x", "role": "inspector", "colour": 1, "size": 2}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["colour", "size"]);

    let r = app
        .post("/api/v1/users", Some(&admin.token), json!({"username": "kiemtra", "full_name": 42, "role": "inspector"}))
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["full_name"]);

    assert_eq!(app.audit_count(), before);
    let list = app.get("/api/v1/users", &admin.token).await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn usernames_are_unique_whatever_their_case() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let body = json!({"username": "NguoiDung", "full_name": "Người Dùng", "role": "inspector"});
    app.post("/api/v1/users", Some(&admin.token), body).await.expect(201);
    let body = json!({"username": "nguoidung", "full_name": "Người Dùng Khác", "role": "inspector"});
    app.post("/api/v1/users", Some(&admin.token), body).await.expect(409);
}

#[tokio::test]
async fn only_administrators_manage_accounts() {
    let app = spawn().await;
    let unit = app.unit("HN", "Hà Nội", "city", None);
    let target = app.user("mucTieu", Role::Inspector, None);
    for (name, role) in [("ttv", Role::Inspector), ("uv", Role::Reviewer), ("th", Role::UnitHead)] {
        let login = app.signed_in(name, role, Some(&unit)).await;
        app.get("/api/v1/users", &login.token).await.expect(403);
        app.get(&format!("/api/v1/users/{}", target.id), &login.token).await.expect(403);
        let body = json!({"username": "moi", "full_name": "Mới", "role": "admin"});
        app.post("/api/v1/users", Some(&login.token), body).await.expect(403);
        app.patch(&format!("/api/v1/users/{}", target.id), &login.token, json!({"role": "admin"}), None)
            .await
            .expect(403);
        app.get("/api/v1/audit", &login.token).await.expect(403);
    }
}

#[tokio::test]
async fn edits_need_the_current_version() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let user = app.user("canbo", Role::Inspector, None);
    let path = format!("/api/v1/users/{}", user.id);

    let r = app.patch(&path, &admin.token, json!({"full_name": "Phạm Minh Đức"}), Some("\"1\"")).await.expect(200);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));

    // Someone holding the old version loses, and their change is not applied.
    app.patch(&path, &admin.token, json!({"full_name": "Cũ"}), Some("\"1\"")).await.expect(412);
    let r = app.get(&path, &admin.token).await.expect(200);
    assert_eq!(r.body["full_name"], "Phạm Minh Đức");
}

#[tokio::test]
async fn deactivating_an_account_ends_its_sign_ins() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let user = app.signed_in("canbo", Role::Inspector, None).await;
    app.get("/api/v1/me", &user.token).await.expect(200);

    app.patch(&format!("/api/v1/users/{}", user.user.id), &admin.token, json!({"active": false}), None)
        .await
        .expect(200);
    app.get("/api/v1/me", &user.token).await.expect(401);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": user.refresh_token})).await.expect(401);
    app.login("canbo", PASSWORD).await.expect(401);

    let listed = app.get("/api/v1/users?active=false", &admin.token).await.expect(200);
    assert_eq!(listed.body["items"][0]["username"], "canbo");
}

#[tokio::test]
async fn the_last_administrator_cannot_lock_everyone_out() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let path = format!("/api/v1/users/{}", admin.user.id);
    app.patch(&path, &admin.token, json!({"active": false}), None).await.expect(409);
    app.patch(&path, &admin.token, json!({"role": "inspector"}), None).await.expect(409);
    app.get("/api/v1/me", &admin.token).await.expect(200);
}

#[tokio::test]
async fn an_administrator_resets_a_password() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let user = app.signed_in("canbo", Role::Inspector, None).await;
    let path = format!("/api/v1/users/{}", user.user.id);
    let r = app.patch(&path, &admin.token, json!({"password": "short"}), None).await.expect(422);
    assert_eq!(r.error_fields(), vec!["password"]);
    app.patch(&path, &admin.token, json!({"password": "mật khẩu đặt lại 2024"}), None).await.expect(200);
    app.get("/api/v1/me", &user.token).await.expect(401);
    app.login("canbo", "mật khẩu đặt lại 2024").await.expect(200);
}

#[tokio::test]
async fn lists_are_paged_with_a_cursor() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    for i in 0..5 {
        app.user(&format!("canbo{i}"), Role::Inspector, None);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    loop {
        let r = app.get(&path, &admin.token).await.expect(200);
        seen.extend(r.body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec!["quantri", "canbo0", "canbo1", "canbo2", "canbo3", "canbo4"]);

    let r = app.get("/api/v1/users?limit=0", &admin.token).await.expect(422);
    assert_eq!(r.error_fields(), vec!["limit"]);
    let r = app.get("/api/v1/users?limit=abc", &admin.token).await.expect(422);
    assert_eq!(r.error_fields(), vec!["limit"]);
    let r = app.get("/api/v1/users?cursor=%%%", &admin.token).await.expect(422);
    assert_eq!(r.error_fields(), vec!["cursor"]);
    let r = app.get("/api/v1/users?colour=red", &admin.token).await.expect(422);
    assert_eq!(r.error_fields(), vec!["colour"]);
}

//! Sign-in, tokens, refresh rotation, sign-out, throttling and password change.

mod common;

use casetrack::auth::token::TokenKeys;
use casetrack::domain::role::Role;
use chrono::Duration;
use common::{JWT_SECRET, PASSWORD, spawn, spawn_with};
use serde_json::json;

#[tokio::test]
async fn a_user_signs_in_and_reads_their_account() {
    let app = spawn().await;
    let unit = app.unit("HN", "Thành phố Hà Nội", "city", None);
    app.user("thanhtra1", Role::Inspector, Some(&unit));

    let r = app.login("ThanhTra1", PASSWORD).await.expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert!(r.body["refresh_token"].as_str().unwrap().len() >= 40);
    let token = r.body["access_token"].as_str().unwrap();

    let me = app.get("/api/v1/me", token).await.expect(200);
    assert_eq!(me.body["username"], "thanhtra1");
    assert_eq!(me.body["full_name"], "Nguyễn Văn thanhtra1");
    assert_eq!(me.body["role"], "inspector");
    assert_eq!(me.body["unit_id"], json!(unit.id));
    assert!(me.body.get("password_hash").is_none());
}

#[tokio::test]
async fn every_failed_sign_in_gets_the_same_answer() {
    let app = spawn().await;
    let gone = app.user("danghi", Role::Inspector, None);
    app.user("hople", Role::Inspector, None);
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    app.patch(&format!("/api/v1/users/{}", gone.id), &admin.token, json!({"active": false}), None).await.expect(200);

    let wrong_password = app.login("hople", "not the password").await.expect(401);
    let unknown_user = app.login("khongton", PASSWORD).await.expect(401);
    let deactivated = app.login("danghi", PASSWORD).await.expect(401);
    assert_eq!(wrong_password.body, unknown_user.body);
    assert_eq!(wrong_password.body, deactivated.body);

    let missing = app.post("/api/v1/auth/login", None, json!({})).await.expect(422);
    assert_eq!(missing.error_fields(), vec!["username", "password"]);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn().await;
    let login = app.signed_in("canbo", Role::Inspector, None).await;

    app.call(reqwest::Method::GET, "/api/v1/me", None, None, &[]).await.expect(401);
    app.get("/api/v1/me", "not-a-jwt").await.expect(401);

    // A token whose payload was edited no longer matches its signature.
    let mut parts: Vec<String> = login.token.split('.').map(str::to_string).collect();
    parts[1] = parts[1].chars().rev().collect();
    app.get("/api/v1/me", &parts.join(".")).await.expect(401);

    // A token signed with another secret.
    let forged = TokenKeys::new(b"another-secret-another-secret-0000")
        .issue(&login.user.id, "whatever", app.clock.now().timestamp(), 900)
        .unwrap();
    app.get("/api/v1/me", &forged).await.expect(401);

    // A well-signed token for a session that does not exist.
    let no_session = TokenKeys::new(JWT_SECRET.as_bytes())
        .issue(&login.user.id, "no-such-session", app.clock.now().timestamp(), 900)
        .unwrap();
    app.get("/api/v1/me", &no_session).await.expect(401);
}

#[tokio::test]
async fn access_tokens_expire_and_a_refresh_renews_them() {
    let app = spawn().await;
    let login = app.signed_in("canbo", Role::Reviewer, Some(&app.unit("HN", "Hà Nội", "city", None))).await;

    app.clock.advance(Duration::minutes(14));
    app.get("/api/v1/me", &login.token).await.expect(200);
    app.clock.advance(Duration::minutes(2));
    let expired = app.get("/api/v1/me", &login.token).await.expect(401);
    assert_eq!(expired.header("www-authenticate").as_deref(), Some("Bearer"));

    let r = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": login.refresh_token})).await.expect(200);
    let fresh = r.body["access_token"].as_str().unwrap();
    assert_ne!(r.body["refresh_token"], json!(login.refresh_token));
    app.get("/api/v1/me", fresh).await.expect(200);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_ends_the_whole_sign_in() {
    let app = spawn().await;
    let login = app.signed_in("canbo", Role::Inspector, None).await;

    let first = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": login.refresh_token})).await.expect(200);
    let second_refresh = first.body["refresh_token"].as_str().unwrap().to_string();
    let second_access = first.body["access_token"].as_str().unwrap().to_string();

    // The original token is presented again: someone holds a copy.
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": login.refresh_token})).await.expect(401);

    // Every token of that sign-in is now dead, including the legitimately rotated ones.
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": second_refresh})).await.expect(401);
    app.get("/api/v1/me", &second_access).await.expect(401);

    // Another sign-in of the same user is unaffected.
    let other = app.login("canbo", PASSWORD).await.expect(200);
    app.get("/api/v1/me", other.body["access_token"].as_str().unwrap()).await.expect(200);
}

#[tokio::test]
async fn unknown_refresh_tokens_are_refused() {
    let app = spawn().await;
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": "made-up"})).await.expect(401);
    let r = app.post("/api/v1/auth/refresh", None, json!({})).await.expect(422);
    assert_eq!(r.error_fields(), vec!["refresh_token"]);
}

#[tokio::test]
async fn signing_out_ends_access_and_refresh() {
    let app = spawn().await;
    let login = app.signed_in("canbo", Role::Inspector, None).await;
    let r = app.call(reqwest::Method::POST, "/api/v1/auth/logout", Some(&login.token), None, &[]).await;
    assert_eq!(r.status, 204);
    app.get("/api/v1/me", &login.token).await.expect(401);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": login.refresh_token})).await.expect(401);
}

#[tokio::test]
async fn repeated_failures_for_one_username_are_throttled() {
    let app = spawn().await;
    app.user("canbo", Role::Inspector, None);
    for _ in 0..5 {
        app.login("canbo", "wrong password").await.expect(401);
    }
    // Even the right password is refused while throttled, and the client is told when to retry.
    let r = app.login("canbo", PASSWORD).await.expect(429);
    assert_eq!(r.header("retry-after").as_deref(), Some("900"));

    app.clock.advance(Duration::minutes(10));
    let r = app.login("canbo", PASSWORD).await.expect(429);
    assert_eq!(r.header("retry-after").as_deref(), Some("300"));

    app.clock.advance(Duration::minutes(5));
    app.login("canbo", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled() {
    let app = spawn_with(|s| s.auth.max_failures_per_address = 3).await;
    app.user("canbo", Role::Inspector, None);
    for name in ["a1x", "b2y", "c3z"] {
        app.login(name, "guess").await.expect(401);
    }
    let r = app.login("canbo", PASSWORD).await.expect(429);
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_failures_of_that_username() {
    let app = spawn().await;
    app.user("canbo", Role::Inspector, None);
    for _ in 0..4 {
        app.login("canbo", "wrong password").await.expect(401);
    }
    app.login("canbo", PASSWORD).await.expect(200);
    for _ in 0..4 {
        app.login("canbo", "wrong password").await.expect(401);
    }
    app.login("canbo", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn changing_the_password_ends_other_sign_ins() {
    let app = spawn().await;
    let here = app.signed_in("canbo", Role::Inspector, None).await;
    let elsewhere = app.login("canbo", PASSWORD).await.expect(200);
    let elsewhere_token = elsewhere.body["access_token"].as_str().unwrap();

    let r = app
        .post("/api/v1/me/password", Some(&here.token), json!({"current_password": "wrong", "new_password": "short"}))
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["new_password"]);
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&here.token),
            json!({"current_password": "wrong", "new_password": "một mật khẩu mới dài"}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["current_password"]);

    let r = app
        .post(
            "/api/v1/me/password",
            Some(&here.token),
            json!({"current_password": PASSWORD, "new_password": "một mật khẩu mới dài"}),
        )
        .await;
    assert_eq!(r.status, 204);

    app.get("/api/v1/me", &here.token).await.expect(200);
    app.get("/api/v1/me", elsewhere_token).await.expect(401);
    app.login("canbo", PASSWORD).await.expect(401);
    app.login("canbo", "một mật khẩu mới dài").await.expect(200);
}

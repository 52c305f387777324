//! The unit hierarchy: creation, the subtree, moves, cycles, uniqueness, who may write.

mod common;

use casetrack::domain::role::Role;
use casetrack::model::unit::Unit;
use common::builder::Started;
use common::{TestApp, spawn};
use serde_json::{Value, json};

fn codes(tree: &Value) -> Vec<String> {
    let mut out = vec![tree["code"].as_str().unwrap().to_string()];
    for child in tree["children"].as_array().unwrap() {
        out.extend(codes(child));
    }
    out
}

#[tokio::test]
async fn units_form_a_tree_served_nested() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let create = |body: Value| {
        let (app, token) = (&app, admin.token.clone());
        async move { app.post("/api/v1/units", Some(&token), body).await.expect(201).body }
    };
    let city =
        create(json!({"code": "HN", "name": "Thành phố Hà Nội", "kind": "city", "email": "vanphong@hanoi.gov.vn"}))
            .await;
    let ba_dinh =
        create(json!({"code": "ba-dinh", "name": "Quận Ba Đình", "kind": "district", "parent_id": city["id"]})).await;
    create(json!({"code": "BD-DIEN-BIEN", "name": "Phường Điện Biên", "kind": "commune", "parent_id": ba_dinh["id"]}))
        .await;
    create(json!({"code": "SO-KHDT", "name": "Sở Kế hoạch và Đầu tư", "kind": "department", "parent_id": city["id"]}))
        .await;

    assert_eq!(ba_dinh["code"], "BA-DINH");
    let tree = app.get(&format!("/api/v1/units/{}/tree", city["id"].as_str().unwrap()), &admin.token).await.expect(200);
    assert_eq!(codes(&tree.body), vec!["HN", "BA-DINH", "BD-DIEN-BIEN", "SO-KHDT"]);
    assert_eq!(tree.body["children"][0]["children"][0]["name"], "Phường Điện Biên");

    let sub =
        app.get(&format!("/api/v1/units/{}/tree", ba_dinh["id"].as_str().unwrap()), &admin.token).await.expect(200);
    assert_eq!(codes(&sub.body), vec!["BA-DINH", "BD-DIEN-BIEN"]);

    let children = app.get(&format!("/api/v1/units?parent_id={}", city["id"].as_str().unwrap()), &admin.token).await;
    assert_eq!(children.expect(200).body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn moving_a_unit_moves_its_whole_subtree() {
    let Started { app, units, users, .. } = TestApp::builder()
        .with_unit("HN", "Hà Nội", "city", None)
        .with_unit("OLD", "Khối cũ", "other", Some("HN"))
        .with_unit("NEW", "Khối mới", "other", Some("HN"))
        .with_unit("DEPT", "Phòng", "department", Some("OLD"))
        .with_unit("LEAF", "Tổ", "other", Some("DEPT"))
        .with_user("quantri", Role::Admin, None)
        .spawn()
        .await;
    let admin = &users["quantri"];
    let [city, old_parent, new_parent, moving, leaf] = ["HN", "OLD", "NEW", "DEPT", "LEAF"].map(|c| &units[c]);

    app.patch(&format!("/api/v1/units/{}", moving.id), &admin.token, json!({"parent_id": new_parent.id}), None)
        .await
        .expect(200);

    let in_subtree = |root: &Unit, unit: &Unit| app.with_conn(|c| Unit::is_in_subtree(c, &root.id, &unit.id).unwrap());
    assert!(in_subtree(new_parent, leaf));
    assert!(in_subtree(new_parent, moving));
    assert!(!in_subtree(old_parent, leaf));
    assert!(!in_subtree(old_parent, moving));
    assert!(in_subtree(city, leaf));
    let tree = app.get(&format!("/api/v1/units/{}/tree", city.id), &admin.token).await.expect(200);
    assert_eq!(codes(&tree.body), vec!["HN", "NEW", "DEPT", "LEAF", "OLD"]);
}

#[tokio::test]
async fn a_unit_cannot_be_placed_under_itself_or_its_descendants() {
    let Started { app, units, users, .. } = TestApp::builder()
        .with_unit("HN", "Hà Nội", "city", None)
        .with_unit("BA-DINH", "Ba Đình", "district", Some("HN"))
        .with_unit("DIEN-BIEN", "Điện Biên", "commune", Some("BA-DINH"))
        .with_user("quantri", Role::Admin, None)
        .spawn()
        .await;
    let admin = &users["quantri"];
    let (city, commune) = (&units["HN"], &units["DIEN-BIEN"]);
    let before = app.audit_count();

    for parent in [&city, &commune] {
        let r = app
            .patch(&format!("/api/v1/units/{}", city.id), &admin.token, json!({"parent_id": parent.id}), None)
            .await
            .expect(422);
        assert_eq!(r.error_fields(), vec!["parent_id"]);
    }
    assert_eq!(app.audit_count(), before);
    let r = app.get(&format!("/api/v1/units/{}", city.id), &admin.token).await.expect(200);
    assert_eq!(r.body["parent_id"], Value::Null);
    assert_eq!(r.body["version"], 1);
}

#[tokio::test]
async fn unit_codes_are_unique_and_fields_are_checked() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    app.unit("HN", "Hà Nội", "city", None);
    app.post("/api/v1/units", Some(&admin.token), json!({"code": "hn", "name": "Trùng", "kind": "city"}))
        .await
        .expect(409);

    let r = app
        .post(
            "/api/v1/units",
            Some(&admin.token),
            json!({"code": "có dấu", "name": "", "kind": "province", "email": "x@", "parent_id": "0191d3d6-0000-7000-8000-000000000000",
                   "head_user_id": "nope"}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["code", "name", "kind", "email", "parent_id", "head_user_id"]);

    let r = app.post("/api/v1/units", Some(&admin.token), json!({})).await.expect(422);
    assert_eq!(r.error_fields(), vec!["code", "name", "kind"]);
}

#[tokio::test]
async fn a_unit_head_is_an_active_head_of_the_unit_or_above_it() {
    let app = spawn().await;
    let admin = app.signed_in("quantri", Role::Admin, None).await;
    let r = app
        .post("/api/v1/units", Some(&admin.token), json!({"code": "HN", "name": "Hà Nội", "kind": "city"}))
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let city = app.with_conn(|c| casetrack::model::unit::Unit::find(c, &id)).unwrap().unwrap();
    let head = app.user("truongphong", Role::UnitHead, Some(&city));
    let r =
        app.patch(&format!("/api/v1/units/{id}"), &admin.token, json!({"head_user_id": head.id}), Some("\"1\"")).await;
    assert_eq!(r.expect(200).body["head_user_id"], json!(head.id));

    // Someone who could not read the unit's cases cannot head it: another role, no unit,
    // or a unit beside or below it.
    let ward = app.unit("W1", "Phường Một", "commune", Some(&city));
    let other = app.unit("OTHER", "Đơn vị khác", "other", None);
    let reviewer = app.user("ubkt", Role::Reviewer, Some(&city));
    let nowhere = app.user("truong.khong", Role::UnitHead, None);
    let beside = app.user("truong.khac", Role::UnitHead, Some(&other));
    let below = app.user("truong.phuong", Role::UnitHead, Some(&ward));
    for who in [&reviewer, &nowhere, &beside, &below] {
        let before = app.audit_count();
        let r = app.patch(&format!("/api/v1/units/{id}"), &admin.token, json!({"head_user_id": who.id}), None).await;
        assert_eq!(r.expect(422).error_fields(), vec!["head_user_id"], "{}", who.username);
        assert_eq!(app.audit_count(), before, "nothing written");
    }
    // The head of the city may head a ward below it.
    let r =
        app.patch(&format!("/api/v1/units/{}", ward.id), &admin.token, json!({"head_user_id": head.id}), None).await;
    r.expect(200);

    let r = app
        .patch(
            &format!("/api/v1/units/{id}"),
            &admin.token,
            json!({"head_user_id": null, "email": null}),
            Some("\"2\""),
        )
        .await;
    assert_eq!(r.expect(200).body["head_user_id"], Value::Null);

    let audit = app.get(&format!("/api/v1/audit?entity_type=unit&entity_id={id}"), &admin.token).await.expect(200);
    let latest = &audit.body["items"][0];
    assert_eq!(latest["action"], "update");
    assert_eq!(latest["before"]["head_user_id"], json!(head.id));
    assert_eq!(latest["after"]["head_user_id"], Value::Null);
}

#[tokio::test]
async fn everyone_reads_units_only_administrators_change_them() {
    let app = spawn().await;
    let city = app.unit("HN", "Hà Nội", "city", None);
    for (name, role) in [("ttv", Role::Inspector), ("uv", Role::Reviewer), ("th", Role::UnitHead)] {
        let login = app.signed_in(name, role, Some(&city)).await;
        let r = app.get(&format!("/api/v1/units/{}", city.id), &login.token).await.expect(200);
        assert_eq!(r.body["name"], "Hà Nội");
        app.get("/api/v1/units", &login.token).await.expect(200);
        app.post("/api/v1/units", Some(&login.token), json!({"code": "X", "name": "X", "kind": "other"}))
            .await
            .expect(403);
        app.patch(&format!("/api/v1/units/{}", city.id), &login.token, json!({"name": "Đổi"}), None).await.expect(403);
    }
    let anonymous = app.call(reqwest::Method::GET, "/api/v1/units", None, None, &[]).await;
    anonymous.expect(401);
}

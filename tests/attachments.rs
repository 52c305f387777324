//! Evidence files: checked, hashed, stored outside the database, served within scope.

mod common;

use common::world::World;
use common::{TestApp, spawn_with};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sha2::{Digest, Sha256};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn upload(
    app: &TestApp,
    token: &str,
    case: &Value,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let part = Part::bytes(bytes.to_vec()).file_name(name.to_string()).mime_str(content_type).unwrap();
    let res = app
        .http
        .post(format!("{}/api/v1/cases/{}/attachments", app.base, case["id"].as_str().unwrap()))
        .bearer_auth(token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn evidence_is_stored_by_digest_and_served_only_within_scope() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_path_buf();
    let app = spawn_with(move |s| {
        s.cases.attachment_dir = store;
        s.cases.attachment_max_bytes = 4096;
    })
    .await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Có tài liệu chứng minh").await;
    let before = app.audit_count();

    let (status, body) =
        upload(&app, &w.inspector.token, &case, "Biên bản kiểm tra số 5.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{body}");
    let digest = hex::encode(Sha256::digest(PDF));
    assert_eq!(body["sha256"], digest.as_str());
    assert_eq!(body["size_bytes"], PDF.len());
    assert_eq!(body["file_name"], "Biên bản kiểm tra số 5.pdf");
    assert!(dir.path().join(&digest[..2]).join(&digest).exists(), "stored outside the database under its digest");
    assert_eq!(app.audit_count(), before + 1);

    let url = format!(
        "{}/api/v1/cases/{}/attachments/{}",
        app.base,
        case["id"].as_str().unwrap(),
        body["id"].as_str().unwrap()
    );
    let res = app.http.get(&url).bearer_auth(&w.ba_dinh_head.token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''Bi%C3%AAn%20b%E1%BA%A3n")
    );
    assert_eq!(&res.bytes().await.unwrap()[..], PDF);
    let res = app.http.get(&url).bearer_auth(&w.cau_giay_head.token).send().await.unwrap();
    assert_eq!(res.status(), 404, "Cầu Giấy's head cannot see a Ba Đình case or its files");
    let res = app.http.get(&url).bearer_auth(&w.outsider.token).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let events = app
        .get(&format!("/api/v1/cases/{}/events", case["id"].as_str().unwrap()), &w.inspector.token)
        .await
        .expect(200);
    let last = events.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["detail"]["sha256"].as_str()), (Some("attachment"), Some(digest.as_str())));
    let listed =
        app.get(&format!("/api/v1/cases/{}/attachments", case["id"].as_str().unwrap()), &w.city_reviewer.token).await;
    assert_eq!(listed.expect(200).body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn oversized_unknown_or_disguised_files_are_refused_and_nothing_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_path_buf();
    let app = spawn_with(move |s| {
        s.cases.attachment_dir = store;
        s.cases.attachment_max_bytes = 1024;
    })
    .await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Tệp không hợp lệ").await;
    let before = app.audit_count();

    let big = [PDF, &vec![b' '; 2048]].concat();
    let (status, body) = upload(&app, &w.inspector.token, &case, "lon.pdf", "application/pdf", &big).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) =
        upload(&app, &w.inspector.token, &case, "setup.exe", "application/x-msdownload", b"MZ\x90\x00").await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "file");
    let (status, body) =
        upload(&app, &w.inspector.token, &case, "gia.pdf", "application/pdf", b"<html>not a pdf</html>").await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = upload(&app, &w.outsider.token, &case, "a.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 404);
    let res = app
        .http
        .post(format!("{}/api/v1/cases/{}/attachments", app.base, case["id"].as_str().unwrap()))
        .bearer_auth(&w.inspector.token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);

    assert_eq!(app.audit_count(), before);
    assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 0, "nothing stored");
}

//! Evidence files: checked, hashed, stored once in the database, served within scope by
//! any instance.

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

/// The stored files: digest and size.
fn stored(app: &TestApp) -> Vec<(String, i64)> {
    use casetrack::db::schema::attachment_files as f;
    use diesel::prelude::*;
    app.with_conn(|c| f::table.order(f::sha256).select((f::sha256, f::size_bytes)).load(c)).unwrap()
}

async fn download(app: &TestApp, token: &str, case: &Value, attachment: &Value) -> (u16, Vec<u8>) {
    let url = format!(
        "{}/api/v1/cases/{}/attachments/{}",
        app.base,
        case["id"].as_str().unwrap(),
        attachment["id"].as_str().unwrap()
    );
    let res = app.http.get(&url).bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

/// Behind a load balancer: a file uploaded through one instance downloads through the
/// other, which has a folder of its own; the same content twice is stored once.
#[tokio::test]
async fn a_file_uploaded_through_one_instance_downloads_through_another() {
    let app = spawn_with(|_| {}).await;
    let w = World::new(&app).await;
    let elsewhere = tempfile::tempdir().unwrap();
    let folder = elsewhere.path().to_path_buf();
    let other = app.beside(move |s| s.cases.attachment_dir = folder);
    let case = w.log_case(&app, &w.dien_bien, "Hai máy chủ").await;
    let (status, first) = upload(&app, &w.inspector.token, &case, "bien-ban.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(download(&other, &w.ba_dinh_head.token, &case, &first).await, (200, PDF.to_vec()));
    assert_eq!(download(&other, &w.cau_giay_head.token, &case, &first).await.0, 404, "scope holds on both");
    let (status, again) = upload(&other, &w.inspector.token, &case, "ban-sao.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(download(&app, &w.inspector.token, &case, &again).await, (200, PDF.to_vec()));
    assert_eq!(stored(&app).len(), 1, "the same content is stored once");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

/// Files an earlier version kept in `cases.attachment_dir` move into the database when
/// the service starts; one whose content no longer matches its digest is left out and
/// logged, and starting again moves nothing twice.
#[tokio::test]
async fn files_an_earlier_version_kept_in_a_folder_move_into_the_database() {
    use casetrack::db::schema::{attachment_files, case_attachments};
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(|_| {}).await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Tệp của phiên bản trước").await;
    let (status, kept) = upload(&app, &w.inspector.token, &case, "cu.pdf", "application/pdf", PDF).await;
    assert_eq!(status, 201);
    let broken = [PDF, b"% changed on disk"].concat();
    let (status, damaged) = upload(&app, &w.inspector.token, &case, "hong.pdf", "application/pdf", &broken).await;
    assert_eq!(status, 201);
    // As an earlier version left them: rows naming the files, the files in the folder.
    for (a, bytes) in [(&kept, PDF.to_vec()), (&damaged, b"%PDF-1.4 not what was uploaded".to_vec())] {
        let digest = a["sha256"].as_str().unwrap().to_string();
        std::fs::create_dir_all(dir.path().join(&digest[..2])).unwrap();
        std::fs::write(dir.path().join(&digest[..2]).join(&digest), bytes).unwrap();
    }
    app.with_conn(|c| diesel::delete(attachment_files::table).execute(c)).unwrap();

    let now = app.clock.now().naive_utc();
    let moved = app.with_conn(|c| casetrack::casework::adopt_files(c, dir.path(), now)).unwrap();
    assert_eq!(moved, 1);
    assert_eq!(stored(&app), vec![(kept["sha256"].as_str().unwrap().to_string(), PDF.len() as i64)]);
    assert_eq!(download(&app, &w.inspector.token, &case, &kept).await, (200, PDF.to_vec()));
    assert_eq!(app.with_conn(|c| casetrack::casework::adopt_files(c, dir.path(), now)).unwrap(), 0);
    let rows: i64 = app.with_conn(|c| case_attachments::table.count().get_result(c)).unwrap();
    assert_eq!(rows, 2, "the attachment whose file is damaged is kept, to be seen to");
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
    assert_eq!(stored(&app), vec![(digest.clone(), PDF.len() as i64)], "stored in the database under its digest");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "and nothing in the folder");
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

/// A case and its evidence are logged together or not at all (the console's form sends
/// both): a file the database refuses to keep, as a full disk would, leaves no case, no
/// number and no timeline behind; without the refusal both land.
#[tokio::test]
async fn a_case_and_its_files_are_logged_in_one_transaction() {
    use casetrack::casework::{CaseInput, Upload, log_with_files};
    use diesel::connection::SimpleConnection;
    let app = common::spawn().await;
    let w = World::new(&app).await;
    let refuse = |on: bool| {
        app.with_conn(|c| match c {
            casetrack::db::DbConn::Sqlite(c) => c.batch_execute(if on {
                "CREATE TRIGGER refuse_files BEFORE INSERT ON case_attachments BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            } else {
                "DROP TRIGGER refuse_files"
            }),
            casetrack::db::DbConn::Pg(c) => c.batch_execute(if on {
                "CREATE FUNCTION refuse_files() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$; \
                 CREATE TRIGGER refuse_files BEFORE INSERT ON case_attachments FOR EACH ROW EXECUTE FUNCTION refuse_files()"
            } else {
                "DROP TRIGGER refuse_files ON case_attachments"
            }),
        })
        .unwrap()
    };
    let caller = casetrack::auth::CurrentUser {
        user: w.inspector.user.clone(),
        role: casetrack::domain::role::Role::Inspector,
        session_id: "test".into(),
        client_addr: "127.0.0.1".into(),
        unit_ended: false,
    };
    let log = |title: &str| {
        let input: CaseInput = serde_json::from_value(w.case_body(&w.dien_bien, title)).unwrap();
        let file =
            Upload { file_name: "bien-ban.pdf".into(), content_type: "application/pdf".into(), bytes: PDF.to_vec() };
        let ctx = app.state.ctx();
        app.with_conn(|c| log_with_files(c, &ctx, &caller, input, vec![file]))
    };
    let count = |sql: &str| -> i64 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        app.with_conn(|c| diesel::sql_query(sql).get_result::<N>(c)).unwrap().n
    };

    refuse(true);
    assert!(log("Biên bản không lưu được").is_err(), "the refused file fails the whole operation");
    assert_eq!(count("SELECT COUNT(*) AS n FROM cases"), 0, "no case is left behind");
    assert_eq!(count("SELECT COUNT(*) AS n FROM case_events"), 0, "nor its timeline");
    assert_eq!(count("SELECT COUNT(*) AS n FROM attachment_files"), 0, "nor the file's bytes");

    refuse(false);
    let (case, _) = log("Biên bản lưu được").expect("logged with its file");
    assert_eq!(case.number.as_str(), "2024-000001", "the refused attempt took no number");
    assert_eq!(count(&format!("SELECT COUNT(*) AS n FROM case_attachments WHERE case_id = '{}'", case.id)), 1);
}

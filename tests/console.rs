//! The web console over HTTP, as a browser talks to it: sign-in and its cookie, pages for
//! every role, the same operations as the API underneath, and what the console refuses.

mod common;

use common::visitor::{Page, Visitor};
use common::world::World;
use common::{PASSWORD, spawn, spawn_with};
use serde_json::json;

/// Every address a page points at (href, src, action).
fn references(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for attr in ["href=\"", "src=\"", "action=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            refs.push(rest.split('"').next().unwrap_or_default().replace("&#x2f;", "/"));
        }
    }
    refs
}

#[track_caller]
fn only_own_references(page: &Page) {
    for r in references(&page.html) {
        assert!(
            r.starts_with('/') && !r.starts_with("//") || r.starts_with('#'),
            "page points outside the server: {r}"
        );
    }
}

#[tokio::test]
async fn a_signed_out_visitor_signs_in_and_lands_on_the_page_asked_for() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Chậm giải quyết hồ sơ").await;
    let path = format!("/cases/{}", case["id"].as_str().unwrap());
    let v = Visitor::new(&app);
    let r = v.get(&path).await;
    r.expect(303);
    assert_eq!(r.location().unwrap(), format!("/sign-in?next={}", path.replace('/', "%2F")));
    let back = v.sign_in_to("truong.badinh", PASSWORD, &path).await;
    back.expect(303);
    assert_eq!(back.location().as_deref(), Some(path.as_str()));
    v.get(&path).await.expect(200).contains(case["number"].as_str().unwrap()).contains("Chờ tiếp nhận");
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_secure_behind_https() {
    for (public_url, secure) in [("http://127.0.0.1:8080", false), ("https://casetrack.hanoi.gov.vn", true)] {
        let app = spawn_with(|s| s.server.public_url = public_url.into()).await;
        app.user("thanhtra1", casetrack::domain::role::Role::Inspector, None);
        let r = Visitor::new(&app).sign_in_to("thanhtra1", PASSWORD, "/").await;
        r.expect(303);
        let cookie = r.set_cookies().into_iter().find(|c| c.starts_with("ct_session=")).expect("session cookie set");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
    }
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_and_reference_only_this_server() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc xem thử").await;
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    for path in ["/", "/cases", "/notifications", &format!("/cases/{}", case["id"].as_str().unwrap()), "/sign-in"] {
        let page = v.get(path).await;
        page.expect(200);
        let csp = page.header("content-security-policy").expect("CSP set");
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
        only_own_references(&page);
    }
}

#[tokio::test]
async fn every_page_renders_for_every_role() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.case_in(&app, "in_handling").await;
    let case_path = format!("/cases/{}", case["id"].as_str().unwrap());
    let pages: &[(&str, &[(&str, u16)])] = &[
        (
            "thanhtra1",
            &[("/", 200), ("/cases", 200), ("/cases/new", 200), ("/notifications", 200), ("/account/password", 200)],
        ),
        (
            "ubkt.thanhpho",
            &[("/", 200), ("/?tab=overdue", 200), ("/cases", 200), ("/cases/new", 403), ("/notifications", 200)],
        ),
        ("truong.badinh", &[("/", 200), ("/cases", 200), ("/cases/new", 403), ("/notifications", 200)]),
        ("quantri", &[("/", 200), ("/cases", 403), ("/notifications", 200), ("/account/password", 200)]),
    ];
    for (user, paths) in pages {
        let v = Visitor::signed_in(&app, user).await;
        for (path, status) in *paths {
            let page = v.get(path).await;
            page.expect(*status);
            assert!(page.html.contains("<html lang=\"vi\">"), "{user} {path}");
        }
        if *user != "quantri" {
            v.get(&case_path).await.expect(200).contains("Đang xử lý");
        }
    }
    let inspector = Visitor::signed_in(&app, "thanhtra1").await;
    let form = inspector.get(&format!("/cases/new?campaign_id={}", w.campaign.id)).await;
    form.expect(200).contains("Phường Điện Biên").contains("2.5");
    let reviewer_home = Visitor::signed_in(&app, "ubkt.thanhpho").await.get("/?tab=in_handling").await;
    reviewer_home.expect(200).contains(case["number"].as_str().unwrap());
    let head_home = Visitor::signed_in(&app, "truong.badinh").await.get("/").await;
    head_home.expect(200).contains(case["number"].as_str().unwrap());
}

#[tokio::test]
async fn a_case_out_of_scope_is_the_same_404_page_as_one_that_does_not_exist() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc ở Ba Đình").await;
    let v = Visitor::signed_in(&app, "truong.caugiay").await;
    let hidden = v.get(&format!("/cases/{}", case["id"].as_str().unwrap())).await;
    let missing = v.get(&format!("/cases/{}", casetrack::model::new_id())).await;
    let malformed = v.get("/cases/not-an-id").await;
    for page in [&hidden, &missing, &malformed] {
        page.expect(404).contains("Không tìm thấy");
        assert!(page.header("content-type").unwrap().starts_with("text/html"));
        assert!(!page.html.contains(case["number"].as_str().unwrap()));
    }
    let strip = |p: &Page| p.html.clone();
    assert_eq!(strip(&hidden), strip(&missing));
    v.get("/no/such/page").await.expect(404).contains("Không tìm thấy");
    let api = app.get("/api/v1/no-such-thing", &w.admin.token).await;
    api.expect(404);
}

#[tokio::test]
async fn a_state_change_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc cần tiếp nhận").await;
    let id = case["id"].as_str().unwrap();
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let other = Visitor::signed_in(&app, "ubkt.badinh").await.csrf().await;
    let before = app.audit_count();
    let fields = [
        ("action", "accept"),
        ("responsible_unit_id", w.ba_dinh.id.as_str()),
        ("due_at", "2024-10-31"),
        ("version", "1"),
    ];
    let path = format!("/cases/{id}/transition");
    v.post(&path, &fields).await.expect(403);
    v.post(&path, &[fields.as_slice(), &[("_csrf", "0123456789abcdef")]].concat()).await.expect(403);
    // Another person's token does not do either.
    v.post(&path, &[fields.as_slice(), &[("_csrf", other.as_str())]].concat()).await.expect(403);
    v.post(&format!("/cases/{id}/comments"), &[("body", "Ý kiến")]).await.expect(403);
    v.post("/sign-out", &[]).await.expect(403);
    assert_eq!(app.audit_count(), before);
    let now = app.get(&format!("/api/v1/cases/{id}"), &w.city_reviewer.token).await.expect(200);
    assert_eq!(now.body["status"], "open");
}

#[tokio::test]
async fn a_title_with_markup_is_shown_as_text() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "<script>alert('x')</script> <b>đậm</b>").await;
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    for path in [format!("/cases/{}", case["id"].as_str().unwrap()), "/cases".into(), "/".into()] {
        let page = v.get(&path).await;
        page.expect(200).contains("&lt;script&gt;");
        assert!(!page.html.contains("<script>alert"), "{path}");
        assert!(!page.html.contains("<b>đậm"), "{path}");
    }
}

#[tokio::test]
async fn the_reviewer_accepts_through_the_same_operation_as_the_api() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Vụ việc tiếp nhận qua giao diện").await;
    let id = case["id"].as_str().unwrap();
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let page = v.get(&format!("/cases/{id}")).await;
    page.expect(200).contains("Tiếp nhận").contains("Kết luận không vi phạm");
    assert!(!page.html.contains("Báo cáo khắc phục"), "only the actions the workflow allows now");
    let csrf = page.csrf();
    let path = format!("/cases/{id}/transition");
    // Missing needs: the page again, each message beside its field, in Vietnamese; nothing changes.
    let before = app.audit_count();
    let refused = v.post(&path, &[("_csrf", &csrf), ("action", "accept"), ("version", "1")]).await;
    refused.expect(422).contains("Hãy chọn đơn vị chịu trách nhiệm xử lý.").contains("Hãy đặt hạn xử lý.");
    assert!(refused.html.contains("aria-invalid=\"true\" aria-describedby=\"err-due_at\""));
    assert_eq!(app.audit_count(), before);
    let ok = v
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("action", "accept"),
                ("version", "1"),
                ("responsible_unit_id", &w.ba_dinh.id),
                ("due_at", "2024-10-31"),
            ],
        )
        .await;
    ok.expect(303);
    let api = app.get(&format!("/api/v1/cases/{id}"), &w.city_reviewer.token).await.expect(200);
    assert_eq!(api.body["status"], "in_handling");
    assert_eq!(api.body["responsible_unit_id"], json!(w.ba_dinh.id));
    assert_eq!(app.audit_count(), before + 1);
    let events = app.get(&format!("/api/v1/cases/{id}/events"), &w.city_reviewer.token).await.expect(200);
    assert!(events.body["items"].as_array().unwrap().iter().any(|e| e["kind"] == "transition"));
    // The date-only deadline is shown as the date it was given.
    v.get(&format!("/cases/{id}")).await.expect(200).contains("31/10/2024");
    // The form was for version 1: a second post of it is stale, said in Vietnamese.
    let stale =
        v.post(&path, &[("_csrf", &csrf), ("action", "dismiss"), ("version", "1"), ("note", "Không có căn cứ")]).await;
    stale.expect(409).contains("người khác thay đổi");
    let still = app.get(&format!("/api/v1/cases/{id}"), &w.city_reviewer.token).await.expect(200);
    assert_eq!(still.body["status"], "in_handling");
}

#[tokio::test]
async fn the_inspector_logs_a_case_with_evidence_and_a_bad_file_keeps_nothing() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let v = Visitor::signed_in(&app, "thanhtra1").await;
    let csrf = v.get(&format!("/cases/new?campaign_id={}", w.campaign.id)).await.csrf();
    let form = |file: (&'static [u8], &'static str, &'static str)| {
        reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("campaign_id", w.campaign.id.clone())
            .text("subject_unit_id", w.dien_bien.id.clone())
            .text("subject_kind", "individual")
            .text("person_name", "Trần Văn Hùng")
            .text("indicator_ids", w.indicator("2.5").id.clone())
            .text("indicator_ids", w.indicator("1.1").id.clone())
            .text("severity", "high")
            .text("detected_on", "2024-09-20")
            .text("title", "Giữ hồ sơ quá hạn")
            .text("description", "Hồ sơ bị giữ 30 ngày.")
            .part("file", reqwest::multipart::Part::bytes(file.0).file_name(file.1).mime_str(file.2).unwrap())
    };
    let count = || app.get("/api/v1/cases", &w.inspector.token);
    let bad = v.post_multipart("/cases/new", form((b"not a pdf", "bien-ban.pdf", "application/pdf"))).await;
    bad.expect(422).contains("Nội dung tệp không đúng với loại application/pdf.").contains("Giữ hồ sơ quá hạn");
    assert_eq!(count().await.body["items"].as_array().unwrap().len(), 0);
    let ok = v.post_multipart("/cases/new", form((b"%PDF-1.4 bien ban", "biên bản.pdf", "application/pdf"))).await;
    ok.expect(303);
    let listed = count().await.body;
    let case = &listed["items"][0];
    assert_eq!(ok.location().unwrap(), format!("/cases/{}", case["id"].as_str().unwrap()));
    assert_eq!(case["indicator_ids"].as_array().unwrap().len(), 2);
    let files =
        app.get(&format!("/api/v1/cases/{}/attachments", case["id"].as_str().unwrap()), &w.inspector.token).await;
    assert_eq!(files.body["items"][0]["file_name"], "biên bản.pdf");
    let page = v.get(ok.location().as_deref().unwrap()).await;
    page.expect(200).contains("biên bản.pdf").contains("Rất nghiêm trọng");
}

/// Evidence added to a case already logged: the files go in together, and one refused
/// file keeps none of them.
#[tokio::test]
async fn evidence_added_to_a_case_keeps_every_file_or_none() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.log_case(&app, &w.dien_bien, "Bổ sung chứng cứ").await;
    let id = case["id"].as_str().unwrap().to_string();
    let v = Visitor::signed_in(&app, "thanhtra1").await;
    let csrf = v.get(&format!("/cases/{id}")).await.csrf();
    let file = |bytes: &'static [u8], name: &'static str| {
        reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str("application/pdf").unwrap()
    };
    let form = |second: (&'static [u8], &'static str)| {
        reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .part("file", file(b"%PDF-1.4 bien ban", "biên bản.pdf"))
            .part("file", file(second.0, second.1))
    };
    let listed = format!("/api/v1/cases/{id}/attachments");
    let files = || app.get(&listed, &w.inspector.token);
    let bad = v.post_multipart(&format!("/cases/{id}/evidence"), form((b"not a pdf", "tường trình.pdf"))).await;
    bad.expect(422).contains("Nội dung tệp không đúng với loại application/pdf.");
    assert_eq!(files().await.body["items"].as_array().unwrap().len(), 0);
    let ok =
        v.post_multipart(&format!("/cases/{id}/evidence"), form((b"%PDF-1.4 tuong trinh", "tường trình.pdf"))).await;
    ok.expect(303);
    assert_eq!(files().await.body["items"].as_array().unwrap().len(), 2);
}

/// The form states the limits the core checks, from the same constants, and a refused
/// field is described by its hint and its message together.
#[tokio::test]
async fn the_case_form_states_the_core_s_limits_and_describes_a_refused_field() {
    use casetrack::domain::limits::{DESCRIPTION_MAX, IDENTIFIER_MAX, NAME_MAX, TITLE_MAX};
    let app = spawn().await;
    let w = World::new(&app).await;
    let v = Visitor::signed_in(&app, "thanhtra1").await;
    let page = v.get(&format!("/cases/new?campaign_id={}", w.campaign.id)).await;
    page.expect(200);
    for (id, max) in [("title", TITLE_MAX), ("description", DESCRIPTION_MAX), ("identifier", IDENTIFIER_MAX)] {
        assert!(page.html.contains(&format!("id=\"{id}\" name=\"{id}\"")), "{id} is on the form");
        let at = page.html.find(&format!("id=\"{id}\" name=\"{id}\"")).unwrap();
        let tag = &page.html[at..at + page.html[at..].find('>').unwrap()];
        assert!(tag.contains(&format!("maxlength=\"{max}\"")), "{id}: {tag}");
    }
    assert!(page.html.contains(&format!("id=\"body_name\" name=\"body_name\" maxlength=\"{NAME_MAX}\"")));
    let size = casetrack::i18n::size(casetrack::i18n::Lang::Vi, app.state.settings.cases.attachment_max_bytes);
    page.contains(&format!("mỗi tệp tối đa {size}."));

    let csrf = page.csrf();
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("campaign_id", w.campaign.id.clone())
        .text("subject_unit_id", w.dien_bien.id.clone())
        .text("subject_kind", "individual")
        .text("person_name", "Trần Văn Hùng")
        .text("identifier", "9".repeat(IDENTIFIER_MAX + 1))
        .text("indicator_ids", w.indicator("2.5").id.clone())
        .text("severity", "high")
        .text("detected_on", "2024-09-20")
        .text("title", "Giữ hồ sơ quá hạn")
        .text("description", "Hồ sơ bị giữ 30 ngày.");
    let refused = v.post_multipart("/cases/new", form).await;
    refused.expect(422);
    assert!(
        refused.html.contains("aria-describedby=\"identifier-hint err-subject.identifier\" aria-invalid=\"true\""),
        "{}",
        refused.html
    );
    refused.contains(&format!("id=\"err-subject.identifier\" role=\"alert\">Tối đa {IDENTIFIER_MAX} ký tự."));
}

#[tokio::test]
async fn sign_in_failures_are_told_in_vietnamese_and_throttled_with_the_wait_in_words() {
    let app = spawn().await;
    app.user("thanhtra1", casetrack::domain::role::Role::Inspector, None);
    let v = Visitor::new(&app);
    v.sign_in_to("thanhtra1", "sai-mat-khau", "/")
        .await
        .expect(401)
        .contains("Tên đăng nhập hoặc mật khẩu không đúng.");
    v.sign_in_to("", "", "/").await.expect(422).contains("Trường này là bắt buộc.");
    for _ in 0..4 {
        v.sign_in_to("thanhtra1", "sai-mat-khau", "/").await;
    }
    let throttled = v.sign_in_to("thanhtra1", PASSWORD, "/").await;
    throttled.expect(429).contains("Vui lòng thử lại sau 15 phút.");
    // A form posted without its double-submit cookie is refused.
    let fresh = Visitor::new(&app);
    let r = fresh.post("/sign-in", &[("_csrf", "x"), ("username", "thanhtra1"), ("password", PASSWORD)]).await;
    r.expect(403);
    assert!(!r.set_cookies().iter().any(|c| c.starts_with("ct_session=e")));
}

#[tokio::test]
async fn sign_out_and_a_password_change_end_the_console_session_at_once() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let v = Visitor::signed_in(&app, "truong.badinh").await;
    v.get("/").await.expect(200);
    // A password change through the API ends every other sign-in, the console's included.
    app.post(
        "/api/v1/me/password",
        Some(&w.ba_dinh_head.token),
        json!({"current_password": PASSWORD, "new_password": "một mật khẩu mới dài"}),
    )
    .await
    .expect(204);
    v.get("/").await.expect(303);
    let v = Visitor::signed_in(&app, "thanhtra1").await;
    let csrf = v.csrf().await;
    v.post("/sign-out", &[("_csrf", &csrf)]).await.expect(303);
    let after = v.get("/").await;
    after.expect(303);
    assert!(after.location().unwrap().starts_with("/sign-in"));
}

#[tokio::test]
async fn the_console_changes_the_password_with_the_same_rules() {
    let app = spawn().await;
    let _w = World::new(&app).await;
    let v = Visitor::signed_in(&app, "thanhtra2").await;
    let csrf = v.csrf().await;
    let short = v
        .post("/account/password", &[("_csrf", &csrf), ("current_password", PASSWORD), ("new_password", "ngắn")])
        .await;
    short.expect(422).contains("Mật khẩu phải có ít nhất 10 ký tự.");
    let wrong = v
        .post(
            "/account/password",
            &[("_csrf", &csrf), ("current_password", "sai"), ("new_password", "mật khẩu mới đủ dài")],
        )
        .await;
    wrong.expect(422).contains("Mật khẩu hiện tại không đúng.");
    v.post(
        "/account/password",
        &[("_csrf", &csrf), ("current_password", PASSWORD), ("new_password", "mật khẩu mới đủ dài")],
    )
    .await
    .expect(200)
    .contains("Đã đổi mật khẩu.");
    app.login("thanhtra2", "mật khẩu mới đủ dài").await.expect(200);
}

#[tokio::test]
async fn english_is_a_choice_kept_in_a_cookie() {
    let app = spawn().await;
    let w = World::new(&app).await;
    w.log_case(&app, &w.dien_bien, "Vụ việc song ngữ").await;
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    v.get("/").await.contains("Chờ tiếp nhận");
    let r = v.post("/language", &[("lang", "en")]).await;
    r.expect(303);
    let page = v.get("/").await;
    page.expect(200).contains("<html lang=\"en\">").contains("Awaiting review").contains("Review queue");
}

#[tokio::test]
async fn the_list_keeps_its_filters_in_the_address_and_exports_exactly_them() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let open = w.log_case(&app, &w.dien_bien, "Vụ việc còn mở").await;
    let handled = w.case_in(&app, "in_handling").await;
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let page = v.get("/cases?status=open&q=").await;
    page.expect(200).contains(open["number"].as_str().unwrap());
    assert!(!page.html.contains(handled["number"].as_str().unwrap()));
    assert!(page.text().contains("/cases/export?format=csv&amp;status=open"), "the export link keeps the filter");
    let csv = v.get("/cases/export?format=csv&status=open").await;
    csv.expect(200);
    assert!(csv.html.contains(open["number"].as_str().unwrap()));
    assert!(!csv.html.contains(handled["number"].as_str().unwrap()));
    // A date-only deadline is exported as the date it was given.
    let handling = v.get("/cases/export?format=csv&status=in_handling").await;
    assert!(handling.html.contains(",31/10/2024,"), "{}", handling.html);
    // A filter typed wrong in the address is said beside it, not as a bare error.
    v.get("/cases?from=31-12-2024").await.expect(422).contains("Hãy nhập ngày hợp lệ.");
}

#[tokio::test]
async fn assets_are_hashed_immutable_and_compressed() {
    let app = spawn().await;
    app.user("thanhtra1", casetrack::domain::role::Role::Inspector, None);
    let v = Visitor::new(&app);
    let page = v.get("/sign-in").await;
    let css = references(&page.html).into_iter().find(|r| r.ends_with(".css")).expect("stylesheet linked");
    assert!(css.starts_with("/assets/console-"), "{css}");
    let asset = v.get_with(&css, &[("accept-encoding", "gzip")]).await;
    asset.expect(200);
    assert_eq!(asset.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    assert_eq!(asset.header("content-encoding").as_deref(), Some("gzip"));
    v.get("/assets/console-000000000000.css").await.expect(404);
}

#[tokio::test]
async fn the_report_page_says_the_official_line_from_the_same_figures_as_the_api() {
    let app = spawn().await;
    let w = World::new(&app).await;
    w.case_in(&app, "closed").await;
    w.case_in(&app, "in_handling").await;
    w.log_case(&app, &w.cau_giay, "Vụ việc ở Cầu Giấy").await;
    let api = app.get("/api/v1/reports/summary", &w.city_reviewer.token).await.expect(200).body;
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let page = v.get("/reports").await;
    page.expect(200);
    let (detected, handled) =
        (api["subjects"]["detected"].as_i64().unwrap(), api["subjects"]["handled"].as_i64().unwrap());
    // The same person in Điện Biên has one case closed and one still in handling: not yet handled.
    assert_eq!((detected, handled), (2, 0), "{api}");
    page.contains("Phát hiện 2 tổ chức, cá nhân có vi phạm; đã xử lý 0 tổ chức, cá nhân (0,0%).");
    // Case tiles: 3 detected, 1 handled, 33,3%; each figure opens the matching list.
    page.contains("33,3%").contains("/cases?status=closed").contains("/cases?overdue=true");
    // The breakdown by unit drills down to the unit's own report.
    page.contains(&format!("/reports?unit_id={}", w.ba_dinh.id)).contains("Quận Ba Đình");
    v.get(&format!("/reports?unit_id={}", w.ba_dinh.id)).await.expect(200).contains("Báo cáo · Quận Ba Đình");
    let csv = v.get("/reports/export?format=csv").await;
    csv.expect(200);
    assert!(csv.html.contains("Tổng số vụ việc"));
    v.get("/reports?from=2024-13-01").await.expect(422).contains("Hãy nhập ngày hợp lệ.");
    Visitor::signed_in(&app, "thanhtra1").await.get("/reports").await.expect(403);
}

#[tokio::test]
async fn the_reviewer_accepts_several_open_cases_at_once_with_a_result_for_each() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let a = w.log_case(&app, &w.dien_bien, "Vụ việc thứ nhất").await;
    let b = w.log_case(&app, &w.dien_bien, "Vụ việc thứ hai").await;
    let gone = w.case_in(&app, "dismissed").await;
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let queue = v.get("/").await;
    queue.expect(200).contains("Tiếp nhận các vụ việc đã chọn");
    // The tabs count what the lists hold: two awaiting review, none in handling.
    queue
        .contains("Chờ tiếp nhận <span class=\"count\">2</span>")
        .contains("Đang xử lý <span class=\"count\">0</span>");
    let csrf = queue.csrf();
    let r = v
        .post(
            "/cases/bulk-accept",
            &[
                ("_csrf", &csrf),
                ("case_ids", a["id"].as_str().unwrap()),
                ("case_ids", b["id"].as_str().unwrap()),
                ("case_ids", gone["id"].as_str().unwrap()),
                ("responsible_unit_id", &w.ba_dinh.id),
                ("due_at", "2024-10-31"),
            ],
        )
        .await;
    r.expect(422)
        .contains("Kết quả tiếp nhận")
        .contains("đã tiếp nhận")
        .contains("không còn ở trạng thái chờ tiếp nhận");
    for case in [&a, &b] {
        let now = app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &w.city_reviewer.token).await;
        assert_eq!(now.body["status"], "in_handling");
        assert_eq!(now.body["responsible_unit_id"], json!(w.ba_dinh.id));
    }
    // Without a due date nothing is accepted, and each case says why.
    let c = w.log_case(&app, &w.dien_bien, "Vụ việc thứ ba").await;
    let r = v
        .post(
            "/cases/bulk-accept",
            &[("_csrf", &csrf), ("case_ids", c["id"].as_str().unwrap()), ("responsible_unit_id", &w.ba_dinh.id)],
        )
        .await;
    r.expect(422).contains("Hãy đặt hạn xử lý.");
    let still = app.get(&format!("/api/v1/cases/{}", c["id"].as_str().unwrap()), &w.city_reviewer.token).await;
    assert_eq!(still.body["status"], "open");
}

#[tokio::test]
async fn notifications_show_an_unread_count_and_open_their_case() {
    use diesel::prelude::*;
    let app = spawn().await;
    let w = World::new(&app).await;
    app.with_conn(|c| {
        diesel::update(casetrack::db::schema::units::table.find(&w.ba_dinh.id))
            .set(casetrack::db::schema::units::head_user_id.eq(&w.ba_dinh_head.user.id))
            .execute(c)
    })
    .unwrap();
    let case = w.case_in(&app, "in_handling").await;
    app.clock.advance(chrono::Duration::days(40));
    let settings = app.state.settings.clone();
    let now = app.clock.now_naive();
    let report = app
        .with_conn(|c| {
            casetrack::jobs::sweep::sweep(c, &settings.escalation, settings.time_zone().unwrap(), now, "example.vn")
        })
        .unwrap();
    assert!(report.ran);
    let v = Visitor::signed_in(&app, "truong.badinh").await;
    let home = v.get("/").await;
    home.expect(200);
    let unread = home
        .text()
        .split("class=\"unread-count\"")
        .nth(1)
        .map(|s| s[s.find('>').unwrap() + 1..].split('<').next().unwrap().to_string());
    let unread: i64 = unread.expect("an unread count is shown").parse().unwrap();
    assert!(unread >= 1);
    let list = v.get("/notifications").await;
    list.expect(200).contains(case["number"].as_str().unwrap());
    let form_at = list.html.find("/notifications/").unwrap();
    let alert_id = list.html[form_at + 15..].split('/').next().unwrap().to_string();
    let r = v
        .post(
            &format!("/notifications/{alert_id}/read"),
            &[("_csrf", &list.csrf()), ("case_id", case["id"].as_str().unwrap())],
        )
        .await;
    r.expect(303);
    assert_eq!(r.location().unwrap(), format!("/cases/{}", case["id"].as_str().unwrap()));
    let after = v.get("/").await;
    let left = after
        .text()
        .split("class=\"unread-count\"")
        .nth(1)
        .map(|s| s[s.find('>').unwrap() + 1..].split('<').next().unwrap().parse::<i64>().unwrap())
        .unwrap_or(0);
    assert_eq!(left, unread - 1);
}

#[tokio::test]
async fn the_administrator_creates_a_user_whose_password_is_shown_once_and_manages_it() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let v = Visitor::signed_in(&app, "quantri").await;
    let csrf = v.get("/admin/users").await.expect(200).csrf();
    // Every problem beside its field, what was typed kept; nothing created.
    let bad = v
        .post(
            "/admin/users",
            &[("_csrf", &csrf), ("username", "Nguyễn"), ("full_name", "Lê Văn Tâm"), ("role", "reviewer")],
        )
        .await;
    bad.expect(422).contains("Từ 3 đến 64 ký tự").contains("phải thuộc một đơn vị").contains("Lê Văn Tâm");
    let taken = v
        .post(
            "/admin/users",
            &[("_csrf", &csrf), ("username", "thanhtra1"), ("full_name", "Trùng tên"), ("role", "inspector")],
        )
        .await;
    taken.expect(422).contains("Tên đăng nhập này đã có người dùng.");
    let made = v
        .post(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("username", "ubkt.caugiay"),
                ("full_name", "Lê Văn Tâm"),
                ("role", "reviewer"),
                ("unit_id", &w.cau_giay.id),
            ],
        )
        .await;
    made.expect(201).contains("Đã tạo người dùng ubkt.caugiay.");
    assert_eq!(made.header("cache-control").as_deref(), Some("no-store"));
    let at =
        made.html.find("<code class=\"secret\">").expect("the password is shown") + "<code class=\"secret\">".len();
    let password = made.html[at..].split('<').next().unwrap().to_string();
    let login = app.login("ubkt.caugiay", &password).await.expect(200);
    let token = login.body["access_token"].as_str().unwrap().to_string();
    let id = app.get("/api/v1/me", &token).await.body["id"].as_str().unwrap().to_string();
    // The list no longer shows it; the user's page does not either.
    assert!(!v.get("/admin/users").await.html.contains(&password));
    let page = v.get(&format!("/admin/users/{id}")).await;
    page.expect(200);
    assert!(!page.html.contains(&password));
    // Moved to Ba Đình and deactivated: the sign-in ends at once.
    let csrf = page.csrf();
    let r = v
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("full_name", "Lê Văn Tâm"),
                ("role", "reviewer"),
                ("unit_id", &w.ba_dinh.id),
            ],
        )
        .await;
    r.expect(303);
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status.as_u16(), 401, "deactivated (the box was left unticked): {}", me.body);
    let user = app.get(&format!("/api/v1/users/{id}"), &w.admin.token).await.expect(200).body;
    assert_eq!((user["unit_id"].as_str(), user["active"].as_bool()), (Some(w.ba_dinh.id.as_str()), Some(false)));
    // A stale form is said, not applied.
    let stale = v
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("full_name", "Khác"),
                ("role", "reviewer"),
                ("unit_id", &w.ba_dinh.id),
                ("active", "1"),
            ],
        )
        .await;
    stale.expect(422).contains("người khác thay đổi");
    // A reset shows a new password once.
    let reset = v.post(&format!("/admin/users/{id}"), &[("_csrf", &csrf), ("version", "2"), ("reset", "1")]).await;
    reset.expect(200).contains("Đã đặt lại mật khẩu");
    // The administrator cannot remove their own rights.
    let own = app.get("/api/v1/me", &w.admin.token).await.body["id"].as_str().unwrap().to_string();
    let csrf = v.get(&format!("/admin/users/{own}")).await.csrf();
    v.post(
        &format!("/admin/users/{own}"),
        &[("_csrf", &csrf), ("version", "1"), ("full_name", "Quản trị"), ("role", "inspector")],
    )
    .await
    .expect(422)
    .contains("Bạn không thể tự khóa tài khoản");
}

#[tokio::test]
async fn the_administrator_adds_and_moves_units_and_a_cycle_is_refused_beside_the_field() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let v = Visitor::signed_in(&app, "quantri").await;
    let page = v.get("/admin/units").await;
    page.expect(200).contains("Phường Điện Biên").contains("Quận Ba Đình");
    let csrf = page.csrf();
    let r = v
        .post(
            "/admin/units",
            &[
                ("_csrf", &csrf),
                ("code", "BD-KIM-MA"),
                ("name", "Phường Kim Mã"),
                ("kind", "commune"),
                ("parent_id", &w.ba_dinh.id),
            ],
        )
        .await;
    r.expect(303);
    let unit_path = r.location().unwrap();
    let unit_id = unit_path.rsplit('/').next().unwrap().to_string();
    v.post("/admin/units", &[("_csrf", &csrf), ("code", "BD-KIM-MA"), ("name", "Trùng mã"), ("kind", "commune")])
        .await
        .expect(422)
        .contains("Mã đơn vị này đã được dùng");
    // Moved under Cầu Giấy, its head set.
    let form = v.get(&unit_path).await;
    form.expect(200);
    let fields = [
        ("_csrf", csrf.as_str()),
        ("version", "1"),
        ("code", "BD-KIM-MA"),
        ("name", "Phường Kim Mã"),
        ("kind", "commune"),
        ("parent_id", &w.cau_giay.id),
    ];
    v.post(&unit_path, &fields).await.expect(303);
    let api = app.get(&format!("/api/v1/units/{unit_id}"), &w.admin.token).await.expect(200).body;
    assert_eq!(api["parent_id"], json!(w.cau_giay.id));
    // Ba Đình cannot go under its own ward.
    let ba_dinh = format!("/admin/units/{}", w.ba_dinh.id);
    let r = v
        .post(
            &ba_dinh,
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("code", "BA-DINH"),
                ("name", "Quận Ba Đình"),
                ("kind", "district"),
                ("parent_id", &w.dien_bien.id),
            ],
        )
        .await;
    r.expect(422).contains("Không thể đặt đơn vị vào dưới chính nó");
    let still = app.get(&format!("/api/v1/units/{}", w.ba_dinh.id), &w.admin.token).await.expect(200).body;
    assert_eq!(still["parent_id"], json!(w.city.id));
}

#[tokio::test]
async fn administration_is_for_administrators_and_reads_outbox_audit_and_catalog() {
    let app = spawn().await;
    let _w = World::new(&app).await;
    let reviewer = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    for path in ["/admin/users", "/admin/units", "/admin/outbox", "/admin/audit", "/admin/catalog"] {
        reviewer.get(path).await.expect(403).contains("Không được phép");
    }
    let v = Visitor::signed_in(&app, "quantri").await;
    v.get("/admin/outbox").await.expect(200).contains("Không có thư nào.");
    v.get("/admin/audit").await.expect(200).contains("login");
    v.get("/admin/audit?from=hôm-qua").await.expect(422).contains("Hãy nhập ngày hoặc thời điểm hợp lệ.");
    let csrf = v.get("/admin/catalog").await.expect(200).csrf();
    let catalog = casetrack::domain::catalog::DEFAULT_CATALOG.replace("2024.1-paraphrase", "2024.2");
    let form = reqwest::multipart::Form::new().text("_csrf", csrf.clone()).part(
        "file",
        reqwest::multipart::Part::bytes(catalog.into_bytes())
            .file_name("24-CT-TU.toml")
            .mime_str("text/plain")
            .unwrap(),
    );
    let r = v.post_multipart("/admin/catalog", form).await;
    r.expect(200).contains("Đã cập nhật văn bản 24-CT/TU");
    let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(b"[directive]\ncode = \"\"".to_vec())
            .file_name("hong.toml")
            .mime_str("text/plain")
            .unwrap(),
    );
    v.post_multipart("/admin/catalog", form).await.expect(422).contains("Không đọc được tệp danh mục");
}

#[tokio::test]
async fn the_list_sorts_by_deadline_or_by_last_activity() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let mut logged = Vec::new();
    for i in 0..3 {
        logged.push(w.log_case(&app, &w.dien_bien, &format!("Vụ việc số {i}")).await);
        app.clock.advance(chrono::Duration::minutes(2));
    }
    // The oldest case was changed last.
    let first = &logged[0];
    app.patch(
        &format!("/api/v1/cases/{}", first["id"].as_str().unwrap()),
        &w.inspector.token,
        json!({"title": "Vụ việc số 0, đã sửa"}),
        None,
    )
    .await
    .expect(200);
    let v = Visitor::signed_in(&app, "ubkt.thanhpho").await;
    let order = |page: &Page| -> Vec<String> {
        logged
            .iter()
            .filter_map(|c| {
                page.html.find(c["number"].as_str().unwrap()).map(|at| (at, c["number"].as_str().unwrap().to_string()))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_values()
            .collect()
    };
    let numbers: Vec<String> = logged.iter().map(|c| c["number"].as_str().unwrap().to_string()).collect();
    let by_deadline = v.get("/cases?sort=deadline").await;
    by_deadline.expect(200);
    assert_eq!(order(&by_deadline), numbers, "review deadlines follow logging");
    let by_activity = v.get("/cases?sort=activity").await;
    assert_eq!(order(&by_activity), vec![numbers[0].clone(), numbers[2].clone(), numbers[1].clone()]);
    v.get("/cases?sort=deadline&cursor=AA").await.expect(422).contains("Đường dẫn phân trang không hợp lệ");
    v.get("/cases?cursor=AA").await.expect(422).contains("Đường dẫn phân trang không hợp lệ");
}

#[tokio::test]
async fn a_person_chooses_a_daily_digest_in_the_console() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let v = Visitor::signed_in(&app, "truong.badinh").await;
    let csrf = v.csrf().await;
    v.post("/account/digest", &[("_csrf", &csrf), ("mode", "daily"), ("at", "7h")])
        .await
        .expect(422)
        .contains("Hãy nhập giờ dạng 07:30.");
    v.post("/account/digest", &[("_csrf", &csrf), ("mode", "daily"), ("at", "07:15")]).await.expect(303);
    let me = app.get("/api/v1/me", &w.ba_dinh_head.token).await.expect(200).body;
    assert_eq!(me["digest_daily_at"], "07:15");
    v.get("/account/password").await.expect(200).contains("value=\"07:15\"");
    v.post("/account/digest", &[("_csrf", &csrf), ("mode", "sweep")]).await.expect(303);
    let me = app.get("/api/v1/me", &w.ba_dinh_head.token).await.expect(200).body;
    assert_eq!(me["digest_daily_at"], json!(null));
}

//! The case workflow: every action × every state × every role, as the domain table says.

mod common;

use casetrack::domain::role::Role;
use casetrack::domain::workflow::{Action, RULES, Status};
use common::world::World;
use common::{Login, spawn};
use serde_json::json;

fn login_for(w: &World, role: Role) -> &Login {
    match role {
        Role::Admin => &w.admin,
        Role::Inspector => &w.inspector,
        Role::Reviewer => &w.city_reviewer,
        // Heads the responsible unit (Ba Đình) of the cases below.
        Role::UnitHead => &w.ba_dinh_head,
    }
}

#[tokio::test]
async fn every_action_from_every_state_by_every_role_follows_the_table() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // One untouched case per state for the refusals (a refusal changes nothing).
    let mut samples = std::collections::HashMap::new();
    for status in Status::ALL {
        samples.insert(status, w.case_in(&app, status.as_str()).await);
    }
    for action in Action::ALL {
        let rule = RULES.iter().find(|r| r.action == action).unwrap();
        for from in Status::ALL {
            for role in Role::ALL {
                let allowed_role = rule.roles.contains(&role);
                let allowed_state = rule.from.contains(&from);
                let expected = match (role, allowed_role, allowed_state) {
                    (Role::Admin, _, _) => 403,
                    (_, false, _) => 403,
                    (_, true, false) => 409,
                    (_, true, true) => 200,
                };
                let case = if expected == 200 { w.case_in(&app, from.as_str()).await } else { samples[&from].clone() };
                let who = login_for(&w, role);
                let r = w.act(&app, who, &case, w.transition_body(action.as_str())).await;
                let label = format!("{} from {} by {}", action.as_str(), from.as_str(), role.as_str());
                assert_eq!(r.status.as_u16(), expected, "{label}: {}", r.body);
                if expected == 200 {
                    assert_eq!(r.body["status"], rule.to.as_str(), "{label}");
                    assert_eq!(r.body["version"], case["version"].as_i64().unwrap() + 1, "{label}");
                } else {
                    assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"), "{label}");
                }
            }
        }
    }
    // The refusals left the sample cases exactly as they were.
    for (status, case) in samples {
        let r = app
            .get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &w.city_reviewer.token)
            .await
            .expect(200);
        assert_eq!(r.body["status"], status.as_str());
        assert_eq!(r.body["version"], case["version"]);
    }
}

#[tokio::test]
async fn each_action_names_what_it_is_missing() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let open = w.case_in(&app, "open").await;
    let r = w.act(&app, &w.city_reviewer, &open, json!({"action": "accept"})).await.expect(422);
    assert_eq!(r.error_fields(), vec!["responsible_unit_id", "due_at"]);
    let r = w
        .act(
            &app,
            &w.city_reviewer,
            &open,
            json!({"action": "accept", "responsible_unit_id": w.ba_dinh.id, "due_at": "2020-01-01"}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["due_at"]);
    let r = w.act(&app, &w.city_reviewer, &open, json!({"action": "dismiss", "note": "   "})).await.expect(422);
    assert_eq!(r.error_fields(), vec!["note"]);
    let r = w.act(&app, &w.city_reviewer, &open, json!({"action": "approve"})).await.expect(422);
    assert_eq!(r.error_fields(), vec!["action"]);

    let handling = w.case_in(&app, "in_handling").await;
    let r = w.act(&app, &w.city_reviewer, &handling, json!({"action": "close"})).await.expect(422);
    assert_eq!(r.error_fields(), vec!["decision"]);
    let r = w
        .act(
            &app,
            &w.city_reviewer,
            &handling,
            json!({"action": "close", "decision": {"measure": "beheading", "decided_on": "2099-01-01"}}),
        )
        .await
        .expect(422);
    assert_eq!(r.error_fields(), vec!["decision.measure", "decision.decided_on"]);
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("danh mục"));
}

#[tokio::test]
async fn a_decision_closes_a_case_and_reopening_clears_it() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.case_in(&app, "remediated").await;
    let closed = w.act(&app, &w.city_reviewer, &case, w.transition_body("close")).await.expect(200).body;
    assert_eq!(
        closed["decision"],
        // "reprimand", the old code, names the party's reprimand.
        json!({"measure": "party_reprimand", "decided_on": "2024-09-25", "reference": "Quyết định số 12-QĐ/UBKT"})
    );
    assert_eq!(closed["overdue"], false);
    assert_eq!(closed["deadline_at"], serde_json::Value::Null);

    let reopened = w
        .act(
            &app,
            &w.city_reviewer,
            &closed,
            json!({"action": "reopen", "note": "Phát hiện thêm tình tiết mới", "due_at": "2024-11-30"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(reopened["status"], "in_handling");
    assert_eq!(reopened["decision"], serde_json::Value::Null);
    // 2024-11-30 ends at local midnight in Hanoi: 17:00 UTC that day.
    assert_eq!(reopened["due_at"], "2024-11-30T17:00:00Z");
}

#[tokio::test]
async fn only_the_head_of_the_responsible_unit_reports_remediation() {
    let app = spawn().await;
    let w = World::new(&app).await;
    // A Cầu Giấy case handed to Ba Đình: Cầu Giấy's head sees it (subject) but does not handle it.
    let case = w.log_case(&app, &w.cau_giay, "Chậm trả lời kiến nghị của doanh nghiệp").await;
    let case = w.act(&app, &w.city_reviewer, &case, w.transition_body("accept")).await.expect(200).body;
    let id = case["id"].as_str().unwrap();
    app.get(&format!("/api/v1/cases/{id}"), &w.cau_giay_head.token).await.expect(200);
    let body = json!({"action": "report_remediation", "note": "Đã khắc phục"});
    w.act(&app, &w.cau_giay_head, &case, body.clone()).await.expect(403);
    let done = w.act(&app, &w.ba_dinh_head, &case, body).await.expect(200);
    assert_eq!(done.body["status"], "remediated");
}

#[tokio::test]
async fn two_reviewers_acting_at_once_cannot_both_succeed() {
    let app = spawn().await;
    let w = World::new(&app).await;
    for _ in 0..3 {
        // Accept is possible only from open: whoever comes second finds it in handling.
        let case = w.case_in(&app, "open").await;
        let first = w.act(&app, &w.city_reviewer, &case, w.transition_body("accept"));
        let second = w.act(&app, &w.ba_dinh_reviewer, &case, w.transition_body("accept"));
        let (a, b) = tokio::join!(first, second);
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
        let r = app.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()), &w.city_reviewer.token).await;
        assert_eq!(r.expect(200).body["version"], 2);

        // Both hold version 1: whichever comes second is stale, even though its action would be allowed.
        let case = w.case_in(&app, "open").await;
        let path = format!("/api/v1/cases/{}/transitions", case["id"].as_str().unwrap());
        let send = |who: &Login, body: serde_json::Value| {
            let (app, path, token) = (&app, path.clone(), who.token.clone());
            async move { app.call(reqwest::Method::POST, &path, Some(&token), Some(body), &[("if-match", "\"1\"")]).await }
        };
        let (a, b) = tokio::join!(
            send(&w.city_reviewer, w.transition_body("accept")),
            send(&w.ba_dinh_reviewer, json!({"action": "dismiss", "note": "Không có vi phạm"}))
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "{} / {}", a.body, b.body);
    }
}

#[tokio::test]
async fn a_stale_if_match_is_refused() {
    let app = spawn().await;
    let w = World::new(&app).await;
    let case = w.case_in(&app, "open").await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    let r = app.patch(&path, &w.inspector.token, json!({"severity": "high"}), Some("\"1\"")).await.expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    // The reviewer still holds version 1.
    let r = app
        .call(
            reqwest::Method::POST,
            &format!("{path}/transitions"),
            Some(&w.city_reviewer.token),
            Some(json!({"action": "dismiss", "note": "x"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    r.expect(412);
    app.patch(&path, &w.inspector.token, json!({"severity": "low"}), Some("\"1\"")).await.expect(412);
    let r = app.get(&path, &w.inspector.token).await.expect(200);
    // "high" is the old word for "very_serious".
    assert_eq!((r.body["severity"].as_str(), r.body["status"].as_str()), (Some("very_serious"), Some("open")));
}

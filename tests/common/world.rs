//! A small city for case tests: units, users of every role, one active campaign.

use casetrack::domain::role::Role;
use casetrack::model::campaign::Campaign;
use casetrack::model::directive::{Directive, Indicator};
use casetrack::model::new_id;
use casetrack::model::unit::Unit;
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{Login, TestApp};

pub struct World {
    pub city: Unit,
    pub ba_dinh: Unit,
    pub dien_bien: Unit,
    pub cau_giay: Unit,
    pub admin: Login,
    /// Member of the campaign.
    pub inspector: Login,
    /// Another member of the campaign.
    pub inspector2: Login,
    /// Not a member of the campaign.
    pub outsider: Login,
    pub city_reviewer: Login,
    pub ba_dinh_reviewer: Login,
    pub ba_dinh_head: Login,
    pub cau_giay_head: Login,
    pub campaign: Campaign,
    /// The 25 indicators of 24-CT/TU, in catalog order.
    pub indicators: Vec<Indicator>,
}

impl World {
    pub async fn new(app: &TestApp) -> World {
        let city = app.unit("HN", "Thành phố Hà Nội", "city", None);
        let ba_dinh = app.unit("BA-DINH", "Quận Ba Đình", "district", Some(&city));
        let dien_bien = app.unit("BD-DIEN-BIEN", "Phường Điện Biên", "commune", Some(&ba_dinh));
        let cau_giay = app.unit("CAU-GIAY", "Quận Cầu Giấy", "district", Some(&city));
        // Each account is created in turn; the sign-ins (a password check each) run together.
        let (admin, inspector, inspector2, outsider, city_reviewer, ba_dinh_reviewer, ba_dinh_head, cau_giay_head) = futures_util::join!(
            app.signed_in("quantri", Role::Admin, None),
            app.signed_in("thanhtra1", Role::Inspector, Some(&city)),
            app.signed_in("thanhtra2", Role::Inspector, Some(&city)),
            app.signed_in("thanhtra9", Role::Inspector, Some(&city)),
            app.signed_in("ubkt.thanhpho", Role::Reviewer, Some(&city)),
            app.signed_in("ubkt.badinh", Role::Reviewer, Some(&ba_dinh)),
            app.signed_in("truong.badinh", Role::UnitHead, Some(&ba_dinh)),
            app.signed_in("truong.caugiay", Role::UnitHead, Some(&cau_giay)),
        );
        let (directive, indicators) = app.with_conn(|c| {
            let d = Directive::find_by_code(c, "24-CT/TU").unwrap().expect("default catalog loaded");
            let i = Indicator::of_directive(c, &d.id, false).unwrap();
            (d, i)
        });
        let now = app.clock.now_naive();
        let campaign = Campaign {
            id: new_id(),
            title: "Kiểm tra công vụ quý III/2024".into(),
            kind: "duty_audit".into(),
            directive_id: directive.id,
            starts_on: NaiveDate::from_ymd_opt(2024, 7, 1).unwrap(),
            ends_on: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
            status: "active".into(),
            lead_id: inspector.user.id.clone(),
            created_by: city_reviewer.user.id.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let members = [inspector.user.id.clone(), inspector2.user.id.clone()];
        let targets = [ba_dinh.id.clone(), cau_giay.id.clone()];
        app.with_conn(|c| campaign.insert(c, &members, &targets)).unwrap();
        World {
            city,
            ba_dinh,
            dien_bien,
            cau_giay,
            admin,
            inspector,
            inspector2,
            outsider,
            city_reviewer,
            ba_dinh_reviewer,
            ba_dinh_head,
            cau_giay_head,
            campaign,
            indicators,
        }
    }

    /// A valid case body about `unit`, citing indicator 2.5.
    pub fn case_body(&self, unit: &Unit, title: &str) -> Value {
        json!({
            "campaign_id": self.campaign.id,
            "subject": {"kind": "individual", "unit_id": unit.id, "person_name": "Nguyễn Văn Bình", "person_position": "Phó trưởng phòng"},
            "indicator_ids": [self.indicator("2.5").id],
            "title": title,
            "description": "Hồ sơ giải ngân vốn đầu tư công bị giữ quá hạn 30 ngày không có lý do chính đáng.",
            "detected_on": "2024-09-20",
            "severity": "medium",
        })
    }

    pub fn indicator(&self, code: &str) -> &Indicator {
        self.indicators.iter().find(|i| i.code == code).expect("indicator exists")
    }

    /// Logs a case as the lead inspector; returns its JSON.
    pub async fn log_case(&self, app: &TestApp, unit: &Unit, title: &str) -> Value {
        app.post("/api/v1/cases", Some(&self.inspector.token), self.case_body(unit, title)).await.expect(201).body
    }

    /// Runs a transition as `who`; returns the reply.
    pub async fn act(&self, app: &TestApp, who: &Login, case: &Value, body: Value) -> super::Reply {
        let path = format!("/api/v1/cases/{}/transitions", case["id"].as_str().unwrap());
        app.post(&path, Some(&who.token), body).await
    }

    /// The body that satisfies `action`'s needs.
    pub fn transition_body(&self, action: &str) -> Value {
        json!({
            "action": action,
            "note": "Ghi chú xử lý",
            "responsible_unit_id": self.ba_dinh.id,
            "due_at": "2024-10-31",
            "decision": {"measure": "reprimand", "decided_on": "2024-09-25", "reference": "Quyết định số 12-QĐ/UBKT"},
        })
    }

    /// A case of Ba Đình brought to `status` by the city reviewer and the Ba Đình head.
    pub async fn case_in(&self, app: &TestApp, status: &str) -> Value {
        let case = self.log_case(app, &self.dien_bien, &format!("Vụ việc ở trạng thái {status}")).await;
        let path: &[&str] = match status {
            "open" => &[],
            "in_handling" => &["accept"],
            "remediated" => &["accept", "report_remediation"],
            "closed" => &["accept", "close"],
            "dismissed" => &["dismiss"],
            other => panic!("unknown status {other}"),
        };
        let mut current = case;
        for action in path {
            current = self.act(app, &self.city_reviewer, &current, self.transition_body(action)).await.expect(200).body;
        }
        assert_eq!(current["status"], status);
        current
    }
}

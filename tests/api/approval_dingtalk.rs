//! Approvals on DingTalk end to end: the request is routed (the requester's manager from the
//! DingTalk directory), approvers get interactive cards, taps arrive as signed card callbacks,
//! and the cards, levels and requester follow as on WeCom.

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::{DingtalkConfig, Secret},
    pipeline::clock::now_ms,
};
use salesbot_dingtalk::fake::FakeDingtalk;
use serde_json::{Value, json};

use crate::{
    approvals::{RULES, TOKEN, discount, request, settled},
    helpers::{TestApp, TestDb, dingtalk_app, on_both_backends},
};

const TEMPLATE: &str = "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema";
const CARD_SECRET: &str = "card-callback-secret";

struct Ding {
    fake: FakeDingtalk,
    app: TestApp,
    _rules: tempfile::TempDir,
}

impl Ding {
    async fn start(t: &TestDb) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeDingtalk::start().await;
        fake.add_user(json!({ "userid": "alice", "name": "Alice", "manager_userid": "boss" }));
        for userid in ["boss", "wang.fang", "li.lei", "zhao.min", "qian.jun"] {
            fake.add_user(json!({ "userid": userid, "name": userid }));
        }
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        let mut config = t.config();
        config.admin.token = Some(Secret::new(TOKEN));
        config.rules.file = Some(rules.path().join("rules.toml"));
        config.approvals.remind_after_mins = 0;
        config.approvals.escalate_after_mins = 0;
        config.dingtalk = vec![DingtalkConfig {
            card_callback_secret: Some(Secret::new(CARD_SECRET)),
            card_template_id: Some(TEMPLATE.into()),
            card_callback_route_key: Some("salesbot".into()),
            ..dingtalk_app(fake.base_url())
        }];
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self {
            fake,
            app,
            _rules: rules,
        }
    }

    async fn request(&self, body: &Value) -> (StatusCode, Value) {
        request(&self.app, body).await
    }

    /// The `outTrackId`s of the cards sent to `userid`, oldest first.
    async fn cards_to(&self, t: &TestDb, userid: &str) -> Vec<String> {
        use sea_orm::ConnectionTrait;
        t.db.query_all_raw(sea_orm::Statement::from_sql_and_values(
            t.db.get_database_backend(),
            match t.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "SELECT track_id FROM card WHERE recipient = $1 ORDER BY id"
                }
                _ => "SELECT track_id FROM card WHERE recipient = ? ORDER BY id",
            },
            [format!("user:{userid}").into()],
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "track_id").unwrap())
        .collect()
    }

    /// Posts a signed tap by `userid` on button `action` of the card `out_track_id`.
    async fn tap(&self, out_track_id: &str, userid: &str, action: &str) -> StatusCode {
        crate::helpers::post_dingtalk_card_tap(&self.app, CARD_SECRET, out_track_id, userid, action)
            .await
    }

    async fn history(&self, id: i64) -> Value {
        self.app
            .admin(Method::GET, &format!("/api/v1/approvals/{id}"), TOKEN)
            .await
            .json()
            .await
            .unwrap()
    }
}

fn on_dingtalk(mut request: Value) -> Value {
    request["platform"] = json!("dingtalk");
    request
}

async fn a_dingtalk_approval_is_decided_by_card_taps_level_by_level(t: &TestDb) {
    let ding = Ding::start(t).await;
    let (status, started) = ding.request(&on_dingtalk(discount(35.0, 50_000.0))).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(
        started["levels"][0]["approvers"],
        json!(["boss"]),
        "the manager from DingTalk's directory"
    );
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    let boss = ding.cards_to(t, "boss").await.remove(0);
    let card = ding.fake.card(&boss).expect("an interactive card");
    assert_eq!(card.card_template_id, TEMPLATE);
    assert_eq!(card.card_param_map["showButtons"], "true");
    assert!(card.card_param_map["buttons"].contains("approve"));

    // A forged tap is refused at the door; a stranger's tap changes nothing.
    let forged = ding
        .app
        .client
        .post(format!("{}/callbacks/dingtalk/acme/card", ding.app.address))
        .header("x-ddpaas-signature-timestamp", now_ms().to_string())
        .header("x-ddpaas-signature", "Zm9yZ2Vk")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(ding.tap(&boss, "li.lei", "approve").await, StatusCode::OK);
    settled(t).await;
    assert_eq!(ding.history(id).await["approval"]["current_level"], 1);

    assert_eq!(ding.tap(&boss, "boss", "approve").await, StatusCode::OK);
    settled(t).await;
    let card = ding.fake.card(&boss).unwrap();
    assert_eq!(card.card_param_map["status"], "approved");
    assert_eq!(card.card_param_map["showButtons"], "false");
    assert_eq!(ding.history(id).await["approval"]["current_level"], 2);

    // Level 2 needs both; a double tap (the same callback again) is dropped at the inbox.
    let zhao = ding.cards_to(t, "zhao.min").await.remove(0);
    let qian = ding.cards_to(t, "qian.jun").await.remove(0);
    ding.tap(&zhao, "zhao.min", "approve").await;
    settled(t).await;
    ding.tap(&zhao, "zhao.min", "approve").await;
    settled(t).await;
    assert_eq!(ding.history(id).await["approval"]["status"], "pending");
    ding.tap(&qian, "qian.jun", "approve").await;
    settled(t).await;
    let history = ding.history(id).await;
    assert_eq!(history["approval"]["status"], "approved");
    for track in [&zhao, &qian] {
        assert_eq!(
            ding.fake.card(track).unwrap().card_param_map["status"],
            "approved"
        );
    }
    // The requester is told once, as a card of its own.
    assert_eq!(ding.cards_to(t, "alice").await.len(), 1);
    let refused = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "approval.tap_refused")
        .count();
    assert_eq!(refused, 1, "the stranger's");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM inbox WHERE kind = 'dingtalk.card_callback'")
            .await,
        4,
        "li.lei, boss, zhao.min once, qian.jun"
    );
    ding.app.stop().await;
}
on_both_backends!(
    a_dingtalk_approval_is_decided_by_card_taps_level_by_level,
    super::a_dingtalk_approval_is_decided_by_card_taps_level_by_level
);

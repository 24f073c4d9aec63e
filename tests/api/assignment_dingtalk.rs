//! Lead assignment on DingTalk: a pool whose reps are on DingTalk gets interactive cards, and
//! taps arrive as signed card callbacks through the same tap router as WeCom's.

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::{DingtalkConfig, Secret},
};
use salesbot_dingtalk::fake::FakeDingtalk;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, dingtalk_app, on_both_backends, settled};

const TOKEN: &str = "assignment-dingtalk-token";
const TEMPLATE: &str = "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema";
const CARD_SECRET: &str = "card-callback-secret";

const RULES: &str = r#"
[pools.north]
members = ["li.lei", "han.mei"]
manager = "wang.fang"
platform = "dingtalk"

[assignment]
default = "pool:north"
"#;

struct Ding {
    fake: FakeDingtalk,
    app: TestApp,
    _rules: tempfile::TempDir,
}

impl Ding {
    async fn start(t: &TestDb) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeDingtalk::start().await;
        for userid in ["li.lei", "han.mei", "wang.fang"] {
            fake.add_user(json!({ "userid": userid, "name": userid }));
        }
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        let mut config = t.config();
        config.admin.token = Some(Secret::new(TOKEN));
        config.rules.file = Some(rules.path().join("rules.toml"));
        config.work.start = "00:00".into();
        config.work.end = "24:00".into();
        config.work.days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .map(String::from)
            .to_vec();
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

    /// The `outTrackId`s of the lead_assigned cards sent to `userid`, oldest first.
    async fn offers_to(&self, t: &TestDb, userid: &str) -> Vec<String> {
        use sea_orm::ConnectionTrait;
        t.db.query_all_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            format!(
                "SELECT track_id FROM card WHERE recipient = 'user:{userid}' \
                 AND message_kind = 'lead_assigned' ORDER BY id"
            ),
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

    async fn lead(&self, id: i64) -> Value {
        self.app
            .admin(Method::GET, &format!("/api/v1/leads/{id}"), TOKEN)
            .await
            .json()
            .await
            .unwrap()
    }
}

async fn dingtalk_card_taps_pass_a_lead_on_and_accept_it(t: &TestDb) {
    let ding = Ding::start(t).await;
    let response = ding
        .app
        .client
        .post(format!("{}/api/v1/leads", ding.app.address))
        .bearer_auth(TOKEN)
        .json(&json!({ "tenant": "acme", "name": "赵敏", "company": "天津港务" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let lead: Value = response.json().await.unwrap();
    let id = lead["id"].as_i64().unwrap();
    assert_eq!(lead["owner_platform"], "dingtalk");
    settled(t).await;
    let first = ding.offers_to(t, "li.lei").await.remove(0);
    let card = ding.fake.card(&first).expect("an interactive card");
    assert!(card.card_param_map["buttons"].contains("reassign"));
    assert_eq!(card.card_param_map["showButtons"], "true");

    // A stranger's tap changes nothing; the rep's Reassign passes the lead on.
    assert_eq!(ding.tap(&first, "han.mei", "accept").await, StatusCode::OK);
    settled(t).await;
    assert_eq!(ding.lead(id).await["assignments"][0]["state"], "offered");
    assert_eq!(ding.tap(&first, "li.lei", "reassign").await, StatusCode::OK);
    settled(t).await;
    let card = ding.fake.card(&first).unwrap();
    assert_eq!(card.card_param_map["status"], "reassigned");
    assert_eq!(card.card_param_map["showButtons"], "false");

    let next = ding.offers_to(t, "han.mei").await.remove(0);
    assert_eq!(ding.tap(&next, "han.mei", "accept").await, StatusCode::OK);
    settled(t).await;
    assert_eq!(
        ding.fake.card(&next).unwrap().card_param_map["status"],
        "accepted"
    );
    let detail = ding.lead(id).await;
    assert_eq!(detail["owner"], "han.mei");
    let states: Vec<&str> = detail["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["accepted", "reassigned"]);
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM card WHERE recipient = 'user:wang.fang' \
             AND message_kind = 'lead_reassigned'"
        )
        .await,
        1,
        "the manager is told once"
    );
    ding.app.stop().await;
}
on_both_backends!(
    dingtalk_card_taps_pass_a_lead_on_and_accept_it,
    super::dingtalk_card_taps_pass_a_lead_on_and_accept_it
);

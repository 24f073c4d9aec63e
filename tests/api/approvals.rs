//! Starting approvals through the API: the rules route the request to levels of approvers, the
//! first level's approvers get the approval_request card in WeCom, and the approval's history
//! is readable. (Taps and decisions come next.)

use std::time::Duration;

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::{Secret, WecomConfig},
};
use salesbot_wecom::fake::FakeWecom;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, on_both_backends, wait_until};

const TOKEN: &str = "approvals-admin-token";

const RULES: &str = r#"
[[approval]]
name = "huge discount"
when = 'kind == "discount" && (discount_pct > 30.0 || amount > 1000000.0)'
levels = [
  { approvers = ["manager"], mode = "any" },
  { approvers = ["role:finance"], mode = "all" },
]

[[approval]]
name = "big discount"
when = 'kind == "discount" && discount_pct > 15.0'
levels = [{ approvers = ["role:sales_director", "li.lei"], mode = "any" }]

[roles]
sales_director = ["wang.fang"]
finance = ["zhao.min", "qian.jun"]
"#;

struct Desk {
    fake: FakeWecom,
    app: TestApp,
    _rules: tempfile::TempDir,
}

impl Desk {
    async fn start(t: &TestDb) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeWecom::start().await;
        fake.add_user(json!({ "userid": "alice", "name": "Alice", "direct_leader": ["boss"] }));
        for userid in ["boss", "wang.fang", "li.lei", "zhao.min", "qian.jun"] {
            fake.add_user(json!({ "userid": userid, "name": userid }));
        }
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        let mut config = t.config();
        config.admin.token = Some(Secret::new(TOKEN));
        config.rules.file = Some(rules.path().join("rules.toml"));
        config.wecom = vec![WecomConfig {
            api_base: fake.base_url().into(),
            rate_limit_per_minute: 0,
            ..WecomConfig::new(
                "acme",
                FakeWecom::CORP_ID,
                FakeWecom::AGENT_ID.into(),
                Secret::new(FakeWecom::SECRET),
                Secret::new("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"),
                Secret::new("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"),
            )
        }];
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self {
            fake,
            app,
            _rules: rules,
        }
    }

    async fn request(&self, body: &Value) -> (StatusCode, Value) {
        let response = self
            .app
            .client
            .post(format!("{}/api/v1/approvals", self.app.address))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn discount(pct: f64, amount: f64) -> Value {
    json!({
        "tenant": "acme", "platform": "wecom", "kind": "discount",
        "title": "云栖贸易 2027 年度订阅", "requester": "alice",
        "amount": amount, "discount_pct": pct,
        "subject": { "type": "deal", "id": "D-1024" },
        "fields": { "customer": "杭州云栖贸易有限公司", "reason": "竞品报价低 12%" },
        "link": "https://crm.example.com/deals/D-1024",
    })
}

async fn a_request_is_routed_and_its_first_level_gets_cards(t: &TestDb) {
    let desk = Desk::start(t).await;
    let (status, started) = desk.request(&discount(20.0, 120_000.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["status"], "pending");
    assert_eq!(started["rule"], "big discount");
    assert_eq!(
        started["levels"],
        json!([{ "approvers": ["wang.fang", "li.lei"], "mode": "any" }])
    );
    assert!(
        wait_until(Duration::from_secs(10), || async {
            desk.fake.sent_messages().len() == 2
        })
        .await
    );
    let mut cards = desk.fake.take_messages();
    cards.sort_by(|a, b| a.recipients.cmp(&b.recipients));
    assert_eq!(cards[0].recipients, ["li.lei"]);
    assert_eq!(cards[1].recipients, ["wang.fang"]);
    for card in &cards {
        let body = &card.body["template_card"];
        assert_eq!(body["card_type"], "button_interaction");
        let keys: Vec<&str> = body["button_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["approve", "reject"]);
        assert!(
            body["main_title"]["title"]
                .as_str()
                .unwrap()
                .contains("杭州云栖贸易有限公司"),
            "{body}"
        );
    }

    // Above 30 %: the requester's manager (WeCom's direct leader of alice), then finance.
    let (status, started) = desk.request(&discount(35.0, 50_000.0)).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["rule"], "huge discount");
    assert_eq!(
        started["levels"],
        json!([
            { "approvers": ["boss"], "mode": "any" },
            { "approvers": ["zhao.min", "qian.jun"], "mode": "all" },
        ])
    );
    assert!(
        wait_until(Duration::from_secs(10), || async {
            desk.fake.sent_messages().len() == 3
        })
        .await
    );
    assert_eq!(
        desk.fake.take_messages()[0].recipients,
        ["boss"],
        "only the first level so far"
    );

    let id = started["id"].as_i64().unwrap();
    let history: Value = desk
        .app
        .admin(Method::GET, &format!("/api/v1/approvals/{id}"), TOKEN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["approval"]["status"], "pending");
    assert_eq!(history["approval"]["current_level"], 1);
    assert_eq!(history["fields"]["customer"], "杭州云栖贸易有限公司");
    assert_eq!(history["steps"].as_array().unwrap().len(), 3);
    assert!(history["steps"][0]["card_key"].as_str().is_some());
    assert!(
        history["steps"][1]["card_key"].is_null(),
        "level 2 is not asked yet"
    );
    assert_eq!(history["history"][0]["action"], "approval.requested");
    desk.app.stop().await;
}
on_both_backends!(
    a_request_is_routed_and_its_first_level_gets_cards,
    super::a_request_is_routed_and_its_first_level_gets_cards
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unroutable_and_malformed_requests_are_refused_and_store_nothing() {
    let t = TestDb::sqlite().await;
    let desk = Desk::start(&t).await;
    let (status, answer) = desk.request(&discount(5.0, 1000.0)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("no approval rule"),
        "{answer}"
    );

    let mut unknown = discount(20.0, 1000.0);
    unknown["colour"] = json!("red");
    assert_eq!(desk.request(&unknown).await.0, StatusCode::BAD_REQUEST);
    let mut bad = discount(120.0, 1000.0);
    assert_eq!(desk.request(&bad).await.0, StatusCode::BAD_REQUEST);
    bad = discount(20.0, 1000.0);
    bad["tenant"] = json!("globex");
    assert_eq!(desk.request(&bad).await.0, StatusCode::BAD_REQUEST);
    let unauthorized = desk
        .app
        .client
        .post(format!("{}/api/v1/approvals", desk.app.address))
        .json(&discount(20.0, 1000.0))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    let missing = desk
        .app
        .admin(Method::GET, "/api/v1/approvals/999", TOKEN)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    assert_eq!(t.count("SELECT COUNT(*) FROM approval").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 0);
    desk.app.stop().await;
    t.finish().await;
}

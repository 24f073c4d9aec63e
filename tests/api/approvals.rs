//! Starting approvals through the API: the rules route the request to levels of approvers, the
//! first level's approvers get the approval_request card in WeCom, and the approval's history
//! is readable. (Taps and decisions come next.)

use std::time::Duration;

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::{Config, Secret},
};
use salesbot_wecom::fake::FakeWecom;
use serde_json::{Value, json};

pub(crate) use crate::helpers::settled;
use crate::helpers::{TestApp, TestDb, on_both_backends, wait_until};

pub(crate) const TOKEN: &str = "approvals-admin-token";

pub(crate) const RULES: &str = r#"
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

pub(crate) struct Desk {
    pub(crate) fake: FakeWecom,
    pub(crate) app: TestApp,
    _rules: tempfile::TempDir,
}

impl Desk {
    pub(crate) async fn start(t: &TestDb) -> Self {
        Self::start_with(t, |_| {}).await
    }

    /// [`Desk::start`] with `configure` applied to the app's configuration.
    pub(crate) async fn start_with(t: &TestDb, configure: impl FnOnce(&mut Config)) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeWecom::start().await;
        fake.add_user(json!({ "userid": "alice", "name": "Alice", "direct_leader": ["boss"] }));
        // wang.fang's manager stands in when she leaves a card too long; li.lei has none.
        fake.add_user(
            json!({ "userid": "wang.fang", "name": "wang.fang", "direct_leader": ["director"] }),
        );
        for userid in ["boss", "director", "li.lei", "zhao.min", "qian.jun"] {
            fake.add_user(json!({ "userid": userid, "name": userid }));
        }
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        Self::start_on(t, fake, rules, configure).await
    }

    /// Stops the app and starts a new one on the same database, fake WeCom and rules.
    async fn restart(self, t: &TestDb) -> Self {
        let Self { fake, app, _rules } = self;
        app.stop().await;
        Self::start_on(t, fake, _rules, |_| {}).await
    }

    async fn start_on(
        t: &TestDb,
        fake: FakeWecom,
        rules: tempfile::TempDir,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = t.config();
        config.admin.token = Some(Secret::new(TOKEN));
        config.rules.file = Some(rules.path().join("rules.toml"));
        config.wecom = vec![crate::helpers::wecom_app(&fake)];
        // The tests run the reminder job themselves, at the moments they choose.
        config.approvals.remind_after_mins = 0;
        config.approvals.escalate_after_mins = 0;
        configure(&mut config);
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self {
            fake,
            app,
            _rules: rules,
        }
    }

    pub(crate) async fn request(&self, body: &Value) -> (StatusCode, Value) {
        request(&self.app, body).await
    }
}

/// Posts an approval request to `app`'s API; the status and the JSON answer.
pub(crate) async fn request(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/approvals", app.address))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn discount(pct: f64, amount: f64) -> Value {
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

impl Desk {
    /// Posts a tap on the card `message` (as WeCom sent it) by `userid` on button `key`.
    pub(crate) async fn tap(
        &self,
        message: &salesbot_wecom::fake::SentMessage,
        userid: &str,
        key: &str,
    ) {
        let task_id = message.body["template_card"]["task_id"].as_str().unwrap();
        let code = self.fake.click_response_code(&message.msgid).unwrap();
        let xml = format!(
            "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>\
             <CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>\
             <TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>\
             <ResponseCode><![CDATA[{code}]]></ResponseCode><AgentID>1000002</AgentID></xml>",
            corp = FakeWecom::CORP_ID,
            now = salesbot::pipeline::clock::now_ms() / 1000,
        );
        crate::helpers::post_wecom_event(
            &self.app,
            (
                "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
                "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
            ),
            &xml,
        )
        .await;
    }

    pub(crate) async fn history(&self, id: i64) -> Value {
        self.app
            .admin(Method::GET, &format!("/api/v1/approvals/{id}"), TOKEN)
            .await
            .json()
            .await
            .unwrap()
    }

    /// The card messages sent so far to `userid`.
    pub(crate) fn cards_to(&self, userid: &str) -> Vec<salesbot_wecom::fake::SentMessage> {
        self.fake
            .sent_messages()
            .into_iter()
            .filter(|m| m.recipients == [userid])
            .collect()
    }
}

async fn a_tap_decides_an_any_one_level_and_the_requester_hears_once(t: &TestDb) {
    let desk = Desk::start(t).await;
    let (_, started) = desk.request(&discount(20.0, 120_000.0)).await;
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    // A stranger's tap changes nothing.
    let wang = desk.cards_to("wang.fang").remove(0);
    desk.tap(&wang, "zhao.min", "approve").await;
    settled(t).await;
    assert_eq!(desk.history(id).await["approval"]["status"], "pending");

    desk.tap(&wang, "wang.fang", "approve").await;
    settled(t).await;
    let history = desk.history(id).await;
    assert_eq!(history["approval"]["status"], "approved");
    // Both cards of the level now show the decision; the requester is told once.
    let updates = desk.fake.card_updates();
    assert_eq!(updates.len(), 2, "{updates:#?}");
    for update in &updates {
        let text = update.body["template_card"]["replace_text"]
            .as_str()
            .unwrap();
        assert!(text.starts_with("已同意"), "{text}");
    }
    let told = desk.cards_to("alice");
    assert_eq!(told.len(), 1);

    // The other approver taps late, twice: nothing changes, and each refusal is audited.
    let li = desk.cards_to("li.lei").remove(0);
    desk.tap(&li, "li.lei", "reject").await;
    settled(t).await;
    desk.tap(&wang, "wang.fang", "approve").await;
    settled(t).await;
    let history = desk.history(id).await;
    assert_eq!(history["approval"]["status"], "approved");
    assert_eq!(
        desk.cards_to("alice").len(),
        1,
        "exactly one approval_decided"
    );
    let refused: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "approval.tap_refused")
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(refused, ["zhao.min", "li.lei", "wang.fang"]);
    desk.app.stop().await;
}
on_both_backends!(
    a_tap_decides_an_any_one_level_and_the_requester_hears_once,
    super::a_tap_decides_an_any_one_level_and_the_requester_hears_once
);

async fn a_multi_level_approval_moves_level_by_level_and_a_reject_ends_it(t: &TestDb) {
    let desk = Desk::start(t).await;
    let (_, started) = desk.request(&discount(35.0, 50_000.0)).await;
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    desk.tap(&desk.cards_to("boss").remove(0), "boss", "approve")
        .await;
    settled(t).await;
    assert_eq!(desk.history(id).await["approval"]["current_level"], 2);
    // A restart between the levels: the approval continues where it was.
    let desk = desk.restart(t).await;
    // Level 2 needs both finance approvers.
    desk.tap(&desk.cards_to("zhao.min").remove(0), "zhao.min", "approve")
        .await;
    settled(t).await;
    assert_eq!(desk.history(id).await["approval"]["status"], "pending");
    assert!(desk.cards_to("alice").is_empty());
    desk.tap(&desk.cards_to("qian.jun").remove(0), "qian.jun", "approve")
        .await;
    settled(t).await;
    assert_eq!(desk.history(id).await["approval"]["status"], "approved");
    assert_eq!(desk.cards_to("alice").len(), 1);

    // Another request, rejected at its first level: it ends there.
    let (_, started) = desk.request(&discount(40.0, 50_000.0)).await;
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    let boss_cards = desk.cards_to("boss");
    desk.tap(boss_cards.last().unwrap(), "boss", "reject").await;
    settled(t).await;
    let history = desk.history(id).await;
    assert_eq!(history["approval"]["status"], "rejected");
    assert_eq!(history["approval"]["current_level"], 1);
    assert_eq!(desk.cards_to("alice").len(), 2);
    assert_eq!(
        desk.cards_to("zhao.min").len(),
        1,
        "level 2 of the rejected one never asked"
    );
    desk.app.stop().await;
}
on_both_backends!(
    a_multi_level_approval_moves_level_by_level_and_a_reject_ends_it,
    super::a_multi_level_approval_moves_level_by_level_and_a_reject_ends_it
);

async fn simultaneous_taps_are_decided_one_at_a_time(t: &TestDb) {
    let desk = Desk::start(t).await;
    // Any-one level: both approvers tap at once; one decides, the other is refused.
    let (_, started) = desk.request(&discount(20.0, 120_000.0)).await;
    let any = started["id"].as_i64().unwrap();
    settled(t).await;
    let (wang, li) = (
        desk.cards_to("wang.fang").remove(0),
        desk.cards_to("li.lei").remove(0),
    );
    tokio::join!(
        desk.tap(&wang, "wang.fang", "approve"),
        desk.tap(&li, "li.lei", "approve")
    );
    settled(t).await;
    let history = desk.history(any).await;
    assert_eq!(history["approval"]["status"], "approved");
    let decided = history["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["decision"].is_null())
        .count();
    assert_eq!(decided, 1, "the first tap wins");
    assert_eq!(desk.cards_to("alice").len(), 1);

    // All-must-approve level: both taps count and the level finishes once.
    let (_, started) = desk.request(&discount(35.0, 50_000.0)).await;
    let all = started["id"].as_i64().unwrap();
    settled(t).await;
    desk.tap(&desk.cards_to("boss").remove(0), "boss", "approve")
        .await;
    settled(t).await;
    let (zhao, qian) = (
        desk.cards_to("zhao.min").remove(0),
        desk.cards_to("qian.jun").remove(0),
    );
    tokio::join!(
        desk.tap(&zhao, "zhao.min", "approve"),
        desk.tap(&qian, "qian.jun", "approve")
    );
    settled(t).await;
    let history = desk.history(all).await;
    assert_eq!(history["approval"]["status"], "approved");
    let decided: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "approval.decided")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(decided.len(), 1, "the approval ends once");
    assert_eq!(
        desk.cards_to("alice").len(),
        2,
        "one decision message per approval"
    );
    desk.app.stop().await;
}
on_both_backends!(
    simultaneous_taps_are_decided_one_at_a_time,
    super::simultaneous_taps_are_decided_one_at_a_time
);

async fn the_requester_withdraws_and_the_open_cards_say_so(t: &TestDb) {
    let desk = Desk::start(t).await;
    let (_, started) = desk.request(&discount(20.0, 120_000.0)).await;
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    let withdraw = |requester: &'static str| {
        let url = format!("{}/api/v1/approvals/{id}/withdraw", desk.app.address);
        let client = desk.app.client.clone();
        async move {
            client
                .post(url)
                .bearer_auth(TOKEN)
                .json(&json!({ "requester": requester }))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        withdraw("wang.fang").await,
        StatusCode::BAD_REQUEST,
        "only the requester"
    );
    assert_eq!(withdraw("alice").await, StatusCode::OK);
    assert_eq!(withdraw("alice").await, StatusCode::CONFLICT);
    settled(t).await;
    let updates = desk.fake.card_updates();
    assert_eq!(updates.len(), 2, "both open cards");
    for update in &updates {
        let text = update.body["template_card"]["replace_text"]
            .as_str()
            .unwrap();
        assert!(text.contains("撤回"), "{text}");
    }
    let history = desk.history(id).await;
    assert_eq!(history["approval"]["status"], "withdrawn");
    // A tap after the withdrawal changes nothing.
    desk.tap(&desk.cards_to("li.lei").remove(0), "li.lei", "approve")
        .await;
    settled(t).await;
    let history = desk.history(id).await;
    assert_eq!(history["approval"]["status"], "withdrawn");
    assert!(
        desk.cards_to("alice").is_empty(),
        "a withdrawal is not a decision"
    );
    desk.app.stop().await;
}
on_both_backends!(
    the_requester_withdraws_and_the_open_cards_say_so,
    super::the_requester_withdraws_and_the_open_cards_say_so
);

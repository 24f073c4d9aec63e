//! Lead assignment end to end: leads posted to the API (and made by registrations) are routed
//! by the rules to a pool's rep, who gets a lead_assigned card in WeCom and a first_contact
//! task; taps on the card (real template_card_event callbacks) accept or pass the lead on; the
//! timeout job passes on what nobody answered; round robin stays fair across restarts and
//! instances.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    assignment::timeouts::Timeouts,
    config::{Config, Secret},
    pipeline::clock::now_ms,
};
use salesbot_wecom::fake::{FakeWecom, SentMessage};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, on_both_backends, settled, wait_until};

const TOKEN: &str = "assignment-admin-token";
const MINUTE: i64 = 60_000;

const RULES: &str = r#"
[pools.east-manufacturing]
members = ["li.lei", "han.mei", "zhang.wei"]
manager = "wang.fang"

[pools.loaded]
members = ["a.rep", "b.rep", "c.rep"]
strategy = "least_loaded"
manager = "wang.fang"

[pools.general]
members = ["chen.jing", "zhao.min"]
manager = "wang.fang"

[assignment]
default = "pool:general"
accept_within_mins = 30
first_contact_within_mins = 240

[[assignment.rules]]
name = "华东制造业"
when = 'region == "华东" && industry == "制造业"'
to = "pool:east-manufacturing"

[[assignment.rules]]
name = "by load"
when = '"by-load" in tags'
to = "pool:loaded"

[lead_score]
threshold = 10

[[task_rule]]
name = "follow up a sign-up"
on = "registration"
task = { kind = "follow_up", title = "Call the new sign-up", due_in_mins = 120 }
"#;

/// The app with fake WeCom, the rules above, and working hours that never close (so no card
/// waits for the quiet hours to end while a test runs).
pub(crate) struct Sales {
    fake: FakeWecom,
    pub(crate) app: TestApp,
    _rules: tempfile::TempDir,
}

impl Sales {
    async fn start(t: &TestDb) -> Self {
        Self::start_with(t, |_| {}).await
    }

    pub(crate) async fn start_with(t: &TestDb, configure: impl FnOnce(&mut Config)) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeWecom::start().await;
        for userid in [
            "li.lei",
            "han.mei",
            "zhang.wei",
            "a.rep",
            "b.rep",
            "c.rep",
            "chen.jing",
            "zhao.min",
            "wang.fang",
        ] {
            fake.add_user(json!({ "userid": userid, "name": userid }));
        }
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        Self::start_on(t, fake, rules, configure).await
    }

    async fn start_on(
        t: &TestDb,
        fake: FakeWecom,
        rules: tempfile::TempDir,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let config = config(t, &fake, &rules, configure);
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self {
            fake,
            app,
            _rules: rules,
        }
    }

    /// Stops the app and starts a new one on the same database, fake WeCom and rules.
    async fn restart(self, t: &TestDb) -> Self {
        let Self { fake, app, _rules } = self;
        app.stop().await;
        Self::start_on(t, fake, _rules, |_| {}).await
    }

    pub(crate) async fn post(&self, body: &Value) -> (StatusCode, Value) {
        post(&self.app, body).await
    }

    async fn lead(&self, id: i64) -> Value {
        self.app
            .admin(Method::GET, &format!("/api/v1/leads/{id}"), TOKEN)
            .await
            .json()
            .await
            .unwrap()
    }

    /// The messages sent so far to `userid`.
    pub(crate) fn sent_to(&self, userid: &str) -> Vec<SentMessage> {
        self.fake
            .sent_messages()
            .into_iter()
            .filter(|m| m.recipients == [userid])
            .collect()
    }

    /// Taps button `key` of `card` (as WeCom sent it) as `userid`, with a real encrypted
    /// template_card_event callback.
    pub(crate) async fn tap(&self, card: &SentMessage, userid: &str, key: &str) {
        let task_id = card.body["template_card"]["task_id"].as_str().unwrap();
        let code = self.fake.click_response_code(&card.msgid).unwrap();
        let xml = format!(
            "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>\
             <CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>\
             <TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>\
             <ResponseCode><![CDATA[{code}]]></ResponseCode><AgentID>1000002</AgentID></xml>",
            corp = FakeWecom::CORP_ID,
            now = now_ms() / 1000,
        );
        crate::helpers::post_wecom_event(&self.app, (CALLBACK_TOKEN, AES_KEY), &xml).await;
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts {
            db: self.app.state.db.clone(),
            assigner: self.app.state.assigner.clone(),
            wake_outbox: self.app.state.wake_outbox.clone(),
        }
    }
}

const CALLBACK_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

fn config(
    t: &TestDb,
    fake: &FakeWecom,
    rules: &tempfile::TempDir,
    configure: impl FnOnce(&mut Config),
) -> Config {
    let mut config = t.config();
    config.admin.token = Some(Secret::new(TOKEN));
    config.rules.file = Some(rules.path().join("rules.toml"));
    config.wecom = vec![crate::helpers::wecom_app(fake)];
    config.work.start = "00:00".into();
    config.work.end = "24:00".into();
    config.work.days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .map(String::from)
        .to_vec();
    configure(&mut config);
    config
}

async fn post(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/leads", app.address))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A manufacturer in East China, with the CRM reference `reference`.
pub(crate) fn east(reference: &str) -> Value {
    json!({
        "tenant": "acme", "name": "张伟", "company": "苏州恒远精密机械有限公司",
        "region": "华东", "industry": "制造业", "source": "crm", "score": 30,
        "tags": ["展会"], "external_ref": reference,
        "fields": { "note": "想了解年度订阅" },
    })
}

async fn reps_of_offers(t: &TestDb) -> Vec<(String, i64)> {
    use sea_orm::ConnectionTrait;
    let rows =
        t.db.query_all_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            "SELECT rep, COUNT(*) AS n FROM lead_assignment GROUP BY rep ORDER BY rep",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (
                row.try_get::<String>("", "rep").unwrap(),
                row.try_get::<i64>("", "n").unwrap(),
            )
        })
        .collect()
}

async fn a_lead_goes_by_rule_to_its_pool_with_a_card_and_a_task(t: &TestDb) {
    let sales = Sales::start(t).await;
    let (status, lead) = sales.post(&east("crm-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    let id = lead["id"].as_i64().unwrap();
    assert_eq!(lead["owner"], "li.lei");
    assert_eq!(lead["owner_platform"], "wecom");
    assert_eq!(lead["region"], "华东");
    assert_eq!(lead["tags"], json!(["展会"]));
    let assignment = &lead["assignment"];
    assert_eq!(assignment["rep"], "li.lei");
    assert_eq!(assignment["pool"], "east-manufacturing");
    assert_eq!(assignment["rule"], "华东制造业");
    assert_eq!(assignment["state"], "offered");
    let offered_at = assignment["offered_at"].as_i64().unwrap();
    assert_eq!(assignment["expires_at"], offered_at + 30 * MINUTE);

    settled(t).await;
    let cards = sales.sent_to("li.lei");
    assert_eq!(cards.len(), 1);
    let card = &cards[0].body["template_card"];
    assert_eq!(card["card_type"], "button_interaction");
    let keys: Vec<&str> = card["button_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["accept", "reassign"]);
    assert_eq!(
        card["main_title"]["title"],
        "新线索：苏州恒远精密机械有限公司"
    );
    assert_eq!(card["quote_area"]["quote_text"], "想了解年度订阅");

    let aid = assignment["id"].as_i64().unwrap();
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM task WHERE assignee = 'li.lei' AND kind = 'first_contact' \
             AND state = 'open' AND lead_id = {id} AND source = 'assignment:{aid}' \
             AND due_at = {}",
            offered_at + 240 * MINUTE
        ))
        .await,
        1
    );

    // The CRM posts the same lead again: the stored one, no second offer or card.
    let (status, again) = sales.post(&east("crm-1")).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], id);
    assert_eq!(again["assignment"]["id"], aid);
    assert_eq!(t.count("SELECT COUNT(*) FROM lead_assignment").await, 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM task").await, 1);

    // Any other lead goes to the default pool.
    let (_, other) = sales
        .post(&json!({ "tenant": "acme", "name": "陈静", "region": "华南" }))
        .await;
    assert_eq!(other["assignment"]["pool"], "general");
    assert_eq!(other["assignment"]["rule"], "default");
    assert_eq!(other["owner"], "chen.jing");

    let detail = sales.lead(id).await;
    assert_eq!(detail["owner"], "li.lei");
    assert_eq!(detail["assignments"].as_array().unwrap().len(), 1);
    settled(t).await;
    sales.fake.take_messages();
    sales.app.stop().await;
}
on_both_backends!(
    a_lead_goes_by_rule_to_its_pool_with_a_card_and_a_task,
    super::a_lead_goes_by_rule_to_its_pool_with_a_card_and_a_task
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_leads_are_refused_with_the_reason_and_store_nothing() {
    let t = TestDb::sqlite().await;
    let sales = Sales::start(&t).await;
    let mut unknown = east("crm-x");
    unknown["colour"] = json!("red");
    let (status, answer) = sales.post(&unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("colour"),
        "{answer}"
    );
    let (status, _) = sales.post(&json!({ "tenant": "acme" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let mut negative = east("crm-x");
    negative["score"] = json!(-5);
    let (status, answer) = sales.post(&negative).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"], "score must be a number of 0 or more");
    let mut nobody = east("crm-x");
    nobody["customer_id"] = json!(999);
    let (status, answer) = sales.post(&nobody).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"], "no customer 999 in tenant acme");

    let unauthorized = sales
        .app
        .client
        .post(format!("{}/api/v1/leads", sales.app.address))
        .json(&east("crm-x"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(t.count("SELECT COUNT(*) FROM lead").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 0);
    sales.app.stop().await;
    t.finish().await;
}

async fn round_robin_is_fair_across_a_restart(t: &TestDb) {
    let sales = Sales::start(t).await;
    for n in 0..4 {
        let (status, _) = sales.post(&east(&format!("crm-{n}"))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let sales = sales.restart(t).await;
    for n in 4..9 {
        let (status, _) = sales.post(&east(&format!("crm-{n}"))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(
        reps_of_offers(t).await,
        [
            ("han.mei".to_owned(), 3),
            ("li.lei".to_owned(), 3),
            ("zhang.wei".to_owned(), 3)
        ]
    );
    settled(t).await;
    assert_eq!(sales.fake.take_messages().len(), 9);
    sales.app.stop().await;
}
on_both_backends!(
    round_robin_is_fair_across_a_restart,
    super::round_robin_is_fair_across_a_restart
);

/// Two instances on one PostgreSQL database, posting at the same time: each rep of the pool
/// gets a third of the leads.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_at_once_share_one_fair_round_robin_on_postgres() {
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let first = Sales::start(&t).await;
    let second_rules = tempfile::tempdir().unwrap();
    std::fs::write(second_rules.path().join("rules.toml"), RULES).unwrap();
    let second = TestApp::spawn(
        config(&t, &first.fake, &second_rules, |_| {}),
        Extensions::default(),
        Startup::default(),
    )
    .await;
    const N: usize = 24;
    let posts = (0..N).map(|n| {
        let app = if n % 2 == 0 { &first.app } else { &second };
        async move { post(app, &east(&format!("crm-{n}"))).await.0 }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!(
        reps_of_offers(&t).await,
        [
            ("han.mei".to_owned(), 8),
            ("li.lei".to_owned(), 8),
            ("zhang.wei".to_owned(), 8)
        ]
    );
    settled(&t).await;
    assert_eq!(first.fake.take_messages().len(), N);
    second.stop().await;
    first.app.stop().await;
    t.finish().await;
}

async fn least_loaded_picks_the_rep_with_the_fewest_open_tasks(t: &TestDb) {
    let sales = Sales::start(t).await;
    let open = |assignee: &str, state: &str| {
        format!(
            "INSERT INTO task (tenant, platform, assignee, title, kind, state, due_at, \
             created_at, updated_at, created_by) VALUES ('acme', 'wecom', '{assignee}', 't', \
             'call', '{state}', 1, 1, 1, 'test')"
        )
    };
    use sea_orm::ConnectionTrait;
    for (assignee, state) in [
        ("a.rep", "open"),
        ("a.rep", "open"),
        ("c.rep", "open"),
        ("b.rep", "done"),
        ("b.rep", "cancelled"),
        ("b.rep", "open"),
    ] {
        t.db.execute_unprepared(&open(assignee, state))
            .await
            .unwrap();
    }
    // Open tasks: a 2, b 1, c 1 → b (ties go to the member written first).
    let lead = |n: i32| json!({ "tenant": "acme", "name": format!("L{n}"), "tags": ["by-load"] });
    let (_, first) = sales.post(&lead(1)).await;
    assert_eq!(first["assignment"]["rep"], "b.rep", "{first}");
    assert_eq!(first["assignment"]["pool"], "loaded");
    // b now has its first_contact task too: a 2, b 2, c 1 → c.
    let (_, second) = sales.post(&lead(2)).await;
    assert_eq!(second["assignment"]["rep"], "c.rep");
    // a 2, b 2, c 2 → a.
    let (_, third) = sales.post(&lead(3)).await;
    assert_eq!(third["assignment"]["rep"], "a.rep");
    settled(t).await;
    assert_eq!(sales.fake.take_messages().len(), 3);
    sales.app.stop().await;
}
on_both_backends!(
    least_loaded_picks_the_rep_with_the_fewest_open_tasks,
    super::least_loaded_picks_the_rep_with_the_fewest_open_tasks
);

/// The kinds of `assignee`'s tasks, oldest first.
async fn follow_ups(t: &TestDb, assignee: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let rows =
        t.db.query_all_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            format!("SELECT kind FROM task WHERE assignee = '{assignee}' ORDER BY id"),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", "kind").unwrap())
        .collect()
}

async fn a_registration_makes_a_lead_that_is_assigned(t: &TestDb) {
    use crate::registrations::{FORM_SECRET, PHONE_SALT, form};
    let sales = Sales::start_with(t, |config| {
        config.registrations.secret = Some(Secret::new(FORM_SECRET));
        config.registrations.phone_salt = Some(Secret::new(PHONE_SALT));
    })
    .await;
    let body = form(json!({}));
    let signature =
        salesbot::webhooks::sign(FORM_SECRET, now_ms() / 1000, body.to_string().as_bytes());
    let response = sales
        .app
        .client
        .post(format!("{}/api/v1/registrations", sales.app.address))
        .header("content-type", "application/json")
        .header("x-salesbot-timestamp", (now_ms() / 1000).to_string())
        .header("x-salesbot-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let registered: Value = response.json().await.unwrap();
    let lead = sales.lead(registered["lead_id"].as_i64().unwrap()).await;
    assert_eq!(lead["owner"], "chen.jing", "{lead}");
    assert_eq!(lead["assignments"][0]["rule"], "default");
    // The new owner's work: the first contact of the assignment and the sign-up's follow-up.
    assert_eq!(
        follow_ups(t, "chen.jing").await,
        ["first_contact", "follow_up"]
    );
    settled(t).await;
    assert_eq!(sales.fake.take_messages()[0].recipients, ["chen.jing"]);
    sales.app.stop().await;
}
on_both_backends!(
    a_registration_makes_a_lead_that_is_assigned,
    super::a_registration_makes_a_lead_that_is_assigned
);

/// A customer (no lead yet) whose registration takes their score over the threshold of 10: a
/// lead is made for them and assigned, in the registration's transaction.
async fn a_customer_crossing_the_threshold_gets_a_lead_that_is_assigned(t: &TestDb) {
    use crate::registrations::{FORM_SECRET, PHONE_SALT, form, register};
    use sea_orm::ConnectionTrait;
    t.db.execute_unprepared(
        "INSERT INTO customer (tenant, external_userid, name, corp_name, created_at, updated_at) \
         VALUES ('acme', 'wm_zhang', '张伟', '苏州恒远', 1, 1)",
    )
    .await
    .unwrap();
    let customer_id = t
        .count("SELECT id FROM customer WHERE external_userid = 'wm_zhang'")
        .await;
    let sales = Sales::start_with(t, |config| {
        config.registrations.secret = Some(Secret::new(FORM_SECRET));
        config.registrations.phone_salt = Some(Secret::new(PHONE_SALT));
    })
    .await;
    let (status, registered) =
        register(&sales.app, &form(json!({ "external_userid": "wm_zhang" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    assert_eq!(registered["matched"], "customer");
    let lead_id = t
        .count(&format!(
            "SELECT id FROM lead WHERE customer_id = {customer_id}"
        ))
        .await;
    let lead = sales.lead(lead_id).await;
    assert_eq!(lead["source"], "lead_score");
    assert_eq!(lead["company"], "苏州恒远");
    assert_eq!(lead["status"], "qualified");
    assert_eq!(lead["owner"], "chen.jing", "{lead}");
    assert_eq!(lead["assignments"][0]["rule"], "default");

    // A second registration keeps them above the threshold: no new lead, no new offer.
    let (status, _) = register(
        &sales.app,
        &form(json!({ "external_userid": "wm_zhang", "campaign": "webinar" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(t.count("SELECT COUNT(*) FROM lead").await, 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM lead_assignment").await, 1);
    // Each registration has its follow-up, for the owner of the customer's lead.
    assert_eq!(
        follow_ups(t, "chen.jing").await,
        ["first_contact", "follow_up", "follow_up"]
    );
    settled(t).await;
    assert_eq!(sales.fake.take_messages().len(), 1);
    sales.app.stop().await;
}
on_both_backends!(
    a_customer_crossing_the_threshold_gets_a_lead_that_is_assigned,
    super::a_customer_crossing_the_threshold_gets_a_lead_that_is_assigned
);

async fn accept_by_the_rep_settles_the_offer_and_updates_the_card(t: &TestDb) {
    let sales = Sales::start(t).await;
    let (_, lead) = sales.post(&east("crm-1")).await;
    let id = lead["id"].as_i64().unwrap();
    settled(t).await;
    let card = sales.sent_to("li.lei").remove(0);

    // Someone else's tap changes nothing, and is audited.
    sales.tap(&card, "han.mei", "accept").await;
    settled(t).await;
    assert_eq!(sales.lead(id).await["assignments"][0]["state"], "offered");
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'lead.tap_refused' \
             AND subject_id = '{id}' AND actor = 'han.mei'"
        ))
        .await,
        1
    );

    sales.tap(&card, "li.lei", "accept").await;
    settled(t).await;
    let detail = sales.lead(id).await;
    assert_eq!(detail["assignments"][0]["state"], "accepted");
    assert!(detail["assignments"][0]["answered_at"].is_i64());
    assert_eq!(detail["owner"], "li.lei");
    let updates = sales.fake.card_updates();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    let text = updates[0].body["template_card"]["replace_text"]
        .as_str()
        .unwrap();
    assert!(text.starts_with("已接受 · li.lei"), "{text}");

    // The same tap again, and then Reassign on the settled offer, do nothing.
    sales.tap(&card, "li.lei", "accept").await;
    settled(t).await;
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'lead.accepted' AND subject_id = '{id}'"
        ))
        .await,
        1
    );
    sales.tap(&card, "li.lei", "reassign").await;
    settled(t).await;
    assert_eq!(
        sales.lead(id).await["assignments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(sales.fake.card_updates().len(), 1);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM task WHERE state = 'open'")
            .await,
        1
    );
    assert_eq!(sales.fake.take_messages().len(), 1);
    sales.app.stop().await;
}
on_both_backends!(
    accept_by_the_rep_settles_the_offer_and_updates_the_card,
    super::accept_by_the_rep_settles_the_offer_and_updates_the_card
);

async fn reassign_moves_the_lead_to_the_next_rep_and_tells_the_manager(t: &TestDb) {
    let sales = Sales::start(t).await;
    let (_, lead) = sales.post(&east("crm-1")).await;
    let id = lead["id"].as_i64().unwrap();
    let first = lead["assignment"]["id"].as_i64().unwrap();
    settled(t).await;
    let card = sales.sent_to("li.lei").remove(0);

    sales.tap(&card, "li.lei", "reassign").await;
    settled(t).await;
    let detail = sales.lead(id).await;
    let offers = detail["assignments"].as_array().unwrap();
    assert_eq!(offers.len(), 2, "{detail}");
    assert_eq!(offers[1]["state"], "reassigned");
    assert_eq!(offers[0]["state"], "offered");
    assert_eq!(offers[0]["rep"], "han.mei");
    assert_eq!(offers[0]["rule"], "华东制造业");
    assert_eq!(detail["owner"], "han.mei");
    // The first rep's task is cancelled; the next rep has one of their own.
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM task WHERE source = 'assignment:{first}' AND state = 'cancelled'"
        ))
        .await,
        1
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM task WHERE assignee = 'han.mei' AND state = 'open'")
            .await,
        1
    );
    // The first card shows it was passed on, the next rep has a card, the manager is told.
    let updates = sales.fake.card_updates();
    assert_eq!(updates.len(), 1);
    let text = updates[0].body["template_card"]["replace_text"]
        .as_str()
        .unwrap();
    assert!(text.starts_with("已转派 · li.lei"), "{text}");
    assert_eq!(sales.sent_to("han.mei").len(), 1);
    let told = sales.sent_to("wang.fang");
    assert_eq!(told.len(), 1);
    let body = told[0].body.to_string();
    assert!(
        body.contains("li.lei 转派了这条线索，已改派给 han.mei"),
        "{body}"
    );
    assert_eq!(sales.fake.take_messages().len(), 3);
    sales.app.stop().await;
}
on_both_backends!(
    reassign_moves_the_lead_to_the_next_rep_and_tells_the_manager,
    super::reassign_moves_the_lead_to_the_next_rep_and_tells_the_manager
);

/// Moves the deadlines of the open offers `minutes` into the past, as if that much time had
/// gone by since they were made.
async fn age_offers(t: &TestDb, minutes: i64) {
    use sea_orm::ConnectionTrait;
    t.db.execute_unprepared(&format!(
        "UPDATE lead_assignment SET expires_at = expires_at - {} WHERE state = 'offered'",
        minutes * MINUTE
    ))
    .await
    .unwrap();
}

async fn unanswered_offers_time_out_to_the_next_rep_then_to_the_manager(t: &TestDb) {
    let sales = Sales::start(t).await;
    let (_, lead) = sales.post(&east("crm-1")).await;
    let id = lead["id"].as_i64().unwrap();
    let job = sales.timeouts();

    // Not yet due: nothing moves.
    assert_eq!(job.tick(now_ms()).await.unwrap(), 0);
    age_offers(t, 31).await;
    // The app's own scheduler may run the job first; either way the offer moves once.
    assert!(job.tick(now_ms()).await.unwrap() <= 1);
    let detail = sales.lead(id).await;
    assert_eq!(detail["assignments"][1]["state"], "timed_out");
    assert_eq!(detail["assignments"][0]["rep"], "han.mei");
    assert_eq!(detail["owner"], "han.mei");
    // The same tick again has nothing left to do: han.mei's offer is fresh.
    assert_eq!(job.tick(now_ms()).await.unwrap(), 0);

    // han.mei and then zhang.wei do not answer either: nobody is left.
    age_offers(t, 31).await;
    assert!(job.tick(now_ms()).await.unwrap() <= 1);
    age_offers(t, 31).await;
    assert!(job.tick(now_ms()).await.unwrap() <= 1);
    let detail = sales.lead(id).await;
    let states: Vec<&str> = detail["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["timed_out", "timed_out", "timed_out"]);
    assert_eq!(
        detail["owner"], "wang.fang",
        "nobody accepted: the manager keeps it"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM task WHERE state = 'open'")
            .await,
        0
    );

    assert!(
        wait_until(Duration::from_secs(10), || async {
            sales.sent_to("wang.fang").len() == 3
        })
        .await
    );
    settled(t).await;
    let told = sales.sent_to("wang.fang");
    let texts: Vec<String> = told.iter().map(|m| m.body.to_string()).collect();
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("线索转由你负责"))
            .count(),
        1,
        "{texts:#?}"
    );
    assert_eq!(sales.fake.card_updates().len(), 3);
    // Three offers, three timeouts told to the manager.
    assert_eq!(sales.fake.take_messages().len(), 6);
    sales.app.stop().await;
}
on_both_backends!(
    unanswered_offers_time_out_to_the_next_rep_then_to_the_manager,
    super::unanswered_offers_time_out_to_the_next_rep_then_to_the_manager
);

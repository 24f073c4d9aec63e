//! Customer contact end to end: encrypted callbacks POSTed to the running app, the fake WeCom
//! answering its calls. A friend-add becomes a tagged profile and a welcome message; WeCom's
//! retries and out-of-order deliveries change nothing; a lost customer alerts the manager.

use std::time::Duration;

use salesbot::{
    app::{Extensions, Startup},
    config::{Secret, WecomConfig},
    pipeline::clock::now_ms,
};
use salesbot_wecom::{
    crypto::CallbackCrypto,
    fake::{CallbackSigner, FakeWecom, Fault},
};
use serde_json::json;

use crate::helpers::{TestApp, TestDb, on_both_backends, wait_until};

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CUSTOMER: &str = "wmEXAMPLEcustomer000000000001";

const RULES: &str = r#"
[[tagging]]
name = "expo 2026 Shanghai"
when.state = "expo2026-sh"
tags = ["渠道/展会", "地区/上海"]

[[tagging]]
name = "any expo"
when.state_prefix = "expo"
tags = ["渠道/展会"]

[[tagging]]
name = "East China team"
when.rep_department = "2"
tags = ["区域/华东"]
"#;

struct Crm {
    fake: FakeWecom,
    app: TestApp,
    crypto: CallbackCrypto,
    _rules: tempfile::TempDir,
}

impl Crm {
    async fn start(t: &TestDb) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeWecom::start().await;
        fake.add_user(json!({
            "userid": "alice", "name": "Alice", "department": [2], "position": "客户经理",
            "direct_leader": ["boss"],
        }));
        fake.add_user(json!({ "userid": "boss", "name": "Boss", "department": [1] }));
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        let mut config = t.config();
        config.wecom = vec![WecomConfig {
            api_base: fake.base_url().into(),
            rate_limit_per_minute: 0,
            request_timeout_secs: 5,
            company_name: "星河软件".into(),
            ..WecomConfig::new(
                "acme",
                FakeWecom::CORP_ID,
                FakeWecom::AGENT_ID.into(),
                Secret::new(FakeWecom::SECRET),
                Secret::new(TOKEN),
                Secret::new(KEY),
            )
        }];
        config.rules.file = Some(rules.path().join("rules.toml"));
        config.pipeline.retry_base_ms = 200;
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self {
            fake,
            app,
            crypto: CallbackCrypto::new(TOKEN, KEY, FakeWecom::CORP_ID).unwrap(),
            _rules: rules,
        }
    }

    /// The customer as WeCom has them, followed by alice through the Shanghai expo code.
    fn add_customer(&self) {
        self.fake.add_external_contact(json!({
            "external_contact": {
                "external_userid": CUSTOMER, "name": "王丽", "type": 1, "gender": 2,
                "avatar": "https://wework.qpic.cn/avatar/0",
            },
            "follow_user": [{
                "userid": "alice", "remark": "王丽（展会）", "description": "", "createtime": 1_795_000_000,
                "tags": [], "add_way": 1, "state": "expo2026-sh", "oper_userid": CUSTOMER,
            }],
        }));
    }

    /// Posts a `change_external_contact` callback; `fields` are extra elements.
    async fn contact_event(
        &self,
        change: &str,
        create_time: i64,
        fields: &str,
    ) -> reqwest::StatusCode {
        let xml = format!(
            "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
             <CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[{change}]]></ChangeType>\
             <UserID><![CDATA[alice]]></UserID><ExternalUserID><![CDATA[{CUSTOMER}]]></ExternalUserID>{fields}</xml>",
            corp = FakeWecom::CORP_ID,
        );
        self.post(&xml).await
    }

    async fn post(&self, xml: &str) -> reqwest::StatusCode {
        let request = CallbackSigner::new(&self.crypto).event(FakeWecom::CORP_ID, "1000002", xml);
        let url = format!(
            "{}/callbacks/wecom/acme?{}",
            self.app.address, request.query
        );
        self.app
            .client
            .post(url)
            .body(request.body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Posts a friend-add as WeCom does: the same callback up to 4 times.
    async fn friend_add(&self, create_time: i64, welcome_code: &str, times: usize) {
        let fields = format!(
            "<State><![CDATA[expo2026-sh]]></State><WelcomeCode><![CDATA[{welcome_code}]]></WelcomeCode>"
        );
        for _ in 0..times {
            let status = self
                .contact_event("add_external_contact", create_time, &fields)
                .await;
            assert!(status.is_success(), "{status}");
        }
    }

    fn tags_in_wecom(&self) -> Vec<String> {
        let contact = self.fake.external_contact(CUSTOMER).unwrap();
        contact["follow_user"][0]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| {
                format!(
                    "{}/{}",
                    tag["group_name"].as_str().unwrap(),
                    tag["tag_name"].as_str().unwrap()
                )
            })
            .collect()
    }
}

async fn settled(t: &TestDb) -> bool {
    t.wait_for_count("SELECT COUNT(*) FROM inbox WHERE state <> 'done'", 0)
        .await
        && t.wait_for_count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", 0)
            .await
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

async fn a_friend_add_becomes_a_tagged_profile_and_one_welcome(t: &TestDb) {
    let crm = Crm::start(t).await;
    crm.add_customer();
    let code = crm.fake.issue_welcome_code();
    crm.friend_add(now_secs(), &code, 4).await;

    assert!(
        wait_until(Duration::from_secs(10), || async {
            crm.fake.welcome_messages().len() == 1
        })
        .await
    );
    assert!(settled(t).await);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM inbox").await,
        1,
        "WeCom's retries are one event"
    );
    let welcome = &crm.fake.welcome_messages()[0];
    assert_eq!(welcome.welcome_code, code);
    let text = welcome.body["text"]["content"].as_str().unwrap();
    assert!(
        text.contains("王丽") && text.contains("星河软件") && text.contains("Alice"),
        "{text}"
    );

    // The profile and the relation.
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM customer WHERE tenant = 'acme' AND name = '王丽' AND type = 1"
        )
        .await,
        1
    );
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM customer_rep WHERE userid = 'alice' AND status = 'active' \
                 AND state = 'expo2026-sh' AND add_way = 1 AND remark = '王丽（展会）'"
        )
        .await,
        1
    );
    // Three rules matched; their tags were created in the corp and set with one mark_tag.
    let mut tags = crm.tags_in_wecom();
    tags.sort();
    assert_eq!(tags, ["区域/华东", "地区/上海", "渠道/展会"]);
    assert_eq!(crm.fake.requests_to("externalcontact/mark_tag").len(), 1);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM customer_tag WHERE userid = 'alice' AND source = 'wecom'")
            .await,
        3,
        "confirmed once WeCom took them"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM corp_tag WHERE deleted = FALSE")
            .await,
        3
    );
    let kinds: Vec<String> = timeline(t).await;
    assert_eq!(kinds, ["added", "tagged"]);
    crm.app.stop().await;
}
on_both_backends!(
    a_friend_add_becomes_a_tagged_profile_and_one_welcome,
    super::a_friend_add_becomes_a_tagged_profile_and_one_welcome
);

async fn timeline(t: &TestDb) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let rows =
        t.db.query_all_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            "SELECT kind FROM customer_event ORDER BY at, id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", "kind").unwrap())
        .collect()
}

async fn out_of_order_events_end_in_the_same_state(t: &TestDb) {
    let crm = Crm::start(t).await;
    crm.add_customer();
    let added_at = now_secs();
    // The edit that followed the add arrives first, then the add twice.
    crm.contact_event("edit_external_contact", added_at + 5, "")
        .await;
    let code = crm.fake.issue_welcome_code();
    crm.friend_add(added_at, &code, 2).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            crm.fake.welcome_messages().len() == 1
        })
        .await
    );
    assert!(settled(t).await);
    assert_eq!(t.count("SELECT COUNT(*) FROM customer").await, 1);
    assert_eq!(crm.fake.requests_to("externalcontact/mark_tag").len(), 1);

    // The customer deletes alice; the delete is handled, then a stale add arrives again: the
    // relation stays ended and nobody is greeted or tagged again.
    crm.contact_event("del_follow_user", added_at + 60, "")
        .await;
    assert!(settled(t).await);
    crm.friend_add(added_at, &crm.fake.issue_welcome_code(), 1)
        .await;
    assert!(settled(t).await);
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM customer_rep WHERE status = 'ended' AND ended_by = 'customer'"
        )
        .await,
        1
    );
    assert_eq!(crm.fake.welcome_messages().len(), 1);
    assert_eq!(crm.fake.requests_to("externalcontact/mark_tag").len(), 1);
    crm.app.stop().await;
}
on_both_backends!(
    out_of_order_events_end_in_the_same_state,
    super::out_of_order_events_end_in_the_same_state
);

async fn a_delete_before_its_add_leaves_the_relation_ended(t: &TestDb) {
    let crm = Crm::start(t).await;
    crm.add_customer();
    let added_at = now_secs();
    crm.contact_event("del_external_contact", added_at + 30, "")
        .await;
    assert!(settled(t).await);
    crm.friend_add(added_at, &crm.fake.issue_welcome_code(), 1)
        .await;
    assert!(settled(t).await);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM customer_rep WHERE status = 'ended' AND ended_by = 'rep'")
            .await,
        1
    );
    assert!(crm.fake.welcome_messages().is_empty());
    assert!(crm.fake.requests_to("externalcontact/mark_tag").is_empty());
    crm.app.stop().await;
}
on_both_backends!(
    a_delete_before_its_add_leaves_the_relation_ended,
    super::a_delete_before_its_add_leaves_the_relation_ended
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_customer_alerts_the_reps_manager() {
    let t = TestDb::sqlite().await;
    let crm = Crm::start(&t).await;
    crm.add_customer();
    let added_at = now_secs();
    crm.friend_add(added_at, &crm.fake.issue_welcome_code(), 1)
        .await;
    assert!(settled(&t).await);
    crm.contact_event("del_follow_user", added_at + 1, "").await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            !crm.fake.sent_messages().is_empty()
        })
        .await
    );
    assert!(settled(&t).await);
    let alerts = crm.fake.take_messages();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].recipients,
        ["boss"],
        "WeCom's direct leader of alice"
    );
    let card = &alerts[0].body["template_card"];
    assert!(
        card["main_title"]["title"]
            .as_str()
            .unwrap()
            .contains("王丽"),
        "{card}"
    );
    // The same loss reported again by WeCom is one alert.
    crm.contact_event("del_follow_user", added_at + 1, "").await;
    assert!(settled(&t).await);
    crm.fake.assert_all_messages_read();
    crm.app.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_another_app_sent_is_counted_and_not_retried() {
    let t = TestDb::sqlite().await;
    let crm = Crm::start(&t).await;
    crm.add_customer();
    // A code WeCom gave to another app first: 41051.
    crm.friend_add(now_secs(), "code-spent-by-another-app", 1)
        .await;
    assert!(settled(&t).await);
    assert_eq!(
        crm.fake
            .requests_to("externalcontact/send_welcome_msg")
            .len(),
        1
    );
    let metrics = crm.app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .contains(r#"salesbot_welcome_messages_total{tenant="acme",outcome="not_allowed"} 1"#),
        "{metrics}"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE state = 'dead'")
            .await,
        0
    );
    crm.app.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_welcome_code_is_skipped_never_sent_late() {
    let t = TestDb::sqlite().await;
    let crm = Crm::start(&t).await;
    crm.add_customer();
    crm.friend_add(now_secs() - 30, &crm.fake.issue_welcome_code(), 1)
        .await;
    assert!(settled(&t).await);
    assert!(
        crm.fake
            .requests_to("externalcontact/send_welcome_msg")
            .is_empty()
    );
    let metrics = crm.app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"salesbot_welcome_messages_total{tenant="acme",outcome="expired"} 1"#),
        "{metrics}"
    );
    crm.app.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_contact_fetch_is_retried_and_the_welcome_still_sent_once() {
    let t = TestDb::sqlite().await;
    let crm = Crm::start(&t).await;
    crm.add_customer();
    // More failures than the client retries by itself: the event goes back to the inbox once.
    crm.fake
        .fail_next("externalcontact/get", 3, Fault::SYSTEM_BUSY);
    crm.fake
        .fail_next("externalcontact/send_welcome_msg", 1, Fault::SERVER_ERROR);
    crm.friend_add(now_secs(), &crm.fake.issue_welcome_code(), 1)
        .await;
    assert!(
        wait_until(Duration::from_secs(15), || async {
            crm.fake.welcome_messages().len() == 1
        })
        .await
    );
    assert!(settled(&t).await);
    assert!(crm.fake.requests_to("externalcontact/get").len() >= 4);
    assert_eq!(crm.fake.welcome_messages().len(), 1);
    crm.app.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_change_in_wecom_refreshes_the_catalogue() {
    let t = TestDb::sqlite().await;
    let crm = Crm::start(&t).await;
    crm.add_customer();
    crm.friend_add(now_secs(), &crm.fake.issue_welcome_code(), 1)
        .await;
    assert!(settled(&t).await);
    let reads = crm
        .fake
        .requests_to("externalcontact/get_corp_tag_list")
        .len();
    let xml = format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[etEXAMPLEtag01]]></Id>\
         <TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[update]]></ChangeType></xml>",
        FakeWecom::CORP_ID,
        now_secs()
    );
    assert!(crm.post(&xml).await.is_success());
    assert!(settled(&t).await);
    assert_eq!(
        crm.fake
            .requests_to("externalcontact/get_corp_tag_list")
            .len(),
        reads + 1
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM corp_tag WHERE deleted = FALSE")
            .await,
        3
    );
    crm.app.stop().await;
    t.finish().await;
}

//! Reps' chat commands end to end: a text to the WeCom app (or to the DingTalk robot) arrives as
//! a real signed callback, the command runs, and the answer reaches the rep through the fake
//! platform, once per message.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_trait::async_trait;
use salesbot::{
    app::{Extensions, Startup},
    approvals::Approvals,
    cards::Templates,
    chat::{ChatCommands, answer::Locale, approval::ApprovalCommands, incoming},
    config::Config,
    domain::{approval::store, rules::Rules},
    pipeline::{Effects, EventHandler, HandlerError, InboxEvent, Prepared},
    platform::{dingtalk::DingtalkApps, wecom::WecomApps},
    tasks::Tasks,
};
use salesbot_dingtalk::fake::FakeDingtalk;
use salesbot_wecom::fake::{FakeWecom, SentMessage};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use crate::helpers::{TestApp, TestDb, dingtalk_app, on_both_backends, settled};

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

# No overdue reminders: the task commands' tests store overdue tasks, and every message the
# rep gets must be the answer the test reads.
[overdue]
remind_after_mins = []
max_escalations = 0
"#;

const CALLBACK_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

/// The app with one WeCom tenant and the approval rules, and the fake WeCom it talks to.
pub(crate) struct Chat {
    pub fake: FakeWecom,
    pub app: TestApp,
    _rules: tempfile::TempDir,
}

impl Chat {
    pub async fn start(t: &TestDb) -> Self {
        Self::start_with(t, "zh-CN", |_| Extensions::default()).await
    }

    /// Starts with answers in `locale`, and the extensions `plug` makes (it may change the
    /// configuration too).
    pub async fn start_with(
        t: &TestDb,
        locale: &str,
        plug: impl FnOnce(&mut Config) -> Extensions,
    ) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeWecom::start().await;
        fake.add_user(json!({ "userid": "alice", "name": "Alice", "direct_leader": ["boss"] }));
        for userid in ["bob", "boss", "wang.fang", "li.lei", "zhao.min", "qian.jun"] {
            fake.add_user(json!({ "userid": userid, "name": userid }));
        }
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        let mut config = t.config();
        config.rules.file = Some(rules.path().join("rules.toml"));
        config.templates.locale = locale.into();
        config.wecom = vec![crate::helpers::wecom_app(&fake)];
        let extensions = plug(&mut config);
        let app = TestApp::spawn(config, extensions, Startup::default()).await;
        Self {
            fake,
            app,
            _rules: rules,
        }
    }

    /// Posts `text` from `userid` to the app, as WeCom does, with message id `msg_id`.
    pub async fn say(&self, userid: &str, msg_id: u64, text: &str) {
        let xml = format!(
            "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>\
             <CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
             <Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>",
            corp = FakeWecom::CORP_ID,
            now = salesbot::pipeline::clock::now_ms() / 1000,
        );
        crate::helpers::post_wecom_event(&self.app, (CALLBACK_TOKEN, AES_KEY), &xml).await;
    }

    /// Everything WeCom was sent since the last call, as (text answers, cards).
    pub fn take(&self) -> (Vec<(String, String)>, Vec<SentMessage>) {
        let (texts, cards): (Vec<_>, Vec<_>) = self
            .fake
            .take_messages()
            .into_iter()
            .partition(|m| m.body["msgtype"] == "text");
        let answers = texts
            .into_iter()
            .map(|m| {
                assert_eq!(m.body["agentid"], FakeWecom::AGENT_ID);
                (
                    m.recipients.join("|"),
                    m.body["text"]["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (answers, cards)
    }

    /// The one answer sent since the last call, which must have gone to `userid`, and no card.
    pub fn answer_to(&self, userid: &str) -> String {
        let (mut answers, cards) = self.take();
        assert!(cards.is_empty(), "{cards:#?}");
        assert_eq!(answers.len(), 1, "{answers:#?}");
        let (to, text) = answers.remove(0);
        assert_eq!(to, userid, "{text}");
        text
    }

    pub async fn stop(self) {
        self.fake.assert_all_messages_read();
        self.app.stop().await;
    }
}

async fn only_approval_id(t: &TestDb) -> i64 {
    assert_eq!(t.count("SELECT COUNT(*) FROM approval").await, 1);
    t.count("SELECT MAX(id) FROM approval").await
}

async fn a_reps_approval_command_starts_an_approval_and_answers_its_id(t: &TestDb) {
    let chat = Chat::start(t).await;
    chat.say("alice", 1001, "审批 discount 20万 18% Q4\u{3000}续约")
        .await;
    settled(t).await;

    let id = only_approval_id(t).await;
    let approval = store::get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(
        (
            approval.tenant.as_str(),
            approval.platform.as_str(),
            approval.requester.as_str(),
            approval.kind.as_str(),
            approval.title.as_str(),
            approval.amount,
            approval.discount_pct,
            approval.status.as_str(),
            approval.rule.as_str(),
        ),
        (
            "acme",
            "wecom",
            "alice",
            "discount",
            "Q4 续约",
            200_000.0,
            18.0,
            "pending",
            "big discount"
        )
    );
    let (answers, mut cards) = chat.take();
    cards.sort_by(|a, b| a.recipients.cmp(&b.recipients));
    let card_recipients: Vec<&str> = cards.iter().map(|c| c.recipients[0].as_str()).collect();
    assert_eq!(card_recipients, ["li.lei", "wang.fang"]);
    for card in &cards {
        assert_eq!(
            card.body["template_card"]["card_type"],
            "button_interaction"
        );
    }
    assert_eq!(
        answers,
        [(
            "alice".to_owned(),
            format!(
                "审批 #{id} 已发起。\n第 1 级（任一人同意）：wang.fang、li.lei\n发送「撤回 {id}」可撤回。"
            )
        )]
    );
    // The audit log names the message that started it.
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'approval.requested' \
             AND actor = 'chat:wecom:acme:1001'"
        )
        .await,
        1
    );
    chat.stop().await;
}
on_both_backends!(
    a_reps_approval_command_starts_an_approval_and_answers_its_id,
    super::a_reps_approval_command_starts_an_approval_and_answers_its_id
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unroutable_or_malformed_request_is_answered_with_the_reason_and_starts_nothing() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start(&t).await;
    chat.say("alice", 2001, "approval discount 1,000 5% 小单")
        .await;
    settled(&t).await;
    let answer = chat.answer_to("alice");
    assert!(answer.starts_with("审批未发起"), "{answer}");
    assert!(answer.contains("no approval rule matches"), "{answer}");

    chat.say("alice", 2002, "审批 discount 20万 18%").await;
    settled(&t).await;
    assert_eq!(
        chat.answer_to("alice"),
        "缺少 <title>。用法：approval <kind> <amount> [<discount>%] <title…>"
    );
    chat.say("alice", 2003, "审批 discount 二十万 Q4 续约")
        .await;
    settled(&t).await;
    assert_eq!(
        chat.answer_to("alice"),
        "「二十万」不是金额。用法：approval <kind> <amount> [<discount>%] <title…>"
    );

    assert_eq!(t.count("SELECT COUNT(*) FROM approval").await, 0);
    chat.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_requester_withdraws_by_chat() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start(&t).await;
    chat.say(
        "alice",
        3001,
        "approval discount 200,000 18% 华东制造 Q4 续约",
    )
    .await;
    settled(&t).await;
    let id = only_approval_id(&t).await;
    let (answers, cards) = chat.take();
    assert_eq!((answers.len(), cards.len()), (1, 2));

    chat.say("bob", 3002, &format!("撤回 {id}")).await;
    settled(&t).await;
    assert_eq!(
        chat.answer_to("bob"),
        format!("审批 #{id} 只能由发起人 alice 撤回。")
    );
    let approval = store::get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(approval.status, "pending");
    assert!(chat.fake.card_updates().is_empty());

    chat.say("alice", 3003, &format!("withdraw #{id}")).await;
    settled(&t).await;
    assert_eq!(chat.answer_to("alice"), format!("审批 #{id} 已撤回。"));
    let approval = store::get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(approval.status, "withdrawn");
    let updates = chat.fake.card_updates();
    assert_eq!(updates.len(), 2, "both open cards say so");
    for update in &updates {
        let text = update.body["template_card"]["replace_text"]
            .as_str()
            .unwrap();
        assert!(text.contains("撤回"), "{text}");
    }

    chat.say("alice", 3004, &format!("withdraw {id}")).await;
    settled(&t).await;
    assert_eq!(
        chat.answer_to("alice"),
        format!("审批 #{id} 已撤回，不能再撤回。")
    );
    chat.say("alice", 3005, "撤回 999").await;
    settled(&t).await;
    assert_eq!(chat.answer_to("alice"), "没有编号为 999 的审批。");
    chat.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_the_commands_unknown_ones_are_named_and_empty_ones_are_not_answered() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start(&t).await;
    chat.say("alice", 4001, "帮助").await;
    settled(&t).await;
    let help = chat.answer_to("alice");
    assert!(help.starts_with("可用的命令："), "{help}");
    for usage in [
        "help（也可用 帮助、?、？）",
        "approval <kind> <amount> [<discount>%] <title…>（也可用 审批）",
        "withdraw <id>（也可用 撤回）",
        "link <url> [<campaign>]（也可用 链接）",
    ] {
        assert!(help.contains(usage), "{usage} in {help}");
    }

    chat.say("alice", 4002, "hello bot").await;
    settled(&t).await;
    assert_eq!(
        chat.answer_to("alice"),
        "不认识的命令「hello」。发送 help 查看可用的命令。"
    );

    chat.say("alice", 4003, " \u{3000} ").await;
    settled(&t).await;
    assert_eq!(t.count("SELECT COUNT(*) FROM inbox").await, 3);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 2, "no answer");
    chat.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_command_makes_a_tracked_link_that_redirects() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start(&t).await;
    chat.say(
        "alice",
        8001,
        "链接 https://example.com/expo?from=wecom 双11展会",
    )
    .await;
    settled(&t).await;
    let answer = chat.answer_to("alice");
    assert!(
        answer.starts_with("短链接已生成（活动：双11展会）："),
        "{answer}"
    );
    let url = answer.lines().nth(1).unwrap().to_owned();
    let code = url.rsplit('/').next().unwrap();
    assert_eq!(code.len(), 10, "{url}");
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/l/{code}", chat.app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), reqwest::StatusCode::FOUND);
    assert_eq!(
        redirect.headers()["location"],
        "https://example.com/expo?from=wecom"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM link WHERE rep = 'alice' AND campaign = '双11展会'")
            .await,
        1
    );

    // Only web links: the refusal says why, and nothing is made.
    chat.say("alice", 8002, "link javascript:alert(1)").await;
    settled(&t).await;
    let answer = chat.answer_to("alice");
    assert!(answer.starts_with("短链接未生成："), "{answer}");
    assert_eq!(t.count("SELECT COUNT(*) FROM link").await, 1);
    chat.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_follow_the_english_locale() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start_with(&t, "en", |_| Extensions::default()).await;
    chat.say("alice", 5001, "approval discount 20万 18% Q4 renewal")
        .await;
    settled(&t).await;
    let id = only_approval_id(&t).await;
    let (answers, cards) = chat.take();
    assert_eq!(cards.len(), 2);
    assert_eq!(
        answers,
        [(
            "alice".to_owned(),
            format!(
                "Approval #{id} started.\nLevel 1 (any one approves): wang.fang, li.lei\n\
                 Send \"withdraw {id}\" to withdraw it."
            )
        )]
    );
    chat.stop().await;
    t.finish().await;
}

async fn a_message_delivered_twice_starts_one_approval_and_gets_one_answer(t: &TestDb) {
    let chat = Chat::start(t).await;
    for _ in 0..2 {
        chat.say("alice", 6001, "审批 discount 20万 18% Q4 续约")
            .await;
    }
    settled(t).await;
    assert_eq!(t.count("SELECT COUNT(*) FROM inbox").await, 1);
    let id = only_approval_id(t).await;
    let (answers, cards) = chat.take();
    assert_eq!((answers.len(), cards.len()), (1, 2), "{answers:?}");
    assert!(answers[0].1.starts_with(&format!("审批 #{id} 已发起")));

    // The event runs again after it committed (as after a lease taken over): the answer is
    // found and nothing more happens.
    t.db.execute_unprepared(
        "UPDATE inbox SET state = 'pending', available_at = 0, finished_at = NULL, \
         lease_owner = NULL, lease_until = NULL",
    )
    .await
    .unwrap();
    settled(t).await;
    assert_eq!(t.count("SELECT COUNT(*) FROM approval").await, 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 3);
    let (answers, cards) = chat.take();
    assert!(answers.is_empty() && cards.is_empty(), "{answers:?}");
    chat.stop().await;
}
on_both_backends!(
    a_message_delivered_twice_starts_one_approval_and_gets_one_answer,
    super::a_message_delivered_twice_starts_one_approval_and_gets_one_answer
);

/// The chat handler, except that the first event's transaction fails after the command ran:
/// what a crash between the approval's commit and the answer's looks like.
pub(crate) struct LosesFirstAnswer {
    pub inner: Arc<ChatCommands>,
    pub lost: AtomicBool,
}

#[async_trait]
impl EventHandler for LosesFirstAnswer {
    async fn prepare(
        &self,
        db: &DatabaseConnection,
        event: &InboxEvent,
        now: i64,
    ) -> Result<Option<Prepared>, HandlerError> {
        self.inner.prepare(db, event, now).await
    }

    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        self.inner.handle(effects, event).await?;
        if !self.lost.swap(true, Ordering::SeqCst) {
            return Err(HandlerError::Transient("lost before commit".into()));
        }
        Ok(())
    }
}

/// The chat commands as the app builds them, over `config` and `db`.
pub(crate) fn chat_commands(config: &Config, db: &DatabaseConnection) -> Arc<ChatCommands> {
    let rules = Arc::new(Rules::load(config.rules.file.as_deref().unwrap()).unwrap());
    let calendar = Arc::new(config.work.hours().unwrap());
    Arc::new(ChatCommands {
        approvals: ApprovalCommands {
            approvals: Arc::new(Approvals {
                db: db.clone(),
                rules: rules.clone(),
                templates: Arc::new(Templates::load(None).unwrap()),
                wecom: Arc::new(WecomApps::from_config(&config.wecom, db).unwrap()),
                dingtalk: Arc::new(DingtalkApps::from_config(&config.dingtalk, db).unwrap()),
                locale: config.templates.locale.clone(),
                public_base_url: config.server.public_base_url.clone(),
                webhooks: Default::default(),
            }),
        },
        links: Arc::new(
            salesbot::links::Links::new(
                db.clone(),
                &config.links,
                &config.server.public_base_url,
                Arc::new(salesbot::metrics::Metrics::new()),
            )
            .0,
        ),
        tasks: Arc::new(Tasks {
            db: db.clone(),
            rules: rules.clone(),
            calendar: calendar.clone(),
            webhooks: Default::default(),
        }),
        calendar,
        locale: Locale::from_config(&config.templates.locale),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_run_again_after_its_answer_was_lost_starts_no_second_approval() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start_with(&t, "zh-CN", |config| {
        config.pipeline.retry_base_ms = 20;
        let mut extensions = Extensions::default();
        extensions.handlers.register(
            incoming::WECOM_TEXT,
            Arc::new(LosesFirstAnswer {
                inner: chat_commands(config, &t.db),
                lost: AtomicBool::new(false),
            }),
        );
        extensions
    })
    .await;
    chat.say("alice", 7001, "审批 discount 20万 18% Q4 续约")
        .await;
    settled(&t).await;
    assert_eq!(t.inbox_events().await[0].attempts, 2, "the event ran twice");
    let id = only_approval_id(&t).await;
    let (answers, cards) = chat.take();
    assert_eq!(cards.len(), 2, "one card per approver");
    assert_eq!(
        answers,
        [(
            "alice".to_owned(),
            format!(
                "审批 #{id} 已发起。\n第 1 级（任一人同意）：wang.fang、li.lei\n发送「撤回 {id}」可撤回。"
            )
        )],
        "the second run answers from what the first stored"
    );
    chat.stop().await;
    t.finish().await;
}

/// The app with one DingTalk tenant (HTTP mode) and the approval rules, and the fake DingTalk.
pub(crate) struct Ding {
    pub fake: FakeDingtalk,
    pub app: TestApp,
    _rules: tempfile::TempDir,
}

impl Ding {
    pub async fn start(t: &TestDb) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeDingtalk::start().await;
        fake.add_user(json!({ "userid": "rep001", "name": "Zhang San" }));
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        let mut config = t.config();
        config.rules.file = Some(rules.path().join("rules.toml"));
        config.dingtalk = vec![dingtalk_app(fake.base_url())];
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self {
            fake,
            app,
            _rules: rules,
        }
    }

    /// Posts `text` from `staff_id` to the robot one-to-one, signed as DingTalk does.
    pub async fn say(&self, staff_id: &str, msg_id: &str, text: &str) {
        let now = salesbot::pipeline::clock::now_ms();
        let body = json!({
            "msgtype": "text", "text": { "content": text }, "msgId": msg_id,
            "createAt": now, "conversationType": "1", "conversationId": "cidP2P",
            "senderId": "$:LWCP_v1:$abcdef", "senderNick": "Zhang San", "senderStaffId": staff_id,
            "robotCode": FakeDingtalk::ROBOT_CODE,
        });
        let response = self
            .app
            .client
            .post(format!(
                "{}/callbacks/dingtalk/acme/robot",
                self.app.address
            ))
            .header("timestamp", now.to_string())
            .header(
                "sign",
                salesbot_dingtalk::api::webhook_sign(FakeDingtalk::APP_SECRET, now),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    /// The robot's one-to-one texts so far, as (recipients, text).
    pub fn answers(&self) -> Vec<(Vec<String>, String)> {
        self.fake
            .robot_messages()
            .into_iter()
            .map(|m| {
                assert_eq!(m.msg_key, "sampleText");
                (
                    m.user_ids,
                    m.msg_param["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dingtalk_robot_command_is_answered_by_the_robot() {
    let t = TestDb::sqlite().await;
    let ding = Ding::start(&t).await;
    ding.say("rep001", "msgHelp==", " help").await;
    settled(&t).await;
    let answers = ding.answers();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, ["rep001"]);
    assert!(answers[0].1.starts_with("可用的命令："), "{}", answers[0].1);
    let sent = ding.fake.requests_to("v1.0/robot/oToMessages/batchSend");
    assert_eq!(
        sent[0].body.as_ref().unwrap()["robotCode"],
        FakeDingtalk::APP_KEY,
        "the app's own robot"
    );

    // An approval from the DingTalk robot is a DingTalk approval: its cards go out as
    // interactive cards and the id comes back through the robot.
    ding.say(
        "rep001",
        "msgApproval==",
        "approval discount 20万 18% Q4 续约",
    )
    .await;
    settled(&t).await;
    let answers = ding.answers();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[1].0, ["rep001"]);
    assert!(
        answers[1].1.starts_with("审批 #1 已发起。"),
        "{}",
        answers[1].1
    );
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM approval WHERE platform = 'dingtalk' AND requester = 'rep001'"
        )
        .await,
        1
    );

    // Redelivered: one event, one answer.
    ding.say(
        "rep001",
        "msgApproval==",
        "approval discount 20万 18% Q4 续约",
    )
    .await;
    settled(&t).await;
    assert_eq!(ding.answers().len(), 2);
    assert_eq!(t.count("SELECT COUNT(*) FROM inbox").await, 2);
    ding.app.stop().await;
    t.finish().await;
}

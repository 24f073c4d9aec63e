//! Overdue tasks, driven by the overdue job at the moments each test chooses: a reminder per
//! policy step (not per tick), escalations to the configured or the directory's manager and
//! their repeats, nothing for a task done just before its reminder, a schedule started again
//! by a snooze, quiet hours, two instances sending each reminder once, and DingTalk's
//! manager look-up. The app's own job is off (its rules have an `[overdue]` without steps);
//! the dispatchers deliver on the real clock, and every moment here is in the past, so what a
//! tick enqueues is delivered at once.

use std::sync::Arc;

use salesbot::{
    app::{Extensions, Startup},
    audit,
    domain::{
        rules::Rules,
        task::store::{self, NewTask},
    },
    overdue::{
        OverdueTasks,
        scan::{self, Advance},
    },
};
use salesbot_wecom::fake::{FakeWecom, SentMessage};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, TestDb, on_both_backends, settled};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// Wednesday 2026-11-25 10:00 in Shanghai.
const WED_10: i64 = 1_795_572_000_000;
/// Friday 2026-11-20 17:00 in Shanghai.
const FRI_17: i64 = 1_795_165_200_000;
/// Monday 2026-11-23 09:00 in Shanghai.
const MON_09: i64 = 1_795_395_600_000;

/// What the app itself runs: no chasing, so that only the test's ticks do.
const APP_RULES: &str = "[overdue]\nremind_after_mins = []\nmax_escalations = 0\n";

/// A sales team on the fake WeCom: li.lei reports to wang.fang in the directory; han.mei
/// reports to boss in the directory but to zhao.min in the configuration; solo has no manager.
struct Team {
    fake: FakeWecom,
    app: TestApp,
    _rules: tempfile::TempDir,
}

impl Team {
    async fn start(t: &TestDb) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeWecom::start().await;
        fake.add_user(
            json!({ "userid": "li.lei", "name": "李雷", "direct_leader": ["wang.fang"] }),
        );
        fake.add_user(json!({ "userid": "han.mei", "name": "韩梅", "direct_leader": ["boss"] }));
        for (userid, name) in [
            ("wang.fang", "王芳"),
            ("zhao.min", "赵敏"),
            ("boss", "Boss"),
            ("solo", "Solo"),
        ] {
            fake.add_user(json!({ "userid": userid, "name": name }));
        }
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), APP_RULES).unwrap();
        let mut config = t.config();
        config.rules.file = Some(rules.path().join("rules.toml"));
        let mut app = crate::helpers::wecom_app(&fake);
        app.managers.insert("han.mei".into(), "zhao.min".into());
        config.wecom = vec![app];
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self {
            fake,
            app,
            _rules: rules,
        }
    }

    /// An overdue job of its own with the policy `[overdue]` of `rules`.
    fn job(&self, rules: &str) -> OverdueTasks {
        let rules = Rules::parse(rules, "policy.toml").unwrap();
        let state = &self.app.state;
        OverdueTasks::new(
            state.approvals.clone(),
            rules.overdue().clone(),
            state.calendar.clone(),
            Arc::new(tokio::sync::Notify::new()),
        )
    }

    /// The id of a new open task of `assignee` due at `due_at`.
    async fn task(&self, t: &TestDb, assignee: &str, due_at: i64, customer: Option<i64>) -> i64 {
        let task = NewTask {
            tenant: "acme".into(),
            platform: "wecom".into(),
            assignee: assignee.into(),
            title: format!("回访 {assignee}"),
            note: String::new(),
            kind: "follow_up".into(),
            lead_id: None,
            deal_id: None,
            customer_id: customer,
            due_at,
            source: None,
            created_by: "test".into(),
        };
        store::insert(&t.db, &task, due_at - 24 * HOUR)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    fn cards_to(&self, userid: &str) -> Vec<SentMessage> {
        self.fake
            .sent_messages()
            .into_iter()
            .filter(|m| m.recipients == [userid])
            .collect()
    }
}

fn title(message: &SentMessage) -> String {
    message.body["template_card"]["main_title"]["title"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The `task.*` actions of the audit log of task `id`, oldest first (the deliveries of its
/// cards, `card.sent`, are there too).
async fn audited(t: &TestDb, id: i64) -> Vec<String> {
    let mut entries = audit::for_subject(&t.db, "task", &id.to_string())
        .await
        .unwrap();
    entries.reverse();
    entries
        .into_iter()
        .map(|e| e.action)
        .filter(|action| action.starts_with("task."))
        .collect()
}

async fn overdue_tasks_are_reminded_once_per_step_then_escalated_until_the_policy_ends(t: &TestDb) {
    let team = Team::start(t).await;
    t.db.execute_unprepared(
        "INSERT INTO customer (tenant, external_userid, name, corp_name, created_at, updated_at) \
         VALUES ('acme', 'wm-zhang', '张伟', '云栖贸易', 0, 0)",
    )
    .await
    .unwrap();
    let customer = t.count("SELECT id FROM customer").await;
    let id = team.task(t, "li.lei", WED_10, Some(customer)).await;
    let job = team.job(
        "[overdue]\nremind_after_mins = [0, 120]\nescalate_after_mins = 240\nrepeat_escalation_every_mins = 540\nmax_escalations = 2\n",
    );
    // (moment, cards the tick sends): one per step, none for the ticks in between.
    let thu_14 = WED_10 + 28 * HOUR; // 780 working minutes after Wednesday 10:00
    for (at, expected) in [
        (WED_10 - MIN, 0),
        (WED_10, 1),
        (WED_10 + MIN, 0),
        (WED_10 + 60 * MIN, 0),
        (WED_10 + 2 * HOUR, 1),
        (WED_10 + 2 * HOUR + MIN, 0),
        (WED_10 + 4 * HOUR, 1),
        (WED_10 + 5 * HOUR, 0),
        (thu_14 - MIN, 0),
        (thu_14, 1),
        (thu_14 + MIN, 0),
        (thu_14 + 48 * HOUR, 0),
    ] {
        assert_eq!(job.tick(at).await.unwrap(), expected, "tick at {at}");
    }
    settled(t).await;
    // Deliveries run in parallel: the cards are told apart by what they say, not their order.
    let mut reminders = team.cards_to("li.lei");
    reminders.sort_by_key(title);
    let titles: Vec<String> = reminders.iter().map(title).collect();
    assert_eq!(titles, ["任务已逾期：回访 li.lei", "任务提醒：回访 li.lei"]);
    let card = &reminders[0].body["template_card"];
    assert_eq!(
        card["main_title"]["desc"],
        "已于 2026-11-25 10:00 到期，逾期 2 小时"
    );
    let rows = card["horizontal_content_list"].to_string();
    assert!(rows.contains("张伟") && rows.contains("李雷"), "{rows}");
    let escalations = team.cards_to("wang.fang");
    assert_eq!(escalations.len(), 2);
    for escalation in &escalations {
        assert!(title(escalation).starts_with("任务逾期："));
        let desc = escalation.body["template_card"]["main_title"]["desc"].to_string();
        assert!(desc.contains("王芳") && desc.contains("李雷"), "{desc}");
    }
    assert_eq!(
        audited(t, id).await,
        [
            "task.reminded",
            "task.reminded",
            "task.escalated",
            "task.escalated"
        ]
    );
    let task = store::get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(
        (task.reminders_sent, task.next_remind_at, task.escalated_at),
        (4, None, Some(thu_14))
    );
    team.app.stop().await;
}
on_both_backends!(
    overdue_tasks_are_reminded_once_per_step_then_escalated_until_the_policy_ends,
    super::overdue_tasks_are_reminded_once_per_step_then_escalated_until_the_policy_ends
);

async fn escalations_go_to_the_configured_manager_else_the_directory_one(t: &TestDb) {
    let team = Team::start(t).await;
    let configured = team.task(t, "han.mei", WED_10, None).await;
    let directory = team.task(t, "li.lei", WED_10, None).await;
    let nobody = team.task(t, "solo", WED_10, None).await;
    let job = team
        .job("[overdue]\nremind_after_mins = []\nescalate_after_mins = 0\nmax_escalations = 1\n");
    assert_eq!(job.tick(WED_10).await.unwrap(), 2);
    assert_eq!(job.tick(WED_10 + HOUR).await.unwrap(), 0);
    settled(t).await;
    assert_eq!(team.cards_to("zhao.min").len(), 1, "the configured manager");
    assert!(team.cards_to("boss").is_empty(), "configuration wins");
    assert_eq!(
        team.cards_to("wang.fang").len(),
        1,
        "the directory's manager"
    );
    assert_eq!(team.fake.sent_messages().len(), 2);
    let asked: Vec<String> = team
        .fake
        .requests_to("user/get")
        .iter()
        .filter_map(|r| r.query.get("userid").cloned())
        .collect();
    assert!(asked.iter().any(|u| u == "li.lei"), "{asked:?}");
    assert_eq!(audited(t, configured).await, ["task.escalated"]);
    assert_eq!(audited(t, directory).await, ["task.escalated"]);
    assert_eq!(audited(t, nobody).await, ["task.escalation_skipped"]);
    team.app.stop().await;
}
on_both_backends!(
    escalations_go_to_the_configured_manager_else_the_directory_one,
    super::escalations_go_to_the_configured_manager_else_the_directory_one
);

async fn a_task_done_just_before_its_reminder_gets_none_and_a_snooze_starts_again(t: &TestDb) {
    let team = Team::start(t).await;
    let done = team.task(t, "han.mei", WED_10, None).await;
    let snoozed = team.task(t, "li.lei", WED_10, None).await;
    let job = team.job("[overdue]\nremind_after_mins = [0, 120]\nmax_escalations = 0\n");
    assert_eq!(job.tick(WED_10 - MIN).await.unwrap(), 0);
    store::complete(&t.db, done, WED_10 - 1_000).await.unwrap();
    assert_eq!(job.tick(WED_10).await.unwrap(), 1, "only the open task");
    // Done between a scan's read and its compare-and-set: the task is not moved on.
    let late = team.task(t, "han.mei", WED_10 + HOUR, None).await;
    let seen = scan::due(&t.db, WED_10 + HOUR, 10).await.unwrap();
    assert_eq!(seen.iter().map(|s| s.id).collect::<Vec<_>>(), [late]);
    store::complete(&t.db, late, WED_10 + HOUR).await.unwrap();
    let step = Advance {
        steps_done: 1,
        next_remind_at: Some(WED_10 + 3 * HOUR),
        escalated_at: None,
    };
    assert!(!scan::advance(&t.db, &seen[0], step).await.unwrap());
    // Snoozed to Thursday 10:00: the step of 12:00 today is gone, the schedule starts again.
    store::snooze(&t.db, snoozed, WED_10 + 24 * HOUR, WED_10 + MIN)
        .await
        .unwrap();
    assert_eq!(job.tick(WED_10 + 2 * HOUR).await.unwrap(), 0);
    assert_eq!(job.tick(WED_10 + 24 * HOUR).await.unwrap(), 1);
    assert_eq!(job.tick(WED_10 + 24 * HOUR + MIN).await.unwrap(), 0);
    settled(t).await;
    assert!(team.cards_to("han.mei").is_empty());
    assert!(audited(t, late).await.is_empty());
    let reminders = team.cards_to("li.lei");
    assert_eq!(reminders.len(), 2, "before and after the snooze");
    let due_times: Vec<&str> = reminders
        .iter()
        .map(|m| {
            m.body["template_card"]["main_title"]["desc"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        due_times.iter().any(|d| d.contains("2026-11-26 10:00")),
        "{due_times:?}"
    );
    assert!(audited(t, done).await.iter().all(|a| a != "task.reminded"));
    team.app.stop().await;
}
on_both_backends!(
    a_task_done_just_before_its_reminder_gets_none_and_a_snooze_starts_again,
    super::a_task_done_just_before_its_reminder_gets_none_and_a_snooze_starts_again
);

async fn a_reminder_due_at_the_end_of_the_day_is_held_to_nine_the_next_working_day(t: &TestDb) {
    let team = Team::start(t).await;
    let id = team.task(t, "li.lei", FRI_17, None).await;
    // An hour of working time after Friday 17:00 is 18:00, when the working day ends.
    let job = team.job("[overdue]\nremind_after_mins = [0, 60]\nmax_escalations = 0\n");
    assert_eq!(job.tick(FRI_17).await.unwrap(), 1);
    assert_eq!(job.tick(FRI_17 + 30 * MIN).await.unwrap(), 0);
    assert_eq!(job.tick(FRI_17 + HOUR).await.unwrap(), 1);
    assert_eq!(job.tick(FRI_17 + 24 * HOUR).await.unwrap(), 0, "Saturday");
    let rows =
        t.db.query_all_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            "SELECT idempotency_key, available_at FROM outbox ORDER BY id",
        ))
        .await
        .unwrap();
    let held: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "idempotency_key").unwrap(),
                r.try_get("", "available_at").unwrap(),
            )
        })
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(
        held[0].0.contains(&format!("task:{id}:reminder:0:")),
        "{held:?}"
    );
    assert_eq!(held[0].1, FRI_17, "sent in working hours");
    assert!(
        held[1].0.contains(&format!("task:{id}:reminder:1:")),
        "{held:?}"
    );
    assert_eq!(held[1].1, MON_09, "held to Monday 09:00");
    settled(t).await;
    assert_eq!(team.cards_to("li.lei").len(), 2);
    team.app.stop().await;
}
on_both_backends!(
    a_reminder_due_at_the_end_of_the_day_is_held_to_nine_the_next_working_day,
    super::a_reminder_due_at_the_end_of_the_day_is_held_to_nine_the_next_working_day
);

async fn two_instances_ticking_at_once_send_each_reminder_once(t: &TestDb) {
    const TASKS: usize = 40;
    let team = Team::start(t).await;
    for n in 0..TASKS {
        let assignee = ["li.lei", "han.mei"][n % 2];
        team.task(t, assignee, WED_10 - n as i64 * MIN, None).await;
    }
    let policy = "[overdue]\nremind_after_mins = [0]\nmax_escalations = 0\n";
    let (a, b) = (team.job(policy), team.job(policy));
    let (sent_a, sent_b) = tokio::join!(a.tick(WED_10), b.tick(WED_10));
    assert_eq!(sent_a.unwrap() + sent_b.unwrap(), TASKS);
    let (again_a, again_b) = tokio::join!(a.tick(WED_10 + MIN), b.tick(WED_10 + MIN));
    assert_eq!(again_a.unwrap() + again_b.unwrap(), 0);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE '%task_reminder%'")
            .await,
        TASKS as i64
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit_log WHERE action = 'task.reminded'")
            .await,
        TASKS as i64
    );
    settled(t).await;
    assert_eq!(team.fake.requests_to("message/send").len(), TASKS);
    team.app.stop().await;
}
on_both_backends!(
    two_instances_ticking_at_once_send_each_reminder_once,
    super::two_instances_ticking_at_once_send_each_reminder_once
);

async fn a_dingtalk_task_is_escalated_to_the_manager_dingtalk_names(t: &TestDb) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = salesbot_dingtalk::fake::FakeDingtalk::start().await;
    fake.add_user(json!({ "userid": "ding.rep", "name": "丁一", "manager_userid": "ding.boss" }));
    fake.add_user(json!({ "userid": "ding.boss", "name": "丁总" }));
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("rules.toml"), APP_RULES).unwrap();
    let mut config = t.config();
    config.rules.file = Some(rules.path().join("rules.toml"));
    config.dingtalk = vec![crate::helpers::dingtalk_app(fake.base_url())];
    let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
    let task = NewTask {
        tenant: "acme".into(),
        platform: "dingtalk".into(),
        assignee: "ding.rep".into(),
        title: "报价跟进".into(),
        note: String::new(),
        kind: "follow_up".into(),
        lead_id: None,
        deal_id: None,
        customer_id: None,
        due_at: WED_10,
        source: None,
        created_by: "test".into(),
    };
    let id = store::insert(&t.db, &task, WED_10 - HOUR)
        .await
        .unwrap()
        .unwrap()
        .id;
    let policy = Rules::parse(
        "[overdue]\nremind_after_mins = [0]\nescalate_after_mins = 0\nmax_escalations = 1\n",
        "policy.toml",
    )
    .unwrap();
    let job = OverdueTasks::new(
        app.state.approvals.clone(),
        policy.overdue().clone(),
        app.state.calendar.clone(),
        Arc::new(tokio::sync::Notify::new()),
    );
    assert_eq!(job.tick(WED_10).await.unwrap(), 2);
    assert_eq!(job.tick(WED_10 + MIN).await.unwrap(), 0);
    settled(t).await;
    let mut to: Vec<Vec<String>> = fake
        .work_notifications()
        .into_iter()
        .map(|n| n.userids)
        .collect();
    to.sort();
    assert_eq!(
        to,
        [vec!["ding.boss".to_string()], vec!["ding.rep".to_string()]]
    );
    assert_eq!(audited(t, id).await, ["task.reminded", "task.escalated"]);
    app.stop().await;
}
on_both_backends!(
    a_dingtalk_task_is_escalated_to_the_manager_dingtalk_names,
    super::a_dingtalk_task_is_escalated_to_the_manager_dingtalk_names
);

//! Reps' task commands in chat: `tasks`, `done` and `snooze` sent to the WeCom app (and the
//! DingTalk robot) as real signed callbacks, answered through the fake platform, over tasks
//! stored for the rep.

use std::{
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use reqwest::Method;
use salesbot::{
    app::Extensions,
    chat::incoming,
    config::{Config, Secret},
    domain::{
        calendar::WorkingHours,
        task::store::{self, NewTask, TaskRow},
    },
    pipeline::clock::now_ms,
};
use sea_orm::ConnectionTrait;

use crate::{
    chat::{Chat, Ding, LosesFirstAnswer, chat_commands},
    helpers::{TestDb, on_both_backends, settled},
};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// A task of tenant `acme` on WeCom for `assignee`, due at `due_at`.
fn task(assignee: &str, title: &str, due_at: i64) -> NewTask {
    NewTask {
        tenant: "acme".into(),
        platform: "wecom".into(),
        assignee: assignee.into(),
        title: title.into(),
        note: String::new(),
        kind: "follow_up".into(),
        lead_id: None,
        deal_id: None,
        customer_id: None,
        due_at,
        source: None,
        created_by: "api".into(),
    }
}

async fn insert(t: &TestDb, new: NewTask) -> TaskRow {
    store::insert(&t.db, &new, now_ms()).await.unwrap().unwrap()
}

async fn stored(t: &TestDb, id: i64) -> TaskRow {
    store::get(&t.db, id).await.unwrap().unwrap()
}

/// The working hours of `config`, as the app reads them.
fn calendar(config: &Config) -> WorkingHours {
    config.work.hours().unwrap()
}

/// Working hours in UTC, 09:00–18:00, on every day but today (UTC): it is outside working
/// hours now, whenever the test runs, and the next working period starts tomorrow at 09:00.
fn closed_today(config: &mut Config) {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    // 1970-01-01 was a Thursday.
    let today = (now_ms().div_euclid(DAY) + 3).rem_euclid(7) as usize;
    config.work.time_zone = "UTC".into();
    config.work.start = "09:00".into();
    config.work.end = "18:00".into();
    config.work.days = (0..7)
        .filter(|day| *day != today)
        .map(|day| DAYS[day].to_owned())
        .collect();
}

/// Working hours around the clock, every day, in UTC: working time is wall-clock time.
fn always_open(config: &mut Config) {
    config.work.time_zone = "UTC".into();
    config.work.start = "00:00".into();
    config.work.end = "24:00".into();
    config.work.days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .map(String::from)
        .to_vec();
}

async fn the_tasks_command_lists_the_senders_open_tasks_soonest_due_first(t: &TestDb) {
    let chat = Chat::start(t).await;
    let hours = calendar(&t.config());
    let now = now_ms();
    let later = insert(t, task("alice", "发送报价单", now + 2 * DAY)).await;
    let overdue = insert(t, task("alice", "回访华东制造", now - 3 * HOUR)).await;
    let soon = insert(t, task("alice", "Call Mr. Li", now + 3 * HOUR)).await;
    // Not alice's open tasks on this tenant and platform: none of these is listed.
    insert(t, task("bob", "bob's task", now - DAY)).await;
    let finished = insert(t, task("alice", "done already", now - DAY)).await;
    store::complete(&t.db, finished.id, now).await.unwrap();
    insert(
        t,
        NewTask {
            platform: "dingtalk".into(),
            ..task("alice", "on DingTalk", now)
        },
    )
    .await;
    insert(
        t,
        NewTask {
            tenant: "other".into(),
            ..task("alice", "other tenant", now)
        },
    )
    .await;

    chat.say("alice", 1001, "我的任务").await;
    settled(t).await;
    let due = |task: &TaskRow| hours.local_minute(task.due_at);
    assert_eq!(
        chat.answer_to("alice"),
        format!(
            "你有 3 个未完成的任务：\n\
             #{} 回访华东制造 — 截止 {}（已逾期）\n\
             #{} Call Mr. Li — 截止 {}\n\
             #{} 发送报价单 — 截止 {}\n\
             发送「完成 {id}」标记完成，「推迟 {id} 2小时」推迟。",
            overdue.id,
            due(&overdue),
            soon.id,
            due(&soon),
            later.id,
            due(&later),
            id = overdue.id,
        )
    );

    chat.say("li.lei", 1002, "tasks").await;
    settled(t).await;
    assert_eq!(chat.answer_to("li.lei"), "你没有未完成的任务。");
    chat.stop().await;
}
on_both_backends!(
    the_tasks_command_lists_the_senders_open_tasks_soonest_due_first,
    super::the_tasks_command_lists_the_senders_open_tasks_soonest_due_first
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_task_list_shows_the_ten_soonest_and_counts_the_rest() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start_with(&t, "en", |_| Extensions::default()).await;
    let now = now_ms();
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(
            insert(
                &t,
                task("alice", &format!("task {n}"), now + (n + 1) * HOUR),
            )
            .await
            .id,
        );
    }
    chat.say("alice", 1101, "tasks").await;
    settled(&t).await;
    let answer = chat.answer_to("alice");
    let lines: Vec<&str> = answer.lines().collect();
    assert_eq!(lines.len(), 13, "{answer}");
    assert_eq!(lines[0], "You have 12 open tasks:");
    for (n, line) in lines[1..11].iter().enumerate() {
        assert!(
            line.starts_with(&format!("#{} task {n} — due ", ids[n])),
            "{answer}"
        );
        assert!(!line.ends_with("(overdue)"), "{answer}");
    }
    assert_eq!(lines[11], "…and 2 more");
    chat.stop().await;
    t.finish().await;
}

async fn done_by_the_assignee_closes_the_task_and_by_anyone_else_changes_nothing(t: &TestDb) {
    let chat = Chat::start(t).await;
    let now = now_ms();
    let call = insert(t, task("alice", "Call Mr. Li", now - HOUR)).await;

    chat.say("bob", 2001, &format!("done {}", call.id)).await;
    settled(t).await;
    assert_eq!(
        chat.answer_to("bob"),
        format!("任务 #{} 的负责人是 alice，只有负责人可以操作。", call.id)
    );
    assert_eq!(stored(t, call.id).await, call, "nothing changed");

    chat.say("alice", 2002, &format!("完成 #{}", call.id)).await;
    settled(t).await;
    assert_eq!(
        chat.answer_to("alice"),
        format!("任务 #{} 已完成：Call Mr. Li", call.id)
    );
    let done = stored(t, call.id).await;
    assert_eq!(done.state, "done");
    assert!(done.done_at.is_some());
    assert_eq!(done.next_remind_at, None, "no more reminders");

    chat.say("alice", 2003, &format!("done {}", call.id)).await;
    settled(t).await;
    assert_eq!(
        chat.answer_to("alice"),
        format!("任务 #{} 已完成，无需再操作。", call.id)
    );
    assert_eq!(stored(t, call.id).await, done);

    chat.say("alice", 2004, "done 999999").await;
    settled(t).await;
    assert_eq!(chat.answer_to("alice"), "没有编号为 999999 的任务。");

    // Another tenant's task is not found, whoever it is assigned to.
    let theirs = insert(
        t,
        NewTask {
            tenant: "other".into(),
            ..task("alice", "other tenant", now)
        },
    )
    .await;
    chat.say("alice", 2005, &format!("done {}", theirs.id))
        .await;
    settled(t).await;
    assert_eq!(
        chat.answer_to("alice"),
        format!("没有编号为 {} 的任务。", theirs.id)
    );
    assert!(stored(t, theirs.id).await.is_open());
    chat.stop().await;
}
on_both_backends!(
    done_by_the_assignee_closes_the_task_and_by_anyone_else_changes_nothing,
    super::done_by_the_assignee_closes_the_task_and_by_anyone_else_changes_nothing
);

async fn snooze_in_hours_counts_working_time_and_in_days_calendar_days(t: &TestDb) {
    let chat = Chat::start_with(t, "zh-CN", |config| {
        closed_today(config);
        Extensions::default()
    })
    .await;
    let mut config = t.config();
    closed_today(&mut config);
    let hours = calendar(&config);
    let before = now_ms();
    let overdue = insert(t, task("alice", "Call Mr. Li", before - HOUR)).await;
    let far = before + 5 * DAY;
    let future = insert(t, task("alice", "Send the quote", far)).await;

    // Outside working hours: two hours of working time run from 09:00 on the next working
    // day, not from now.
    chat.say("alice", 3001, &format!("推迟 {} 2小时", overdue.id))
        .await;
    settled(t).await;
    let after = now_ms();
    let snoozed = stored(t, overdue.id).await;
    let two_hours = Duration::from_secs(2 * 3600);
    assert!(
        [hours.add(before, two_hours), hours.add(after, two_hours)].contains(&snoozed.due_at),
        "due {}",
        hours.local_minute(snoozed.due_at)
    );
    assert!(snoozed.due_at > after + 2 * HOUR + 7 * HOUR);
    assert!(hours.local_minute(snoozed.due_at).ends_with(" 11:00"));
    assert_eq!(
        snoozed.next_remind_at,
        Some(snoozed.due_at),
        "reminded from then"
    );
    assert_eq!(snoozed.reminders_sent, 0);
    assert_eq!(
        chat.answer_to("alice"),
        format!(
            "任务 #{} 已推迟，新的截止时间：{}。",
            overdue.id,
            hours.local_minute(snoozed.due_at)
        )
    );

    // A task not due yet is put off from its due time: a day later, then the next working
    // moment.
    chat.say("alice", 3002, &format!("snooze {} 1d", future.id))
        .await;
    settled(t).await;
    let snoozed = stored(t, future.id).await;
    assert_eq!(snoozed.due_at, hours.next_open(far + DAY));
    assert_eq!(
        chat.answer_to("alice"),
        format!(
            "任务 #{} 已推迟，新的截止时间：{}。",
            future.id,
            hours.local_minute(snoozed.due_at)
        )
    );

    // Someone else's task, a closed one and a bad duration change nothing.
    chat.say("bob", 3003, &format!("snooze {} 1h", future.id))
        .await;
    settled(t).await;
    assert_eq!(
        chat.answer_to("bob"),
        format!("任务 #{} 的负责人是 alice，只有负责人可以操作。", future.id)
    );
    store::cancel(&t.db, overdue.id, now_ms()).await.unwrap();
    chat.say("alice", 3004, &format!("snooze {} 1h", overdue.id))
        .await;
    settled(t).await;
    assert_eq!(
        chat.answer_to("alice"),
        format!("任务 #{} 已取消，无需再操作。", overdue.id)
    );
    chat.say("alice", 3005, &format!("延后 {} 45天", future.id))
        .await;
    settled(t).await;
    assert_eq!(
        chat.answer_to("alice"),
        "「45天」不是 1 分钟到 30 天之间的时长（如 30分钟、2小时、1天）。用法：snooze <id> <duration>"
    );
    assert_eq!(stored(t, future.id).await, snoozed);
    chat.stop().await;
}
on_both_backends!(
    snooze_in_hours_counts_working_time_and_in_days_calendar_days,
    super::snooze_in_hours_counts_working_time_and_in_days_calendar_days
);

async fn a_task_command_delivered_twice_has_one_effect_and_one_answer(t: &TestDb) {
    let chat = Chat::start_with(t, "zh-CN", |config| {
        always_open(config);
        Extensions::default()
    })
    .await;
    let call = insert(t, task("alice", "Call Mr. Li", now_ms() - HOUR)).await;
    for _ in 0..2 {
        chat.say("alice", 4001, &format!("snooze {} 2h", call.id))
            .await;
    }
    settled(t).await;
    assert_eq!(t.count("SELECT COUNT(*) FROM inbox").await, 1);
    let snoozed = stored(t, call.id).await;
    let answer = chat.answer_to("alice");
    assert!(
        answer.starts_with(&format!("任务 #{} 已推迟", call.id)),
        "{answer}"
    );

    // The event runs again after it committed: the answer is found, nothing more happens.
    t.db.execute_unprepared(
        "UPDATE inbox SET state = 'pending', available_at = 0, finished_at = NULL, \
         lease_owner = NULL, lease_until = NULL",
    )
    .await
    .unwrap();
    settled(t).await;
    assert_eq!(stored(t, call.id).await, snoozed);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
    let (answers, cards) = chat.take();
    assert!(answers.is_empty() && cards.is_empty(), "{answers:?}");
    chat.stop().await;
}
on_both_backends!(
    a_task_command_delivered_twice_has_one_effect_and_one_answer,
    super::a_task_command_delivered_twice_has_one_effect_and_one_answer
);

/// The app whose chat handler loses the first answer of each message's first run (a crash
/// after the task changed, before the answer committed), with working hours around the clock.
async fn losing_first_answers(t: &TestDb) -> Chat {
    Chat::start_with(t, "zh-CN", |config| {
        always_open(config);
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
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn done_run_again_after_its_answer_was_lost_answers_done_not_done_already() {
    let t = TestDb::sqlite().await;
    let chat = losing_first_answers(&t).await;
    let call = insert(&t, task("alice", "Call Mr. Li", now_ms() - HOUR)).await;
    chat.say("alice", 5001, &format!("done {}", call.id)).await;
    settled(&t).await;
    assert_eq!(t.inbox_events().await[0].attempts, 2, "the event ran twice");
    assert_eq!(stored(&t, call.id).await.state, "done");
    assert_eq!(
        chat.answer_to("alice"),
        format!("任务 #{} 已完成：Call Mr. Li", call.id),
        "the second run answers as the first would have"
    );
    chat.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snooze_run_again_after_its_answer_was_lost_keeps_the_first_runs_due_time() {
    let t = TestDb::sqlite().await;
    let chat = losing_first_answers(&t).await;
    let call = insert(&t, task("alice", "Call Mr. Li", now_ms() - HOUR)).await;
    chat.say("alice", 5002, &format!("snooze {} 30m", call.id))
        .await;
    settled(&t).await;
    assert_eq!(t.inbox_events().await[0].attempts, 2, "the event ran twice");
    let first_run = t
        .count("SELECT MIN(at) FROM audit_log WHERE actor = 'chat:wecom:acme:5002'")
        .await;
    let snoozed = stored(&t, call.id).await;
    assert_eq!(
        snoozed.due_at,
        first_run + 30 * 60_000,
        "counted from the first run, not the second"
    );
    let hours = {
        let mut config = t.config();
        always_open(&mut config);
        calendar(&config)
    };
    assert_eq!(
        chat.answer_to("alice"),
        format!(
            "任务 #{} 已推迟，新的截止时间：{}。",
            call.id,
            hours.local_minute(snoozed.due_at)
        )
    );
    chat.stop().await;
    t.finish().await;
}

const ADMIN_TOKEN: &str = "chat-tasks-admin-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn done_from_chat_runs_the_task_rules_as_the_api_does() {
    let t = TestDb::sqlite().await;
    let chat = Chat::start_with(&t, "zh-CN", |config| {
        config.admin.token = Some(Secret::new(ADMIN_TOKEN));
        let file = config.rules.file.clone().unwrap();
        let mut rules = std::fs::read_to_string(&file).unwrap();
        rules.push_str(
            r#"
[[task_rule]]
name = "first call done"
on = "task_done"
kind = "first_contact"
task = { kind = "needs_analysis", title = "需求分析", due_in_mins = 1440 }
"#,
        );
        std::fs::write(&file, rules).unwrap();
        Extensions::default()
    })
    .await;
    let first = insert(
        &t,
        NewTask {
            kind: "first_contact".into(),
            ..task("alice", "首次联系", now_ms() + HOUR)
        },
    )
    .await;

    chat.say("alice", 6001, &format!("done {}", first.id)).await;
    settled(&t).await;
    assert_eq!(
        chat.answer_to("alice"),
        format!("任务 #{} 已完成：首次联系", first.id)
    );
    let shown: serde_json::Value = chat
        .app
        .admin(
            Method::GET,
            &format!("/api/v1/tasks/{}", first.id),
            ADMIN_TOKEN,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["state"], "done", "{shown}");
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'task.completed' \
             AND actor = 'alice' AND subject_id = '{}'",
            first.id
        ))
        .await,
        1
    );
    let next = t
        .count(&format!(
            "SELECT id FROM task WHERE kind = 'needs_analysis' AND assignee = 'alice' \
             AND state = 'open' AND source = 'rule:first call done:task:{}'",
            first.id
        ))
        .await;

    chat.say("alice", 6002, "任务").await;
    settled(&t).await;
    let answer = chat.answer_to("alice");
    assert!(
        answer.starts_with(&format!(
            "你有 1 个未完成的任务：\n#{next} 需求分析 — 截止 "
        )),
        "{answer}"
    );
    chat.stop().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dingtalk_robot_lists_and_completes_the_senders_dingtalk_tasks() {
    let t = TestDb::sqlite().await;
    let ding = Ding::start(&t).await;
    let now = now_ms();
    let on_dingtalk = |title: &str| NewTask {
        platform: "dingtalk".into(),
        ..task("rep001", title, now + HOUR)
    };
    let call = insert(&t, on_dingtalk("Call Mr. Li")).await;
    insert(&t, task("rep001", "on WeCom", now)).await;

    ding.say("rep001", "msgTasks==", "任务").await;
    settled(&t).await;
    ding.say("rep001", "msgDone==", &format!("完成 {}", call.id))
        .await;
    settled(&t).await;
    let answers: Vec<String> = ding
        .answers()
        .into_iter()
        .map(|(to, text)| {
            assert_eq!(to, ["rep001"]);
            text
        })
        .collect();
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert!(
        answers[0].starts_with(&format!(
            "你有 1 个未完成的任务：\n#{} Call Mr. Li — 截止 ",
            call.id
        )),
        "{}",
        answers[0]
    );
    assert_eq!(answers[1], format!("任务 #{} 已完成：Call Mr. Li", call.id));
    assert_eq!(stored(&t, call.id).await.state, "done");
    ding.app.stop().await;
    t.finish().await;
}

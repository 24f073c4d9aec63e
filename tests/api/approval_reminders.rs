//! Reminders and escalations of approvals, driven by the reminder job: each approver is
//! reminded once, an idle approver's manager is asked in their place and can decide, and two
//! instances running the job at once remind each approver once. Time passes by moving the
//! steps' clocks back (the dispatchers deliver on the real clock).

use std::{sync::Arc, time::Duration};

use salesbot::{
    approvals::reminders::{Reminders, Timing},
    pipeline::clock::now_ms,
};
use serde_json::Value;

use crate::{
    approvals::{Desk, discount, settled},
    helpers::{TestDb, on_both_backends},
};

const HOUR: i64 = 3_600_000;

fn job(desk: &Desk) -> Reminders {
    Reminders {
        approvals: desk.app.state.approvals.clone(),
        timing: Timing {
            remind_after: Some(Duration::from_secs(4 * 3600)),
            escalate_after: Some(Duration::from_secs(24 * 3600)),
        },
        wake_outbox: Arc::new(tokio::sync::Notify::new()),
    }
}

/// Moves the approvers' waiting `hours` further into the past.
async fn wait_hours(t: &TestDb, hours: i64) {
    use sea_orm::ConnectionTrait;
    let shift = hours * HOUR;
    t.db.execute_unprepared(&format!(
        "UPDATE approval_step SET asked_at = asked_at - {shift} WHERE asked_at IS NOT NULL"
    ))
    .await
    .unwrap();
}

fn actions(history: &Value, action: &str) -> Vec<Value> {
    history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| serde_json::from_str(e["detail"].as_str().unwrap()).unwrap())
        .collect()
}

async fn idle_approvers_are_reminded_once_then_their_manager_decides(t: &TestDb) {
    let desk = Desk::start(t).await;
    let (_, started) = desk.request(&discount(20.0, 120_000.0)).await;
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    let job = job(&desk);

    wait_hours(t, 3).await;
    assert_eq!(job.tick(now_ms()).await.unwrap(), 0, "not yet");
    wait_hours(t, 2).await;
    assert_eq!(job.tick(now_ms()).await.unwrap(), 2);
    wait_hours(t, 1).await;
    assert_eq!(job.tick(now_ms()).await.unwrap(), 0, "once per step");
    settled(t).await;
    let wang = desk.cards_to("wang.fang");
    assert_eq!(wang.len(), 2, "the request and its reminder");
    let reminder = &wang[1].body["template_card"];
    assert!(
        reminder["main_title"]["title"]
            .as_str()
            .unwrap()
            .starts_with("待你审批"),
        "{reminder}"
    );
    assert_eq!(reminder["card_type"], "button_interaction");

    // A day on: wang.fang's manager gets a card of their own; li.lei has no manager.
    wait_hours(t, 19).await;
    assert_eq!(job.tick(now_ms()).await.unwrap(), 1);
    assert_eq!(job.tick(now_ms()).await.unwrap(), 0);
    settled(t).await;
    let director = desk.cards_to("director");
    assert_eq!(director.len(), 1);
    let history = desk.history(id).await;
    assert_eq!(actions(&history, "approval.reminded").len(), 2);
    let escalated = actions(&history, "approval.escalated");
    assert_eq!(escalated.len(), 1);
    assert_eq!(
        (&escalated[0]["approver"], &escalated[0]["manager"]),
        (&Value::from("wang.fang"), &Value::from("director"))
    );
    assert_eq!(actions(&history, "approval.escalation_skipped").len(), 1);

    // The manager decides in wang.fang's place; every open card of the level shows it.
    desk.tap(&director[0], "director", "approve").await;
    settled(t).await;
    let history = desk.history(id).await;
    assert_eq!(history["approval"]["status"], "approved");
    let decided = actions(&history, "approval.step_decided");
    assert_eq!(decided[0]["stands_for"], "wang.fang");
    // director's card, wang.fang's request and reminder, li.lei's request and reminder.
    assert_eq!(desk.fake.card_updates().len(), 5);
    assert_eq!(desk.cards_to("alice").len(), 1);
    wait_hours(t, 30).await;
    assert_eq!(
        job.tick(now_ms()).await.unwrap(),
        0,
        "a decided approval is not chased"
    );
    // Each card's sending and updating is in the approval's history with its card id.
    let sent = actions(&history, "card.sent");
    // Five approval cards and alice's approval_decided.
    assert_eq!(sent.len(), 6, "{sent:#?}");
    let reminders = sent
        .iter()
        .filter(|d| d["kind"] == "approval_reminder")
        .count();
    assert_eq!(reminders, 2);
    assert!(
        sent.iter()
            .all(|d| d["card"].as_str().is_some_and(|c| !c.is_empty()))
    );
    settled(t).await;
    assert_eq!(actions(&desk.history(id).await, "card.updated").len(), 5);
    desk.app.stop().await;
}
on_both_backends!(
    idle_approvers_are_reminded_once_then_their_manager_decides,
    super::idle_approvers_are_reminded_once_then_their_manager_decides
);

async fn a_tap_on_the_reminder_decides_like_one_on_the_request(t: &TestDb) {
    let desk = Desk::start(t).await;
    let (_, started) = desk.request(&discount(20.0, 120_000.0)).await;
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    wait_hours(t, 5).await;
    job(&desk).tick(now_ms()).await.unwrap();
    settled(t).await;
    let reminder = desk.cards_to("li.lei").remove(1);
    desk.tap(&reminder, "li.lei", "reject").await;
    settled(t).await;
    assert_eq!(desk.history(id).await["approval"]["status"], "rejected");
    // li.lei's two cards and wang.fang's two cards.
    let updates = desk.fake.card_updates();
    assert_eq!(updates.len(), 4, "{updates:#?}");
    desk.app.stop().await;
}
on_both_backends!(
    a_tap_on_the_reminder_decides_like_one_on_the_request,
    super::a_tap_on_the_reminder_decides_like_one_on_the_request
);

async fn two_instances_running_the_job_at_once_remind_each_approver_once(t: &TestDb) {
    let desk = Desk::start(t).await;
    desk.request(&discount(20.0, 120_000.0)).await;
    desk.request(&discount(35.0, 50_000.0)).await;
    settled(t).await;
    let (a, b) = (job(&desk), job(&desk));
    wait_hours(t, 5).await;
    let at = now_ms();
    let (x, y) = tokio::join!(a.tick(at), b.tick(at));
    assert_eq!(x.unwrap() + y.unwrap(), 3, "wang.fang, li.lei and boss");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE '%approval_reminder%'")
            .await,
        3
    );
    desk.app.stop().await;
}
on_both_backends!(
    two_instances_running_the_job_at_once_remind_each_approver_once,
    super::two_instances_running_the_job_at_once_remind_each_approver_once
);

//! Cards through the outbox to the fake platforms: sent once however often a send is retried
//! or an event replayed, 45009 waited out, updates by WeCom's single-use response_code (and
//! reported, not retried, once it has expired) and by DingTalk's outTrackId.

use std::sync::Arc;

use salesbot::{
    cards::{
        Button, ButtonStyle, Card, MessageKind, Notice, Recipient, Row, Status,
        message::{self, send_key},
        store,
    },
    config::{DingtalkConfig, DingtalkMode, Secret, WecomConfig},
    pipeline::{Enqueued, clock::now_ms, dispatcher::Outcome},
    platform::{
        dingtalk::DingtalkApps, dingtalk_delivery::DingtalkDelivery, wecom::WecomApps,
        wecom_delivery::WecomDelivery,
    },
};
use salesbot_dingtalk::fake::FakeDingtalk;
use salesbot_wecom::fake::{FakeWecom, Fault};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestDb, dispatcher, on_both_backends};

const HOUR_MS: i64 = 3_600_000;

fn wecom_config(fake: &FakeWecom) -> WecomConfig {
    WecomConfig {
        api_base: fake.base_url().into(),
        rate_limit_per_minute: 0,
        request_timeout_secs: 5,
        ..WecomConfig::new(
            "acme",
            FakeWecom::CORP_ID,
            FakeWecom::AGENT_ID.into(),
            Secret::new(FakeWecom::SECRET),
            Secret::new("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"),
            Secret::new("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"),
        )
    }
}

async fn wecom(t: &TestDb) -> (FakeWecom, Arc<WecomDelivery>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeWecom::start().await;
    for userid in ["dave", "erin"] {
        fake.add_user(json!({ "userid": userid, "name": userid }));
    }
    let apps = WecomApps::from_config(&[wecom_config(&fake)], &t.db).unwrap();
    let delivery = Arc::new(WecomDelivery::new(
        t.db.clone(),
        Arc::new(apps),
        Arc::new(salesbot::metrics::Metrics::new()),
    ));
    (fake, delivery)
}

fn approval_card() -> Card {
    Card {
        title: "Discount approval: ACME Ltd".into(),
        source: Some("Sales desk".into()),
        description: Some("Deal D-1024 · requested by alice".into()),
        rows: vec![
            Row {
                key: "Amount".into(),
                value: "¥120,000".into(),
            },
            Row {
                key: "Discount".into(),
                value: "15%".into(),
            },
        ],
        link: Some("https://crm.example.com/deals/D-1024".into()),
        buttons: vec![
            Button {
                key: "approve".into(),
                label: "Approve".into(),
                style: ButtonStyle::Primary,
                url: None,
            },
            Button {
                key: "reject".into(),
                label: "Reject".into(),
                style: ButtonStyle::Danger,
                url: None,
            },
        ],
        ..Card::default()
    }
}

fn notice(platform: &str, card: Card) -> Notice {
    Notice {
        platform: platform.into(),
        tenant: "acme".into(),
        kind: MessageKind::ApprovalRequest,
        subject: "approval:42:step:1".into(),
        version: 1,
        card,
    }
}

fn decided(card: &Card, key: &str, caption: &str) -> Card {
    Card {
        status: Some(Status {
            key: key.into(),
            caption: caption.into(),
        }),
        ..card.clone()
    }
}

async fn enqueue(t: &TestDb, notice: &Notice, recipients: &[Recipient]) -> Vec<Enqueued> {
    message::send(&t.db, notice, recipients, None, now_ms())
        .await
        .unwrap()
}

async fn a_send_that_hits_45009_is_delivered_once_after_the_window(t: &TestDb) {
    let (fake, delivery) = wecom(t).await;
    let d = dispatcher(t, "d0", delivery);
    enqueue(
        t,
        &notice("wecom", approval_card()),
        &[Recipient::User("dave".into())],
    )
    .await;
    fake.fail_next("message/send", 1, Fault::FREQUENCY_LIMIT);

    let now = now_ms();
    let outcomes = d.run_once(now).await.unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Retry(reason)] if reason.contains("45009")),
        "{outcomes:?}"
    );
    // Parked for WeCom's whole window, not the ordinary first backoff of one second.
    assert!(d.run_once(now + 30_000).await.unwrap().is_empty());
    assert_eq!(d.run_once(now + 61_000).await.unwrap(), [Outcome::Sent]);
    assert!(d.run_once(now + 3_600_000).await.unwrap().is_empty());

    let sent = fake.sent_messages();
    assert_eq!(sent.len(), 1, "shown once");
    assert_eq!(sent[0].recipients, ["dave"]);
    let body = &sent[0].body;
    assert_eq!(body["msgtype"], "template_card");
    assert_eq!(body["enable_duplicate_check"], 1);
    assert_eq!(body["template_card"]["card_type"], "button_interaction");
    let key = send_key(
        &notice("wecom", approval_card()),
        &Recipient::User("dave".into()),
    );
    let card = store::by_send_key(&t.db, &key).await.unwrap().unwrap();
    assert_eq!(body["template_card"]["task_id"], card.track_id.as_str());
    assert_eq!(
        card.response_code, sent[0].response_code,
        "kept for the update"
    );
    assert_eq!(
        card.channel.as_deref(),
        Some(store::channel::WECOM_TEMPLATE_CARD)
    );
}
on_both_backends!(
    a_send_that_hits_45009_is_delivered_once_after_the_window,
    super::a_send_that_hits_45009_is_delivered_once_after_the_window
);

async fn the_same_event_replayed_makes_no_second_message(t: &TestDb) {
    let (fake, delivery) = wecom(t).await;
    let n = notice("wecom", approval_card());
    let to = Recipient::users(["dave", "erin"]);
    assert!(matches!(
        &enqueue(t, &n, &to).await[..],
        [Enqueued::New(_), Enqueued::New(_)]
    ));
    // The same event handled again (a replay, or a retry after a crash) enqueues nothing.
    assert_eq!(
        enqueue(t, &n, &to).await,
        [Enqueued::Duplicate, Enqueued::Duplicate]
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(t.count("SELECT COUNT(*) FROM card").await, 2);

    let d = dispatcher(t, "d0", delivery.clone());
    assert_eq!(
        d.run_once(now_ms()).await.unwrap(),
        [Outcome::Sent, Outcome::Sent]
    );
    assert_eq!(fake.take_messages().len(), 2, "one card each");

    // A send retried after its answer was lost (the row was delivered but not marked sent):
    // WeCom's duplicate check keeps it from showing twice.
    let claimed = salesbot::pipeline::outbox::QUEUE
        .list::<salesbot::pipeline::OutboxMessage>(&t.db, "sent", 10)
        .await
        .unwrap();
    use salesbot::pipeline::Delivery;
    delivery.deliver(&claimed[0]).await.unwrap();
    assert!(fake.take_messages().is_empty(), "not delivered again");
    // A later version of the same subject is a new message.
    let v2 = Notice { version: 2, ..n };
    enqueue(t, &v2, &[Recipient::User("dave".into())]).await;
    d.run_once(now_ms()).await.unwrap();
    assert_eq!(fake.take_messages().len(), 1);
}
on_both_backends!(
    the_same_event_replayed_makes_no_second_message,
    super::the_same_event_replayed_makes_no_second_message
);

async fn sent_card(t: &TestDb, fake: &FakeWecom, d: &salesbot::pipeline::Dispatcher) -> String {
    let n = notice("wecom", approval_card());
    let to = Recipient::User("dave".into());
    enqueue(t, &n, std::slice::from_ref(&to)).await;
    assert_eq!(d.run_once(now_ms()).await.unwrap(), [Outcome::Sent]);
    assert_eq!(fake.take_messages().len(), 1);
    send_key(&n, &to)
}

async fn a_card_is_updated_with_its_response_code_once(t: &TestDb) {
    let (fake, delivery) = wecom(t).await;
    let d = dispatcher(t, "d0", delivery);
    let key = sent_card(t, &fake, &d).await;

    let approved = decided(&approval_card(), "approved", "Approved by Li Lei 14:02");
    message::update(&t.db, &key, &approved, None, now_ms())
        .await
        .unwrap();
    assert_eq!(d.run_once(now_ms()).await.unwrap(), [Outcome::Sent]);
    let updates = fake.card_updates();
    assert_eq!(updates.len(), 1);
    let body = &updates[0].body;
    assert_eq!(body["atall"], 1);
    // The greyed button caption is short; the whole caption is in the card's text.
    assert_eq!(body["template_card"]["replace_text"], "Approved by Li Lei…");
    assert!(
        body["template_card"]["sub_title_text"]
            .as_str()
            .unwrap()
            .contains("Approved by Li Lei 14:02")
    );
    let card = store::by_send_key(&t.db, &key).await.unwrap().unwrap();
    assert_eq!(card.status.as_deref(), Some("approved"));
    assert_eq!(card.response_code, None, "spent");

    // The code is single use: a second change has nothing to update with.
    let reopened = decided(&approval_card(), "withdrawn", "Withdrawn by alice");
    message::update(&t.db, &key, &reopened, None, now_ms())
        .await
        .unwrap();
    let outcomes = d.run_once(now_ms()).await.unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Dead(reason)] if reason.contains("spent")),
        "{outcomes:?}"
    );
    // A tap brings a fresh code; with it the next change goes through.
    let fresh = fake.click_response_code(&updates[0].msgid).unwrap();
    assert!(
        store::offer_response_code(&t.db, "wecom", "acme", &card.track_id, &fresh, now_ms())
            .await
            .unwrap()
    );
    let closed = decided(&approval_card(), "closed", "Closed");
    message::update(&t.db, &key, &closed, None, now_ms())
        .await
        .unwrap();
    assert_eq!(d.run_once(now_ms()).await.unwrap(), [Outcome::Sent]);
    assert_eq!(fake.card_updates().len(), 2);
}
on_both_backends!(
    a_card_is_updated_with_its_response_code_once,
    super::a_card_is_updated_with_its_response_code_once
);

async fn an_update_after_the_response_code_expired_is_reported_not_retried(t: &TestDb) {
    let (fake, delivery) = wecom(t).await;
    let d = dispatcher(t, "d0", delivery);
    let key = sent_card(t, &fake, &d).await;
    // 73 hours later.
    t.db.execute_unprepared(&format!(
        "UPDATE card SET response_code_at = response_code_at - {}",
        73 * HOUR_MS
    ))
    .await
    .unwrap();

    let approved = decided(&approval_card(), "approved", "Approved");
    message::update(&t.db, &key, &approved, None, now_ms())
        .await
        .unwrap();
    let outcomes = d.run_once(now_ms()).await.unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Dead(reason)] if reason.contains("expired")),
        "{outcomes:?}"
    );
    assert!(fake.card_updates().is_empty(), "WeCom was not called");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND kind = 'card.update'")
            .await,
        1
    );
    // Dead means done: nothing comes back by itself.
    assert!(
        d.run_once(now_ms() + 24 * HOUR_MS)
            .await
            .unwrap()
            .is_empty()
    );
}
on_both_backends!(
    an_update_after_the_response_code_expired_is_reported_not_retried,
    super::an_update_after_the_response_code_expired_is_reported_not_retried
);

async fn a_card_without_buttons_or_link_goes_out_as_markdown(t: &TestDb) {
    let (fake, delivery) = wecom(t).await;
    let d = dispatcher(t, "d0", delivery);
    let card = Card {
        title: "KPI alert".into(),
        rows: vec![Row {
            key: "Won this week".into(),
            value: "3 (target 5)".into(),
        }],
        ..Card::default()
    };
    let n = Notice {
        kind: MessageKind::KpiAlert,
        ..notice("wecom", card)
    };
    enqueue(
        t,
        &n,
        &[
            Recipient::Department("2".into()),
            Recipient::Tag("7".into()),
        ],
    )
    .await;
    assert_eq!(
        d.run_once(now_ms()).await.unwrap(),
        [Outcome::Sent, Outcome::Sent]
    );
    let sent = fake.take_messages();
    assert!(sent.iter().any(|m| m.body["toparty"] == "2"));
    assert!(sent.iter().any(|m| m.body["totag"] == "7"));
    for message in &sent {
        assert_eq!(message.body["msgtype"], "markdown");
        let text = message.body["markdown"]["content"].as_str().unwrap();
        assert!(
            text.contains("KPI alert") && text.contains("3 (target 5)"),
            "{text}"
        );
    }
}
on_both_backends!(
    a_card_without_buttons_or_link_goes_out_as_markdown,
    super::a_card_without_buttons_or_link_goes_out_as_markdown
);

#[tokio::test]
async fn an_unknown_member_is_a_dead_letter_with_the_reason() {
    let t = TestDb::sqlite().await;
    let (fake, delivery) = wecom(&t).await;
    let d = dispatcher(&t, "d0", delivery);
    enqueue(
        &t,
        &notice("wecom", approval_card()),
        &[Recipient::User("nobody".into())],
    )
    .await;
    let outcomes = d.run_once(now_ms()).await.unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Dead(reason)] if reason.contains("81013")),
        "{outcomes:?}"
    );
    assert!(fake.sent_messages().is_empty());
    t.finish().await;
}

fn dingtalk_config(fake: &FakeDingtalk, template: Option<&str>) -> DingtalkConfig {
    DingtalkConfig {
        mode: DingtalkMode::Stream,
        card_template_id: template.map(Into::into),
        ..crate::helpers::dingtalk_app(fake.base_url())
    }
}

async fn dingtalk(t: &TestDb, template: Option<&str>) -> (FakeDingtalk, Arc<DingtalkDelivery>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeDingtalk::start().await;
    fake.add_user(json!({ "userid": "mgr001", "name": "Li Lei" }));
    let apps = DingtalkApps::from_config(&[dingtalk_config(&fake, template)], &t.db).unwrap();
    let delivery = Arc::new(DingtalkDelivery::new(t.db.clone(), Arc::new(apps)));
    (fake, delivery)
}

const TEMPLATE: &str = "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema";

async fn a_dingtalk_card_is_delivered_and_updated_by_out_track_id(t: &TestDb) {
    let (fake, delivery) = dingtalk(t, Some(TEMPLATE)).await;
    let d = dispatcher(t, "d0", delivery);
    let n = notice("dingtalk", approval_card());
    let to = Recipient::User("mgr001".into());
    enqueue(t, &n, std::slice::from_ref(&to)).await;
    assert_eq!(d.run_once(now_ms()).await.unwrap(), [Outcome::Sent]);
    let key = send_key(&n, &to);
    let stored = store::by_send_key(&t.db, &key).await.unwrap().unwrap();
    assert_eq!(
        stored.channel.as_deref(),
        Some(store::channel::DINGTALK_CARD)
    );
    let card = fake.card(&stored.track_id).expect("card created");
    assert_eq!(card.card_template_id, TEMPLATE);
    assert_eq!(card.spaces, [("IM_ROBOT".to_owned(), "mgr001".to_owned())]);
    let params = &card.card_param_map;
    assert_eq!(params["title"], "Discount approval: ACME Ltd");
    assert_eq!(params["showButtons"], "true");

    let approved = decided(&approval_card(), "approved", "Approved by Li Lei 14:02");
    message::update(&t.db, &key, &approved, None, now_ms())
        .await
        .unwrap();
    assert_eq!(d.run_once(now_ms()).await.unwrap(), [Outcome::Sent]);
    let card = fake.card(&stored.track_id).unwrap();
    assert_eq!(card.updates, 1);
    let params = &card.card_param_map;
    assert_eq!(
        params["title"], "Discount approval: ACME Ltd",
        "merged, not replaced"
    );
    assert_eq!(params["status"], "approved");
    assert_eq!(params["statusText"], "Approved by Li Lei 14:02");
    assert_eq!(params["showButtons"], "false");
}
on_both_backends!(
    a_dingtalk_card_is_delivered_and_updated_by_out_track_id,
    super::a_dingtalk_card_is_delivered_and_updated_by_out_track_id
);

#[tokio::test]
async fn without_a_card_template_dingtalk_gets_a_work_notification() {
    let t = TestDb::sqlite().await;
    let (fake, delivery) = dingtalk(&t, None).await;
    let d = dispatcher(&t, "d0", delivery);
    let n = notice("dingtalk", approval_card());
    enqueue(
        &t,
        &n,
        &[
            Recipient::User("mgr001".into()),
            Recipient::Department("12".into()),
        ],
    )
    .await;
    assert_eq!(
        d.run_once(now_ms()).await.unwrap(),
        [Outcome::Sent, Outcome::Sent]
    );
    // A dispatcher sends a batch's messages concurrently: find each by its address.
    let notes = fake.work_notifications();
    assert_eq!(notes.len(), 2);
    let to_user = notes
        .iter()
        .find(|n| n.body["userid_list"] == "mgr001")
        .unwrap();
    assert!(notes.iter().any(|n| n.body["dept_id_list"] == "12"));
    assert_eq!(to_user.body["msg"]["msgtype"], "action_card");
    // A work notification cannot change afterwards: the update says so instead of looping.
    let key = send_key(&n, &Recipient::User("mgr001".into()));
    let approved = decided(&approval_card(), "approved", "Approved");
    message::update(&t.db, &key, &approved, None, now_ms())
        .await
        .unwrap();
    let outcomes = d.run_once(now_ms()).await.unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Dead(reason)] if reason.contains("work notification")),
        "{outcomes:?}"
    );
    // And a tag is not an address DingTalk knows.
    enqueue(
        &t,
        &Notice { version: 3, ..n },
        &[Recipient::Tag("7".into())],
    )
    .await;
    let outcomes = d.run_once(now_ms()).await.unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Dead(reason)] if reason.contains("tag")),
        "{outcomes:?}"
    );
    t.finish().await;
}

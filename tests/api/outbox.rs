//! The outbox and its dispatcher: idempotent enqueue, retry with backoff, dead letters, and
//! exactly-once delivery across dispatchers and crashes.

use std::time::Duration;

use salesbot::pipeline::{
    DeliveryError, Enqueued,
    clock::now_ms,
    dispatcher::Outcome,
    outbox::{self, OutboxMessage},
};

use crate::helpers::{FakePlatform, TestDb, dispatcher, message, on_both_backends};

async fn enqueue_is_idempotent(t: &TestDb) {
    let now = now_ms();
    assert!(matches!(
        outbox::enqueue(&t.db, &message("k1"), None, now)
            .await
            .unwrap(),
        Enqueued::New(_)
    ));
    assert_eq!(
        outbox::enqueue(&t.db, &message("k1"), None, now)
            .await
            .unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
}
on_both_backends!(enqueue_is_idempotent, super::enqueue_is_idempotent);

async fn an_urgent_message_is_claimed_before_a_backlog(t: &TestDb) {
    let now = now_ms();
    for n in 0..20 {
        let old = outbox::NewMessage {
            not_before: Some(now - 60_000),
            ..message(&format!("backlog-{n}"))
        };
        outbox::enqueue(&t.db, &old, None, now - 60_000)
            .await
            .unwrap();
    }
    let urgent = outbox::NewMessage {
        priority: outbox::PRIORITY_URGENT,
        ..message("welcome")
    };
    outbox::enqueue(&t.db, &urgent, None, now).await.unwrap();
    let claimed = outbox::claim(&t.db, "d", now, 60_000, 4).await.unwrap();
    let keys: Vec<&str> = claimed.iter().map(|m| m.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["welcome", "backlog-0", "backlog-1", "backlog-2"]);
}
on_both_backends!(
    an_urgent_message_is_claimed_before_a_backlog,
    super::an_urgent_message_is_claimed_before_a_backlog
);

async fn flaky_delivery_is_retried_with_growing_backoff_until_sent(t: &TestDb) {
    let platform = FakePlatform::failing(2, DeliveryError::transient("system busy (-1)"));
    let Enqueued::New(id) = outbox::enqueue(&t.db, &message("k1"), None, now_ms())
        .await
        .unwrap()
    else {
        panic!()
    };
    let d = dispatcher(t, "d1", platform.clone());

    let mut now = now_ms();
    let mut delays = Vec::new();
    for expected in [
        Outcome::Retry("system busy (-1)".into()),
        Outcome::Retry("system busy (-1)".into()),
    ] {
        assert_eq!(d.run_once(now).await.unwrap(), vec![expected]);
        let row: OutboxMessage = outbox::QUEUE.get(&t.db, id).await.unwrap().unwrap();
        assert!(
            d.run_once(now).await.unwrap().is_empty(),
            "not due before its backoff"
        );
        delays.push(row.available_at - now);
        now = row.available_at;
    }
    // 1 s base doubling, with jitter between half and all of it (plus the test's own time).
    assert!((500..=1_100).contains(&delays[0]), "{delays:?}");
    assert!((1_000..=2_100).contains(&delays[1]), "{delays:?}");
    assert_eq!(d.run_once(now).await.unwrap(), vec![Outcome::Sent]);
    let row: OutboxMessage = outbox::QUEUE.get(&t.db, id).await.unwrap().unwrap();
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 3));
    assert_eq!(
        row.receipt.as_deref(),
        Some(format!(r#"{{"msgid":"m-{id}"}}"#).as_str())
    );
    assert_eq!(platform.delivered().get("k1"), Some(&1));
}
on_both_backends!(
    flaky_delivery_is_retried_with_growing_backoff_until_sent,
    super::flaky_delivery_is_retried_with_growing_backoff_until_sent
);

async fn delivery_failing_every_time_is_dead_lettered_after_the_last_try(t: &TestDb) {
    let platform = FakePlatform::failing(u32::MAX, DeliveryError::transient("HTTP 502"));
    let Enqueued::New(id) = outbox::enqueue(&t.db, &message("k1"), None, now_ms())
        .await
        .unwrap()
    else {
        panic!()
    };
    let d = dispatcher(t, "d1", platform.clone());
    let mut now = now_ms();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.extend(d.run_once(now).await.unwrap());
        now += 120_000;
    }
    let retry = Outcome::Retry("HTTP 502".into());
    assert_eq!(
        outcomes,
        vec![retry.clone(), retry, Outcome::Dead("HTTP 502".into())]
    );
    assert!(
        d.run_once(now + 10_000_000).await.unwrap().is_empty(),
        "dead messages are not claimed"
    );
    let dead: Vec<OutboxMessage> = outbox::QUEUE.list(&t.db, "dead", 10).await.unwrap();
    assert_eq!(
        (dead.len(), dead[0].id, dead[0].last_error.as_deref()),
        (1, id, Some("HTTP 502"))
    );
    assert!(platform.delivered().is_empty());
    // An operator puts it back once the platform is fixed.
    assert!(outbox::retry(&t.db, id, now).await.unwrap());
    assert_eq!(
        outbox::QUEUE.state_of(&t.db, id).await.unwrap().as_deref(),
        Some("pending")
    );
}
on_both_backends!(
    delivery_failing_every_time_is_dead_lettered_after_the_last_try,
    super::delivery_failing_every_time_is_dead_lettered_after_the_last_try
);

async fn permanent_failure_is_dead_lettered_at_once_and_retry_after_is_honoured(t: &TestDb) {
    let now = now_ms();
    outbox::enqueue(&t.db, &message("bad-user"), None, now)
        .await
        .unwrap();
    let d = dispatcher(
        t,
        "d1",
        FakePlatform::failing(9, DeliveryError::permanent("invalid userid (40031)")),
    );
    assert_eq!(
        d.run_once(now).await.unwrap(),
        vec![Outcome::Dead("invalid userid (40031)".into())]
    );

    let Enqueued::New(id) = outbox::enqueue(&t.db, &message("limited"), None, now)
        .await
        .unwrap()
    else {
        panic!()
    };
    let limited = DeliveryError::Transient {
        reason: "rate limited (45009)".into(),
        retry_after: Some(Duration::from_secs(60)),
    };
    let d = dispatcher(t, "d1", FakePlatform::failing(1, limited));
    assert_eq!(d.run_once(now).await.unwrap().len(), 1);
    let row: OutboxMessage = outbox::QUEUE.get(&t.db, id).await.unwrap().unwrap();
    assert!(row.available_at >= now + 60_000 && row.available_at <= now_ms() + 60_000);
}
on_both_backends!(
    permanent_failure_is_dead_lettered_at_once_and_retry_after_is_honoured,
    super::permanent_failure_is_dead_lettered_at_once_and_retry_after_is_honoured
);

async fn two_dispatchers_deliver_each_of_1000_messages_exactly_once(t: &TestDb) {
    let now = now_ms();
    for i in 0..1000 {
        outbox::enqueue(&t.db, &message(&format!("key-{i}")), None, now)
            .await
            .unwrap();
    }
    let platform = FakePlatform::reliable();
    let run = |owner: &'static str| {
        let d = dispatcher(t, owner, platform.clone());
        async move {
            let mut sent = 0;
            loop {
                let outcomes = d.run_once(now_ms()).await.unwrap();
                if outcomes.is_empty() {
                    return sent;
                }
                assert!(outcomes.iter().all(|o| *o == Outcome::Sent), "{outcomes:?}");
                sent += outcomes.len();
            }
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(run("alpha")), tokio::spawn(run("beta")));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, 1000);
    let delivered = platform.delivered();
    assert_eq!(delivered.len(), 1000);
    assert!(
        delivered.values().all(|n| *n == 1),
        "a key was delivered twice"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
            .await,
        1000
    );
    println!("alpha sent {a}, beta sent {b}");
}
on_both_backends!(
    two_dispatchers_deliver_each_of_1000_messages_exactly_once,
    super::two_dispatchers_deliver_each_of_1000_messages_exactly_once
);

async fn rows_leased_by_a_crashed_dispatcher_are_delivered_after_the_lease(t: &TestDb) {
    let now = now_ms();
    for i in 0..50 {
        outbox::enqueue(&t.db, &message(&format!("key-{i}")), None, now)
            .await
            .unwrap();
    }
    // A dispatcher claims everything with a 60 s lease and dies.
    let leased = outbox::claim(&t.db, "crashed", now, 60_000, 100)
        .await
        .unwrap();
    assert_eq!(leased.len(), 50);
    let platform = FakePlatform::reliable();
    let survivor = dispatcher(t, "survivor", platform.clone());
    assert!(
        survivor.run_once(now + 59_000).await.unwrap().is_empty(),
        "still leased"
    );
    let mut sent = 0;
    loop {
        let n = survivor.run_once(now + 60_000).await.unwrap().len();
        if n == 0 {
            break;
        }
        sent += n;
    }
    assert_eq!(sent, 50);
    assert_eq!(platform.delivered().len(), 50);
    // Attempts count the crashed claim too.
    assert_eq!(
        t.count("SELECT CAST(MIN(attempts) AS BIGINT) FROM outbox")
            .await,
        2
    );
}
on_both_backends!(
    rows_leased_by_a_crashed_dispatcher_are_delivered_after_the_lease,
    super::rows_leased_by_a_crashed_dispatcher_are_delivered_after_the_lease
);

#[tokio::test]
async fn unconfigured_platform_is_a_permanent_failure() {
    use salesbot::{pipeline::Delivery, platform::Platforms};
    let mut platforms = Platforms::default();
    platforms.register("fake", FakePlatform::reliable());
    let row = OutboxMessage {
        id: 1,
        idempotency_key: "k".into(),
        platform: "dingtalk".into(),
        tenant: "acme".into(),
        kind: "x".into(),
        payload: "{}".into(),
        priority: 0,
        state: "pending".into(),
        attempts: 1,
        last_error: None,
        receipt: None,
        available_at: 0,
        inbox_id: None,
        created_at: 0,
        finished_at: None,
    };
    let err = platforms.deliver(&row).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent { .. }), "{err:?}");
    let ok = platforms
        .deliver(&OutboxMessage {
            platform: "fake".into(),
            ..row
        })
        .await;
    assert!(ok.is_ok());
}

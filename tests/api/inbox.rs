//! The inbox: dedupe, atomic handling, retries, parking and replay, lease take-over.

use std::sync::atomic::Ordering;

use salesbot::pipeline::{
    HandlerError, Handlers, Stored,
    clock::now_ms,
    inbox::{self, InboxEvent, PRIORITY_HIGH},
    worker::Outcome,
};

use crate::helpers::{RecordingHandler, TestDb, event, on_both_backends, worker};

async fn duplicate_event_is_stored_once(t: &TestDb) {
    let now = now_ms();
    let first = inbox::insert(&t.db, &event("msg-1"), now).await.unwrap();
    assert!(matches!(first, Stored::New(_)));
    assert_eq!(
        inbox::insert(&t.db, &event("msg-1"), now + 5)
            .await
            .unwrap(),
        Stored::Duplicate
    );
    // The same key from another tenant is another event.
    let mut other = event("msg-1");
    other.tenant = "globex".into();
    assert!(matches!(
        inbox::insert(&t.db, &other, now).await.unwrap(),
        Stored::New(_)
    ));
    assert_eq!(t.count("SELECT COUNT(*) FROM inbox").await, 2);
}
on_both_backends!(
    duplicate_event_is_stored_once,
    super::duplicate_event_is_stored_once
);

async fn handled_event_commits_its_effects_and_messages_together(t: &TestDb) {
    let handler = RecordingHandler::ok();
    let Stored::New(id) = inbox::insert(&t.db, &event("e1"), now_ms()).await.unwrap() else {
        panic!()
    };
    let outcomes = worker(t, "w1", handler.handlers())
        .run_once(now_ms())
        .await
        .unwrap();
    assert_eq!(outcomes, vec![Outcome::Done]);
    let stored: InboxEvent = inbox::QUEUE.get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(stored.state, "done");
    assert!(stored.finished_at.is_some());
    assert_eq!(t.count("SELECT COUNT(*) FROM audit_log").await, 1);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE inbox_id = {id}"
        ))
        .await,
        1
    );
    // Nothing left to claim.
    assert!(
        worker(t, "w1", handler.handlers())
            .run_once(now_ms())
            .await
            .unwrap()
            .is_empty()
    );
}
on_both_backends!(
    handled_event_commits_its_effects_and_messages_together,
    super::handled_event_commits_its_effects_and_messages_together
);

async fn handler_failing_after_writing_leaves_no_partial_effect_and_no_outbox_row(t: &TestDb) {
    let handler = RecordingHandler::failing(HandlerError::Transient("platform busy".into()));
    let Stored::New(id) = inbox::insert(&t.db, &event("e1"), now_ms()).await.unwrap() else {
        panic!()
    };
    let now = now_ms();
    let outcomes = worker(t, "w1", handler.handlers())
        .run_once(now)
        .await
        .unwrap();
    assert_eq!(outcomes, vec![Outcome::Retry("platform busy".into())]);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM audit_log").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 0);
    let stored: InboxEvent = inbox::QUEUE.get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(stored.state, "pending");
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.last_error.as_deref(), Some("platform busy"));
    // Backed off: between half and all of the 1 s base delay from now.
    assert!(
        stored.available_at >= now + 500 && stored.available_at <= now_ms() + 1000,
        "{stored:?}"
    );
    // Not due yet.
    assert!(
        worker(t, "w1", handler.handlers())
            .run_once(now_ms())
            .await
            .unwrap()
            .is_empty()
    );
}
on_both_backends!(
    handler_failing_after_writing_leaves_no_partial_effect_and_no_outbox_row,
    super::handler_failing_after_writing_leaves_no_partial_effect_and_no_outbox_row
);

async fn poison_event_is_parked_after_the_last_attempt_and_can_be_replayed(t: &TestDb) {
    let handler = RecordingHandler::failing(HandlerError::Transient("boom".into()));
    let Stored::New(id) = inbox::insert(&t.db, &event("poison"), now_ms())
        .await
        .unwrap()
    else {
        panic!()
    };
    let w = worker(t, "w1", handler.handlers());
    // Three attempts allowed; each retry is due within a minute.
    let mut now = now_ms();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.extend(w.run_once(now).await.unwrap());
        now += 120_000;
    }
    assert_eq!(
        outcomes,
        vec![
            Outcome::Retry("boom".into()),
            Outcome::Retry("boom".into()),
            Outcome::Parked("boom".into())
        ]
    );
    assert!(
        w.run_once(now + 10_000_000).await.unwrap().is_empty(),
        "parked events are not claimed"
    );
    let parked: Vec<InboxEvent> = inbox::QUEUE.list(&t.db, "parked", 10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].id, parked[0].attempts), (id, 3));

    handler.succeed_from_now();
    assert!(inbox::replay(&t.db, id, now).await.unwrap());
    assert!(
        !inbox::replay(&t.db, id, now).await.unwrap(),
        "only parked events replay"
    );
    assert_eq!(w.run_once(now).await.unwrap(), vec![Outcome::Done]);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
}
on_both_backends!(
    poison_event_is_parked_after_the_last_attempt_and_can_be_replayed,
    super::poison_event_is_parked_after_the_last_attempt_and_can_be_replayed
);

async fn permanent_failures_and_unknown_kinds_are_parked_at_once(t: &TestDb) {
    let handler = RecordingHandler::failing(HandlerError::Permanent("malformed payload".into()));
    inbox::insert(&t.db, &event("bad"), now_ms()).await.unwrap();
    let mut unknown = event("unknown");
    unknown.kind = "nobody.handles.this".into();
    inbox::insert(&t.db, &unknown, now_ms()).await.unwrap();
    let mut outcomes = worker(t, "w1", handler.handlers())
        .run_once(now_ms())
        .await
        .unwrap();
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        outcomes,
        vec![
            Outcome::Parked("malformed payload".into()),
            Outcome::Parked("no handler for event kind `nobody.handles.this`".into()),
        ]
    );
}
on_both_backends!(
    permanent_failures_and_unknown_kinds_are_parked_at_once,
    super::permanent_failures_and_unknown_kinds_are_parked_at_once
);

async fn expired_lease_is_taken_over_and_the_stale_worker_changes_nothing(t: &TestDb) {
    let handler = RecordingHandler::ok();
    inbox::insert(&t.db, &event("e1"), now_ms()).await.unwrap();
    let now = now_ms();
    // "crashed" claims the event and never finishes it.
    let stale = inbox::claim(&t.db, "crashed", now, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
    let rescuer = worker(t, "rescuer", handler.handlers());
    assert!(
        rescuer.run_once(now + 1_000).await.unwrap().is_empty(),
        "leased rows are not claimed"
    );
    assert_eq!(
        rescuer.run_once(now + 60_001).await.unwrap(),
        vec![Outcome::Done]
    );
    // The crashed worker comes back to life: its late attempt has no effect.
    let zombie = worker(t, "crashed", handler.handlers());
    assert_eq!(
        zombie.process(&stale[0], now + 60_002).await,
        Outcome::LeaseLost
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM audit_log").await, 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
}
on_both_backends!(
    expired_lease_is_taken_over_and_the_stale_worker_changes_nothing,
    super::expired_lease_is_taken_over_and_the_stale_worker_changes_nothing
);

async fn high_priority_events_are_claimed_before_older_normal_ones(t: &TestDb) {
    let now = now_ms();
    for key in ["a", "b", "c"] {
        inbox::insert(&t.db, &event(key), now).await.unwrap();
    }
    let mut urgent = event("welcome");
    urgent.priority = PRIORITY_HIGH;
    inbox::insert(&t.db, &urgent, now).await.unwrap();
    let claimed = inbox::claim(&t.db, "w", now, 1000, 2).await.unwrap();
    let keys: Vec<_> = claimed.iter().map(|e| e.dedupe_key.as_str()).collect();
    assert_eq!(keys, ["welcome", "a"]);
}
on_both_backends!(
    high_priority_events_are_claimed_before_older_normal_ones,
    super::high_priority_events_are_claimed_before_older_normal_ones
);

#[tokio::test]
async fn handlers_are_found_by_kind() {
    let mut handlers = Handlers::default();
    handlers.register("test.event", RecordingHandler::ok());
    assert!(handlers.get("test.event").is_some());
    assert!(handlers.get("other").is_none());
}

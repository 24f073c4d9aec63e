//! The scheduler: one run per tick across instances; the housekeeping job.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use salesbot::pipeline::{Job, Scheduler, clock::now_ms, housekeeping::Purge, inbox, outbox};
use sea_orm::DatabaseConnection;

use crate::helpers::{TestDb, event, message, on_both_backends};

struct Counter(AtomicU32);

#[async_trait]
impl Job for Counter {
    async fn run(&self, _: &DatabaseConnection, _: i64) -> Result<(), String> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn two_instances_run_each_tick_once(t: &TestDb) {
    let (runs_a, runs_b) = (
        Arc::new(Counter(AtomicU32::new(0))),
        Arc::new(Counter(AtomicU32::new(0))),
    );
    let mut a = Scheduler::new(t.db.clone(), "instance-a");
    a.register("test.scan", Duration::from_secs(60), runs_a.clone());
    let mut b = Scheduler::new(t.db.clone(), "instance-b");
    b.register("test.scan", Duration::from_secs(60), runs_b.clone());

    let start = (now_ms() / 60_000) * 60_000;
    for tick in 0..10 {
        let now = start + tick * 60_000 + 1_500;
        // Both instances reach the tick at (nearly) the same time, twice.
        let (ra, rb) = tokio::join!(a.run_due(now), b.run_due(now + 7));
        let ran = ra.unwrap().len() + rb.unwrap().len();
        assert_eq!(ran, 1, "tick {tick}");
        let (ra, rb) = tokio::join!(a.run_due(now + 30_000), b.run_due(now + 30_000));
        assert_eq!(
            ra.unwrap().len() + rb.unwrap().len(),
            0,
            "tick {tick} ran twice"
        );
    }
    let total = runs_a.0.load(Ordering::SeqCst) + runs_b.0.load(Ordering::SeqCst);
    assert_eq!(total, 10);
}
on_both_backends!(
    two_instances_run_each_tick_once,
    super::two_instances_run_each_tick_once
);

async fn purge_deletes_only_finished_rows_past_retention(t: &TestDb) {
    let day = 24 * 3600 * 1000;
    let now = now_ms();
    // Two events finished 20 days ago and today, one parked long ago, one pending.
    for (key, finished) in [("old", now - 20 * day), ("new", now)] {
        let inbox::Stored::New(id) = inbox::insert(&t.db, &event(key), finished).await.unwrap()
        else {
            panic!()
        };
        inbox::claim(&t.db, "w", finished, 1000, 1).await.unwrap();
        assert!(inbox::finish(&t.db, id, "w", finished).await.unwrap());
    }
    let inbox::Stored::New(parked) = inbox::insert(&t.db, &event("parked"), now - 30 * day)
        .await
        .unwrap()
    else {
        panic!()
    };
    inbox::claim(&t.db, "w", now - 30 * day, 1000, 1)
        .await
        .unwrap();
    inbox::QUEUE
        .fail(&t.db, parked, "w", "boom", None, now - 30 * day)
        .await
        .unwrap();
    inbox::insert(&t.db, &event("pending"), now - 30 * day)
        .await
        .unwrap();
    for (key, finished) in [("old", now - 20 * day), ("new", now)] {
        let outbox::Enqueued::New(id) = outbox::enqueue(&t.db, &message(key), None, finished)
            .await
            .unwrap()
        else {
            panic!()
        };
        outbox::claim(&t.db, "d", finished, 1000, 1).await.unwrap();
        outbox::mark_sent(&t.db, id, "d", &serde_json::json!({}), finished)
            .await
            .unwrap();
    }

    let deleted = Purge::days(14).purge(&t.db, now).await.unwrap();
    assert_eq!(deleted, (1, 1));
    assert_eq!(t.count("SELECT COUNT(*) FROM inbox").await, 3);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM inbox WHERE dedupe_key = 'old'")
            .await,
        0
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
}
on_both_backends!(
    purge_deletes_only_finished_rows_past_retention,
    super::purge_deletes_only_finished_rows_past_retention
);

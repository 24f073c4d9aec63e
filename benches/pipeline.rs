//! Throughput of the inbox path every callback takes: insert (deduplicated), claim under a
//! lease, and complete in a transaction with a handler that does nothing, on SQLite and (when
//! `SALESBOT_TEST_PG_URL` is set) PostgreSQL. Run with `cargo bench --bench pipeline`.

#[path = "support/postgres.rs"]
mod postgres;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use postgres::BenchDatabase;
use salesbot::{
    config::{DatabaseConfig, DatabaseUrl},
    metrics::Metrics,
    pipeline::{
        self, Effects, EventHandler, HandlerError, Handlers, InboxEvent, NewEvent, Worker,
        clock::now_ms, inbox,
    },
};
use sea_orm::DatabaseConnection;
use tokio::{runtime::Runtime, sync::Notify};

/// Does nothing: the benchmark measures the pipeline, not a domain handler.
struct Noop;

#[async_trait]
impl EventHandler for Noop {
    async fn handle(&self, _: &Effects<'_>, _: &InboxEvent) -> Result<(), HandlerError> {
        Ok(())
    }
}

async fn connect(url: &str) -> DatabaseConnection {
    let config = DatabaseConfig {
        url: DatabaseUrl(url.into()),
        ..Default::default()
    };
    let db = salesbot::db::connect(&config, false).await.unwrap();
    salesbot::db::migrate(&db).await.unwrap();
    db
}

fn worker(db: &DatabaseConnection, batch_size: u32) -> Worker {
    let mut handlers = Handlers::default();
    handlers.register("bench.event", Arc::new(Noop));
    Worker {
        db: db.clone(),
        handlers: Arc::new(handlers),
        settings: pipeline::Settings {
            batch_size,
            poll_interval: Duration::from_millis(100),
            lease_ms: 60_000,
            inbox_max_attempts: 3,
            outbox_max_attempts: 3,
            backoff: pipeline::Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
        },
        owner: "bench".into(),
        metrics: Arc::new(Metrics::new()),
        wake: Arc::new(Notify::new()),
        wake_outbox: Arc::new(Notify::new()),
    }
}

/// Inserts `n` fresh events, claims them and completes them.
async fn round(db: &DatabaseConnection, worker: &Worker, n: u32, seq: &AtomicU64) {
    let now = now_ms();
    for _ in 0..n {
        let seq = seq.fetch_add(1, Ordering::Relaxed);
        let event = NewEvent {
            platform: "wecom".into(),
            tenant: "bench".into(),
            kind: "bench.event".into(),
            dedupe_key: format!("msg-{seq}"),
            priority: 0,
            payload: serde_json::json!({ "MsgId": seq, "Content": "hello" }),
        };
        inbox::insert(db, &event, now).await.unwrap();
    }
    let done = worker.run_once(now).await.unwrap();
    assert_eq!(done.len(), n as usize);
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, name: &str, db: DatabaseConnection) {
    let mut group = c.benchmark_group(format!("inbox_insert_claim_complete/{name}"));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    let seq = AtomicU64::new(0);
    for batch in [1u32, 16] {
        let worker = worker(&db, batch);
        group.throughput(Throughput::Elements(u64::from(batch)));
        group.bench_function(BenchmarkId::new("batch", batch), |b| {
            b.to_async(rt).iter(|| round(&db, &worker, batch, &seq))
        });
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    bench_backend(c, &rt, "sqlite", rt.block_on(connect(&sqlite)));

    if let Some(pg) = BenchDatabase::create(&rt, "sbbench") {
        let db = rt.block_on(connect(&pg.url));
        bench_backend(c, &rt, "postgres", db.clone());
        pg.drop_on(&rt, db);
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);

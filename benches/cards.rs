//! The two hot paths of sending cards. Run with `cargo bench --bench cards`.
//!
//! - `card_render`: an approval_request rendered from its template into a card and then into
//!   the JSON each platform is sent (target: 50,000/s on one core).
//! - `card_dispatch`: card sends through the outbox to the fake WeCom server on loopback, with
//!   3 dispatchers and no client-side rate limit: claim, render, `message/send`, record
//!   (target: 2,000 messages/s). SQLite always; PostgreSQL when `SALESBOT_TEST_PG_URL` is set.

#[path = "support/postgres.rs"]
mod postgres;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use postgres::BenchDatabase;
use salesbot::{
    cards::{MessageKind, Notice, Recipient, Templates, message, render},
    config::{DatabaseConfig, DatabaseUrl, Secret, WecomConfig},
    metrics::Metrics,
    pipeline::{self, Dispatcher, clock::now_ms, dispatcher::Outcome},
    platform::{wecom::WecomApps, wecom_delivery::WecomDelivery},
};
use salesbot_wecom::fake::FakeWecom;
use sea_orm::DatabaseConnection;
use tokio::{runtime::Runtime, sync::Notify};

/// Messages per measured round of the dispatch benchmark.
const ROUND: u64 = 600;
const DISPATCHERS: usize = 3;

fn card_render(c: &mut Criterion) {
    let templates = Templates::load(None).unwrap();
    let kind = MessageKind::ApprovalRequest;
    let sample = Templates::sample(kind);
    let mut group = c.benchmark_group("card_render");
    group.throughput(Throughput::Elements(1));
    group.bench_function("approval_request/template", |b| {
        b.iter(|| templates.render(kind, "zh-CN", sample).unwrap())
    });
    group.bench_function("approval_request/template+wecom_json", |b| {
        b.iter(|| {
            let card = templates.render(kind, "zh-CN", sample).unwrap();
            let content = render::wecom::message(&card, "approval_request-bench", false);
            serde_json::to_vec(&content).unwrap()
        })
    });
    group.bench_function("approval_request/template+dingtalk_json", |b| {
        b.iter(|| {
            let card = templates.render(kind, "zh-CN", sample).unwrap();
            serde_json::to_vec(&render::dingtalk::card_data(&card)).unwrap()
        })
    });
    group.finish();
}

async fn connect(url: &str) -> DatabaseConnection {
    let config = DatabaseConfig {
        url: DatabaseUrl(url.into()),
        max_connections: 16,
        ..Default::default()
    };
    let db = salesbot::db::connect(&config, false).await.unwrap();
    salesbot::db::migrate(&db).await.unwrap();
    db
}

fn wecom_app(fake: &FakeWecom) -> WecomConfig {
    WecomConfig {
        api_base: fake.base_url().into(),
        rate_limit_per_minute: 0,
        ..WecomConfig::new(
            "bench",
            FakeWecom::CORP_ID,
            FakeWecom::AGENT_ID.into(),
            Secret::new(FakeWecom::SECRET),
            Secret::new("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"),
            Secret::new("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"),
        )
    }
}

/// Enqueues `n` approval cards (not measured), then lets the dispatchers drain them.
async fn round(
    db: &DatabaseConnection,
    fake: &FakeWecom,
    dispatchers: &[Dispatcher],
    notice: &Notice,
    seq: &AtomicU64,
) -> Duration {
    let now = now_ms();
    for _ in 0..ROUND {
        let n = seq.fetch_add(1, Ordering::Relaxed);
        let recipient = Recipient::User(format!("rep{:03}", n % 200));
        let notice = Notice {
            subject: format!("approval:{n}:step:1"),
            ..notice.clone()
        };
        message::send(db, &notice, &[recipient], None, now)
            .await
            .unwrap();
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for dispatcher in dispatchers {
        let dispatcher = dispatcher.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let outcomes = dispatcher.run_once(now_ms()).await.unwrap();
                if outcomes.is_empty() {
                    return sent;
                }
                sent += outcomes.iter().filter(|o| **o == Outcome::Sent).count();
            }
        }));
    }
    let mut sent = 0;
    for task in tasks {
        sent += task.await.unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(sent as u64, ROUND, "every card sent once");
    assert_eq!(fake.take_messages().len() as u64, ROUND);
    elapsed
}

fn bench_dispatch(c: &mut Criterion, rt: &Runtime, name: &str, db: DatabaseConnection) {
    let fake = rt.block_on(FakeWecom::start());
    for n in 0..200 {
        fake.add_user(serde_json::json!({ "userid": format!("rep{n:03}") }));
    }
    let apps = WecomApps::from_config(&[wecom_app(&fake)], &db).unwrap();
    let delivery = Arc::new(WecomDelivery::new(
        db.clone(),
        Arc::new(apps),
        Arc::new(Metrics::new()),
    ));
    let dispatchers: Vec<Dispatcher> = (0..DISPATCHERS)
        .map(|i| Dispatcher {
            db: db.clone(),
            delivery: delivery.clone(),
            settings: pipeline::Settings {
                batch_size: 16,
                poll_interval: Duration::from_millis(100),
                lease_ms: 60_000,
                inbox_max_attempts: 3,
                outbox_max_attempts: 3,
                backoff: pipeline::Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
            },
            owner: format!("bench/d{i}"),
            metrics: Arc::new(Metrics::new()),
            wake: Arc::new(Notify::new()),
        })
        .collect();
    let templates = Templates::load(None).unwrap();
    let kind = MessageKind::ApprovalRequest;
    let card = templates
        .render(kind, "zh-CN", Templates::sample(kind))
        .unwrap();
    let notice = Notice {
        platform: "wecom".into(),
        tenant: "bench".into(),
        kind,
        subject: String::new(),
        version: 1,
        card,
    };
    let seq = AtomicU64::new(0);
    let mut group = c.benchmark_group(format!("card_dispatch/{name}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(ROUND));
    group.bench_function(format!("wecom_fake/{DISPATCHERS}_dispatchers"), |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (db, fake, dispatchers, notice, seq) = (&db, &fake, &dispatchers, &notice, &seq);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += round(db, fake, dispatchers, notice, seq).await;
                }
                total
            }
        })
    });
    group.finish();
}

fn card_dispatch(c: &mut Criterion) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("cards.db").display()
    );
    bench_dispatch(c, &rt, "sqlite", rt.block_on(connect(&sqlite)));

    if let Some(pg) = BenchDatabase::create(&rt, "sbbench_cards") {
        let db = rt.block_on(connect(&pg.url));
        bench_dispatch(c, &rt, "postgres", db.clone());
        pg.drop_on(&rt, db);
    }
}

criterion_group!(benches, card_render, card_dispatch);
criterion_main!(benches);

//! Cost of the overdue scan with many tasks in PostgreSQL: the due query alone, a full tick
//! that chases a batch of due tasks (directory look-ups, one transaction per task with its
//! compare-and-set, cards, outbox rows and audit entries), and the quiet tick that follows
//! when nothing is due; then `EXPLAIN (ANALYZE, BUFFERS)` of the due query.
//!
//! Creates (and first drops) its own database, `salesbot_task_scan`, on the server of
//! `SALESBOT_TEST_PG_URL`, so it never touches the tests' databases. Tasks are bulk-inserted
//! with `generate_series`: 70 % done, 25 % open and not yet due, 5 % open with their reminders
//! over, and `--due` (300) due now — two thirds for a reminder, one third for an escalation —
//! with the default `[overdue]` policy.
//!
//! ```sh
//! SALESBOT_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release --example task_scan_load -- --tasks 1000000
//! ```

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use salesbot::{
    app::{Application, Extensions, Startup},
    config::{Config, DatabaseUrl, Secret, WecomConfig},
    overdue::{OverdueTasks, scan},
};
use salesbot_wecom::fake::FakeWecom;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement};
use serde_json::json;

const DATABASE: &str = "salesbot_task_scan";
/// Wednesday 2026-11-25 10:00 in Shanghai: inside working hours, so the tick sends.
const NOW: i64 = 1_795_572_000_000;
const MIN: i64 = 60_000;
const DAY: i64 = 1440 * MIN;
/// Reps the tasks are spread over; each has a manager in the fake directory.
const REPS: i64 = 50;
/// Runs of the due query whose times are summarised.
const RUNS: usize = 21;

struct Args {
    tasks: i64,
    due: i64,
    batch: u64,
}

fn args() -> Args {
    let mut args = Args {
        tasks: 1_000_000,
        due: 300,
        batch: salesbot::overdue::BATCH,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--tasks" => args.tasks = value.parse().expect("--tasks N"),
            "--due" => args.due = value.parse().expect("--due N"),
            "--batch" => args.batch = value.parse().expect("--batch N"),
            other => panic!("unknown flag {other}; use --tasks N [--due N] [--batch N]"),
        }
    }
    args
}

async fn exec(db: &DatabaseConnection, sql: &str) -> anyhow::Result<u64> {
    Ok(db.execute_unprepared(sql).await?.rows_affected())
}

/// `base` with its database name replaced by `name`.
fn database_url(base: &str, name: &str) -> String {
    let without_query = base.split('?').next().unwrap_or(base);
    let (server, _) = without_query
        .rsplit_once('/')
        .expect("a URL with a database name");
    format!("{server}/{name}")
}

/// The tasks: `total` in the background and `due` due at [`NOW`].
async fn fill(db: &DatabaseConnection, total: i64, due: i64) -> anyhow::Result<()> {
    let background = total - due;
    // g % 100 < 70: done; < 95: open, due within the next 30 days; else open, every step over.
    let inserted = exec(
        db,
        &format!(
            "INSERT INTO task (tenant, platform, assignee, title, note, kind, state, due_at, \
               created_at, updated_at, done_at, reminders_sent, next_remind_at, created_by) \
             SELECT 'acme', 'wecom', 'rep' || (g % {REPS}), 'Follow up ' || g, '', 'follow_up', \
               CASE WHEN g % 100 < 70 THEN 'done' ELSE 'open' END, \
               CASE WHEN g % 100 < 70 THEN {NOW} - (g % 90) * {DAY}::bigint \
                    WHEN g % 100 < 95 THEN {NOW} + {MIN}::bigint * 60 + (g % 43200) * {MIN}::bigint \
                    ELSE {NOW} - 10 * {DAY}::bigint END AS due_at, \
               {NOW} - 100 * {DAY}::bigint, {NOW} - 100 * {DAY}::bigint, \
               CASE WHEN g % 100 < 70 THEN {NOW} - (g % 90) * {DAY}::bigint END, \
               CASE WHEN g % 100 < 95 THEN 0 ELSE 6 END, \
               CASE WHEN g % 100 < 70 THEN NULL \
                    WHEN g % 100 < 95 THEN {NOW} + {MIN}::bigint * 60 + (g % 43200) * {MIN}::bigint END, \
               'load' \
             FROM generate_series(1::bigint, {background}) AS g"
        ),
    )
    .await?;
    // Due now: two thirds at their first reminder (due up to 110 minutes ago), one third at
    // their first escalation (due on Tuesday 13:00 to 14:00, four working hours or more ago,
    // two reminders sent).
    let due_now = exec(
        db,
        &format!(
            "INSERT INTO task (tenant, platform, assignee, title, note, kind, state, due_at, \
               created_at, updated_at, reminders_sent, next_remind_at, created_by) \
             SELECT 'acme', 'wecom', 'rep' || (g % {REPS}), 'Call back ' || g, '', 'call', 'open', \
               d.due_at, {NOW} - {DAY}::bigint, {NOW} - {DAY}::bigint, \
               CASE WHEN g % 3 = 0 THEN 2 ELSE 0 END, \
               CASE WHEN g % 3 = 0 THEN d.due_at + 240 * {MIN}::bigint ELSE d.due_at END, 'load' \
             FROM generate_series(1::bigint, {due}) AS g, \
               LATERAL (SELECT CASE WHEN g % 3 = 0 THEN {NOW} - (1200 + g % 60) * {MIN}::bigint \
                                    ELSE {NOW} - (g % 110) * {MIN}::bigint END AS due_at) AS d"
        ),
    )
    .await?;
    exec(db, "ANALYZE task").await?;
    println!(
        "tasks: {} ({inserted} background, {due_now} due now)",
        inserted + due_now
    );
    Ok(())
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label}: n {}  min {:?}  median {:?}  max {:?}",
        times.len(),
        times[0],
        at(0.5),
        times[times.len() - 1]
    );
}

async fn time_due_query(db: &DatabaseConnection, now: i64, batch: u64) -> anyhow::Result<usize> {
    let mut times = Vec::with_capacity(RUNS);
    let mut found = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        found = scan::due(db, now, batch).await?.len();
        times.push(started.elapsed());
    }
    summary(&format!("due query ({found} rows)"), times);
    Ok(found)
}

async fn explain(db: &DatabaseConnection, now: i64, batch: u64) -> anyhow::Result<()> {
    let sql = scan::DUE_SQL
        .replace("$1", &now.to_string())
        .replace("$2", &batch.to_string());
    let rows = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"),
        ))
        .await?;
    println!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
    for row in rows {
        println!("  {}", row.try_get::<String>("", "QUERY PLAN")?);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args();
    let base = std::env::var("SALESBOT_TEST_PG_URL")
        .map_err(|_| anyhow::anyhow!("set SALESBOT_TEST_PG_URL to a PostgreSQL server's URL"))?;
    let server = Database::connect(&base).await?;
    exec(&server, &format!("DROP DATABASE IF EXISTS {DATABASE}")).await?;
    exec(&server, &format!("CREATE DATABASE {DATABASE}")).await?;
    server.close().await?;

    let fake = FakeWecom::start().await;
    for rep in 0..REPS {
        let manager = format!("manager{}", rep % 5);
        fake.add_user(
            json!({ "userid": format!("rep{rep}"), "name": format!("Rep {rep}"),
            "direct_leader": [manager] }),
        );
    }
    for manager in 0..5 {
        fake.add_user(
            json!({ "userid": format!("manager{manager}"), "name": format!("Manager {manager}") }),
        );
    }
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse()?;
    config.database.url = DatabaseUrl(database_url(&base, DATABASE));
    config.log.filter = "warn".into();
    config.wecom = vec![WecomConfig {
        api_base: fake.base_url().into(),
        rate_limit_per_minute: 0,
        ..WecomConfig::new(
            "acme",
            FakeWecom::CORP_ID,
            FakeWecom::AGENT_ID.into(),
            Secret::new(FakeWecom::SECRET),
            Secret::new("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"),
            Secret::new("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"),
        )
    }];
    // Migrates; nothing runs until `run`, which is never called: the tick below is the only
    // work, and its outbox rows stay in the database.
    let app = Application::build(config, Extensions::default(), Startup::default()).await?;
    let state = app.state().clone();
    let db = state.db.clone();

    let started = Instant::now();
    fill(&db, args.tasks, args.due).await?;
    println!("inserted and analyzed in {:?}", started.elapsed());

    time_due_query(&db, NOW, args.batch).await?;
    explain(&db, NOW, args.batch).await?;

    let mut job = OverdueTasks::new(
        state.approvals.clone(),
        state.rules.overdue().clone(),
        state.calendar.clone(),
        Arc::new(tokio::sync::Notify::new()),
    );
    job.batch = args.batch;
    let started = Instant::now();
    let sent = job.tick(NOW).await?;
    let tick = started.elapsed();
    println!(
        "full tick: {sent} cards in {tick:?} ({:?} per task; {} directory look-ups)",
        tick / u32::try_from(args.due.max(1))?,
        fake.requests_to("user/get").len()
    );
    let started = Instant::now();
    let again = job.tick(NOW + MIN).await?;
    println!(
        "next tick, nothing due: {again} cards in {:?}",
        started.elapsed()
    );
    time_due_query(&db, NOW + MIN, args.batch).await?;
    explain(&db, NOW + MIN, args.batch).await?;
    Ok(())
}

//! Periodic jobs (overdue scans, idle-deal alerts, housekeeping) that run once per tick across
//! all instances.
//!
//! Each job has a row in `scheduler_job` whose `next_run_at` is advanced with a compare-and-set
//! (`UPDATE ... WHERE next_run_at <= now`): of several instances reaching the same tick, exactly
//! one sees its update take effect and runs the job. Ticks are aligned to multiples of the
//! interval, so instances agree on them whatever their start times. A job that crashes its
//! instance mid-run is not retried for that tick; jobs are scans that the next tick repeats.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Value};
use tokio_util::sync::CancellationToken;

use super::{clock::now_ms, queue::stmt};

/// How often the scheduler looks for due jobs at most; jobs due sooner wake it sooner.
const MAX_IDLE: Duration = Duration::from_secs(5);

/// A periodic job.
#[async_trait]
pub trait Job: Send + Sync {
    /// Runs one tick at `now` (epoch ms). Jobs only read and enqueue; errors are logged and
    /// recorded on the job's row.
    async fn run(&self, db: &DatabaseConnection, now: i64) -> Result<(), String>;
}

struct Entry {
    name: &'static str,
    every_ms: i64,
    job: Arc<dyn Job>,
}

/// The jobs of this instance, and the loop that runs them.
pub struct Scheduler {
    db: DatabaseConnection,
    owner: String,
    jobs: Vec<Entry>,
}

impl Scheduler {
    pub fn new(db: DatabaseConnection, owner: impl Into<String>) -> Self {
        Self {
            db,
            owner: owner.into(),
            jobs: Vec::new(),
        }
    }

    /// Adds `job`, run every `every` (at least one millisecond).
    pub fn register(
        &mut self,
        name: &'static str,
        every: Duration,
        job: Arc<dyn Job>,
    ) -> &mut Self {
        let every_ms = (every.as_millis() as i64).max(1);
        self.jobs.push(Entry {
            name,
            every_ms,
            job,
        });
        self
    }

    /// Runs every job whose tick has come at `now` and that no other instance has taken;
    /// returns the names of the jobs this instance ran.
    pub async fn run_due(&self, now: i64) -> Result<Vec<&'static str>, DbErr> {
        let mut ran = Vec::new();
        for entry in &self.jobs {
            if !self.take_tick(entry, now).await? {
                continue;
            }
            let span = tracing::info_span!("job", name = entry.name, owner = %self.owner);
            let result = tracing::Instrument::instrument(entry.job.run(&self.db, now), span).await;
            let error: Value = match &result {
                Ok(()) => Option::<String>::None.into(),
                Err(e) => {
                    tracing::error!(job = entry.name, error = %e, "scheduled job failed");
                    e.clone().into()
                }
            };
            self.db
                .execute_raw(stmt(
                    &self.db,
                    "UPDATE scheduler_job SET last_error = $2 WHERE name = $1",
                    [entry.name.into(), error],
                ))
                .await?;
            ran.push(entry.name);
        }
        Ok(ran)
    }

    /// The compare-and-set that elects one instance per tick.
    async fn take_tick(&self, entry: &Entry, now: i64) -> Result<bool, DbErr> {
        let tick = now - now.rem_euclid(entry.every_ms);
        // A new job is due at the tick in progress.
        self.db
            .execute_raw(stmt(
                &self.db,
                "INSERT INTO scheduler_job (name, next_run_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                [entry.name.into(), tick.into()],
            ))
            .await?;
        let taken = self
            .db
            .execute_raw(stmt(
                &self.db,
                "UPDATE scheduler_job SET next_run_at = $2, last_run_at = $3, last_owner = $4 \
                 WHERE name = $1 AND next_run_at <= $3",
                [
                    entry.name.into(),
                    (tick + entry.every_ms).into(),
                    now.into(),
                    self.owner.clone().into(),
                ],
            ))
            .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Runs due jobs until `shutdown`, finishing a job in progress.
    pub async fn run(self, shutdown: CancellationToken) {
        if self.jobs.is_empty() {
            return;
        }
        let min_every = self.jobs.iter().map(|j| j.every_ms).min().unwrap_or(1000);
        let idle = Duration::from_millis(min_every as u64).min(MAX_IDLE);
        while !shutdown.is_cancelled() {
            if let Err(e) = self.run_due(now_ms()).await {
                tracing::warn!(error = %e, "scheduler round failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }
}

//! The housekeeping job: deletes finished inbox events and sent messages older than the
//! retention period, so the queue tables stay small. Parked and dead rows stay until an
//! operator acts on them; done rows stay long enough to recognise platform retries.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::{queue::stmt, scheduler::Job};

/// Name of the job in `scheduler_job`.
pub const JOB_NAME: &str = "pipeline.purge";

/// Deletes rows finished more than `retention_ms` ago.
pub struct Purge {
    pub retention_ms: i64,
}

impl Purge {
    pub fn days(days: u32) -> Self {
        Self {
            retention_ms: i64::from(days) * 24 * 3600 * 1000,
        }
    }

    /// Deletes what has expired at `now`; returns (inbox rows, outbox rows) deleted.
    pub async fn purge(&self, db: &impl ConnectionTrait, now: i64) -> Result<(u64, u64), DbErr> {
        let cutoff = now - self.retention_ms;
        let inbox = db
            .execute_raw(stmt(
                db,
                "DELETE FROM inbox WHERE state = 'done' AND finished_at < $1",
                [cutoff.into()],
            ))
            .await?
            .rows_affected();
        let outbox = db
            .execute_raw(stmt(
                db,
                "DELETE FROM outbox WHERE state = 'sent' AND finished_at < $1",
                [cutoff.into()],
            ))
            .await?
            .rows_affected();
        Ok((inbox, outbox))
    }
}

#[async_trait]
impl Job for Purge {
    async fn run(&self, db: &DatabaseConnection, now: i64) -> Result<(), String> {
        let (inbox, outbox) = self.purge(db, now).await.map_err(|e| e.to_string())?;
        if inbox + outbox > 0 {
            tracing::info!(inbox, outbox, "purged finished rows past retention");
        }
        Ok(())
    }
}

//! The assignment clock: a scheduler job that passes on every lead whose offer was not
//! accepted by its deadline. Each offer is re-checked under its lead's lock in a transaction of
//! its own, so an Accept that lands at the same moment wins or loses cleanly, and two instances
//! never pass one lead on twice.

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::Notify;

use super::{
    Assigner, PassedOn,
    store::{self, AssignmentRow, state},
};
use crate::pipeline::scheduler::Job;

/// The job's name in `scheduler_job`.
pub const JOB_NAME: &str = "assignment_timeouts";
/// Offers handled per tick at most; the rest wait for the next tick.
const BATCH: u64 = 200;

/// The scheduler job.
pub struct Timeouts {
    pub db: DatabaseConnection,
    pub assigner: Arc<Assigner>,
    /// Wakes the dispatchers when a tick enqueued cards.
    pub wake_outbox: Arc<Notify>,
}

#[async_trait]
impl Job for Timeouts {
    async fn run(&self, _db: &DatabaseConnection, now: i64) -> Result<(), String> {
        let moved = self.tick(now).await.map_err(|e| e.to_string())?;
        if moved > 0 {
            self.wake_outbox.notify_waiters();
        }
        Ok(())
    }
}

impl Timeouts {
    /// One pass at `now`; returns how many offers timed out.
    pub async fn tick(&self, now: i64) -> Result<usize, DbErr> {
        let due = store::expired(&self.db, now, BATCH).await?;
        let mut moved = 0;
        for offer in due {
            if self.time_out(&offer, now).await? {
                moved += 1;
            }
        }
        Ok(moved)
    }

    #[tracing::instrument(skip_all, fields(lead_id = due.lead_id, assignment_id = due.id))]
    async fn time_out(&self, due: &AssignmentRow, now: i64) -> Result<bool, DbErr> {
        let txn = self.db.begin().await?;
        let Some(lead) = store::lock_lead(&txn, due.lead_id).await? else {
            return Ok(false);
        };
        let Some(row) = store::get(&txn, due.id).await? else {
            return Ok(false);
        };
        if row.state != state::OFFERED || row.expires_at > now {
            return Ok(false);
        }
        let moved = self
            .assigner
            .pass_on(&txn, &lead, &row, (PassedOn::TimedOut, "system"), None, now)
            .await?;
        txn.commit().await?;
        tracing::info!(rep = %row.rep, "offer timed out");
        Ok(moved)
    }
}

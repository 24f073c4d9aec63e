//! The approval clock: a scheduler job that sends approval_reminder to approvers who have not
//! acted `remind_after` after being asked, and after `escalate_after` adds the approver's
//! manager to the level in their place (with a card of their own), so an absent approver does
//! not hold a deal up. Each reminder and escalation happens once per step: the job re-checks
//! the step under the approval's lock and records what it did in the same transaction.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;
use tokio::sync::Notify;

use super::{Approvals, RequestError, events::Change};
use crate::{
    domain::approval::store::{self, OpenStep, status},
    pipeline::scheduler::Job,
};

/// The job's name in `scheduler_job`.
pub const JOB_NAME: &str = "approval_reminders";
/// Steps handled per tick at most; the rest wait for the next tick.
const BATCH: u64 = 200;

/// When to remind and escalate; `None` turns either off.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub remind_after: Option<Duration>,
    pub escalate_after: Option<Duration>,
}

/// The scheduler job.
pub struct Reminders {
    pub approvals: Arc<Approvals>,
    pub timing: Timing,
    /// Wakes the dispatchers when a tick enqueued cards.
    pub wake_outbox: Arc<Notify>,
}

#[async_trait]
impl Job for Reminders {
    async fn run(&self, _db: &DatabaseConnection, now: i64) -> Result<(), String> {
        let sent = self.tick(now).await.map_err(|e| e.to_string())?;
        if sent > 0 {
            self.wake_outbox.notify_waiters();
        }
        Ok(())
    }
}

impl Reminders {
    /// One pass at `now`; returns how many reminders and escalations it made.
    pub async fn tick(&self, now: i64) -> Result<usize, RequestError> {
        let before = |after: Option<Duration>| after.map(|d| now - d.as_millis() as i64);
        let remind_before = before(self.timing.remind_after);
        let escalate_before = before(self.timing.escalate_after);
        if remind_before.is_none() && escalate_before.is_none() {
            return Ok(0);
        }
        let due =
            store::due_steps(&self.approvals.db, remind_before, escalate_before, BATCH).await?;
        let mut done = 0;
        for step in due {
            let escalate = step.stands_for.is_none()
                && step.escalated_at.is_none()
                && escalate_before.is_some_and(|limit| step.asked_at <= limit);
            let remind = step.reminded_at.is_none()
                && remind_before.is_some_and(|limit| step.asked_at <= limit);
            // One that is overdue for both is escalated; a reminder would only add noise.
            let result = if escalate {
                self.escalate(&step, now).await
            } else if remind {
                self.remind(&step, now).await
            } else {
                Ok(false)
            };
            match result {
                Ok(acted) => done += usize::from(acted),
                Err(RequestError::Database(e)) => return Err(e.into()),
                Err(e) => tracing::warn!(
                    approval = step.approval_id,
                    approver = %step.approver,
                    error = %e,
                    "approval reminder not sent; retried next tick"
                ),
            }
        }
        Ok(done)
    }

    async fn remind(&self, due: &OpenStep, now: i64) -> Result<bool, RequestError> {
        let txn = self.approvals.db.begin().await?;
        let Some((approval, step)) = still_open(&txn, due).await? else {
            return Ok(false);
        };
        if step.reminded_at.is_some() {
            return Ok(false);
        }
        let asked_at = step.asked_at.unwrap_or(due.asked_at);
        self.approvals
            .cards()
            .remind(&txn, &approval, &step, asked_at, now)
            .await?;
        let detail =
            json!({ "level": step.level, "approver": step.approver, "asked_at": asked_at });
        self.approvals
            .changed(
                &txn,
                &approval,
                Change::new("reminded", "system", detail)
                    .key(format!("{}:{}", step.level, step.approver)),
                now,
            )
            .await?;
        txn.commit().await?;
        Ok(true)
    }

    async fn escalate(&self, due: &OpenStep, now: i64) -> Result<bool, RequestError> {
        let Some(approval) = store::get(&self.approvals.db, due.approval_id).await? else {
            return Ok(false);
        };
        // The directory is asked before the transaction: no platform call holds a lock.
        let manager = self
            .approvals
            .person(&approval.platform, &approval.tenant, &due.approver)
            .await?
            .manager
            .filter(|m| !m.eq_ignore_ascii_case(&due.approver));
        let txn = self.approvals.db.begin().await?;
        let Some((approval, step)) = still_open(&txn, due).await? else {
            return Ok(false);
        };
        if !store::mark_escalated(&txn, approval.id, step.level, &step.approver, now).await? {
            return Ok(false);
        }
        let key = format!("{}:{}", step.level, step.approver);
        let Some(manager) = manager else {
            let detail = json!({ "level": step.level, "approver": step.approver,
                "reason": "no manager is configured or in the directory" });
            self.approvals
                .changed(
                    &txn,
                    &approval,
                    Change::new("escalation_skipped", "system", detail),
                    now,
                )
                .await?;
            txn.commit().await?;
            return Ok(false);
        };
        let added = store::add_stand_in(
            &txn,
            approval.id,
            step.level,
            &step.mode,
            &manager,
            &step.approver,
        )
        .await?;
        if added {
            self.approvals
                .cards()
                .ask_level(
                    &txn,
                    &approval,
                    step.level,
                    std::slice::from_ref(&manager),
                    None,
                    now,
                )
                .await?;
        }
        let detail = json!({ "level": step.level, "approver": step.approver,
            "manager": manager, "card_sent": added });
        self.approvals
            .changed(
                &txn,
                &approval,
                Change::new("escalated", "system", detail).key(key),
                now,
            )
            .await?;
        txn.commit().await?;
        Ok(true)
    }
}

/// The approval (locked) and the step of `due`, if the approval is still pending at that
/// level and the step still undecided.
async fn still_open(
    txn: &sea_orm::DatabaseTransaction,
    due: &OpenStep,
) -> Result<Option<(store::ApprovalRow, store::StepRow)>, RequestError> {
    let Some(approval) = store::lock(txn, due.approval_id).await? else {
        return Ok(None);
    };
    if approval.status != status::PENDING || approval.current_level != due.level {
        return Ok(None);
    }
    let step = store::steps(txn, approval.id)
        .await?
        .into_iter()
        .find(|s| s.level == due.level && s.approver == due.approver && s.decision.is_none());
    Ok(step.map(|step| (approval, step)))
}

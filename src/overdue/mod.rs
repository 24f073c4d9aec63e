//! The overdue job: a scheduler job that chases open tasks past their due time as `[overdue]`
//! of the rules says — task_reminder to the assignee, task_overdue_escalation to the
//! assignee's manager — each step once.
//!
//! A scan reads the tasks whose `next_remind_at` has come (the partial index `ix_task_scan`
//! holds only tasks that have one), and moves each on in a transaction of its own that starts
//! with a compare-and-set on (`reminders_sent`, `next_remind_at`): of two instances looking at
//! the same task, one moves it and sends, the other changes nothing. A task done or snoozed
//! since the scan read it fails the same check. The directory (the assignee's name and
//! manager) is asked before the transaction, never inside it.
//!
//! Offsets count working time, so steps come due in working hours; one that comes due at the
//! end of a working period is enqueued then and held to the start of the next
//! (`send_in_hours`).

mod cards;
mod directory;
pub mod scan;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use serde_json::json;
use tokio::sync::Notify;

use crate::{
    approvals::Approvals,
    audit,
    cards::{CardError, MessageKind, Notice, Recipient, Templates, message},
    domain::{
        calendar::WorkingHours,
        rules::{Due, Overdue},
    },
    pipeline::scheduler::Job,
};
use cards::About;
pub use directory::Directory;
use scan::{Advance, DueTask};

/// The job's name in `scheduler_job`.
pub const JOB_NAME: &str = "task_overdue";
/// Tasks looked at per tick at most; the rest wait for the next tick, earliest first. A tick
/// of this many reminders takes well under the one-minute interval (docs/benchmarks.md).
pub const BATCH: u64 = 500;

/// Why a task could not be chased this tick; it is tried again on the next.
#[derive(Debug, thiserror::Error)]
pub enum OverdueError {
    /// The directory could not be asked (the platform is busy or down).
    #[error("cannot ask the directory: {0}")]
    Directory(String),
    #[error("cannot render the card: {0}")]
    Render(String),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// When a step `after_ms` of working time after `due_at` comes: steps fall in working hours
/// (or at the end of a working period, whose cards wait for the next one), so nights and
/// weekends do not count towards "overdue".
pub fn step_time(calendar: &WorkingHours, due_at: i64, after_ms: i64) -> i64 {
    calendar.add(due_at, Duration::from_millis(after_ms.max(0) as u64))
}

/// The scheduler job.
pub struct OverdueTasks {
    pub db: DatabaseConnection,
    pub policy: Overdue,
    pub calendar: Arc<WorkingHours>,
    pub directory: Directory,
    pub templates: Arc<Templates>,
    pub locale: String,
    /// Where a tap on a card leads.
    pub public_base_url: String,
    /// Tasks per tick at most.
    pub batch: u64,
    /// Wakes the dispatchers when a tick enqueued cards.
    pub wake_outbox: Arc<Notify>,
}

#[async_trait]
impl Job for OverdueTasks {
    async fn run(&self, _db: &DatabaseConnection, now: i64) -> Result<(), String> {
        let sent = self.tick(now).await.map_err(|e| e.to_string())?;
        if sent > 0 {
            self.wake_outbox.notify_waiters();
        }
        Ok(())
    }
}

/// What one task's turn did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sent {
    reminders: usize,
    escalations: usize,
}

impl OverdueTasks {
    /// The job for `approvals`' platforms and `policy`, in the service's templates and locale.
    pub fn new(
        approvals: Arc<Approvals>,
        policy: Overdue,
        calendar: Arc<WorkingHours>,
        wake_outbox: Arc<Notify>,
    ) -> Self {
        Self {
            db: approvals.db.clone(),
            policy,
            calendar,
            templates: approvals.templates.clone(),
            locale: approvals.locale.clone(),
            public_base_url: approvals.public_base_url.clone(),
            directory: Directory::new(approvals),
            batch: BATCH,
            wake_outbox,
        }
    }

    /// One scan at `now`; returns how many reminders and escalations it enqueued.
    pub async fn tick(&self, now: i64) -> Result<usize, DbErr> {
        let tasks = scan::due(&self.db, now, self.batch).await?;
        let mut sent = 0;
        for task in tasks {
            match self.chase(&task, now).await {
                Ok(done) => sent += done.reminders + done.escalations,
                Err(OverdueError::Database(e)) => return Err(e),
                Err(e) => tracing::warn!(
                    task = task.id,
                    tenant = %task.tenant,
                    error = %e,
                    "overdue task not chased; retried next tick"
                ),
            }
        }
        Ok(sent)
    }

    /// Moves `task` on to where the policy has it at `now`, sending what came due.
    #[tracing::instrument(skip_all, fields(task = task.id, tenant = %task.tenant))]
    async fn chase(&self, task: &DueTask, now: i64) -> Result<Sent, OverdueError> {
        let done = usize::try_from(task.reminders_sent).unwrap_or(0);
        let at = |after_ms: i64| step_time(&self.calendar, task.due_at, after_ms);
        let due = self.policy.due(done, now, at);
        let next_step = self.policy.step_at(due.next, at);
        if due.remind.is_none() && due.escalate.is_none() {
            // Nothing due yet (the due time is outside working hours, the first step comes
            // later, or the policy changed): look again when the next step comes, or never.
            self.advance_only(task, due.next, next_step).await?;
            return Ok(Sent::default());
        }
        let owner = self
            .directory
            .person(&task.platform, &task.tenant, &task.assignee, now)
            .await?;
        let manager = match due.escalate {
            Some(_) => match owner
                .manager
                .as_deref()
                .filter(|m| !m.eq_ignore_ascii_case(&task.assignee))
            {
                Some(id) => {
                    let person = self
                        .directory
                        .person(&task.platform, &task.tenant, id, now)
                        .await?;
                    Some((id.to_owned(), person.name.unwrap_or_else(|| id.to_owned())))
                }
                None => None,
            },
            None => None,
        };
        let (customer, company) = scan::customer(&self.db, task).await?;
        let owner_name = owner.name.clone().unwrap_or_else(|| task.assignee.clone());
        let due_at = self.calendar.local_minute(task.due_at);
        let about = About {
            due_at: &due_at,
            owner_name: &owner_name,
            customer: (&customer, &company),
            link: &self.public_base_url,
        };
        self.send(task, &due, next_step, &about, manager, now).await
    }

    /// The transaction of one task's turn: the compare-and-set, then the cards and the audit
    /// entries.
    async fn send(
        &self,
        task: &DueTask,
        due: &Due,
        next_step: Option<i64>,
        about: &About<'_>,
        manager: Option<(String, String)>,
        now: i64,
    ) -> Result<Sent, OverdueError> {
        let txn = self.db.begin().await?;
        let to = Advance {
            steps_done: due.next as i32,
            next_remind_at: next_step,
            escalated_at: due.escalate.map(|_| now),
        };
        if !scan::advance(&txn, task, to).await? {
            txn.rollback().await?;
            scan::retire_closed(&self.db, task.id).await?;
            return Ok(Sent::default());
        }
        let subject_id = task.id.to_string();
        let mut sent = Sent::default();
        if let Some((step, n)) = due.remind {
            let data = cards::reminder_data(task, about, now);
            let to = task.assignee.as_str();
            self.card(
                &txn,
                task,
                MessageKind::TaskReminder,
                "reminder",
                step,
                &data,
                to,
                now,
            )
            .await?;
            let detail = json!({ "platform": task.platform, "step": step, "reminder": n + 1,
                "assignee": task.assignee, "due_at": task.due_at });
            audit::record(
                &txn,
                now,
                "system",
                "task.reminded",
                ("task", &subject_id),
                &detail,
            )
            .await?;
            sent.reminders += 1;
        }
        if let Some((step, n)) = due.escalate {
            match &manager {
                Some((id, name)) => {
                    let data = cards::escalation_data(task, about, name, now);
                    let kind = MessageKind::TaskOverdueEscalation;
                    self.card(&txn, task, kind, "escalation", step, &data, id, now)
                        .await?;
                    let detail = json!({ "platform": task.platform, "step": step,
                        "escalation": n + 1, "assignee": task.assignee, "manager": id,
                        "due_at": task.due_at });
                    audit::record(
                        &txn,
                        now,
                        "system",
                        "task.escalated",
                        ("task", &subject_id),
                        &detail,
                    )
                    .await?;
                    sent.escalations += 1;
                }
                None => {
                    let detail = json!({ "platform": task.platform, "step": step,
                        "escalation": n + 1, "assignee": task.assignee,
                        "reason": "no manager is configured or in the directory" });
                    let action = "task.escalation_skipped";
                    audit::record(&txn, now, "system", action, ("task", &subject_id), &detail)
                        .await?;
                }
            }
        }
        txn.commit().await?;
        Ok(sent)
    }

    /// Enqueues the card of `kind` for step `step` of `task` to user `to`, in working hours.
    /// The subject names the step and the due time, so a step is sent once, and a task
    /// snoozed to a new due time is chased afresh.
    #[allow(clippy::too_many_arguments)]
    async fn card(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        task: &DueTask,
        kind: MessageKind,
        what: &str,
        step: usize,
        data: &serde_json::Value,
        to: &str,
        now: i64,
    ) -> Result<(), OverdueError> {
        let card = self
            .templates
            .render(kind, &self.locale, data)
            .map_err(|e| OverdueError::Render(e.to_string()))?;
        let notice = Notice {
            platform: task.platform.clone(),
            tenant: task.tenant.clone(),
            kind,
            subject: format!("task:{}:{what}:{step}:due:{}", task.id, task.due_at),
            version: 1,
            card,
        };
        let recipient = [Recipient::User(to.to_owned())];
        message::send_in_hours(txn, &notice, &recipient, &self.calendar, None, now).await?;
        Ok(())
    }

    /// Moves `task` to `steps_done` and its next look to `next` without sending anything.
    async fn advance_only(
        &self,
        task: &DueTask,
        steps_done: usize,
        next: Option<i64>,
    ) -> Result<(), DbErr> {
        let to = Advance {
            steps_done: steps_done as i32,
            next_remind_at: next,
            escalated_at: None,
        };
        if !scan::advance(&self.db, task, to).await? {
            scan::retire_closed(&self.db, task.id).await?;
        }
        Ok(())
    }
}

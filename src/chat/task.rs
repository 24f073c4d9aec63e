//! The task commands: `tasks` lists the sender's open tasks, `done` completes one of them,
//! `snooze` puts one off. This file is the only place chat reaches the tasks service.
//!
//! `done` and `snooze` change the task through the service, which commits in its own
//! transaction, before the answer is enqueued in the event's. So that a command run again
//! after that commit (the worker failed before the answer did) has the effect and the answer
//! of its first run, each records what it is about to do in the audit log first, with the
//! command's key as the actor: a run that finds the record answers a task it completed as
//! done (not "done already"), and snoozes to the due time it recorded (not one counted from
//! its own, later start).

use std::time::Duration;

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{
    answer::{Answer, TaskLine},
    command::Delay,
    incoming::Incoming,
};
use crate::{
    audit,
    domain::{
        calendar::WorkingHours,
        task::{
            state,
            store::{self, TaskRow},
        },
    },
    pipeline::HandlerError,
    tasks::{TaskError, Tasks},
};

/// The most tasks `tasks` lists; the answer counts the rest.
pub const LISTED: u64 = 10;

/// Audit actions recorded before the change, by which a command finds its earlier run.
const DONE_REQUESTED: &str = "task.done_requested";
const SNOOZE_REQUESTED: &str = "task.snooze_requested";

/// The task commands, over the tasks service and the working hours.
pub struct TaskCommands<'a> {
    pub tasks: &'a Tasks,
    pub calendar: &'a WorkingHours,
}

/// A task the sender may change, or the answer why not.
enum Target {
    Yours(Box<TaskRow>),
    Refused(Answer),
}

impl TaskCommands<'_> {
    /// The sender's open tasks on the message's tenant and platform, the soonest due first.
    pub async fn list(&self, incoming: &Incoming, now: i64) -> Result<Answer, HandlerError> {
        let listed = self
            .tasks
            .open_for(
                &incoming.tenant,
                incoming.platform,
                &incoming.sender,
                LISTED,
            )
            .await;
        let (rows, total) = match listed {
            Ok(listed) => listed,
            Err(TaskError::Database(e)) => return Err(HandlerError::Database(e)),
            Err(e) => {
                tracing::error!(error = %e, "open tasks not listed");
                return Ok(Answer::Fault);
            }
        };
        let more = total.saturating_sub(rows.len() as u64);
        let tasks = rows
            .into_iter()
            .map(|task| TaskLine {
                id: task.id,
                due: self.calendar.local_minute(task.due_at),
                overdue: task.due_at < now,
                title: task.title,
            })
            .collect();
        Ok(Answer::Tasks { tasks, more })
    }

    /// Completes task `id` for its assignee, once per command `key`; the service runs the
    /// rules that follow a completion.
    pub async fn done(
        &self,
        db: &DatabaseConnection,
        incoming: &Incoming,
        key: &str,
        id: i64,
        now: i64,
    ) -> Result<Answer, HandlerError> {
        let earlier = audit::first_by_actor(db, key, DONE_REQUESTED).await?;
        let task = match target(db, incoming, id).await? {
            Target::Yours(task) => *task,
            Target::Refused(answer) => return Ok(answer),
        };
        if !task.is_open() {
            if earlier.is_some() && task.state == state::DONE {
                tracing::info!(task = id, "task completed by an earlier run");
                return Ok(Answer::TaskDone {
                    id,
                    title: task.title,
                });
            }
            return Ok(closed(&task));
        }
        if earlier.is_none() {
            let detail = json!({ "by": incoming.sender });
            audit::record(
                db,
                now,
                key,
                DONE_REQUESTED,
                ("task", &id.to_string()),
                &detail,
            )
            .await?;
        }
        match self.tasks.complete(id, &incoming.sender, now).await {
            Ok(task) => Ok(Answer::TaskDone {
                id,
                title: task.title,
            }),
            Err(e) => refused(db, id, e).await,
        }
    }

    /// Puts task `id` off by `delay` for its assignee, once per command `key`. The delay
    /// counts from the task's due time, or from now when that is past: a snooze never makes
    /// a task due sooner.
    pub async fn snooze(
        &self,
        db: &DatabaseConnection,
        incoming: &Incoming,
        key: &str,
        id: i64,
        delay: Delay,
        now: i64,
    ) -> Result<Answer, HandlerError> {
        let earlier = audit::first_by_actor(db, key, SNOOZE_REQUESTED).await?;
        let task = match target(db, incoming, id).await? {
            Target::Yours(task) => *task,
            Target::Refused(answer) => return Ok(answer),
        };
        if !task.is_open() {
            return Ok(closed(&task));
        }
        let recorded = earlier.and_then(|entry| {
            let detail: serde_json::Value = serde_json::from_str(&entry.detail).ok()?;
            detail["until"].as_i64()
        });
        let until = match recorded {
            Some(until) if task.due_at == until => {
                tracing::info!(task = id, "task snoozed by an earlier run");
                return Ok(self.snoozed(id, until));
            }
            Some(until) => until,
            None => {
                let until = self.until(task.due_at.max(now), delay);
                let detail = json!({ "by": incoming.sender, "until": until });
                audit::record(
                    db,
                    now,
                    key,
                    SNOOZE_REQUESTED,
                    ("task", &id.to_string()),
                    &detail,
                )
                .await?;
                until
            }
        };
        match self.tasks.snooze(id, &incoming.sender, until, now).await {
            Ok(task) => Ok(self.snoozed(id, task.due_at)),
            Err(e) => refused(db, id, e).await,
        }
    }

    /// `from` put off by `delay`: minutes and hours of working time; days of calendar time,
    /// then the next working moment.
    fn until(&self, from: i64, delay: Delay) -> i64 {
        match delay {
            Delay::Working(length) => self.calendar.add(from, length),
            Delay::Days(length) => self.calendar.next_open(from.saturating_add(millis(length))),
        }
    }

    fn snoozed(&self, id: i64, due_at: i64) -> Answer {
        Answer::TaskSnoozed {
            id,
            due: self.calendar.local_minute(due_at),
        }
    }
}

/// Task `id` when it is the sender's, on the tenant and platform of the message (ids are
/// global, user ids are not: another tenant's task is answered as unknown).
async fn target(
    db: &DatabaseConnection,
    incoming: &Incoming,
    id: i64,
) -> Result<Target, HandlerError> {
    let Some(task) = store::get(db, id)
        .await?
        .filter(|task| task.tenant == incoming.tenant && task.platform == incoming.platform)
    else {
        return Ok(Target::Refused(Answer::NoSuchTask { id }));
    };
    if task.assignee != incoming.sender {
        return Ok(Target::Refused(Answer::NotAssignee {
            id,
            assignee: task.assignee,
        }));
    }
    Ok(Target::Yours(Box::new(task)))
}

fn closed(task: &TaskRow) -> Answer {
    Answer::TaskClosed {
        id: task.id,
        state: task.state.clone(),
    }
}

/// The answer to a change the service refused.
async fn refused(db: &DatabaseConnection, id: i64, e: TaskError) -> Result<Answer, HandlerError> {
    match e {
        TaskError::NotFound(_) => Ok(Answer::NoSuchTask { id }),
        // Closed between the look and the change (by the API, say): say how it ended.
        TaskError::NotOpen(_) => match store::get(db, id).await? {
            Some(task) => Ok(closed(&task)),
            None => Ok(Answer::NoSuchTask { id }),
        },
        TaskError::Invalid(reason) => Ok(Answer::TaskRefused { reason }),
        // Completing or snoozing a task names no deal; a rule's deal that is gone is a fault.
        e @ TaskError::NoDeal(_) => {
            tracing::error!(error = %e, task = id, "task not changed");
            Ok(Answer::Fault)
        }
        TaskError::Database(e) => Err(HandlerError::Database(e)),
    }
}

fn millis(length: Duration) -> i64 {
    i64::try_from(length.as_millis()).unwrap_or(i64::MAX)
}

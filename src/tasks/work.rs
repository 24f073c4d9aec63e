//! Tasks by hand (the API, the chat commands): create, list, change, complete, snooze.

use sea_orm::TransactionTrait;
use serde::Deserialize;
use serde_json::json;

use super::{Record, TaskError, Tasks};
use crate::domain::{
    rules::MAX_DUE_IN_MINS,
    task::{
        MAX_TITLE_CHARS, state,
        store::{self, NewTask, TaskRow},
    },
};

/// Longest user id, task kind and tenant accepted, in characters (their columns).
const MAX_ID_CHARS: usize = 64;

/// `POST /api/v1/tasks`: a task made by hand or by a CRM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    pub tenant: String,
    /// `wecom` (default) or `dingtalk`: where the assignee is reminded.
    #[serde(default = "default_platform")]
    pub platform: String,
    pub assignee: String,
    pub title: String,
    #[serde(default)]
    pub note: String,
    /// Default `todo`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Epoch ms; or `due_in_mins` of working time from now; one of them.
    #[serde(default)]
    pub due_at: Option<i64>,
    #[serde(default)]
    pub due_in_mins: Option<i64>,
    #[serde(default)]
    pub lead_id: Option<i64>,
    #[serde(default)]
    pub deal_id: Option<i64>,
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// A key of the caller's: posting the same key again finds the task made the first time.
    #[serde(default)]
    pub external_ref: Option<String>,
}

fn default_platform() -> String {
    "wecom".into()
}

/// `PATCH /api/v1/tasks/{id}`: fields to change; `state` `done` completes the task (its task
/// rules run), `cancelled` cancels it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    /// A new due time (epoch ms); the reminders start over from it.
    #[serde(default)]
    pub due_at: Option<i64>,
    #[serde(default)]
    pub state: Option<String>,
}

/// Checks a title: trimmed, 1 to [`MAX_TITLE_CHARS`] characters.
fn title(text: &str) -> Result<String, TaskError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TITLE_CHARS {
        return Err(TaskError::Invalid(format!(
            "`title` must be 1 to {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

/// Checks an identifier-like field: trimmed, 1 to [`MAX_ID_CHARS`] characters.
pub(super) fn word(key: &str, text: &str) -> Result<String, TaskError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_ID_CHARS || text.contains(char::is_control) {
        return Err(TaskError::Invalid(format!(
            "`{key}` must be 1 to {MAX_ID_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

/// `wecom` or `dingtalk`.
pub(super) fn platform(text: &str) -> Result<String, TaskError> {
    match text {
        "wecom" | "dingtalk" => Ok(text.to_string()),
        other => Err(TaskError::Invalid(format!(
            "`platform` must be wecom or dingtalk, not `{other}`"
        ))),
    }
}

impl Tasks {
    /// Stores a task from the API; with an `external_ref` already used, returns that task
    /// and `false`.
    pub async fn create(
        &self,
        input: &TaskInput,
        actor: &str,
        now: i64,
    ) -> Result<(TaskRow, bool), TaskError> {
        let due_at = match (input.due_at, input.due_in_mins) {
            (Some(at), None) if at > 0 => at,
            (None, Some(mins)) if (0..=MAX_DUE_IN_MINS).contains(&mins) => self
                .calendar
                .add(now, std::time::Duration::from_secs(mins as u64 * 60)),
            (None, None) => {
                return Err(TaskError::Invalid(
                    "give `due_at` (epoch ms) or `due_in_mins` (working time)".into(),
                ));
            }
            _ => {
                return Err(TaskError::Invalid(format!(
                    "give one of `due_at` (epoch ms, after 1970) or `due_in_mins` \
                     (0 to {MAX_DUE_IN_MINS})"
                )));
            }
        };
        let source = match &input.external_ref {
            Some(reference) => Some(format!(
                "api:{}:{}",
                word("tenant", &input.tenant)?,
                word("external_ref", reference)?
            )),
            None => None,
        };
        let task = NewTask {
            tenant: word("tenant", &input.tenant)?,
            platform: platform(&input.platform)?,
            assignee: word("assignee", &input.assignee)?,
            title: title(&input.title)?,
            note: input.note.trim().to_string(),
            kind: word("kind", input.kind.as_deref().unwrap_or("todo"))?,
            lead_id: input.lead_id,
            deal_id: input.deal_id,
            customer_id: input.customer_id,
            due_at,
            source: source.clone(),
            created_by: actor.to_string(),
        };
        let txn = self.db.begin().await?;
        let Some(created) = store::insert(&txn, &task, now).await? else {
            txn.rollback().await?;
            let existing = store::list(
                &self.db,
                &store::Filter {
                    source,
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?;
            return existing
                .into_iter()
                .next()
                .map(|task| (task, false))
                .ok_or_else(|| TaskError::Invalid("the task's reference is taken".into()));
        };
        self.created(&txn, &created, actor, now).await?;
        txn.commit().await?;
        Ok((created, true))
    }

    /// Records a task just stored.
    pub(super) async fn created(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        task: &TaskRow,
        actor: &str,
        now: i64,
    ) -> Result<(), TaskError> {
        let detail = json!({
            "title": task.title, "kind": task.kind, "assignee": task.assignee,
            "due_at": task.due_at, "source": task.source,
        });
        self.record(
            db,
            Record {
                subject: ("task", task.id.to_string()),
                action: "task.created",
                actor,
                detail,
                tenant: &task.tenant,
                webhook: Some("task.created"),
            },
            now,
        )
        .await?;
        Ok(())
    }

    /// The open tasks of `assignee`, soonest due first, at most `limit`, and how many are
    /// open in all.
    pub async fn open_for(
        &self,
        tenant: &str,
        platform: &str,
        assignee: &str,
        limit: u64,
    ) -> Result<(Vec<TaskRow>, u64), TaskError> {
        let (tasks, total) = store::open_of(&self.db, tenant, platform, assignee, limit).await?;
        Ok((tasks, total))
    }

    /// Marks task `id` done by `by`, then runs the task rules for its kind (stage moves and
    /// next tasks), all in one transaction.
    pub async fn complete(&self, id: i64, by: &str, now: i64) -> Result<TaskRow, TaskError> {
        let txn = self.db.begin().await?;
        let task = self.lock_open(&txn, id).await?;
        let done = store::complete(&txn, task.id, now)
            .await?
            .ok_or(TaskError::NotOpen(id))?;
        self.record(
            &txn,
            Record {
                subject: ("task", done.id.to_string()),
                action: "task.completed",
                actor: by,
                detail: json!({ "kind": done.kind, "assignee": done.assignee }),
                tenant: &done.tenant,
                webhook: Some("task.completed"),
            },
            now,
        )
        .await?;
        self.after_done(&txn, &done, now).await?;
        txn.commit().await?;
        Ok(done)
    }

    /// Moves task `id` to be due at `until`; its reminders start over from there.
    pub async fn snooze(
        &self,
        id: i64,
        by: &str,
        until: i64,
        now: i64,
    ) -> Result<TaskRow, TaskError> {
        if until <= now {
            return Err(TaskError::Invalid(
                "a task is snoozed to a later time".into(),
            ));
        }
        let txn = self.db.begin().await?;
        let task = self.lock_open(&txn, id).await?;
        let snoozed = store::snooze(&txn, task.id, until, now)
            .await?
            .ok_or(TaskError::NotOpen(id))?;
        self.record(
            &txn,
            Record {
                subject: ("task", snoozed.id.to_string()),
                action: "task.snoozed",
                actor: by,
                detail: json!({ "from": task.due_at, "until": until }),
                tenant: &snoozed.tenant,
                webhook: None,
            },
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(snoozed)
    }

    /// Applies `patch` to task `id`.
    pub async fn update(
        &self,
        id: i64,
        patch: &TaskPatch,
        by: &str,
        now: i64,
    ) -> Result<TaskRow, TaskError> {
        let change = store::Change {
            title: patch.title.as_deref().map(title).transpose()?,
            note: patch.note.as_ref().map(|n| n.trim().to_string()),
            assignee: patch
                .assignee
                .as_deref()
                .map(|a| word("assignee", a))
                .transpose()?,
            due_at: match patch.due_at {
                Some(at) if at <= 0 => {
                    return Err(TaskError::Invalid("`due_at` is epoch ms after 1970".into()));
                }
                at => at,
            },
        };
        let closing = match patch.state.as_deref() {
            None | Some(state::OPEN) => None,
            Some(to @ (state::DONE | state::CANCELLED)) => Some(to),
            Some(other) => {
                return Err(TaskError::Invalid(format!(
                    "`state` must be done or cancelled, not `{other}`"
                )));
            }
        };
        let changes = change.title.is_some()
            || change.note.is_some()
            || change.assignee.is_some()
            || change.due_at.is_some();
        let mut task = None;
        if changes {
            let txn = self.db.begin().await?;
            let before = self.lock_open(&txn, id).await?;
            let after = store::update(&txn, id, &change, now)
                .await?
                .ok_or(TaskError::NotOpen(id))?;
            let detail = json!({
                "title": patch.title, "note": patch.note.is_some(),
                "assignee": patch.assignee, "due_at": patch.due_at,
                "previous_assignee": before.assignee, "previous_due_at": before.due_at,
            });
            self.record(
                &txn,
                Record {
                    subject: ("task", id.to_string()),
                    action: "task.updated",
                    actor: by,
                    detail,
                    tenant: &after.tenant,
                    webhook: None,
                },
                now,
            )
            .await?;
            txn.commit().await?;
            task = Some(after);
        }
        match closing {
            Some(state::DONE) => self.complete(id, by, now).await,
            Some(_) => self.cancel(id, by, now).await,
            None => match task {
                Some(task) => Ok(task),
                None => store::get(&self.db, id)
                    .await?
                    .ok_or(TaskError::NotFound(id)),
            },
        }
    }

    /// Cancels task `id`.
    pub async fn cancel(&self, id: i64, by: &str, now: i64) -> Result<TaskRow, TaskError> {
        let txn = self.db.begin().await?;
        self.lock_open(&txn, id).await?;
        let cancelled = store::cancel(&txn, id, now)
            .await?
            .ok_or(TaskError::NotOpen(id))?;
        self.record(
            &txn,
            Record {
                subject: ("task", id.to_string()),
                action: "task.cancelled",
                actor: by,
                detail: json!({ "assignee": cancelled.assignee }),
                tenant: &cancelled.tenant,
                webhook: None,
            },
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(cancelled)
    }

    /// Task `id` locked for this transaction; an error unless it exists and is open.
    async fn lock_open(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        id: i64,
    ) -> Result<TaskRow, TaskError> {
        let task = store::lock(txn, id).await?.ok_or(TaskError::NotFound(id))?;
        if !task.is_open() {
            return Err(TaskError::NotOpen(id));
        }
        Ok(task)
    }
}

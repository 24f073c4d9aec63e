//! Tasks in the database.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;

use super::state;
use crate::pipeline::queue::stmt;

/// The columns read into [`TaskRow`].
const COLUMNS: &str = "id, tenant, platform, assignee, title, note, kind, lead_id, deal_id, \
                       customer_id, state, due_at, created_at, updated_at, done_at, source, \
                       reminders_sent, next_remind_at, escalated_at, created_by";

/// A task to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub tenant: String,
    /// `wecom` or `dingtalk`: where the assignee is reminded.
    pub platform: String,
    pub assignee: String,
    pub title: String,
    pub note: String,
    /// What kind of work: `first_contact`, `follow_up`, `call`, ...; rules match on it.
    pub kind: String,
    pub lead_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub due_at: i64,
    /// What created the task, unique: the same source makes no second task.
    pub source: Option<String>,
    /// Who or what created it: a user id, `api`, `rule:<name>`, `assignment`.
    pub created_by: String,
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, FromQueryResult, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub tenant: String,
    pub platform: String,
    pub assignee: String,
    pub title: String,
    pub note: String,
    pub kind: String,
    pub lead_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub state: String,
    pub due_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub done_at: Option<i64>,
    pub source: Option<String>,
    pub reminders_sent: i32,
    /// When the overdue scan looks at the task next; `None` once it is not chased.
    pub next_remind_at: Option<i64>,
    pub escalated_at: Option<i64>,
    pub created_by: String,
}

impl TaskRow {
    pub fn is_open(&self) -> bool {
        self.state == state::OPEN
    }
}

/// Stores `task`, open and due at `due_at`, when no task has its `source` yet; `None` when
/// one has (nothing is written then).
pub async fn insert(
    db: &impl ConnectionTrait,
    task: &NewTask,
    now: i64,
) -> Result<Option<TaskRow>, DbErr> {
    let sql = format!(
        "INSERT INTO task (tenant, platform, assignee, title, note, kind, lead_id, deal_id, \
         customer_id, state, due_at, created_at, updated_at, source, reminders_sent, \
         next_remind_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, 0, $11, $14) \
         ON CONFLICT (source) DO NOTHING RETURNING {COLUMNS}"
    );
    let row = db
        .query_one_raw(stmt(
            db,
            &sql,
            [
                task.tenant.as_str().into(),
                task.platform.as_str().into(),
                task.assignee.as_str().into(),
                task.title.as_str().into(),
                task.note.as_str().into(),
                task.kind.as_str().into(),
                task.lead_id.into(),
                task.deal_id.into(),
                task.customer_id.into(),
                state::OPEN.into(),
                task.due_at.into(),
                now.into(),
                task.source.clone().into(),
                task.created_by.as_str().into(),
            ],
        ))
        .await?;
    row.map(|row| TaskRow::from_query_result(&row, ""))
        .transpose()
}

/// The task with `id`.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<TaskRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM task WHERE id = $1");
    let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
    row.map(|row| TaskRow::from_query_result(&row, ""))
        .transpose()
}

/// The task with `id`, locked until the transaction `db` ends (PostgreSQL row lock; on SQLite
/// the no-op write takes the database's write lock). Changes that read a task and then decide
/// go through this, so that two of them at once decide one after the other.
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<TaskRow>, DbErr> {
    let sql = format!("UPDATE task SET id = id WHERE id = $1 RETURNING {COLUMNS}");
    let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
    row.map(|row| TaskRow::from_query_result(&row, ""))
        .transpose()
}

/// Open tasks per assignee of `tenant`, for each of `assignees` (zero included).
pub async fn open_counts(
    db: &impl ConnectionTrait,
    tenant: &str,
    assignees: &[String],
) -> Result<HashMap<String, i64>, DbErr> {
    let mut counts: HashMap<String, i64> = assignees.iter().map(|a| (a.clone(), 0)).collect();
    if assignees.is_empty() {
        return Ok(counts);
    }
    let placeholders = (0..assignees.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT assignee, COUNT(*) AS open FROM task \
         WHERE tenant = $1 AND state = $2 AND assignee IN ({placeholders}) GROUP BY assignee"
    );
    let mut values: Vec<Value> = vec![tenant.into(), state::OPEN.into()];
    values.extend(assignees.iter().map(|a| Value::from(a.as_str())));
    for row in db.query_all_raw(stmt(db, &sql, values)).await? {
        let assignee: String = row.try_get("", "assignee")?;
        let open: i64 = row.try_get("", "open")?;
        counts.insert(assignee, open);
    }
    Ok(counts)
}

/// Marks the open task `id` done at `now` and stops chasing it. `None` when it is not open
/// (done, cancelled or unknown): nothing changes then.
pub async fn complete(
    db: &impl ConnectionTrait,
    id: i64,
    now: i64,
) -> Result<Option<TaskRow>, DbErr> {
    close(db, id, state::DONE, now).await
}

/// Cancels the open task `id` (its lead went to someone else, its deal closed).
pub async fn cancel(
    db: &impl ConnectionTrait,
    id: i64,
    now: i64,
) -> Result<Option<TaskRow>, DbErr> {
    close(db, id, state::CANCELLED, now).await
}

async fn close(
    db: &impl ConnectionTrait,
    id: i64,
    to: &str,
    now: i64,
) -> Result<Option<TaskRow>, DbErr> {
    let sql = format!(
        "UPDATE task SET state = $2, done_at = $3, updated_at = $3, next_remind_at = NULL \
         WHERE id = $1 AND state = $4 RETURNING {COLUMNS}"
    );
    let row = db
        .query_one_raw(stmt(
            db,
            &sql,
            [id.into(), to.into(), now.into(), state::OPEN.into()],
        ))
        .await?;
    row.map(|row| TaskRow::from_query_result(&row, ""))
        .transpose()
}

/// Moves the open task `id` to be due at `until` and starts its reminders over from there.
/// `None` when it is not open.
pub async fn snooze(
    db: &impl ConnectionTrait,
    id: i64,
    until: i64,
    now: i64,
) -> Result<Option<TaskRow>, DbErr> {
    let sql = format!(
        "UPDATE task SET due_at = $2, next_remind_at = $2, reminders_sent = 0, \
         escalated_at = NULL, updated_at = $3 WHERE id = $1 AND state = $4 RETURNING {COLUMNS}"
    );
    let row = db
        .query_one_raw(stmt(
            db,
            &sql,
            [id.into(), until.into(), now.into(), state::OPEN.into()],
        ))
        .await?;
    row.map(|row| TaskRow::from_query_result(&row, ""))
        .transpose()
}

/// Which tasks [`list`] returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tenant: Option<String>,
    pub assignee: Option<String>,
    pub state: Option<String>,
    pub lead_id: Option<i64>,
    pub deal_id: Option<i64>,
    /// Only tasks due before this time.
    pub due_before: Option<i64>,
    /// Only the task with this source.
    pub source: Option<String>,
    /// Only tasks with an id above this (the previous page's last).
    pub after_id: Option<i64>,
    pub limit: u64,
}

/// Tasks matching `filter`, by due time then id for open tasks listed per person, by id
/// otherwise (so that `after_id` pages through them).
pub async fn list(db: &impl ConnectionTrait, filter: &Filter) -> Result<Vec<TaskRow>, DbErr> {
    let mut conditions = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut add = |condition: &str, value: Value| {
        values.push(value);
        conditions.push(condition.replace('?', &format!("${}", values.len())));
    };
    if let Some(tenant) = &filter.tenant {
        add("tenant = ?", tenant.as_str().into());
    }
    if let Some(assignee) = &filter.assignee {
        add("assignee = ?", assignee.as_str().into());
    }
    if let Some(state) = &filter.state {
        add("state = ?", state.as_str().into());
    }
    if let Some(lead) = filter.lead_id {
        add("lead_id = ?", lead.into());
    }
    if let Some(deal) = filter.deal_id {
        add("deal_id = ?", deal.into());
    }
    if let Some(before) = filter.due_before {
        add("due_at < ?", before.into());
    }
    if let Some(source) = &filter.source {
        add("source = ?", source.as_str().into());
    }
    if let Some(after) = filter.after_id {
        add("id > ?", after.into());
    }
    let condition = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM task {condition} ORDER BY id LIMIT {}",
        filter.limit.max(1)
    );
    db.query_all_raw(stmt(db, &sql, values))
        .await?
        .iter()
        .map(|row| TaskRow::from_query_result(row, ""))
        .collect()
}

/// What [`update`] changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub title: Option<String>,
    pub note: Option<String>,
    pub assignee: Option<String>,
    /// A new due time also restarts the reminders from it.
    pub due_at: Option<i64>,
}

/// Applies `change` to the open task `id`; `None` when it is not open.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    change: &Change,
    now: i64,
) -> Result<Option<TaskRow>, DbErr> {
    let sql = format!(
        "UPDATE task SET title = COALESCE($2, title), note = COALESCE($3, note), \
         assignee = COALESCE($4, assignee), \
         due_at = COALESCE($5, due_at), \
         next_remind_at = CASE WHEN $5 IS NULL THEN next_remind_at ELSE $5 END, \
         reminders_sent = CASE WHEN $5 IS NULL THEN reminders_sent ELSE 0 END, \
         escalated_at = CASE WHEN $5 IS NULL THEN escalated_at ELSE NULL END, \
         updated_at = $6 WHERE id = $1 AND state = $7 RETURNING {COLUMNS}"
    );
    let row = db
        .query_one_raw(stmt(
            db,
            &sql,
            [
                id.into(),
                change.title.clone().into(),
                change.note.clone().into(),
                change.assignee.clone().into(),
                change.due_at.into(),
                now.into(),
                state::OPEN.into(),
            ],
        ))
        .await?;
    row.map(|row| TaskRow::from_query_result(&row, ""))
        .transpose()
}

/// The open tasks of `assignee` on `platform`, soonest due first, at most `limit`; and how
/// many are open in all.
pub async fn open_of(
    db: &impl ConnectionTrait,
    tenant: &str,
    platform: &str,
    assignee: &str,
    limit: u64,
) -> Result<(Vec<TaskRow>, u64), DbErr> {
    let values = || -> Vec<Value> {
        vec![
            tenant.into(),
            platform.into(),
            assignee.into(),
            state::OPEN.into(),
        ]
    };
    let condition = "tenant = $1 AND platform = $2 AND assignee = $3 AND state = $4";
    let sql = format!(
        "SELECT {COLUMNS} FROM task WHERE {condition} ORDER BY due_at, id LIMIT {}",
        limit.max(1)
    );
    let tasks = db
        .query_all_raw(stmt(db, &sql, values()))
        .await?
        .iter()
        .map(|row| TaskRow::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    let count_sql = format!("SELECT COUNT(*) AS open FROM task WHERE {condition}");
    let total: i64 = match db.query_one_raw(stmt(db, &count_sql, values())).await? {
        Some(row) => row.try_get("", "open")?,
        None => 0,
    };
    Ok((tasks, total.max(0) as u64))
}

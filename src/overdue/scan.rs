//! The overdue scan's SQL: the tasks whose next look has come (through the partial index
//! `ix_task_scan`), and the compare-and-set that moves one task on to its next step, so that
//! of several instances looking at the same task exactly one acts.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};

use crate::pipeline::queue::stmt;

/// A task the scan looks at: what the cards show and where its schedule stands.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DueTask {
    pub id: i64,
    pub tenant: String,
    pub platform: String,
    pub assignee: String,
    pub title: String,
    pub note: String,
    pub lead_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub due_at: i64,
    /// Steps of the policy done so far (reminders and escalations alike).
    pub reminders_sent: i32,
    pub next_remind_at: i64,
}

/// The due query: the tasks whose `next_remind_at` has come, earliest first. Only open tasks
/// have a `next_remind_at`, so the index holds just them and the query reads nothing else.
pub const DUE_SQL: &str = "SELECT id, tenant, platform, assignee, title, note, lead_id, customer_id, \
     due_at, reminders_sent, next_remind_at FROM task \
     WHERE next_remind_at <= $1 ORDER BY next_remind_at LIMIT $2";

/// Up to `limit` tasks whose next look is at or before `now`.
pub async fn due(db: &impl ConnectionTrait, now: i64, limit: u64) -> Result<Vec<DueTask>, DbErr> {
    let rows = db
        .query_all_raw(stmt(db, DUE_SQL, [now.into(), (limit as i64).into()]))
        .await?;
    rows.iter()
        .map(|row| DueTask::from_query_result(row, ""))
        .collect()
}

/// Where a task's schedule goes from what the scan saw.
#[derive(Debug, Clone, Copy)]
pub struct Advance {
    pub steps_done: i32,
    /// `None` once the policy has nothing more for the task.
    pub next_remind_at: Option<i64>,
    /// Set when this step escalates.
    pub escalated_at: Option<i64>,
}

/// Moves `task` to `to` if it is still open and still where the scan saw it (same step count,
/// same next look): `false` when another instance got there first, or the task was done,
/// cancelled or snoozed since. The first statement of its transaction, so that on SQLite the
/// transaction holds the write lock before it reads anything else.
pub async fn advance(
    db: &impl ConnectionTrait,
    task: &DueTask,
    to: Advance,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE task SET reminders_sent = $1, next_remind_at = $2, \
             escalated_at = COALESCE($3, escalated_at) \
             WHERE id = $4 AND state = 'open' AND reminders_sent = $5 AND next_remind_at = $6",
            [
                to.steps_done.into(),
                to.next_remind_at.into(),
                to.escalated_at.into(),
                task.id.into(),
                task.reminders_sent.into(),
                task.next_remind_at.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes a task that is no longer open off the scan. Closing a task clears its next look;
/// this keeps one that was closed some other way from being looked at on every tick.
pub async fn retire_closed(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE task SET next_remind_at = NULL WHERE id = $1 AND state <> 'open' \
         AND next_remind_at IS NOT NULL",
        [id.into()],
    ))
    .await?;
    Ok(())
}

/// Who the task is for, as cards name them: the linked customer's name and company, else
/// the linked lead's; empty when neither is linked.
pub async fn customer(
    db: &impl ConnectionTrait,
    task: &DueTask,
) -> Result<(String, String), DbErr> {
    let (sql, id) = match (task.customer_id, task.lead_id) {
        (Some(id), _) => (
            "SELECT name, COALESCE(corp_full_name, corp_name, '') AS company FROM customer \
             WHERE id = $1",
            id,
        ),
        (None, Some(id)) => (
            "SELECT name, COALESCE(company, '') AS company FROM lead WHERE id = $1",
            id,
        ),
        (None, None) => return Ok(Default::default()),
    };
    let row = db.query_one_raw(stmt(db, sql, [Value::from(id)])).await?;
    Ok(row
        .map(|row| {
            (
                row.try_get::<String>("", "name").unwrap_or_default(),
                row.try_get::<String>("", "company").unwrap_or_default(),
            )
        })
        .unwrap_or_default())
}

//! The `approval` and `approval_step` tables: a request, where it stands, and one step per
//! approver and level for the decisions.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use crate::pipeline::queue::stmt;

/// Approval states.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    pub const WITHDRAWN: &str = "withdrawn";
}

/// A request to record, with its levels already resolved to user ids.
#[derive(Debug, Clone)]
pub struct NewApproval {
    pub tenant: String,
    pub platform: String,
    pub kind: String,
    pub title: String,
    pub requester: String,
    /// How cards name the requester.
    pub requester_name: String,
    pub amount: f64,
    pub discount_pct: f64,
    pub subject_type: String,
    pub subject_id: String,
    pub fields: serde_json::Value,
    pub link: Option<String>,
    /// The rule that routed it.
    pub rule: String,
    /// Per level, in order: the approvers and `any` or `all`.
    pub levels: Vec<(Vec<String>, String)>,
}

/// A stored approval.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct ApprovalRow {
    pub id: i64,
    pub tenant: String,
    pub platform: String,
    pub kind: String,
    pub title: String,
    pub requester: String,
    pub requester_name: String,
    pub amount: f64,
    pub discount_pct: f64,
    pub subject_type: String,
    pub subject_id: String,
    pub fields: String,
    pub link: Option<String>,
    pub rule: String,
    pub current_level: i32,
    pub level_count: i32,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub decided_at: Option<i64>,
}

/// One approver's step on one level.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct StepRow {
    pub level: i32,
    pub mode: String,
    pub approver: String,
    pub decision: Option<String>,
    pub decided_at: Option<i64>,
    pub card_key: Option<String>,
    /// When the request card was enqueued: the start of the reminder and escalation clocks.
    pub asked_at: Option<i64>,
    pub reminded_at: Option<i64>,
    pub reminder_key: Option<String>,
    pub escalated_at: Option<i64>,
    /// For a manager an idle approver's step was escalated to: that approver.
    pub stands_for: Option<String>,
}

impl StepRow {
    /// The cards this step was sent: the request, and the reminder if one went out.
    pub fn card_keys(&self) -> impl Iterator<Item = &str> {
        self.card_key
            .iter()
            .chain(self.reminder_key.iter())
            .map(String::as_str)
    }
}

/// Records a pending approval at its first level and a step per approver of every level.
pub async fn insert(
    db: &impl ConnectionTrait,
    approval: &NewApproval,
    now: i64,
) -> Result<i64, DbErr> {
    let level_count = i32::try_from(approval.levels.len()).unwrap_or(i32::MAX);
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO approval (tenant, platform, kind, title, requester, amount, discount_pct, \
             subject_type, subject_id, fields, link, rule, current_level, level_count, status, \
             created_at, updated_at, requester_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14, $15, $15, $16) \
             RETURNING id",
            [
                approval.tenant.clone().into(),
                approval.platform.clone().into(),
                approval.kind.clone().into(),
                approval.title.clone().into(),
                approval.requester.clone().into(),
                approval.amount.into(),
                approval.discount_pct.into(),
                approval.subject_type.clone().into(),
                approval.subject_id.clone().into(),
                approval.fields.to_string().into(),
                approval.link.clone().into(),
                approval.rule.clone().into(),
                level_count.into(),
                status::PENDING.into(),
                now.into(),
                approval.requester_name.clone().into(),
            ],
        ))
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    let id: i64 = row.try_get("", "id")?;
    for (index, (approvers, mode)) in approval.levels.iter().enumerate() {
        let level = i32::try_from(index + 1).unwrap_or(i32::MAX);
        for approver in approvers {
            db.execute_raw(stmt(
                db,
                "INSERT INTO approval_step (approval_id, level, mode, approver) \
                 VALUES ($1, $2, $3, $4)",
                [
                    id.into(),
                    level.into(),
                    mode.clone().into(),
                    approver.clone().into(),
                ],
            ))
            .await?;
        }
    }
    Ok(id)
}

const COLUMNS: &str = "id, tenant, platform, kind, title, requester, requester_name, amount, \
                       discount_pct, \
                       subject_type, subject_id, fields, link, rule, current_level, level_count, \
                       status, created_at, updated_at, decided_at";

/// The approval `id`.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<ApprovalRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM approval WHERE id = $1");
    ApprovalRow::find_by_statement(stmt(db, &sql, [id.into()]))
        .one(db)
        .await
}

/// Every step of the approval `id`, by level and approver.
pub async fn steps(db: &impl ConnectionTrait, id: i64) -> Result<Vec<StepRow>, DbErr> {
    StepRow::find_by_statement(stmt(
        db,
        "SELECT level, mode, approver, decision, decided_at, card_key, asked_at, reminded_at, \
         reminder_key, escalated_at, stands_for FROM approval_step \
         WHERE approval_id = $1 ORDER BY level, id",
        [id.into()],
    ))
    .all(db)
    .await
}

/// Records which card asks `approver` to decide `level`, and when it was asked.
pub async fn set_card(
    db: &impl ConnectionTrait,
    approval_id: i64,
    level: i32,
    approver: &str,
    card_key: &str,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE approval_step SET card_key = $4, asked_at = $5 WHERE approval_id = $1 \
         AND level = $2 AND approver = $3",
        [
            approval_id.into(),
            level.into(),
            approver.into(),
            card_key.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Records the reminder card sent to `approver` for `level`.
pub async fn set_reminder(
    db: &impl ConnectionTrait,
    approval_id: i64,
    level: i32,
    approver: &str,
    reminder_key: &str,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE approval_step SET reminder_key = $4, reminded_at = $5 WHERE approval_id = $1 \
         AND level = $2 AND approver = $3",
        [
            approval_id.into(),
            level.into(),
            approver.into(),
            reminder_key.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Marks `approver`'s step of `level` escalated, unless it was already (or was decided).
/// Returns whether this call marked it: of two instances escalating at once, one does.
pub async fn mark_escalated(
    db: &impl ConnectionTrait,
    approval_id: i64,
    level: i32,
    approver: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE approval_step SET escalated_at = $4 WHERE approval_id = $1 AND level = $2 \
             AND approver = $3 AND escalated_at IS NULL AND decision IS NULL",
            [
                approval_id.into(),
                level.into(),
                approver.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Adds `manager` to `level` in place of the idle `approver`. Returns `false` when the
/// manager is an approver of the level already (they have a card; nothing to add).
pub async fn add_stand_in(
    db: &impl ConnectionTrait,
    approval_id: i64,
    level: i32,
    mode: &str,
    manager: &str,
    approver: &str,
) -> Result<bool, DbErr> {
    let exists = db
        .query_one_raw(stmt(
            db,
            "SELECT 1 AS one FROM approval_step WHERE approval_id = $1 AND level = $2 \
             AND approver = $3",
            [approval_id.into(), level.into(), manager.into()],
        ))
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    db.execute_raw(stmt(
        db,
        "INSERT INTO approval_step (approval_id, level, mode, approver, stands_for) \
         VALUES ($1, $2, $3, $4, $5)",
        [
            approval_id.into(),
            level.into(),
            mode.into(),
            manager.into(),
            approver.into(),
        ],
    ))
    .await?;
    Ok(true)
}

/// The approval `id`, locked until the transaction ends, so that taps, withdrawals and
/// reminders on one approval are decided one after the other. PostgreSQL locks the row. On
/// SQLite the transaction takes the database's write lock with a no-op write first: a
/// transaction that read first and wrote later would fail at once ("database is locked") if
/// another connection wrote in between, where a first write waits out the busy timeout.
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<ApprovalRow>, DbErr> {
    let lock = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => " FOR UPDATE",
        _ => {
            db.execute_raw(stmt(
                db,
                "UPDATE approval SET id = id WHERE id = $1",
                [id.into()],
            ))
            .await?;
            ""
        }
    };
    let sql = format!("SELECT {COLUMNS} FROM approval WHERE id = $1{lock}");
    ApprovalRow::find_by_statement(stmt(db, &sql, [id.into()]))
        .one(db)
        .await
}

/// Records `approver`'s decision on `level` unless they decided already. Returns whether it
/// was recorded.
pub async fn decide_step(
    db: &impl ConnectionTrait,
    approval_id: i64,
    level: i32,
    approver: &str,
    decision: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE approval_step SET decision = $4, decided_at = $5 WHERE approval_id = $1 \
             AND level = $2 AND approver = $3 AND decision IS NULL",
            [
                approval_id.into(),
                level.into(),
                approver.into(),
                decision.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Moves the approval to `level`.
pub async fn advance(
    db: &impl ConnectionTrait,
    approval_id: i64,
    level: i32,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE approval SET current_level = $2, updated_at = $3 WHERE id = $1",
        [approval_id.into(), level.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Ends the approval with `status`.
pub async fn finish(
    db: &impl ConnectionTrait,
    approval_id: i64,
    status: &str,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE approval SET status = $2, decided_at = $3, updated_at = $3 WHERE id = $1",
        [approval_id.into(), status.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// A step of a pending approval's current level that is still open.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OpenStep {
    pub approval_id: i64,
    pub level: i32,
    pub approver: String,
    pub asked_at: i64,
    pub reminded_at: Option<i64>,
    pub escalated_at: Option<i64>,
    pub stands_for: Option<String>,
}

/// Open steps of pending approvals' current levels that are due a reminder (asked at or before
/// `remind_before`, none sent yet) or an escalation (an approver's own step asked at or before
/// `escalate_before`, not escalated yet). `None` turns either off. At most `limit`, oldest first.
pub async fn due_steps(
    db: &impl ConnectionTrait,
    remind_before: Option<i64>,
    escalate_before: Option<i64>,
    limit: u64,
) -> Result<Vec<OpenStep>, DbErr> {
    let never = i64::MIN;
    OpenStep::find_by_statement(stmt(
        db,
        "SELECT s.approval_id, s.level, s.approver, s.asked_at, s.reminded_at, \
         s.escalated_at, s.stands_for FROM approval a \
         JOIN approval_step s ON s.approval_id = a.id AND s.level = a.current_level \
         WHERE a.status = $1 AND s.decision IS NULL AND s.asked_at IS NOT NULL \
         AND ((s.reminded_at IS NULL AND s.asked_at <= $2) \
           OR (s.escalated_at IS NULL AND s.stands_for IS NULL AND s.asked_at <= $3)) \
         ORDER BY s.asked_at LIMIT $4",
        [
            status::PENDING.into(),
            remind_before.unwrap_or(never).into(),
            escalate_before.unwrap_or(never).into(),
            (limit as i64).into(),
        ],
    ))
    .all(db)
    .await
}

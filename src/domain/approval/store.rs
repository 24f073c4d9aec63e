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
        "SELECT level, mode, approver, decision, decided_at, card_key FROM approval_step \
         WHERE approval_id = $1 ORDER BY level, id",
        [id.into()],
    ))
    .all(db)
    .await
}

/// Records which card asks `approver` to decide `level`.
pub async fn set_card(
    db: &impl ConnectionTrait,
    approval_id: i64,
    level: i32,
    approver: &str,
    card_key: &str,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE approval_step SET card_key = $4 WHERE approval_id = $1 AND level = $2 \
         AND approver = $3",
        [
            approval_id.into(),
            level.into(),
            approver.into(),
            card_key.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The approval `id`, locked until the transaction ends (PostgreSQL; SQLite's transaction holds
/// the database's write lock anyway), so two taps on one approval are decided one after the other.
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<ApprovalRow>, DbErr> {
    let lock = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => " FOR UPDATE",
        _ => "",
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

//! The audit log: operators' actions and decisions that must stay traceable.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use crate::pipeline::queue::stmt;

/// One audit entry.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct Entry {
    pub id: i64,
    /// Epoch milliseconds.
    pub at: i64,
    /// Who: `admin-api`, a platform user id, `system`.
    pub actor: String,
    /// What, e.g. `inbox.replay`.
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    /// Details as JSON.
    pub detail: String,
}

/// Appends an entry, normally in the transaction of the change it records.
pub async fn record(
    db: &impl ConnectionTrait,
    at: i64,
    actor: &str,
    action: &str,
    subject: (&str, &str),
    detail: &serde_json::Value,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        [at.into(), actor.into(), action.into(), subject.0.into(), subject.1.into(), detail.to_string().into()],
    ))
    .await?;
    Ok(())
}

/// Entries about one subject, newest first.
pub async fn for_subject(
    db: &impl ConnectionTrait,
    subject_type: &str,
    subject_id: &str,
) -> Result<Vec<Entry>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT id, at, actor, action, subject_type, subject_id, detail FROM audit_log \
             WHERE subject_type = $1 AND subject_id = $2 ORDER BY id DESC",
            [subject_type.into(), subject_id.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Entry::from_query_result(row, ""))
        .collect()
}

/// The oldest entry of `action` by `actor`, if any: how a command that may run again (a
/// redelivered message) finds what it did the first time. The column has no index; this is
/// asked at the pace people type.
pub async fn first_by_actor(
    db: &impl ConnectionTrait,
    actor: &str,
    action: &str,
) -> Result<Option<Entry>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id, at, actor, action, subject_type, subject_id, detail FROM audit_log \
             WHERE actor = $1 AND action = $2 ORDER BY id LIMIT 1",
            [actor.into(), action.into()],
        ))
        .await?;
    row.map(|row| Entry::from_query_result(&row, ""))
        .transpose()
}

//! An operator puts a parked event or a dead message back in its queue: the one path shared
//! by the admin API and the command line, audited in the same transaction.

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use serde_json::json;

use super::queue::Queue;
use crate::audit;

/// What became of a request to put a row back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requeued {
    /// Pending again, due now.
    Done,
    NotFound,
    /// The row is in this state, not the failed one, so it was left alone.
    NotFailed(String),
}

/// Puts row `id` of `queue` back, due at `now` with a fresh attempt count, if it is in the
/// queue's failed state; records `actor` in the audit log.
pub async fn requeue(
    db: &DatabaseConnection,
    queue: &Queue,
    id: i64,
    actor: &str,
    now: i64,
) -> Result<Requeued, DbErr> {
    let txn = db.begin().await?;
    if !queue.requeue(&txn, id, now).await? {
        return Ok(match queue.state_of(&txn, id).await? {
            None => Requeued::NotFound,
            Some(current) => Requeued::NotFailed(current),
        });
    }
    let action = format!("{}.requeue", queue.table);
    audit::record(
        &txn,
        now,
        actor,
        &action,
        (queue.table, &id.to_string()),
        &json!({}),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(queue = queue.table, id, actor, "put back in the queue");
    Ok(Requeued::Done)
}

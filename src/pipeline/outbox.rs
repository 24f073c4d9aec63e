//! The outbox table: messages to send, written in the transaction of the change that causes
//! them, each with an idempotency key so that no person is shown the same message twice.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use super::queue::{Queue, stmt};

/// Row states.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    /// Failed permanently or too often: kept for an operator to read and retry.
    pub const DEAD: &str = "dead";
    pub const ALL: [&str; 3] = [PENDING, SENT, DEAD];
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Unique per (message kind, subject, recipient, version): enqueuing the same key again is
    /// a no-op, so a replayed event never sends twice.
    pub idempotency_key: String,
    pub platform: String,
    pub tenant: String,
    /// What is sent, e.g. `card.approval_request`; the platform glue reads it.
    pub kind: String,
    pub payload: serde_json::Value,
    /// Not before this time (epoch ms); `None` = as soon as possible.
    pub not_before: Option<i64>,
    /// Due messages are claimed highest priority first: [`PRIORITY_URGENT`] for a message that
    /// must leave within seconds (a welcome message's code expires after 20 s).
    pub priority: i32,
}

/// The priority of ordinary messages.
pub const PRIORITY_NORMAL: i32 = 0;
/// The priority of messages that must not wait behind a backlog.
pub const PRIORITY_URGENT: i32 = 10;

/// The result of enqueuing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New(i64),
    /// A message with this idempotency key exists already; nothing was written.
    Duplicate,
}

/// A stored message.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub idempotency_key: String,
    pub platform: String,
    pub tenant: String,
    pub kind: String,
    pub payload: String,
    pub priority: i32,
    pub state: String,
    /// Claims so far, including the current one.
    pub attempts: i32,
    pub last_error: Option<String>,
    /// What the platform answered on success (e.g. its message id), as JSON.
    pub receipt: Option<String>,
    pub available_at: i64,
    pub inbox_id: Option<i64>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl OutboxMessage {
    pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

const COLUMNS: &str = "id, idempotency_key, platform, tenant, kind, payload, priority, state, \
                       attempts, last_error, receipt, available_at, inbox_id, created_at, \
                       finished_at";

/// Enqueues `message` on `db`, normally the transaction of the change that causes it.
/// `inbox_id` records which event caused it, when one did.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    message: &NewMessage,
    inbox_id: Option<i64>,
    now: i64,
) -> Result<Enqueued, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO outbox (idempotency_key, platform, tenant, kind, payload, priority, state, \
             attempts, available_at, inbox_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $9, 'pending', 0, $6, $7, $8) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            [
                message.idempotency_key.clone().into(),
                message.platform.clone().into(),
                message.tenant.clone().into(),
                message.kind.clone().into(),
                message.payload.to_string().into(),
                message.not_before.unwrap_or(now).into(),
                inbox_id.into(),
                now.into(),
                message.priority.into(),
            ],
        ))
        .await?;
    match row {
        Some(row) => Ok(Enqueued::New(row.try_get("", "id")?)),
        None => Ok(Enqueued::Duplicate),
    }
}

/// Whether a message was enqueued under `idempotency_key` (and not yet purged).
pub async fn exists(db: &impl ConnectionTrait, idempotency_key: &str) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id FROM outbox WHERE idempotency_key = $1",
            [idempotency_key.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// The outbox as a leased queue: due messages, most urgent first, then oldest first.
pub const QUEUE: Queue = Queue {
    table: "outbox",
    columns: COLUMNS,
    order_by: "priority DESC, available_at, id",
    failed_state: state::DEAD,
};

/// Claims up to `limit` due messages for `owner` until `now + lease_ms`, most urgent first,
/// then oldest first.
pub async fn claim(
    db: &impl ConnectionTrait,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<OutboxMessage>, DbErr> {
    let mut messages: Vec<OutboxMessage> = QUEUE.claim(db, owner, now, lease_ms, limit).await?;
    messages.sort_by_key(|m| (std::cmp::Reverse(m.priority), m.available_at, m.id));
    Ok(messages)
}

/// Marks a claimed message sent with the platform's receipt, if `owner` still holds it.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    receipt: &serde_json::Value,
    now: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE outbox SET state = 'sent', receipt = $3, finished_at = $4, last_error = NULL, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
            [
                id.into(),
                owner.into(),
                receipt.to_string().into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts a dead message back in the queue, due now, with a fresh attempt count.
pub async fn retry(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<bool, DbErr> {
    QUEUE.requeue(db, id, now).await
}

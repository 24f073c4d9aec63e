//! The inbox table: received platform events, deduplicated by their natural key, claimed by
//! workers under a lease, finished, retried or parked.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use super::queue::{Queue, stmt};

/// Row states. A pending row is due when `available_at` has passed and it holds no live lease.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const DONE: &str = "done";
    /// Failed too often or permanently: kept for an operator to read and replay.
    pub const PARKED: &str = "parked";
    pub const ALL: [&str; 3] = [PENDING, DONE, PARKED];
}

/// Priority of events that must be handled within seconds (e.g. a welcome code that expires):
/// claimed before any backlog of normal events.
pub const PRIORITY_HIGH: i16 = 10;
pub const PRIORITY_NORMAL: i16 = 0;

/// A normalized event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `wecom`, `dingtalk`, or `internal` for events salesbot raises itself.
    pub platform: String,
    pub tenant: String,
    /// What happened, e.g. `wecom.change_external_contact.add_external_contact`; selects the handler.
    pub kind: String,
    /// The event's natural key within (platform, tenant): a retried delivery of the same event
    /// has the same key and collapses onto the first row.
    pub dedupe_key: String,
    pub priority: i16,
    pub payload: serde_json::Value,
}

/// The result of storing an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new row with this id.
    New(i64),
    /// The same (platform, tenant, dedupe key) was stored before; nothing was written.
    Duplicate,
}

/// A stored event.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct InboxEvent {
    pub id: i64,
    pub platform: String,
    pub tenant: String,
    pub kind: String,
    pub dedupe_key: String,
    pub priority: i16,
    pub payload: String,
    pub state: String,
    /// Claims so far, including the current one.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub available_at: i64,
    pub received_at: i64,
    pub finished_at: Option<i64>,
}

impl InboxEvent {
    /// The payload as JSON.
    pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

const COLUMNS: &str = "id, platform, tenant, kind, dedupe_key, priority, payload, state, attempts, \
                       last_error, available_at, received_at, finished_at";

/// Stores `event` unless its dedupe key is already there. Durable once this returns (on SQLite
/// with synchronous=FULL; on PostgreSQL with the default synchronous_commit).
pub async fn insert(
    db: &impl ConnectionTrait,
    event: &NewEvent,
    now: i64,
) -> Result<Stored, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO inbox (platform, tenant, kind, dedupe_key, priority, payload, state, \
             attempts, available_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) \
             ON CONFLICT (platform, tenant, dedupe_key) DO NOTHING RETURNING id",
            [
                event.platform.clone().into(),
                event.tenant.clone().into(),
                event.kind.clone().into(),
                event.dedupe_key.clone().into(),
                event.priority.into(),
                event.payload.to_string().into(),
                now.into(),
            ],
        ))
        .await?;
    match row {
        Some(row) => Ok(Stored::New(row.try_get("", "id")?)),
        None => Ok(Stored::Duplicate),
    }
}

/// The inbox as a leased queue: due events by priority, then age.
pub const QUEUE: Queue = Queue {
    table: "inbox",
    columns: COLUMNS,
    order_by: "priority DESC, id",
    failed_state: state::PARKED,
};

/// Claims up to `limit` due events for `owner` until `now + lease_ms`, highest priority first,
/// then oldest.
pub async fn claim(
    db: &impl ConnectionTrait,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<InboxEvent>, DbErr> {
    let mut events: Vec<InboxEvent> = QUEUE.claim(db, owner, now, lease_ms, limit).await?;
    // RETURNING does not keep the subquery's order.
    events.sort_by_key(|e| (-e.priority, e.id));
    Ok(events)
}

/// Marks a claimed event done, if `owner` still holds it. Run inside the handler's transaction
/// first, so that the row stays locked until the handler's effects commit with it.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE inbox SET state = 'done', finished_at = $3, last_error = NULL, \
             lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
            [id.into(), owner.into(), now.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts a parked event back in the queue, due now, with a fresh attempt count.
pub async fn replay(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<bool, DbErr> {
    QUEUE.requeue(db, id, now).await
}

//! Alert episodes: a row is opened when a rule's condition is first seen to hold for a subject
//! (`deal:5`, `rep:zhang.san`, `kpi:zhang.san:2026-11`) and closed when it no longer holds, so
//! a condition that lasts fires once and one that comes back fires again. At most one episode
//! per rule and subject is open: the partial unique index `ux_alert_open` decides between
//! instances that open the same one at once.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};

use crate::pipeline::queue::stmt;

/// An episode to open.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub tenant: String,
    pub platform: String,
    /// The rule's name.
    pub rule: String,
    /// `deal_idle`, `rep_idle` or `kpi` (see [`super::kind`]).
    pub kind: String,
    pub subject: String,
    /// Whom it goes to; `None` when nobody could be found (no manager configured or in the
    /// directory): the episode is kept, so it is not looked up again every tick, but not sent.
    pub recipient: Option<String>,
    /// The variables of the alert's card.
    pub payload: serde_json::Value,
}

/// An open episode, as the evaluation compares it with what holds now.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct OpenAlert {
    pub id: i64,
    pub tenant: String,
    pub platform: String,
    pub rule: String,
    pub subject: String,
}

/// An open alert not sent yet.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct UnsentAlert {
    pub id: i64,
    pub tenant: String,
    pub platform: String,
    pub kind: String,
    pub recipient: String,
    pub opened_at: i64,
    pub payload: String,
}

/// Every open episode.
pub async fn open_alerts(db: &impl ConnectionTrait) -> Result<Vec<OpenAlert>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT id, tenant, platform, rule, subject FROM alert WHERE closed_at IS NULL",
            [],
        ))
        .await?;
    rows.iter()
        .map(|row| OpenAlert::from_query_result(row, ""))
        .collect()
}

/// Opens an episode at `now`; false when one is open already for its rule and subject (opened
/// by another instance since it was looked for).
pub async fn open(db: &impl ConnectionTrait, alert: &NewAlert, now: i64) -> Result<bool, DbErr> {
    let done = db
        .execute_raw(stmt(
            db,
            "INSERT INTO alert (tenant, platform, rule, kind, subject, recipient, opened_at, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            [
                alert.tenant.clone().into(),
                alert.platform.clone().into(),
                alert.rule.clone().into(),
                alert.kind.clone().into(),
                alert.subject.clone().into(),
                alert.recipient.clone().into(),
                now.into(),
                alert.payload.to_string().into(),
            ],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ids closed per statement: well under the bound-parameter limits of both databases.
const CLOSE_CHUNK: usize = 500;

/// Closes the open episodes `ids` at `now`; returns how many it closed.
pub async fn close(db: &impl ConnectionTrait, ids: &[i64], now: i64) -> Result<u64, DbErr> {
    let mut closed = 0;
    for chunk in ids.chunks(CLOSE_CHUNK) {
        let list = id_list(chunk, 2);
        let mut values: Vec<Value> = vec![now.into()];
        values.extend(chunk.iter().map(|&id| Value::from(id)));
        let sql =
            format!("UPDATE alert SET closed_at = $1 WHERE closed_at IS NULL AND id IN ({list})");
        closed += db
            .execute_raw(stmt(db, &sql, values))
            .await?
            .rows_affected();
    }
    Ok(closed)
}

/// The open alerts with a recipient that have not been sent, oldest first.
pub async fn unsent(db: &impl ConnectionTrait) -> Result<Vec<UnsentAlert>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT id, tenant, platform, kind, recipient, opened_at, payload FROM alert \
             WHERE sent_at IS NULL AND closed_at IS NULL AND recipient IS NOT NULL \
             ORDER BY opened_at, id",
            [],
        ))
        .await?;
    rows.iter()
        .map(|row| UnsentAlert::from_query_result(row, ""))
        .collect()
}

/// Marks `ids` sent at `now` under the card `send_key`, if none of them has been sent or
/// closed meanwhile; false (nothing changed) otherwise. Written first in the transaction that
/// enqueues the card, so another instance sending the same alerts waits and then finds them
/// sent.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    ids: &[i64],
    send_key: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let list = id_list(ids, 3);
    let mut values: Vec<Value> = vec![now.into(), send_key.into()];
    values.extend(ids.iter().map(|&id| Value::from(id)));
    let done = db
        .execute_raw(stmt(
            db,
            &format!(
                "UPDATE alert SET sent_at = $1, send_key = $2 \
                 WHERE sent_at IS NULL AND closed_at IS NULL AND id IN ({list})"
            ),
            values,
        ))
        .await?;
    Ok(done.rows_affected() == ids.len() as u64)
}

/// `$first, $first+1, …` for `ids`.
fn id_list(ids: &[i64], first: usize) -> String {
    (first..first + ids.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

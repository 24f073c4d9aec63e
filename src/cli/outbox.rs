//! `salesbot outbox list|retry`: read the outbox (dead letters first of all) and put dead
//! messages back in the queue, as the admin API does.

use std::io::Write;

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::pipeline::{
    clock::now_ms,
    outbox::{self, OutboxMessage},
    requeue::{Requeued, requeue},
};

/// Prints up to `limit` messages in `state`, newest first: one line each, or JSON.
pub async fn list(
    db: &DatabaseConnection,
    state: &str,
    limit: u32,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !outbox::state::ALL.contains(&state) {
        anyhow::bail!(
            "unknown state `{state}`; one of {}",
            outbox::state::ALL.join(", ")
        );
    }
    let messages: Vec<OutboxMessage> = outbox::QUEUE.list(db, state, limit).await?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &messages)?;
        writeln!(out)?;
        return Ok(());
    }
    if messages.is_empty() {
        writeln!(out, "no {state} messages")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>8}  {:<7}  {:>8}  {:<22}  {:<11}  KEY / LAST ERROR",
        "ID", "STATE", "ATTEMPTS", "PLATFORM/TENANT", "KIND"
    )?;
    for m in &messages {
        writeln!(
            out,
            "{:>8}  {:<7}  {:>8}  {:<22}  {:<11}  {}",
            m.id,
            m.state,
            m.attempts,
            format!("{}/{}", m.platform, m.tenant),
            m.kind,
            m.idempotency_key
        )?;
        if let Some(error) = &m.last_error {
            writeln!(out, "{:>8}  {}", "", error)?;
        }
    }
    Ok(())
}

/// Puts the dead messages `ids` (or every dead message, with `all_dead`) back in the queue.
/// Returns how many were put back; a missing or not-dead id is reported and counted as a
/// failure.
pub async fn retry(
    db: &DatabaseConnection,
    ids: &[i64],
    all_dead: bool,
    out: &mut impl Write,
) -> anyhow::Result<RetrySummary> {
    let mut ids = ids.to_vec();
    if all_dead {
        let dead: Vec<OutboxMessage> = outbox::QUEUE
            .list(db, outbox::state::DEAD, u32::MAX)
            .await
            .context("listing dead messages")?;
        ids.extend(dead.iter().map(|m| m.id));
    }
    let mut summary = RetrySummary::default();
    for id in ids {
        match requeue(db, &outbox::QUEUE, id, "cli", now_ms()).await? {
            Requeued::Done => {
                summary.requeued += 1;
                writeln!(out, "{id}: back in the queue")?;
            }
            Requeued::NotFound => {
                summary.failed += 1;
                writeln!(out, "{id}: no such message")?;
            }
            Requeued::NotFailed(state) => {
                summary.failed += 1;
                writeln!(out, "{id}: is {state}, not dead; left alone")?;
            }
        }
    }
    Ok(summary)
}

/// Counts of a retry run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetrySummary {
    pub requeued: usize,
    pub failed: usize,
}

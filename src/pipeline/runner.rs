//! The loop shared by inbox workers and outbox dispatchers: claim a batch, work through it,
//! idle until woken or the poll interval passes, and on shutdown finish the item in hand and
//! give the rest of the batch back.

use std::time::Duration;

use async_trait::async_trait;
use sea_orm::DbErr;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::clock::now_ms;

/// Something that consumes a leased queue.
#[async_trait]
pub trait Consumer: Send + Sync {
    type Item: Send + Sync;
    type Outcome: Send;
    /// For log lines: `inbox` or `outbox`.
    const QUEUE: &'static str;
    /// Claims a batch of rows due at `now`.
    async fn claim(&self, now: i64) -> Result<Vec<Self::Item>, DbErr>;
    /// Works one claimed row; `now` is when the work started.
    async fn process(&self, item: &Self::Item, now: i64) -> Self::Outcome;
    fn id(item: &Self::Item) -> i64;
    async fn release(&self, ids: &[i64]) -> Result<(), DbErr>;
}

/// Claims one batch at `now` and works through it; returns the outcomes. Tests and benchmarks
/// drive workers and dispatchers with it step by step, with a clock of their choosing.
pub async fn run_once<C: Consumer>(consumer: &C, now: i64) -> Result<Vec<C::Outcome>, DbErr> {
    let batch = consumer.claim(now).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for item in &batch {
        outcomes.push(consumer.process(item, now).await);
    }
    Ok(outcomes)
}

/// Runs `consumer` until `shutdown`.
pub async fn run<C: Consumer>(
    consumer: &C,
    poll: Duration,
    wake: &Notify,
    shutdown: &CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let batch = consumer.claim(now_ms()).await.unwrap_or_else(|e| {
            tracing::warn!(queue = C::QUEUE, error = %e, "claim failed");
            Vec::new()
        });
        if batch.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
            continue;
        }
        let mut rest = batch.iter();
        for item in rest.by_ref() {
            consumer.process(item, now_ms()).await;
            if shutdown.is_cancelled() {
                break;
            }
        }
        let unstarted: Vec<i64> = rest.map(C::id).collect();
        if !unstarted.is_empty()
            && let Err(e) = consumer.release(&unstarted).await
        {
            tracing::warn!(queue = C::QUEUE, error = %e, "release failed; the rows return when their lease ends");
        }
    }
}

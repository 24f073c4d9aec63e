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
    /// Works a claimed batch and returns the outcomes of the rows it worked, in order: by
    /// default one row after the other, stopping after the row in hand once `shutdown` is
    /// cancelled. `now` fixes the clock (tests); `None` reads it for each row.
    async fn process_batch(
        &self,
        items: &[Self::Item],
        now: Option<i64>,
        shutdown: &CancellationToken,
    ) -> Vec<Self::Outcome> {
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            outcomes.push(self.process(item, now.unwrap_or_else(now_ms)).await);
            if shutdown.is_cancelled() {
                break;
            }
        }
        outcomes
    }
    fn id(item: &Self::Item) -> i64;
    async fn release(&self, ids: &[i64]) -> Result<(), DbErr>;
}

/// Claims one batch at `now` and works through it; returns the outcomes. Tests and benchmarks
/// drive workers and dispatchers with it step by step, with a clock of their choosing.
pub async fn run_once<C: Consumer>(consumer: &C, now: i64) -> Result<Vec<C::Outcome>, DbErr> {
    let batch = consumer.claim(now).await?;
    Ok(consumer
        .process_batch(&batch, Some(now), &CancellationToken::new())
        .await)
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
        let worked = consumer.process_batch(&batch, None, shutdown).await.len();
        let unstarted: Vec<i64> = batch[worked..].iter().map(C::id).collect();
        if !unstarted.is_empty()
            && let Err(e) = consumer.release(&unstarted).await
        {
            tracing::warn!(queue = C::QUEUE, error = %e, "release failed; the rows return when their lease ends");
        }
    }
}

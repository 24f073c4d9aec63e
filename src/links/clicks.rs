//! Clicks on their way to the database, without ever holding up a redirect: the redirect puts
//! its click in a bounded buffer and moves on; one writer task takes clicks out in batches and
//! writes each batch in one transaction.
//!
//! When the database is slow or down the writer keeps its batch and retries with backoff, the
//! buffer fills, and clicks that find it full are dropped and counted
//! (`salesbot_link_clicks_dropped_total{reason="buffer_full"}`): memory stays bounded by
//! `buffer_capacity` plus one batch. What is in memory is lost if the process dies: normally
//! the clicks of the last flush interval and the batch being written.

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::{
    sync::mpsc::{self, error::TrySendError},
    time::Instant,
};
use tokio_util::sync::CancellationToken;

use crate::{
    config::LinksConfig,
    domain::link::{Click, store},
    metrics::Metrics,
    pipeline::Backoff,
};

/// First retry delay of a failed batch; doubles up to [`RETRY_MAX`].
const RETRY_BASE: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(10);
/// Tries a batch gets once shutdown has begun, so a dead database cannot hold the process.
const SHUTDOWN_ATTEMPTS: u32 = 3;
/// Longest wait between those last tries.
const SHUTDOWN_RETRY: Duration = Duration::from_millis(500);

/// The redirects' end of the buffer.
#[derive(Clone)]
pub struct ClickBuffer {
    tx: mpsc::Sender<Click>,
    metrics: Arc<Metrics>,
}

impl ClickBuffer {
    /// Buffers `click` if there is room; otherwise drops and counts it. Never waits.
    pub fn push(&self, click: Click) {
        self.metrics.add_clicks_buffered(1);
        let reason = match self.tx.try_send(click) {
            Ok(()) => return,
            Err(TrySendError::Full(_)) => "buffer_full",
            Err(TrySendError::Closed(_)) => "stopped",
        };
        self.metrics.add_clicks_buffered(-1);
        self.metrics.count_clicks_dropped(reason, 1);
    }
}

/// The buffer's two ends: what redirects push into, and what the writer takes out of.
pub fn buffer(capacity: usize, metrics: Arc<Metrics>) -> (ClickBuffer, mpsc::Receiver<Click>) {
    let (tx, rx) = mpsc::channel(capacity);
    (ClickBuffer { tx, metrics }, rx)
}

/// The task that writes buffered clicks.
pub struct ClickWriter {
    db: DatabaseConnection,
    rx: mpsc::Receiver<Click>,
    batch_size: usize,
    flush_interval: Duration,
    metrics: Arc<Metrics>,
}

impl ClickWriter {
    pub fn new(
        db: DatabaseConnection,
        rx: mpsc::Receiver<Click>,
        config: &LinksConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            db,
            rx,
            batch_size: config.batch_size,
            flush_interval: Duration::from_millis(config.flush_interval_ms),
            metrics,
        }
    }

    /// Writes batches until `stop`; then closes the buffer, writes what is left in it and
    /// returns. `stop` comes after the HTTP server has stopped, so no redirect is still running.
    #[tracing::instrument(skip_all, name = "click_writer")]
    pub async fn run(mut self, stop: CancellationToken) {
        let mut batch = Vec::with_capacity(self.batch_size);
        // Once a batch could not be written at shutdown the database is gone: the rest is
        // counted, not tried.
        let mut writing = true;
        while self.fill(&mut batch, &stop).await {
            writing = self.write(&mut batch, &stop).await;
        }
        self.rx.close();
        loop {
            if !batch.is_empty() {
                if writing {
                    writing = self.write(&mut batch, &stop).await;
                } else {
                    self.drop_batch(&mut batch, "unwritten");
                }
            }
            if self.rx.recv_many(&mut batch, self.batch_size).await == 0 {
                break;
            }
        }
        tracing::debug!("click writer stopped");
    }

    /// Waits for a click, then gathers more until the batch is full or the flush interval has
    /// passed since the first. False when it is time to stop (the batch may hold clicks then).
    async fn fill(&mut self, batch: &mut Vec<Click>, stop: &CancellationToken) -> bool {
        tokio::select! {
            biased;
            () = stop.cancelled() => return false,
            n = self.rx.recv_many(batch, self.batch_size) => if n == 0 { return false },
        }
        let deadline = Instant::now() + self.flush_interval;
        while batch.len() < self.batch_size {
            let room = self.batch_size - batch.len();
            tokio::select! {
                n = self.rx.recv_many(batch, room) => if n == 0 { break },
                () = tokio::time::sleep_until(deadline) => break,
                () = stop.cancelled() => break,
            }
        }
        true
    }

    /// Writes the batch, retrying with backoff until it is written (or, once stopping, until
    /// [`SHUTDOWN_ATTEMPTS`] tries failed). Empties the batch; false when it was given up.
    async fn write(&self, batch: &mut Vec<Click>, stop: &CancellationToken) -> bool {
        let backoff = Backoff::new(RETRY_BASE, RETRY_MAX);
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            match store::insert_clicks(&self.db, batch).await {
                Ok(()) => {
                    self.metrics.observe_click_flush("ok", started.elapsed());
                    self.metrics.count_clicks_recorded(batch.len() as u64);
                    self.metrics.add_clicks_buffered(-(batch.len() as i64));
                    batch.clear();
                    return true;
                }
                Err(e) => {
                    self.metrics.observe_click_flush("error", started.elapsed());
                    attempt += 1;
                    if stop.is_cancelled() && attempt >= SHUTDOWN_ATTEMPTS {
                        tracing::error!(error = %e, clicks = batch.len(), "clicks not written at shutdown; dropped");
                        self.drop_batch(batch, "unwritten");
                        return false;
                    }
                    let delay = backoff.delay(attempt);
                    tracing::warn!(error = %e, clicks = batch.len(), attempt, ?delay, "clicks not written; retrying");
                    if stop.is_cancelled() {
                        tokio::time::sleep(delay.min(SHUTDOWN_RETRY)).await;
                    } else {
                        tokio::select! {
                            () = tokio::time::sleep(delay) => {}
                            () = stop.cancelled() => {}
                        }
                    }
                }
            }
        }
    }

    fn drop_batch(&self, batch: &mut Vec<Click>, reason: &str) {
        self.metrics
            .count_clicks_dropped(reason, batch.len() as u64);
        self.metrics.add_clicks_buffered(-(batch.len() as i64));
        batch.clear();
    }
}

//! The outbox dispatcher: claims due messages and hands each to the delivery port (the chat
//! platforms), then marks it sent, schedules a retry with backoff, or dead-letters it.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Settings, outbox, runner};
use crate::metrics::Metrics;

/// What the platform answered to a successful send.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Receipt {
    /// Kept on the outbox row for operators to read (e.g. the platform's message id).
    pub answer: serde_json::Value,
    /// Handed to [`Delivery::record`] in the transaction that marks the message sent, and not
    /// stored on the row (e.g. the code a card update needs later).
    pub detail: serde_json::Value,
}

impl Receipt {
    /// A receipt with `answer` and no detail.
    pub fn new(answer: serde_json::Value) -> Self {
        Self {
            answer,
            detail: serde_json::Value::Null,
        }
    }
}

/// Why a send failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeliveryError {
    /// Worth another try (system busy, rate limited, network down, token expired).
    /// `retry_after` overrides the backoff when the platform says how long to wait.
    #[error("{reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Will fail the same way every time (invalid recipient, malformed card): dead-letter now.
    #[error("{reason}")]
    Permanent { reason: String },
}

impl DeliveryError {
    pub fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent {
            reason: reason.into(),
        }
    }
}

/// The port through which messages leave salesbot.
#[async_trait]
pub trait Delivery: Send + Sync {
    async fn deliver(&self, message: &outbox::OutboxMessage) -> Result<Receipt, DeliveryError>;

    /// Writes what a successful send changes (e.g. the sent card's state) in `txn`, the
    /// transaction that marks the message sent: one commit for both, and neither without the
    /// other. Nothing by default.
    async fn record(
        &self,
        _txn: &DatabaseTransaction,
        _message: &outbox::OutboxMessage,
        _receipt: &Receipt,
        _now: i64,
    ) -> Result<(), DbErr> {
        Ok(())
    }
}

/// What became of one claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retry(String),
    Dead(String),
    /// Another dispatcher took the message over after this one's lease ran out.
    LeaseLost,
}

/// One outbox dispatcher. Several run side by side, in one instance and across instances.
#[derive(Clone)]
pub struct Dispatcher {
    pub db: DatabaseConnection,
    pub delivery: Arc<dyn Delivery>,
    pub settings: Settings,
    pub owner: String,
    pub metrics: Arc<Metrics>,
    /// Woken when this instance enqueues, so that messages leave at once.
    pub wake: Arc<Notify>,
}

impl Dispatcher {
    /// Dispatches until `shutdown`: finishes the send in hand, gives back the rest of its batch.
    pub async fn run(self, shutdown: CancellationToken) {
        runner::run(&self, self.settings.poll_interval, &self.wake, &shutdown).await;
    }

    /// Claims one batch at `now` and works through it; returns the outcomes.
    pub async fn run_once(&self, now: i64) -> Result<Vec<Outcome>, DbErr> {
        runner::run_once(self, now).await
    }

    /// Sends one claimed message and records the outcome; `now` is the time the retry delay
    /// counts from.
    #[tracing::instrument(skip_all, fields(message_id = message.id, kind = %message.kind, platform = %message.platform, tenant = %message.tenant, attempt = message.attempts))]
    pub async fn process(&self, message: &outbox::OutboxMessage, now: i64) -> Outcome {
        let started = Instant::now();
        let result = self.delivery.deliver(message).await;
        let elapsed = started.elapsed();
        let now = now + elapsed.as_millis() as i64;
        let attempts = u32::try_from(message.attempts).unwrap_or(0);
        let (recorded, outcome) = match result {
            Ok(receipt) => (
                self.record_sent(message, &receipt, now).await,
                Outcome::Sent,
            ),
            Err(error) => {
                let reason = error.to_string();
                let retry_at = match &error {
                    DeliveryError::Transient { retry_after, .. }
                        if attempts < self.settings.outbox_max_attempts =>
                    {
                        let delay =
                            retry_after.unwrap_or_else(|| self.settings.backoff.delay(attempts));
                        Some(now + delay.as_millis() as i64)
                    }
                    _ => None,
                };
                let outcome = if retry_at.is_some() {
                    Outcome::Retry(reason.clone())
                } else {
                    Outcome::Dead(reason.clone())
                };
                (
                    outbox::QUEUE
                        .fail(&self.db, message.id, &self.owner, &reason, retry_at, now)
                        .await,
                    outcome,
                )
            }
        };
        let outcome = match recorded {
            Ok(true) => outcome,
            Ok(false) => Outcome::LeaseLost,
            Err(e) => {
                // The row keeps its lease and comes back when it ends; the idempotency key keeps
                // a second send from showing twice.
                tracing::error!(error = %e, "recording the delivery outcome failed");
                Outcome::Retry(e.to_string())
            }
        };
        let label = match &outcome {
            Outcome::Sent => "sent",
            Outcome::Retry(_) => "retry",
            Outcome::Dead(_) => "dead",
            Outcome::LeaseLost => "lease_lost",
        };
        self.metrics
            .observe_delivery(&message.platform, label, elapsed);
        match &outcome {
            Outcome::Sent => tracing::debug!("message sent"),
            Outcome::Retry(e) => tracing::warn!(error = %e, "send failed; will retry"),
            Outcome::Dead(e) => tracing::error!(error = %e, "message dead-lettered"),
            Outcome::LeaseLost => tracing::warn!("lease lost to another dispatcher"),
        }
        outcome
    }
}

impl Dispatcher {
    /// Marks `message` sent and lets the delivery record its effects, in one transaction that
    /// only commits while this dispatcher still holds the lease.
    async fn record_sent(
        &self,
        message: &outbox::OutboxMessage,
        receipt: &Receipt,
        now: i64,
    ) -> Result<bool, DbErr> {
        let txn = self.db.begin().await?;
        if !outbox::mark_sent(&txn, message.id, &self.owner, &receipt.answer, now).await? {
            return Ok(false);
        }
        self.delivery.record(&txn, message, receipt, now).await?;
        txn.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl runner::Consumer for Dispatcher {
    type Item = outbox::OutboxMessage;
    type Outcome = Outcome;
    const QUEUE: &'static str = "outbox";

    async fn claim(&self, now: i64) -> Result<Vec<Self::Item>, DbErr> {
        let s = &self.settings;
        outbox::claim(&self.db, &self.owner, now, s.lease_ms, s.batch_size).await
    }

    async fn process(&self, item: &Self::Item, now: i64) -> Outcome {
        Dispatcher::process(self, item, now).await
    }

    fn id(item: &Self::Item) -> i64 {
        item.id
    }

    async fn release(&self, ids: &[i64]) -> Result<(), DbErr> {
        outbox::QUEUE.release(&self.db, ids, &self.owner).await
    }
}

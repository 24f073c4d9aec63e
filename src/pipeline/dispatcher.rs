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

use futures_util::future::join_all;
use tracing::Instrument;

use super::{Settings, clock::now_ms, outbox, runner};
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
    pub async fn process(&self, message: &outbox::OutboxMessage, now: i64) -> Outcome {
        let mut outcomes = self.process_all(std::slice::from_ref(message), now).await;
        outcomes.pop().unwrap_or(Outcome::LeaseLost)
    }

    /// Sends a claimed batch, [`SEND_CONCURRENCY`] at a time, then records every outcome
    /// in one transaction: one commit per batch rather than per message, which is what bounds
    /// a dispatcher on SQLite. A crash before the commit leaves the rows leased; they are sent
    /// again after the lease, and the platforms' duplicate checks keep that from showing twice.
    async fn process_all(&self, messages: &[outbox::OutboxMessage], now: i64) -> Vec<Outcome> {
        let started = Instant::now();
        let mut sends = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(SEND_CONCURRENCY) {
            sends.extend(join_all(chunk.iter().map(|message| self.send(message))).await);
        }
        let now = now + started.elapsed().as_millis() as i64;
        let plans: Vec<Plan> = messages
            .iter()
            .zip(sends.iter())
            .map(|(message, (result, _))| self.plan(message, result, now))
            .collect();
        let recorded = self.record_all(messages, &plans, now).await;
        messages
            .iter()
            .zip(plans)
            .zip(sends)
            .enumerate()
            .map(|(i, ((message, plan), (_, elapsed)))| {
                let outcome = match &recorded {
                    Ok(held) if held[i] => plan.outcome,
                    Ok(_) => Outcome::LeaseLost,
                    // The rows keep their lease and come back when it ends; the idempotency
                    // key keeps a second send from showing twice.
                    Err(e) => Outcome::Retry(e.to_string()),
                };
                self.report(message, &outcome, elapsed);
                outcome
            })
            .collect()
    }

    /// One send, timed.
    async fn send(
        &self,
        message: &outbox::OutboxMessage,
    ) -> (Result<Receipt, DeliveryError>, Duration) {
        let started = Instant::now();
        let result = self
            .delivery
            .deliver(message)
            .instrument(span(message))
            .await;
        (result, started.elapsed())
    }

    /// What to record for one send's result.
    fn plan(
        &self,
        message: &outbox::OutboxMessage,
        result: &Result<Receipt, DeliveryError>,
        now: i64,
    ) -> Plan {
        let error = match result {
            Ok(receipt) => {
                return Plan {
                    receipt: Some(receipt.clone()),
                    retry_at: None,
                    outcome: Outcome::Sent,
                };
            }
            Err(error) => error,
        };
        let attempts = u32::try_from(message.attempts).unwrap_or(0);
        let reason = error.to_string();
        let retry_at = match error {
            DeliveryError::Transient { retry_after, .. }
                if attempts < self.settings.outbox_max_attempts =>
            {
                let delay = retry_after.unwrap_or_else(|| self.settings.backoff.delay(attempts));
                Some(now + delay.as_millis() as i64)
            }
            _ => None,
        };
        Plan {
            receipt: None,
            retry_at,
            outcome: if retry_at.is_some() {
                Outcome::Retry(reason)
            } else {
                Outcome::Dead(reason)
            },
        }
    }

    /// Records every plan in one transaction; per message, whether this dispatcher still held
    /// its lease (a row taken over by another dispatcher is left to it).
    async fn record_all(
        &self,
        messages: &[outbox::OutboxMessage],
        plans: &[Plan],
        now: i64,
    ) -> Result<Vec<bool>, DbErr> {
        let txn = self.db.begin().await?;
        let mut held = Vec::with_capacity(plans.len());
        for (message, plan) in messages.iter().zip(plans) {
            let still_held = match (&plan.receipt, &plan.outcome) {
                (Some(receipt), _) => {
                    let sent =
                        outbox::mark_sent(&txn, message.id, &self.owner, &receipt.answer, now)
                            .await?;
                    if sent {
                        self.delivery.record(&txn, message, receipt, now).await?;
                    }
                    sent
                }
                (None, Outcome::Retry(reason) | Outcome::Dead(reason)) => {
                    outbox::QUEUE
                        .fail(&txn, message.id, &self.owner, reason, plan.retry_at, now)
                        .await?
                }
                (None, _) => false,
            };
            held.push(still_held);
        }
        txn.commit().await?;
        Ok(held)
    }

    fn report(&self, message: &outbox::OutboxMessage, outcome: &Outcome, elapsed: Duration) {
        let label = match outcome {
            Outcome::Sent => "sent",
            Outcome::Retry(_) => "retry",
            Outcome::Dead(_) => "dead",
            Outcome::LeaseLost => "lease_lost",
        };
        self.metrics
            .observe_delivery(&message.platform, label, elapsed);
        let _span = span(message).entered();
        match outcome {
            Outcome::Sent => tracing::debug!("message sent"),
            Outcome::Retry(e) => tracing::warn!(error = %e, "send failed; will retry"),
            Outcome::Dead(e) => tracing::error!(error = %e, "message dead-lettered"),
            Outcome::LeaseLost => tracing::warn!("lease lost to another dispatcher"),
        }
    }
}

/// Messages of one batch sent at the same time, per dispatcher.
pub const SEND_CONCURRENCY: usize = 8;

/// What one send's result will be recorded as.
struct Plan {
    receipt: Option<Receipt>,
    retry_at: Option<i64>,
    outcome: Outcome,
}

fn span(message: &outbox::OutboxMessage) -> tracing::Span {
    tracing::info_span!(
        "deliver",
        message_id = message.id,
        kind = %message.kind,
        platform = %message.platform,
        tenant = %message.tenant,
        attempt = message.attempts
    )
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

    /// The whole batch at once: every claimed message is in hand until its outcome commits.
    async fn process_batch(
        &self,
        items: &[Self::Item],
        now: Option<i64>,
        _shutdown: &CancellationToken,
    ) -> Vec<Outcome> {
        self.process_all(items, now.unwrap_or_else(now_ms)).await
    }

    fn id(item: &Self::Item) -> i64 {
        item.id
    }

    async fn release(&self, ids: &[i64]) -> Result<(), DbErr> {
        outbox::QUEUE.release(&self.db, ids, &self.owner).await
    }
}

//! Inbox workers: claim due events and run the handler registered for each event's kind, in one
//! transaction with the event's completion and the messages it enqueues, so that either all of
//! an event's effects commit or none do.

use std::{
    any::Any,
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Settings, inbox, outbox, runner};
use crate::metrics::Metrics;

/// Why a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth another try later (a platform was busy, a lock timed out).
    #[error("{0}")]
    Transient(String),
    /// Will fail the same way every time (malformed payload): park at once.
    #[error("{0}")]
    Permanent(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// What a handler may touch: the event's transaction, and the outbox within it.
pub struct Effects<'a> {
    txn: &'a DatabaseTransaction,
    event_id: i64,
    now: i64,
    prepared: Option<Prepared>,
    /// Whether the handler enqueued a message.
    sent: AtomicBool,
}

/// What [`EventHandler::prepare`] found, handed to [`EventHandler::handle`].
pub type Prepared = Box<dyn Any + Send + Sync>;

impl<'a> Effects<'a> {
    /// The transaction that commits together with the event's completion.
    pub fn db(&self) -> &'a DatabaseTransaction {
        self.txn
    }

    /// The time the worker started this event (epoch ms); handlers use it instead of the clock
    /// so that one event sees one "now".
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The inbox id of the event, recorded on the messages it causes.
    pub fn event_id(&self) -> i64 {
        self.event_id
    }

    /// What [`EventHandler::prepare`] returned, if it returned a `T`.
    pub fn prepared<T: 'static>(&self) -> Option<&T> {
        self.prepared.as_ref()?.downcast_ref()
    }

    /// Enqueues a message caused by this event, in the event's transaction.
    pub async fn send(&self, message: &outbox::NewMessage) -> Result<outbox::Enqueued, DbErr> {
        self.note_sent();
        outbox::enqueue(self.txn, message, Some(self.event_id), self.now).await
    }

    /// Records that the handler enqueued messages itself (through `db()`), so the dispatchers
    /// are woken when the event commits.
    pub fn note_sent(&self) {
        self.sent.store(true, Ordering::Relaxed);
    }
}

/// Applies one kind of event.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Work before the event's transaction: calls to a platform whose answers `handle` then
    /// writes. Network calls do not belong inside the transaction: on SQLite it holds the
    /// database's write lock, and every callback and dispatcher would wait for the platform.
    /// Whatever this writes through `db` must be safe to write again (a cache, say), since the
    /// event may be retried. Nothing by default.
    async fn prepare(
        &self,
        _db: &DatabaseConnection,
        _event: &inbox::InboxEvent,
        _now: i64,
    ) -> Result<Option<Prepared>, HandlerError> {
        Ok(None)
    }

    async fn handle(
        &self,
        effects: &Effects<'_>,
        event: &inbox::InboxEvent,
    ) -> Result<(), HandlerError>;
}

/// Handlers by event kind.
#[derive(Default, Clone)]
pub struct Handlers(HashMap<String, Arc<dyn EventHandler>>);

impl Handlers {
    pub fn register(
        &mut self,
        kind: impl Into<String>,
        handler: Arc<dyn EventHandler>,
    ) -> &mut Self {
        self.0.insert(kind.into(), handler);
        self
    }

    /// Registers `handler` unless one is registered for `kind` already (tests plug in their own
    /// before the built-in ones).
    pub fn register_default(&mut self, kind: &str, handler: Arc<dyn EventHandler>) -> &mut Self {
        self.0.entry(kind.to_owned()).or_insert(handler);
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn EventHandler>> {
        self.0.get(kind)
    }
}

/// What became of one claimed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Failed; due again later.
    Retry(String),
    /// Failed for good; kept in the parked state.
    Parked(String),
    /// Another instance took the event over after this one's lease ran out; nothing was done.
    LeaseLost,
}

/// One inbox worker. Several run side by side, in one instance and across instances.
#[derive(Clone)]
pub struct Worker {
    pub db: DatabaseConnection,
    pub handlers: Arc<Handlers>,
    pub settings: Settings,
    pub owner: String,
    pub metrics: Arc<Metrics>,
    /// Woken when an event is stored by this instance, so it is picked up at once.
    pub wake: Arc<Notify>,
    /// Woken when an event's messages are committed, so the dispatchers send them at once
    /// instead of at their next poll.
    pub wake_outbox: Arc<Notify>,
}

impl Worker {
    /// Works until `shutdown`: finishes the event in hand, gives back the rest of its batch.
    pub async fn run(self, shutdown: CancellationToken) {
        runner::run(&self, self.settings.poll_interval, &self.wake, &shutdown).await;
    }

    /// Claims one batch at `now` and works through it; returns the outcomes.
    pub async fn run_once(&self, now: i64) -> Result<Vec<Outcome>, DbErr> {
        runner::run_once(self, now).await
    }

    /// Applies one claimed event and records the outcome; `now` is the handler's "now" and the
    /// time a retry delay counts from.
    #[tracing::instrument(skip_all, fields(event_id = event.id, kind = %event.kind, tenant = %event.tenant, attempt = event.attempts))]
    pub async fn process(&self, event: &inbox::InboxEvent, now: i64) -> Outcome {
        let started = Instant::now();
        let outcome = match self.apply(event, now).await {
            Ok(true) => Outcome::Done,
            Ok(false) => Outcome::LeaseLost,
            Err(error) => {
                let now = now + started.elapsed().as_millis() as i64;
                self.record_failure(event, error, now).await
            }
        };
        let label = match &outcome {
            Outcome::Done => "done",
            Outcome::Retry(_) => "retry",
            Outcome::Parked(_) => "parked",
            Outcome::LeaseLost => "lease_lost",
        };
        self.metrics
            .observe_handler(&event.kind, label, started.elapsed());
        match &outcome {
            Outcome::Done => tracing::debug!("event handled"),
            Outcome::Retry(e) => tracing::warn!(error = %e, "event failed; will retry"),
            Outcome::Parked(e) => tracing::error!(error = %e, "event parked"),
            Outcome::LeaseLost => {
                tracing::warn!("lease lost to another worker; effects rolled back")
            }
        }
        outcome
    }

    /// Runs the handler in one transaction with the event's completion. `Ok(false)` when the
    /// lease was lost before the transaction began.
    async fn apply(&self, event: &inbox::InboxEvent, now: i64) -> Result<bool, HandlerError> {
        let handler = self.handlers.get(&event.kind).ok_or_else(|| {
            HandlerError::Permanent(format!("no handler for event kind `{}`", event.kind))
        })?;
        let prepared = handler.prepare(&self.db, event, now).await?;
        let txn = self.db.begin().await?;
        // First statement: on PostgreSQL it locks the row until commit; on SQLite it takes the
        // write lock. Either way no other worker can finish the same event meanwhile.
        if !inbox::finish(&txn, event.id, &self.owner, now).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        let effects = Effects {
            txn: &txn,
            event_id: event.id,
            now,
            prepared,
            sent: AtomicBool::new(false),
        };
        let result = handler.handle(&effects, event).await;
        let sent = effects.sent.load(Ordering::Relaxed);
        drop(effects);
        match result {
            Ok(()) => {
                txn.commit().await?;
                if sent {
                    self.wake_outbox.notify_waiters();
                }
                Ok(true)
            }
            Err(e) => {
                txn.rollback().await?;
                Err(e)
            }
        }
    }

    async fn record_failure(
        &self,
        event: &inbox::InboxEvent,
        error: HandlerError,
        now: i64,
    ) -> Outcome {
        let attempts = u32::try_from(event.attempts).unwrap_or(0);
        let permanent = matches!(error, HandlerError::Permanent(_));
        let message = error.to_string();
        let retry_at = (!permanent && attempts < self.settings.inbox_max_attempts)
            .then(|| now + self.settings.backoff.delay(attempts).as_millis() as i64);
        match inbox::QUEUE
            .fail(&self.db, event.id, &self.owner, &message, retry_at, now)
            .await
        {
            Ok(true) if retry_at.is_some() => Outcome::Retry(message),
            Ok(true) => Outcome::Parked(message),
            Ok(false) => Outcome::LeaseLost,
            Err(e) => {
                // The row keeps its lease and is retried when it runs out.
                tracing::error!(error = %e, "recording the failure failed");
                Outcome::Retry(message)
            }
        }
    }
}

#[async_trait]
impl runner::Consumer for Worker {
    type Item = inbox::InboxEvent;
    type Outcome = Outcome;
    const QUEUE: &'static str = "inbox";

    async fn claim(&self, now: i64) -> Result<Vec<Self::Item>, DbErr> {
        let s = &self.settings;
        inbox::claim(&self.db, &self.owner, now, s.lease_ms, s.batch_size).await
    }

    async fn process(&self, item: &Self::Item, now: i64) -> Outcome {
        Worker::process(self, item, now).await
    }

    fn id(item: &Self::Item) -> i64 {
        item.id
    }

    async fn release(&self, ids: &[i64]) -> Result<(), DbErr> {
        inbox::QUEUE.release(&self.db, ids, &self.owner).await
    }
}

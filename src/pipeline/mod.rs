//! The durable machinery between the platforms and the domain: the inbox of received events,
//! the workers that apply them, the outbox of messages to send, the dispatcher that sends them,
//! and the scheduler of periodic scans.
//!
//! Rows are claimed under a lease (`lease_owner`, `lease_until`): a claimed row is invisible to
//! other claimers until its lease runs out, so a crashed instance's work is taken over after at
//! most one lease, and nothing is ever worked on by two instances at the same time.

pub mod backoff;
pub mod clock;
pub mod dispatcher;
pub mod housekeeping;
pub mod inbox;
pub mod outbox;
pub mod queue;
pub mod requeue;
mod runner;
pub mod scheduler;

pub mod worker;

pub use backoff::Backoff;
pub use dispatcher::{Delivery, DeliveryError, Dispatcher, Receipt};
pub use inbox::{InboxEvent, NewEvent, Stored};
pub use outbox::{Enqueued, NewMessage, OutboxMessage};
pub use scheduler::{Job, Scheduler};
pub use worker::{Effects, EventHandler, HandlerError, Handlers, Prepared, Worker};

/// Settings shared by workers and dispatchers, derived from `[pipeline]`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub batch_size: u32,
    pub poll_interval: std::time::Duration,
    pub lease_ms: i64,
    pub inbox_max_attempts: u32,
    pub outbox_max_attempts: u32,
    pub backoff: Backoff,
}

impl Settings {
    pub fn from_config(config: &crate::config::PipelineConfig) -> Self {
        Self {
            batch_size: config.batch_size,
            poll_interval: std::time::Duration::from_millis(config.poll_interval_ms),
            lease_ms: (config.lease_secs * 1000) as i64,
            inbox_max_attempts: config.inbox_max_attempts,
            outbox_max_attempts: config.outbox_max_attempts,
            backoff: Backoff::new(
                std::time::Duration::from_millis(config.retry_base_ms),
                std::time::Duration::from_millis(config.retry_max_ms),
            ),
        }
    }
}

/// A name for this process in lease columns, unique enough to tell instances apart in the
/// database and the logs: host name plus process id plus a random suffix.
pub fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "salesbot".into());
    let mut name = format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..));
    name.truncate(48);
    name
}

//! Manager alerts: a scheduler job that evaluates the `[[alert]]` rules over the database,
//! keeps one episode per condition (so an alert fires once, not every tick, and again only
//! after the condition went away and came back), and sends what was raised — after the digest
//! window, one card per person, within working hours.
//!
//! A tick first evaluates ([`evaluate`]): the people an alert goes to are looked up in the
//! directory before anything is written, never inside a transaction. Then it sends
//! ([`digest`]): each person's waiting alerts are marked sent in the transaction that enqueues
//! their card.

mod digest;
mod evaluate;
mod month;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use crate::{
    app::AppState,
    approvals::Approvals,
    cards::{CardError, Templates},
    domain::{calendar::WorkingHours, rules::Rules},
    pipeline::scheduler::Job,
    platform::{dingtalk, wecom},
};

/// The job's name in `scheduler_job`.
pub const JOB_NAME: &str = "manager_alerts";

/// Why a tick stopped.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error(transparent)]
    Card(#[from] CardError),
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Episodes opened: alerts raised.
    pub opened: usize,
    /// Episodes closed: conditions that no longer hold.
    pub closed: u64,
    /// Cards enqueued: single alerts and digests.
    pub cards: usize,
}

/// Everything the alert job needs, built once per process.
pub struct Alerts {
    pub db: DatabaseConnection,
    pub rules: Arc<Rules>,
    pub templates: Arc<Templates>,
    pub locale: String,
    /// Quiet hours, and the time zone months and times are read in.
    pub calendar: Arc<WorkingHours>,
    /// The directory: people's names and managers.
    pub approvals: Arc<Approvals>,
    /// `(tenant, platform)` of every configured app: where alerts can be sent.
    pub apps: Vec<(String, String)>,
    /// How long an alert waits for others to the same person.
    pub digest_window: Duration,
}

impl Alerts {
    /// The alert service of a built app.
    pub fn new(state: &AppState) -> Self {
        let config = &state.config;
        let apps = config
            .wecom
            .iter()
            .map(|app| (app.tenant.clone(), wecom::PLATFORM.to_owned()))
            .chain(
                config
                    .dingtalk
                    .iter()
                    .map(|app| (app.tenant.clone(), dingtalk::PLATFORM.to_owned())),
            )
            .collect();
        Self {
            db: state.db.clone(),
            rules: state.rules.clone(),
            templates: state.templates.clone(),
            locale: config.templates.locale.clone(),
            calendar: state.calendar.clone(),
            approvals: state.approvals.clone(),
            apps,
            digest_window: Duration::from_secs(config.alerts.digest_window_mins * 60),
        }
    }

    /// One pass at `now` (epoch ms): evaluates every rule, then sends what is due.
    pub async fn tick(&self, now: i64) -> Result<Tick, AlertError> {
        let (opened, closed) = self.evaluate(now).await?;
        let cards = self.send_due(now).await?;
        Ok(Tick {
            opened,
            closed,
            cards,
        })
    }
}

/// The scheduler job.
pub struct AlertJob {
    pub alerts: Arc<Alerts>,
    /// Wakes the dispatchers when a tick enqueued cards.
    pub wake_outbox: Arc<Notify>,
}

#[async_trait]
impl Job for AlertJob {
    async fn run(&self, _db: &DatabaseConnection, now: i64) -> Result<(), String> {
        let tick = self.alerts.tick(now).await.map_err(|e| e.to_string())?;
        if tick.opened > 0 || tick.closed > 0 || tick.cards > 0 {
            tracing::info!(
                opened = tick.opened,
                closed = tick.closed,
                cards = tick.cards,
                "manager alerts"
            );
        }
        if tick.cards > 0 {
            self.wake_outbox.notify_waiters();
        }
        Ok(())
    }
}

//! The tasks service: creating, completing and snoozing tasks, and keeping deals, with the
//! task rules applied in the same transaction as the change that triggers them (a first call
//! done moves its deal to `qualified` and creates the next task, or none of it happens).
//! Every change is an audit entry and, for the events outside systems care about, a webhook.

mod deals;
mod follow_up;
mod work;

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::{Value, json};

pub use deals::{DealInput, DealPatch};
pub use work::{TaskInput, TaskPatch};

use crate::{
    audit,
    domain::{calendar::WorkingHours, rules::Rules},
    webhooks::{WebhookEvent, Webhooks},
};

/// Tasks and deals, with their rules.
pub struct Tasks {
    pub db: DatabaseConnection,
    pub rules: Arc<Rules>,
    pub calendar: Arc<WorkingHours>,
    pub webhooks: Arc<Webhooks>,
}

/// Why a task or deal change was not made.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("no task {0}")]
    NotFound(i64),
    #[error("task {0} is not open")]
    NotOpen(i64),
    #[error("no deal {0}")]
    NoDeal(i64),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// An audit entry and, when `webhook` names an event type, the same change published.
struct Record<'a> {
    subject: (&'a str, String),
    action: &'a str,
    actor: &'a str,
    detail: Value,
    tenant: &'a str,
    webhook: Option<&'a str>,
}

impl Tasks {
    async fn record(
        &self,
        db: &impl ConnectionTrait,
        record: Record<'_>,
        now: i64,
    ) -> Result<(), DbErr> {
        let (kind, id) = (record.subject.0, record.subject.1.as_str());
        audit::record(
            db,
            now,
            record.actor,
            record.action,
            (kind, id),
            &record.detail,
        )
        .await?;
        if let Some(event) = record.webhook {
            let event_id = format!("{kind}:{id}:{}:{now}", record.action);
            let data = json!({ kind: id, "actor": record.actor, "detail": record.detail });
            self.webhooks
                .publish(
                    db,
                    &WebhookEvent {
                        id: &event_id,
                        kind: event,
                        tenant: record.tenant,
                        data: &data,
                    },
                    now,
                )
                .await?;
        }
        Ok(())
    }
}

//! The chat-platform port: where outbound messages leave salesbot. Each platform (WeCom,
//! DingTalk) registers a [`Delivery`] under its name; [`Platforms`] routes each outbox message
//! to the one its `platform` column names.

pub mod card_channel;
pub mod dingtalk;
pub mod dingtalk_delivery;
pub mod dingtalk_stream;
pub mod dingtalk_taps;
pub mod token_store;
pub mod wecom;
pub mod wecom_contacts;
pub mod wecom_delivery;
pub mod wecom_groups;
pub mod wecom_taps;

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use sea_orm::{DatabaseTransaction, DbErr};

use crate::pipeline::{Delivery, DeliveryError, OutboxMessage, Receipt};

/// The registered platforms, by name.
#[derive(Default, Clone)]
pub struct Platforms(HashMap<String, Arc<dyn Delivery>>);

impl Platforms {
    pub fn register(
        &mut self,
        platform: impl Into<String>,
        delivery: Arc<dyn Delivery>,
    ) -> &mut Self {
        self.0.insert(platform.into(), delivery);
        self
    }

    /// Registers `delivery` unless a delivery is registered under `platform` already (tests
    /// and the demo plug in their own before the configured ones).
    pub fn register_default(&mut self, platform: &str, delivery: Arc<dyn Delivery>) -> &mut Self {
        self.0.entry(platform.to_owned()).or_insert(delivery);
        self
    }

    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// The client-side limit for `rate_limit_per_minute` (0: none), with bursts of up to
/// `default_burst` calls.
pub fn rate_limit(per_minute: u32, default_burst: u32) -> salesbot_apikit::rate_limit::RateLimit {
    use salesbot_apikit::rate_limit::RateLimit;
    match per_minute {
        0 => RateLimit::new(u32::MAX, u32::MAX),
        n => RateLimit::new(n, default_burst.min(n)),
    }
}

/// Why a configured platform app could not be set up at start.
#[derive(Debug, thiserror::Error)]
#[error("[[{platform}]] tenant `{tenant}`: {reason}")]
pub struct SetupError {
    platform: &'static str,
    tenant: String,
    reason: String,
}

impl SetupError {
    pub fn new(platform: &'static str, tenant: &str, reason: String) -> Self {
        Self {
            platform,
            tenant: tenant.to_string(),
            reason,
        }
    }
}

#[async_trait]
impl Delivery for Platforms {
    async fn deliver(&self, message: &OutboxMessage) -> Result<Receipt, DeliveryError> {
        match self.0.get(&message.platform) {
            Some(delivery) => delivery.deliver(message).await,
            // Not configured on this instance: nothing will change by retrying, and the row
            // stays in the dead letters for an operator to retry once it is configured.
            None => Err(DeliveryError::permanent(format!(
                "platform `{}` is not configured",
                message.platform
            ))),
        }
    }

    async fn record(
        &self,
        txn: &DatabaseTransaction,
        message: &OutboxMessage,
        receipt: &Receipt,
        now: i64,
    ) -> Result<(), DbErr> {
        match self.0.get(&message.platform) {
            Some(delivery) => delivery.record(txn, message, receipt, now).await,
            None => Ok(()),
        }
    }
}

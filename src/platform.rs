//! The chat-platform port: where outbound messages leave salesbot. Each platform (WeCom,
//! DingTalk) registers a [`Delivery`] under its name; [`Platforms`] routes each outbox message
//! to the one its `platform` column names.

pub mod dingtalk;
pub mod dingtalk_stream;
pub mod token_store;
pub mod wecom;

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;

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

    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
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
}

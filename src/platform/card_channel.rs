//! What the WeCom and DingTalk card deliveries share: routing an outbox message to its app and
//! to send or update, parsing its payload, and keeping the `card` table in step with what was
//! sent, in the transaction that marks the message sent.

use async_trait::async_trait;
use sea_orm::{DatabaseTransaction, DbErr};

use crate::{
    cards::{
        message::{self, UpdateCard},
        store,
    },
    pipeline::{Delivery, DeliveryError, OutboxMessage, Receipt},
};

/// One platform's way of sending and updating cards, for the apps configured on it.
#[async_trait]
pub trait CardChannel: Send + Sync {
    /// One configured app (a tenant).
    type App: Send + Sync;
    /// The platform's name in error messages.
    const NAME: &'static str;

    fn app(&self, tenant: &str) -> Option<&Self::App>;
    /// Sends a [`message::SEND`] message.
    async fn send(
        &self,
        app: &Self::App,
        message: &OutboxMessage,
    ) -> Result<Receipt, DeliveryError>;
    /// Delivers a [`message::UPDATE`] message.
    async fn update(
        &self,
        app: &Self::App,
        message: &OutboxMessage,
    ) -> Result<Receipt, DeliveryError>;
}

#[async_trait]
impl<C: CardChannel> Delivery for C {
    async fn deliver(&self, message: &OutboxMessage) -> Result<Receipt, DeliveryError> {
        let app = self.app(&message.tenant).ok_or_else(|| {
            DeliveryError::permanent(format!(
                "{} tenant `{}` is not configured",
                C::NAME,
                message.tenant
            ))
        })?;
        match message.kind.as_str() {
            message::SEND => self.send(app, message).await,
            message::UPDATE => self.update(app, message).await,
            other => Err(DeliveryError::permanent(format!(
                "{} cannot deliver outbox messages of kind `{other}`",
                C::NAME
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
        record_card(txn, message, receipt, now).await
    }
}

/// Keeps the card table in step with a sent card message: how a send went out (and WeCom's
/// response_code), or what an update now shows.
async fn record_card(
    txn: &DatabaseTransaction,
    message: &OutboxMessage,
    receipt: &Receipt,
    now: i64,
) -> Result<(), DbErr> {
    match message.kind.as_str() {
        message::SEND => {
            let channel = receipt.detail["channel"].as_str().unwrap_or_default();
            let code = receipt.detail["response_code"].as_str();
            store::mark_sent(txn, &message.idempotency_key, channel, code, now).await
        }
        message::UPDATE => {
            let Ok(update) = serde_json::from_str::<UpdateCard>(&message.payload) else {
                return Ok(());
            };
            let content = serde_json::to_value(&update.card).unwrap_or_default();
            let status = update.card.status.as_ref().map(|s| s.key.as_str());
            store::mark_updated(txn, &update.send_key, &content, status, now).await
        }
        _ => Ok(()),
    }
}

/// The message's payload as `T`; a payload that does not parse will never send.
pub(super) fn payload<T: serde::de::DeserializeOwned>(
    message: &OutboxMessage,
) -> Result<T, DeliveryError> {
    serde_json::from_str(&message.payload).map_err(|e| {
        DeliveryError::permanent(format!("{} payload does not parse: {e}", message.kind))
    })
}

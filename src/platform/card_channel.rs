//! What the WeCom and DingTalk card deliveries share: routing an outbox message to its app and
//! to send or update, parsing its payload, and keeping the `card` table in step with what was
//! sent, in the transaction that marks the message sent.

use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

use crate::{
    cards::{
        message::{self, SendCard, UpdateCard},
        store::{self, SentCard},
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
    /// The channel (see [`store::channel`]) of the cards this platform can update.
    const UPDATABLE: &'static str;
    /// Why a card sent another way cannot be updated.
    const NOT_UPDATABLE: &'static str;

    fn app(&self, tenant: &str) -> Option<&Self::App>;
    /// Where the `card` table is.
    fn db(&self) -> &DatabaseConnection;
    /// Sends the card of a [`message::SEND`] message.
    async fn send(&self, app: &Self::App, send: &SendCard) -> Result<Receipt, DeliveryError>;
    /// Changes `card`, sent through [`CardChannel::UPDATABLE`], as `update` says.
    async fn update(
        &self,
        app: &Self::App,
        card: &SentCard,
        update: &UpdateCard,
    ) -> Result<Receipt, DeliveryError>;
    /// Records what a delivered message of a platform-specific kind changes, in the transaction
    /// that marks it sent. Nothing by default.
    async fn record_other(
        &self,
        _txn: &DatabaseTransaction,
        _message: &OutboxMessage,
        _now: i64,
    ) -> Result<(), DbErr> {
        Ok(())
    }
    /// Delivers an outbox message of a platform-specific kind (not a card).
    async fn deliver_other(
        &self,
        _app: &Self::App,
        message: &OutboxMessage,
    ) -> Result<Receipt, DeliveryError> {
        Err(DeliveryError::permanent(format!(
            "{} cannot deliver outbox messages of kind `{}`",
            Self::NAME,
            message.kind
        )))
    }
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
            message::SEND => {
                let send: SendCard = payload(message)?;
                self.send(app, &send).await
            }
            message::UPDATE => {
                let update: UpdateCard = payload(message)?;
                let card = updatable_card::<C>(self.db(), &update.send_key).await?;
                self.update(app, &card, &update).await
            }
            _ => self.deliver_other(app, message).await,
        }
    }

    async fn record(
        &self,
        txn: &DatabaseTransaction,
        message: &OutboxMessage,
        receipt: &Receipt,
        now: i64,
    ) -> Result<(), DbErr> {
        match message.kind.as_str() {
            message::SEND | message::UPDATE => record_card(txn, message, receipt, now).await,
            _ => self.record_other(txn, message, now).await,
        }
    }
}

/// The sent card an update is for, if it can be updated now: an update enqueued before its
/// send went out waits for it; one for a card sent a way that cannot change is reported.
async fn updatable_card<C: CardChannel>(
    db: &DatabaseConnection,
    send_key: &str,
) -> Result<SentCard, DeliveryError> {
    let card = store::by_send_key(db, send_key)
        .await
        .map_err(|e| DeliveryError::transient(format!("reading the card: {e}")))?
        .ok_or_else(|| DeliveryError::permanent(format!("no card was sent under `{send_key}`")))?;
    if card.sent_at.is_none() {
        return Err(DeliveryError::transient("the card has not been sent yet"));
    }
    if card.channel.as_deref() != Some(C::UPDATABLE) {
        return Err(DeliveryError::permanent(C::NOT_UPDATABLE));
    }
    Ok(card)
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
            store::mark_sent(txn, &message.idempotency_key, channel, code, now).await?;
            audit_card(txn, &message.idempotency_key, "card.sent", now).await
        }
        message::UPDATE => {
            let Ok(update) = serde_json::from_str::<UpdateCard>(&message.payload) else {
                return Ok(());
            };
            let content = serde_json::to_value(&update.card).unwrap_or_default();
            let status = update.card.status.as_ref().map(|s| s.key.as_str());
            store::mark_updated(txn, &update.send_key, &content, status, now).await?;
            audit_card(txn, &update.send_key, "card.updated", now).await
        }
        _ => Ok(()),
    }
}

/// Records in the audit log that the card sent under `send_key` went out or changed, under
/// what the card is about (`approval:12:level:1` → approval 12), so that thing's history shows
/// each card with its platform id.
async fn audit_card(
    txn: &DatabaseTransaction,
    send_key: &str,
    action: &str,
    now: i64,
) -> Result<(), DbErr> {
    let Some(card) = store::by_send_key(txn, send_key).await? else {
        return Ok(());
    };
    let mut about = card.subject.splitn(3, ':');
    let (Some(kind), Some(id)) = (about.next(), about.next()) else {
        return Ok(());
    };
    let detail = serde_json::json!({
        "card": card.track_id,
        "kind": card.message_kind,
        "recipient": card.recipient,
        "platform": card.platform,
        "channel": card.channel,
        "status": card.status,
    });
    crate::audit::record(txn, now, "system", action, (kind, id), &detail).await
}

/// The message's payload as `T`; a payload that does not parse will never send.
fn payload<T: serde::de::DeserializeOwned>(message: &OutboxMessage) -> Result<T, DeliveryError> {
    serde_json::from_str(&message.payload).map_err(|e| {
        DeliveryError::permanent(format!("{} payload does not parse: {e}", message.kind))
    })
}

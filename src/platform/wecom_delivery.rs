//! Sends and updates cards through WeCom: `message/send` with a `template_card` (or markdown
//! where a card cannot be used) and `message/update_template_card` with the card's single-use
//! `response_code` (wecom.md §4).

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_wecom::api::{
    ApiError, MessageContent, SendMessage, SendMessageResponse, UpdateTemplateCard,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde_json::json;

use super::{
    card_channel::CardChannel,
    wecom::{WecomApp, WecomApps},
    wecom_contacts::outbox as contacts,
};
use crate::{
    cards::{
        Recipient,
        message::{SendCard, UpdateCard},
        render,
        store::{self, SentCard, channel},
    },
    chat::reply as chat,
    config::MessageFormat,
    metrics::Metrics,
    pipeline::{DeliveryError, OutboxMessage, Receipt, clock::now_ms},
};

/// How long a `response_code` can be used: 72 hours (wecom.md §4.2, §4.5).
pub const RESPONSE_CODE_LIFETIME_MS: i64 = 72 * 3600 * 1000;

/// The WeCom side of the delivery port.
pub struct WecomDelivery {
    db: DatabaseConnection,
    apps: Arc<WecomApps>,
    metrics: Arc<Metrics>,
}

impl WecomDelivery {
    pub fn new(db: DatabaseConnection, apps: Arc<WecomApps>, metrics: Arc<Metrics>) -> Self {
        Self { db, apps, metrics }
    }
}

#[async_trait]
impl CardChannel for WecomDelivery {
    type App = WecomApp;
    const NAME: &'static str = "WeCom";

    const UPDATABLE: &'static str = channel::WECOM_TEMPLATE_CARD;
    const NOT_UPDATABLE: &'static str =
        "the card went out as markdown, which WeCom cannot update; send a new message";

    fn app(&self, tenant: &str) -> Option<&WecomApp> {
        self.apps.get(tenant).map(|app| &**app)
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn send(&self, app: &WecomApp, send: &SendCard) -> Result<Receipt, DeliveryError> {
        let prefer_markdown = app.message_format == MessageFormat::Markdown;
        let content = render::wecom::message(&send.card, &send.track_id, prefer_markdown);
        let channel = match content {
            MessageContent::TemplateCard { .. } => channel::WECOM_TEMPLATE_CARD,
            _ => channel::WECOM_MARKDOWN,
        };
        let request = SendMessage::new(app.agent_id, content);
        let request = match &send.recipient {
            Recipient::User(id) => request.to_users([id]),
            Recipient::Department(id) => request.to_parties([id]),
            Recipient::Tag(id) => request.to_tags([id]),
        }
        .with_duplicate_check(Some(app.duplicate_check_secs));
        let answer = app
            .client
            .send_message(&request)
            .await
            .map_err(delivery_error)?;
        check_recipient(&send.recipient, &answer)?;
        Ok(Receipt {
            answer: json!({
                "channel": channel,
                "msgid": answer.msgid,
                "invalidparty": answer.invalidparty,
                "invalidtag": answer.invalidtag,
            }),
            // Kept in the card table, not on the outbox row operators read.
            detail: json!({ "channel": channel, "response_code": answer.response_code }),
        })
    }

    async fn update(
        &self,
        app: &WecomApp,
        card: &SentCard,
        update: &UpdateCard,
    ) -> Result<Receipt, DeliveryError> {
        let db = &self.db;
        let change = render::wecom::update(&update.card).ok_or_else(|| {
            DeliveryError::permanent("the card has no buttons, so WeCom gave no code to update it")
        })?;
        let now = now_ms();
        let (code, issued_at) = match (&card.response_code, card.response_code_at) {
            (Some(code), Some(at)) => (code, at),
            _ => {
                return Err(DeliveryError::permanent(
                    "the card's response_code was spent by an earlier update and no tap has \
                     brought a fresh one; send a new message",
                ));
            }
        };
        if now - issued_at > RESPONSE_CODE_LIFETIME_MS {
            return Err(DeliveryError::permanent(format!(
                "the card's response_code expired ({} h old; WeCom accepts it for 72 h); send a \
                 new message",
                (now - issued_at) / 3_600_000
            )));
        }
        // Single use: spent here, before the call, so two updates never present the same code.
        let spent = store::spend_response_code(db, &update.send_key, code, now)
            .await
            .map_err(|e| DeliveryError::transient(format!("spending the response_code: {e}")))?;
        if !spent {
            return Err(DeliveryError::transient(
                "the card's response_code changed meanwhile; retrying with the new one",
            ));
        }
        let request = UpdateTemplateCard::for_everyone(app.agent_id, code.as_str(), change);
        match app.client.update_template_card(&request).await {
            Ok(answer) => Ok(Receipt::new(json!({ "invaliduser": answer.invaliduser }))),
            Err(err) if err.retryable() => {
                // WeCom did not act on the request: the code is still good for the retry.
                let _ = store::restore_response_code(db, &update.send_key, code, issued_at).await;
                Err(delivery_error(err))
            }
            Err(err) => Err(DeliveryError::permanent(format!(
                "{err} (the response_code is spent, expired or was rejected; send a new message)"
            ))),
        }
    }

    /// A delivered `mark_tag` confirms the tags a rule put on the relation.
    async fn record_other(
        &self,
        txn: &DatabaseTransaction,
        message: &OutboxMessage,
        _now: i64,
    ) -> Result<(), DbErr> {
        if message.kind == contacts::MARK_TAG {
            contacts::confirm_mark_tag(txn, message).await?;
        }
        Ok(())
    }

    /// The customer-contact calls (welcome messages and tag changes) and answers to chat
    /// commands.
    async fn deliver_other(
        &self,
        app: &WecomApp,
        message: &OutboxMessage,
    ) -> Result<Receipt, DeliveryError> {
        match message.kind.as_str() {
            contacts::WELCOME => contacts::deliver_welcome(app, &self.metrics, message).await,
            contacts::MARK_TAG => contacts::deliver_mark_tag(app, message).await,
            chat::KIND => deliver_chat_reply(app, message).await,
            other => Err(DeliveryError::permanent(format!(
                "WeCom cannot deliver outbox messages of kind `{other}`"
            ))),
        }
    }
}

/// How long WeCom holds back an identical answer to the same rep (its duplicate check compares
/// the whole request): long enough to cover the outbox's first retries of a send whose response
/// was lost, short enough that the same command typed again a minute later is answered again.
const CHAT_REPLY_DUPLICATE_CHECK_SECS: u32 = 60;

/// An answer to a chat command: an app text message to the rep (wecom.md §5.2).
async fn deliver_chat_reply(
    app: &WecomApp,
    message: &OutboxMessage,
) -> Result<Receipt, DeliveryError> {
    let reply = chat::Reply::of(message)?;
    let request = SendMessage::new(app.agent_id, MessageContent::text(&reply.text))
        .to_users([&reply.recipient])
        .with_duplicate_check(Some(CHAT_REPLY_DUPLICATE_CHECK_SECS));
    let answer = app
        .client
        .send_message(&request)
        .await
        .map_err(delivery_error)?;
    check_recipient(&Recipient::User(reply.recipient), &answer)?;
    Ok(Receipt::new(json!({ "msgid": answer.msgid })))
}

/// A member who is listed as invalid or unlicensed did not get the card (wecom.md §5.2).
fn check_recipient(
    recipient: &Recipient,
    answer: &SendMessageResponse,
) -> Result<(), DeliveryError> {
    let Recipient::User(id) = recipient else {
        return Ok(());
    };
    let id = id.to_lowercase();
    if answer.invaliduser.contains(&id) {
        return Err(DeliveryError::permanent(format!(
            "WeCom lists `{id}` as invalid or not visible to the app"
        )));
    }
    if answer.unlicenseduser.contains(&id) {
        return Err(DeliveryError::permanent(format!(
            "`{id}` has no WeCom interface licence (基础接口许可)"
        )));
    }
    Ok(())
}

/// Retry what WeCom says may pass (after its window for 45009); dead-letter the rest.
pub(super) fn delivery_error(err: ApiError) -> DeliveryError {
    if err.retryable() {
        DeliveryError::Transient {
            reason: err.to_string(),
            retry_after: err.retry_after(),
        }
    } else {
        DeliveryError::permanent(err.to_string())
    }
}

//! The customer-contact calls that leave through the outbox: the welcome message (urgent: its
//! code is valid 20 seconds, once) and `mark_tag` (one call per distinct change of a relation's
//! tags).

use salesbot_wecom::api::{ApiError, MarkTag, WelcomeMessage, errcode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::wecom::{PLATFORM, WecomApp};
use crate::{
    domain::customer::store as customer_store,
    metrics::Metrics,
    pipeline::{
        DeliveryError, NewMessage, OutboxMessage, Receipt,
        clock::now_ms,
        outbox::{PRIORITY_NORMAL, PRIORITY_URGENT},
    },
};

/// Outbox kind of a welcome message.
pub const WELCOME: &str = "wecom.welcome";
/// Outbox kind of a `mark_tag` call.
pub const MARK_TAG: &str = "wecom.mark_tag";

/// How long a welcome code is valid after the add event (wecom.md §3.1, §5.11).
pub const WELCOME_CODE_LIFETIME_MS: i64 = 20_000;

/// The payload of a [`WELCOME`] message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub request: WelcomeMessage,
    /// After this (epoch ms) the code is dead: the message is skipped, never sent late.
    pub expires_at: i64,
}

/// The outbox message that sends `welcome`, keyed by its code (used once, whatever happens).
pub fn welcome_message(tenant: &str, welcome: &Welcome) -> NewMessage {
    NewMessage {
        idempotency_key: format!("wecom:{tenant}:welcome:{}", welcome.request.welcome_code),
        platform: PLATFORM.into(),
        tenant: tenant.into(),
        kind: WELCOME.into(),
        payload: serde_json::to_value(welcome).expect("a welcome serializes"),
        not_before: None,
        priority: PRIORITY_URGENT,
    }
}

/// The outbox message of one `mark_tag` call, keyed by the relation and the exact change, so
/// the same change enqueued twice is one call.
pub fn mark_tag_message(tenant: &str, request: &MarkTag) -> NewMessage {
    let mut add = request.add_tag.clone();
    add.sort();
    let mut remove = request.remove_tag.clone();
    remove.sort();
    let key = format!(
        "wecom:{tenant}:mark_tag:{}:{}:+{}-{}",
        request.external_userid,
        request.userid,
        add.join(","),
        remove.join(",")
    );
    NewMessage {
        idempotency_key: crate::cards::message::bounded_key(key),
        platform: PLATFORM.into(),
        tenant: tenant.into(),
        kind: MARK_TAG.into(),
        payload: serde_json::to_value(request).expect("a mark_tag request serializes"),
        not_before: None,
        priority: PRIORITY_NORMAL,
    }
}

/// Sends a welcome message while its code lives. Once it has expired the message is skipped
/// (a late welcome cannot be sent); 41051 means another app greeted first or the two have
/// chatted, and is recorded, never retried. Transient failures are retried at once by the
/// client, then by the queue after half a second, as long as the code lives.
pub async fn deliver_welcome(
    app: &WecomApp,
    metrics: &Metrics,
    message: &OutboxMessage,
) -> Result<Receipt, DeliveryError> {
    let welcome: Welcome = serde_json::from_str(&message.payload)
        .map_err(|e| DeliveryError::permanent(format!("welcome payload does not parse: {e}")))?;
    let skipped = |outcome: &str, reason: String| {
        metrics.count_welcome(&message.tenant, outcome);
        tracing::info!(outcome, %reason, "welcome message not sent");
        Ok(Receipt::new(
            json!({ "skipped": outcome, "reason": reason }),
        ))
    };
    if now_ms() >= welcome.expires_at {
        return skipped(
            "expired",
            "the welcome code expired before it could be used".into(),
        );
    }
    match app.client.send_welcome_msg(&welcome.request).await {
        Ok(()) => {
            metrics.count_welcome(&message.tenant, "sent");
            Ok(Receipt::new(json!({ "sent": true })))
        }
        Err(err) if err.errcode() == Some(errcode::WELCOME_NOT_ALLOWED) => {
            skipped("not_allowed", err.to_string())
        }
        Err(err) if err.retryable() && now_ms() < welcome.expires_at - 500 => {
            Err(DeliveryError::Transient {
                reason: err.to_string(),
                retry_after: Some(std::time::Duration::from_millis(500)),
            })
        }
        Err(err) if err.retryable() => skipped("expired", err.to_string()),
        Err(err) => {
            metrics.count_welcome(&message.tenant, "failed");
            Err(DeliveryError::permanent(err.to_string()))
        }
    }
}

/// Applies one tag change to a relation.
pub async fn deliver_mark_tag(
    app: &WecomApp,
    message: &OutboxMessage,
) -> Result<Receipt, DeliveryError> {
    let request: MarkTag = serde_json::from_str(&message.payload)
        .map_err(|e| DeliveryError::permanent(format!("mark_tag payload does not parse: {e}")))?;
    app.client
        .mark_tag(&request)
        .await
        .map_err(super::super::wecom_delivery::delivery_error)?;
    Ok(Receipt::new(json!({ "tagged": request.add_tag.len() })))
}

/// Marks the tags a delivered `mark_tag` added as confirmed by WeCom.
pub async fn confirm_mark_tag(
    db: &impl sea_orm::ConnectionTrait,
    message: &OutboxMessage,
) -> Result<(), sea_orm::DbErr> {
    let Ok(request) = serde_json::from_str::<MarkTag>(&message.payload) else {
        return Ok(());
    };
    if let Some(customer_id) =
        customer_store::find_customer(db, &message.tenant, &request.external_userid).await?
    {
        customer_store::set_source(
            db,
            customer_id,
            &request.userid,
            &request.add_tag,
            customer_store::source::WECOM,
        )
        .await?;
    }
    Ok(())
}

/// Whether WeCom says the relation or the customer does not exist (any more).
pub fn is_gone(err: &ApiError) -> bool {
    matches!(
        err.errcode(),
        Some(errcode::NO_RELATIONSHIP | errcode::INVALID_EXTERNAL_USERID)
    )
}

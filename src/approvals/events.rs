//! State changes of an approval, recorded where they happen: an audit entry (time, actor,
//! platform and what changed) and, for the changes a CRM follows, a message to each outbound
//! webhook — both in the caller's transaction, so neither exists without the change.

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

use super::Approvals;
use crate::{
    audit,
    domain::approval::store::{self, ApprovalRow},
};

/// What happened to an approval.
pub struct Change<'a> {
    /// The event after `approval.`, e.g. `decided`.
    pub event: &'static str,
    /// Who caused it: a user id, `admin-api`, `system`.
    pub actor: &'a str,
    pub detail: Value,
    /// What tells this change from others of its event on the same approval (a level, an
    /// approver); part of the webhook message's id, which receivers use to drop duplicates.
    pub key: Option<String>,
}

impl<'a> Change<'a> {
    pub fn new(event: &'static str, actor: &'a str, detail: Value) -> Self {
        Self {
            event,
            actor,
            detail,
            key: None,
        }
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Taps that changed nothing, cards sent and updated: audited, not announced.
    fn is_announced(&self) -> bool {
        !matches!(
            self.event,
            "tap_refused" | "escalation_skipped" | "card_sent" | "card_updated"
        )
    }
}

impl Approvals {
    /// Records `change` to `approval` (as it was before the change; the webhook gets it as it is
    /// after, read in the same transaction).
    pub async fn changed(
        &self,
        db: &impl ConnectionTrait,
        approval: &ApprovalRow,
        change: Change<'_>,
        now: i64,
    ) -> Result<(), DbErr> {
        let webhooks = &self.webhooks;
        let action = format!("approval.{}", change.event);
        let announced = change.is_announced();
        let mut detail = change.detail;
        if detail.is_null() {
            detail = json!({});
        }
        detail["platform"] = json!(approval.platform);
        let subject_id = approval.id.to_string();
        audit::record(
            db,
            now,
            change.actor,
            &action,
            ("approval", &subject_id),
            &detail,
        )
        .await?;
        if webhooks.is_empty() || !announced {
            return Ok(());
        }
        let current = store::get(db, approval.id)
            .await?
            .unwrap_or_else(|| approval.clone());
        let mut id = format!("approval:{}:{}", approval.id, change.event);
        if let Some(key) = &change.key {
            id = format!("{id}:{key}");
        }
        // The approval's fields, then what the change says beside them (never over them).
        let mut data = summary(&current);
        data["actor"] = json!(change.actor);
        if let (Value::Object(data), Value::Object(detail)) = (&mut data, detail) {
            for (key, value) in detail {
                data.entry(key).or_insert(value);
            }
        }
        let event = crate::webhooks::WebhookEvent {
            id: &id,
            kind: &action,
            tenant: &approval.tenant,
            data: &data,
        };
        webhooks.publish(db, &event, now).await
    }
}

/// The approval as a webhook receiver sees it.
fn summary(approval: &ApprovalRow) -> Value {
    json!({
        "id": approval.id,
        "tenant": approval.tenant,
        "platform": approval.platform,
        "kind": approval.kind,
        "title": approval.title,
        "requester": approval.requester,
        "amount": approval.amount,
        "discount_pct": approval.discount_pct,
        "subject": { "type": approval.subject_type, "id": approval.subject_id },
        "status": approval.status,
        "current_level": approval.current_level,
        "level_count": approval.level_count,
    })
}

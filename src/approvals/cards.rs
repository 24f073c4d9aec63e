//! The approval cards: the request (and its reminder) to each approver of a level, their
//! updates to how the step or approval ended, and the decision to the requester.

use sea_orm::ConnectionTrait;
use serde_json::json;

use super::RequestError;
use crate::{
    cards::{Card, MessageKind, Notice, Recipient, Templates, message, store as card_store},
    domain::{
        approval::store::{self, ApprovalRow, StepRow},
        time::local_minute,
    },
};

/// How approval cards are rendered and sent: the request to each approver of a level, its
/// updates, and the decision to the requester.
pub struct Cards<'a> {
    pub templates: &'a Templates,
    pub locale: &'a str,
    pub public_base_url: &'a str,
}

impl Cards<'_> {
    /// Sends each approver of `level` the approval_request card and records which card it is.
    pub async fn ask_level(
        &self,
        db: &impl ConnectionTrait,
        approval: &ApprovalRow,
        level: i32,
        approvers: &[String],
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), RequestError> {
        for approver in approvers {
            let card = self.request_card(approval, level, approver, None)?;
            let subject = format!("approval:{}:level:{level}", approval.id);
            let key = send(
                db,
                approval,
                (MessageKind::ApprovalRequest, subject),
                card,
                approver,
                inbox_id,
                now,
            )
            .await?;
            store::set_card(db, approval.id, level, approver, &key, now).await?;
        }
        Ok(())
    }

    /// The approval_request card for `approver`, open or (with `state`: key, by, at) decided.
    pub fn request_card(
        &self,
        approval: &ApprovalRow,
        level: i32,
        approver: &str,
        state: Option<(&str, &str, i64)>,
    ) -> Result<Card, RequestError> {
        self.render(
            MessageKind::ApprovalRequest,
            approval,
            level,
            approver,
            state,
            json!({}),
        )
    }

    /// A card of `kind` (a request or a reminder) for `approver` at `level`; `extra` adds to
    /// the `approval` variables (a reminder's waiting time).
    fn render(
        &self,
        kind: MessageKind,
        approval: &ApprovalRow,
        level: i32,
        approver: &str,
        state: Option<(&str, &str, i64)>,
        extra: serde_json::Value,
    ) -> Result<Card, RequestError> {
        let mut data = self.data(approval);
        data["approval"]["step"] = json!(format!("{level}/{}", approval.level_count));
        if let serde_json::Value::Object(extra) = extra {
            for (key, value) in extra {
                data["approval"][key] = value;
            }
        }
        data["approver"] = json!({ "name": approver });
        let rendered = match state {
            None => self.templates.render(kind, self.locale, &data),
            Some((key, by, at)) => {
                data["state"] = json!({ "by": by, "at": local_minute(at), "comment": "" });
                self.templates.render_state(kind, self.locale, key, &data)
            }
        };
        rendered.map_err(|e| RequestError::Invalid(e.to_string()))
    }

    /// Sends `step`'s approver the approval_reminder card, with the same buttons as the
    /// request, and records which card it is. `asked_at` is when the request went out.
    pub async fn remind(
        &self,
        db: &impl ConnectionTrait,
        approval: &ApprovalRow,
        step: &StepRow,
        asked_at: i64,
        now: i64,
    ) -> Result<String, RequestError> {
        let extra = waiting(asked_at, now);
        let card = self.render(
            MessageKind::ApprovalReminder,
            approval,
            step.level,
            &step.approver,
            None,
            extra,
        )?;
        let subject = format!("approval:{}:level:{}", approval.id, step.level);
        let kind = (MessageKind::ApprovalReminder, subject);
        let key = send(db, approval, kind, card, &step.approver, None, now).await?;
        store::set_reminder(db, approval.id, step.level, &step.approver, &key, now).await?;
        Ok(key)
    }

    /// Updates every card `step` was sent (the request, and its reminder if any) to `state`,
    /// decided by `by` at `now`.
    pub async fn settle(
        &self,
        db: &impl ConnectionTrait,
        approval: &ApprovalRow,
        step: &StepRow,
        state: (&str, &str),
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), RequestError> {
        for key in step.card_keys() {
            if let Some(card) = card_store::by_send_key(db, key).await? {
                self.settle_card(db, approval, &card, state, inbox_id, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Updates one approval card (a request or a reminder) to `state`, decided by `by`.
    pub async fn settle_card(
        &self,
        db: &impl ConnectionTrait,
        approval: &ApprovalRow,
        card: &card_store::SentCard,
        (state, by): (&str, &str),
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), RequestError> {
        let approver = card
            .recipient
            .strip_prefix("user:")
            .unwrap_or(&card.recipient);
        let level = super::tap::approval_card(&card.subject)
            .map_or(approval.current_level, |(_, level)| level);
        let step = store::steps(db, approval.id)
            .await?
            .into_iter()
            .find(|s| s.level == level && s.approver == approver);
        let (kind, extra) = if card.message_kind == MessageKind::ApprovalReminder.as_str() {
            let extra = match step.as_ref().map(|s| (s.asked_at, s.reminded_at)) {
                Some((Some(asked), Some(reminded))) => waiting(asked, reminded),
                _ => waiting(now, now),
            };
            (MessageKind::ApprovalReminder, extra)
        } else {
            (MessageKind::ApprovalRequest, json!({}))
        };
        let decided = self.render(
            kind,
            approval,
            level,
            approver,
            Some((state, by, now)),
            extra,
        )?;
        message::update(db, &card.send_key, &decided, inbox_id, now)
            .await
            .map_err(|e| RequestError::Invalid(e.to_string()))?;
        Ok(())
    }

    /// Tells the requester how their approval ended, once.
    pub async fn tell_requester(
        &self,
        db: &impl ConnectionTrait,
        approval: &ApprovalRow,
        result: &str,
        by: &str,
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), RequestError> {
        let mut data = self.data(approval);
        data["decision"] =
            json!({ "result": result, "by": by, "at": local_minute(now), "comment": "" });
        let card = self
            .templates
            .render(MessageKind::ApprovalDecided, self.locale, &data)
            .map_err(|e| RequestError::Invalid(e.to_string()))?;
        let kind = (
            MessageKind::ApprovalDecided,
            format!("approval:{}", approval.id),
        );
        send(db, approval, kind, card, &approval.requester, inbox_id, now).await?;
        Ok(())
    }

    /// The variables the approval templates share (docs/templates.md).
    fn data(&self, approval: &ApprovalRow) -> serde_json::Value {
        let fields: serde_json::Value = serde_json::from_str(&approval.fields).unwrap_or_default();
        let field = |name: &str| match &fields[name] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        json!({
            "approval": {
                "id": approval.id.to_string(),
                "discount_pct": format_number(approval.discount_pct),
                "reason": field("reason"),
                "submitted_at": local_minute(approval.created_at),
            },
            "requester": { "name": approval.requester_name },
            "customer": { "name": field("customer") },
            "deal": {
                "id": approval.subject_id,
                "name": approval.title,
                "amount": format!("¥{}", format_number(approval.amount)),
            },
            "links": {
                "approval": approval.link.clone().unwrap_or_else(|| self.public_base_url.to_owned()),
            },
        })
    }
}

/// Sends `card` of `(kind, subject)` about `approval` to user `to` on the approval's platform;
/// returns the card's send key.
async fn send(
    db: &impl ConnectionTrait,
    approval: &ApprovalRow,
    (kind, subject): (MessageKind, String),
    card: Card,
    to: &str,
    inbox_id: Option<i64>,
    now: i64,
) -> Result<String, RequestError> {
    let notice = Notice {
        platform: approval.platform.clone(),
        tenant: approval.tenant.clone(),
        kind,
        subject,
        version: 1,
        card,
    };
    let recipient = Recipient::User(to.to_owned());
    message::send(db, &notice, std::slice::from_ref(&recipient), inbox_id, now)
        .await
        .map_err(|e| RequestError::Invalid(e.to_string()))?;
    Ok(message::send_key(&notice, &recipient))
}

/// A reminder's `approval.pending_since` and `approval.pending_hours` (whole hours, at least 1).
fn waiting(asked_at: i64, at: i64) -> serde_json::Value {
    let hours = ((at - asked_at).max(0) / 3_600_000).max(1);
    json!({
        "pending_since": local_minute(asked_at),
        "pending_hours": hours.to_string(),
    })
}

/// `15` rather than `15.0`, `12.5` as is.
fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

//! A tap on an approval card (WeCom `template_card_event`): checked against the approval (the
//! tapper must be an undecided approver of its current level), recorded, and followed through —
//! the tapper's card shows the decision, the level finishes by its mode (any one, or all), the
//! next level is asked or the requester told, and the other approvers' cards of a finished level
//! show how it ended. A tap that changes nothing is audited with the reason.

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_wecom::event::{CardTap, Event};
use sea_orm::DatabaseTransaction;
use serde_json::json;

use super::{
    approvals::{Cards, RequestError},
    wecom::{PLATFORM, stored_callback},
};
use crate::{
    audit,
    cards::{Templates, message, store as card_store},
    domain::approval::store::{self, ApprovalRow, StepRow, status},
    pipeline::{Effects, EventHandler, HandlerError, Handlers, InboxEvent},
};

/// Inbox kind of a tap on a WeCom template card.
pub const TAP: &str = "wecom.template_card_event";

/// What the tap handler needs.
pub struct ApprovalTaps {
    pub templates: Arc<Templates>,
    pub locale: String,
    pub public_base_url: String,
}

/// Registers the tap handler unless one is registered already.
pub fn register(handlers: &mut Handlers, taps: Arc<ApprovalTaps>) {
    handlers.register_default(TAP, taps);
}

#[async_trait]
impl EventHandler for ApprovalTaps {
    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        let (_, tap) = stored_callback(event, "template_card_event", |event| match event {
            Event::TemplateCard(tap) => Some(tap.clone()),
            _ => None,
        })?;
        let db = effects.db();
        let now = effects.now();
        let Some(card) = card_store::by_track_id(db, PLATFORM, &event.tenant, &tap.task_id).await?
        else {
            tracing::info!(task_id = %tap.task_id, "tap on a card salesbot did not send");
            return Ok(());
        };
        let Some((approval_id, level)) = approval_card(&card.subject) else {
            return Ok(());
        };
        let tapper = tap.user_id.to_lowercase();
        let cx = Tap {
            taps: self,
            effects,
            db,
            now,
            tap: &tap,
            tapper: &tapper,
            approval_id,
            level,
            card_key: &card.send_key,
        };
        cx.decide().await.map_err(|e| match e {
            RequestError::Database(e) => HandlerError::Database(e),
            other => HandlerError::Permanent(other.to_string()),
        })?;
        // Every tap brings a fresh single-use code for updating the card. Kept last: the card
        // row is then locked only just before the commit, never while this transaction waits
        // for an outbox row a dispatcher is recording (on PostgreSQL that wait was a deadlock).
        if let Some(code) = &tap.response_code {
            card_store::offer_response_code(db, PLATFORM, &event.tenant, &tap.task_id, code, now)
                .await?;
        }
        Ok(())
    }
}

/// `approval:<id>:level:<n>` → (id, n).
fn approval_card(subject: &str) -> Option<(i64, i32)> {
    let rest = subject.strip_prefix("approval:")?;
    let (id, level) = rest.split_once(":level:")?;
    Some((id.parse().ok()?, level.parse().ok()?))
}

/// One tap being decided.
struct Tap<'a> {
    taps: &'a ApprovalTaps,
    effects: &'a Effects<'a>,
    db: &'a DatabaseTransaction,
    now: i64,
    tap: &'a CardTap,
    tapper: &'a str,
    approval_id: i64,
    level: i32,
    card_key: &'a str,
}

impl Tap<'_> {
    fn cards(&self) -> Cards<'_> {
        Cards {
            templates: &self.taps.templates,
            locale: &self.taps.locale,
            public_base_url: &self.taps.public_base_url,
        }
    }

    async fn decide(&self) -> Result<(), RequestError> {
        let Some(approval) = store::lock(self.db, self.approval_id).await? else {
            return self.refuse("no such approval").await;
        };
        let decision = match self.tap.event_key.as_str() {
            "approve" => status::APPROVED,
            "reject" => status::REJECTED,
            other => return self.refuse(&format!("unknown button `{other}`")).await,
        };
        if approval.status != status::PENDING {
            // Show the tapper how it ended.
            let by = self.decider(&approval).await?;
            self.update_card(&approval, self.card_key, &approval.status, &by)
                .await?;
            return self.refuse("the approval is decided already").await;
        }
        if approval.current_level != self.level {
            return self
                .refuse("the card is not for the approval's current level")
                .await;
        }
        let steps: Vec<StepRow> = store::steps(self.db, approval.id)
            .await?
            .into_iter()
            .filter(|step| step.level == self.level)
            .collect();
        let Some(step) = steps
            .iter()
            .find(|s| s.approver.to_lowercase() == self.tapper)
        else {
            return self
                .refuse("the tapper is not an approver of this level")
                .await;
        };
        if step.decision.is_some()
            || !store::decide_step(
                self.db,
                approval.id,
                self.level,
                &step.approver,
                decision,
                self.now,
            )
            .await?
        {
            return self.refuse("the tapper decided already").await;
        }
        self.audit(
            "approval.step_decided",
            json!({ "level": self.level, "decision": decision }),
        )
        .await?;
        self.update_card(&approval, self.card_key, decision, &step.approver)
            .await?;
        let all_mode = steps.first().is_some_and(|s| s.mode == "all");
        let approvals = steps
            .iter()
            .filter(|s| s.decision.as_deref() == Some(status::APPROVED))
            .count()
            + usize::from(decision == status::APPROVED);
        let level_outcome = if decision == status::REJECTED {
            Some(status::REJECTED)
        } else if !all_mode || approvals == steps.len() {
            Some(status::APPROVED)
        } else {
            None
        };
        let Some(outcome) = level_outcome else {
            return Ok(());
        };
        // The level is over: the others' open cards show how it ended.
        for other in steps
            .iter()
            .filter(|s| s.approver != step.approver && s.decision.is_none())
        {
            if let Some(key) = &other.card_key {
                self.update_card(&approval, key, outcome, &step.approver)
                    .await?;
            }
        }
        let inbox_id = Some(self.effects.event_id());
        if outcome == status::APPROVED && self.level < approval.level_count {
            let next = self.level + 1;
            store::advance(self.db, approval.id, next, self.now).await?;
            let approvers: Vec<String> = store::steps(self.db, approval.id)
                .await?
                .into_iter()
                .filter(|s| s.level == next)
                .map(|s| s.approver)
                .collect();
            self.cards()
                .ask_level(self.db, &approval, next, &approvers, inbox_id, self.now)
                .await?;
            self.audit(
                "approval.level_decided",
                json!({ "level": self.level, "next": next }),
            )
            .await?;
        } else {
            store::finish(self.db, approval.id, outcome, self.now).await?;
            self.cards()
                .tell_requester(
                    self.db,
                    &approval,
                    outcome,
                    &step.approver,
                    inbox_id,
                    self.now,
                )
                .await?;
            self.audit(
                "approval.decided",
                json!({ "status": outcome, "by": step.approver }),
            )
            .await?;
        }
        self.effects.note_sent();
        Ok(())
    }

    /// Who decided a finished approval: the last approver to decide.
    async fn decider(&self, approval: &ApprovalRow) -> Result<String, RequestError> {
        Ok(store::steps(self.db, approval.id)
            .await?
            .into_iter()
            .filter(|s| s.decided_at.is_some())
            .max_by_key(|s| s.decided_at)
            .map(|s| s.approver)
            .unwrap_or_default())
    }

    /// Enqueues the update of the card sent under `key` to show `state` decided by `by`.
    async fn update_card(
        &self,
        approval: &ApprovalRow,
        key: &str,
        state: &str,
        by: &str,
    ) -> Result<(), RequestError> {
        let Some(card) = card_store::by_send_key(self.db, key).await? else {
            return Ok(());
        };
        let recipient = card
            .recipient
            .strip_prefix("user:")
            .unwrap_or(&card.recipient);
        let decided = self.cards().request_card(
            approval,
            self.level,
            recipient,
            Some((state, by, self.now)),
        )?;
        message::update(
            self.db,
            key,
            &decided,
            Some(self.effects.event_id()),
            self.now,
        )
        .await
        .map_err(|e| RequestError::Invalid(e.to_string()))?;
        self.effects.note_sent();
        Ok(())
    }

    async fn refuse(&self, reason: &str) -> Result<(), RequestError> {
        tracing::info!(
            approval = self.approval_id,
            tapper = self.tapper,
            reason,
            "tap refused"
        );
        self.audit(
            "approval.tap_refused",
            json!({ "level": self.level, "reason": reason }),
        )
        .await
    }

    async fn audit(&self, action: &str, mut detail: serde_json::Value) -> Result<(), RequestError> {
        detail["tapper"] = json!(self.tapper);
        detail["button"] = json!(self.tap.event_key);
        detail["task_id"] = json!(self.tap.task_id);
        detail["platform"] = json!(PLATFORM);
        audit::record(
            self.db,
            self.now,
            self.tapper,
            action,
            ("approval", &self.approval_id.to_string()),
            &detail,
        )
        .await?;
        Ok(())
    }
}

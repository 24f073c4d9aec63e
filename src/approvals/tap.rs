//! A tap on an approval card, from either platform: checked against the approval (the tapper
//! must be an undecided approver of its current level, or a manager standing in for one),
//! recorded, and followed through — the tapper's cards show the decision, the level finishes
//! by its mode (any one, or all), the next level is asked or the requester told, and the other
//! approvers' cards of a finished level show how it ended. A tap that changes nothing is
//! audited with the reason, and a tap on a decided approval gets its card updated to the end.

use async_trait::async_trait;
use sea_orm::DatabaseTransaction;
use serde_json::json;

use super::{Approvals, RequestError, events::Change};
use crate::{
    cards::{
        store::SentCard,
        taps::{TapInput, TapTarget},
    },
    domain::approval::store::{self, ApprovalRow, StepRow, status},
    pipeline::{Effects, HandlerError},
};

/// Approvals decide the taps on approval cards (`approval:<id>:level:<n>`).
#[async_trait]
impl TapTarget for Approvals {
    fn prefix(&self) -> &'static str {
        "approval:"
    }

    async fn tap(
        &self,
        effects: &Effects<'_>,
        tap: &TapInput,
        card: &SentCard,
    ) -> Result<(), HandlerError> {
        self.decide_tap(effects, tap, card).await
    }
}

impl Approvals {
    /// Decides `tap` on approval card `card` in the worker's transaction.
    async fn decide_tap(
        &self,
        effects: &Effects<'_>,
        tap: &TapInput,
        card: &SentCard,
    ) -> Result<(), HandlerError> {
        let db = effects.db();
        let Some((approval_id, level)) = approval_card(&card.subject) else {
            return Ok(());
        };
        let tapper = tap.tapper.to_lowercase();
        let cx = Tap {
            approvals: self,
            effects,
            db,
            now: effects.now(),
            tap,
            tapper: &tapper,
            approval_id,
            level,
            card,
        };
        cx.decide().await.map_err(|e| match e {
            RequestError::Database(e) => HandlerError::Database(e),
            RequestError::Platform(reason) => HandlerError::Transient(reason),
            other => HandlerError::Permanent(other.to_string()),
        })
    }
}

/// `approval:<id>:level:<n>` → (id, n): what an approval request or reminder card is about.
pub(super) fn approval_card(subject: &str) -> Option<(i64, i32)> {
    let rest = subject.strip_prefix("approval:")?;
    let (id, level) = rest.split_once(":level:")?;
    Some((id.parse().ok()?, level.parse().ok()?))
}

/// One tap being decided.
struct Tap<'a> {
    approvals: &'a Approvals,
    effects: &'a Effects<'a>,
    db: &'a DatabaseTransaction,
    now: i64,
    tap: &'a TapInput,
    tapper: &'a str,
    approval_id: i64,
    level: i32,
    card: &'a SentCard,
}

impl Tap<'_> {
    async fn decide(&self) -> Result<(), RequestError> {
        let Some(approval) = store::lock(self.db, self.approval_id).await? else {
            return self.refuse(None, "no such approval").await;
        };
        let decision = match self.tap.button.as_str() {
            "approve" => status::APPROVED,
            "reject" => status::REJECTED,
            other => {
                return self
                    .refuse(Some(&approval), &format!("unknown button `{other}`"))
                    .await;
            }
        };
        if approval.status != status::PENDING {
            // Show the tapper how it ended.
            let by = decider(self.db, &approval).await?;
            self.approvals
                .cards()
                .settle_card(
                    self.db,
                    &approval,
                    self.card,
                    (&approval.status, &by),
                    self.inbox_id(),
                    self.now,
                )
                .await?;
            self.effects.note_sent();
            return self
                .refuse(Some(&approval), "the approval is decided already")
                .await;
        }
        if approval.current_level != self.level {
            return self
                .refuse(
                    Some(&approval),
                    "the card is not for the approval's current level",
                )
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
                .refuse(
                    Some(&approval),
                    "the tapper is not an approver of this level",
                )
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
            return self
                .refuse(Some(&approval), "the tapper decided already")
                .await;
        }
        let mut detail = self.detail(
            json!({ "level": self.level, "approver": step.approver, "decision": decision }),
        );
        if let Some(absent) = &step.stands_for {
            detail["stands_for"] = json!(absent);
        }
        self.change(
            &approval,
            Change::new("step_decided", self.tapper, detail)
                .key(format!("{}:{}", self.level, step.approver)),
        )
        .await?;
        let cards = self.approvals.cards();
        cards
            .settle(
                self.db,
                &approval,
                step,
                (decision, &step.approver),
                self.inbox_id(),
                self.now,
            )
            .await?;
        self.effects.note_sent();
        let Some(outcome) = level_outcome(&steps, &step.approver, decision) else {
            return Ok(());
        };
        // The level is over: the others' open cards show how it ended.
        for other in steps
            .iter()
            .filter(|s| s.approver != step.approver && s.decision.is_none())
        {
            cards
                .settle(
                    self.db,
                    &approval,
                    other,
                    (outcome, &step.approver),
                    self.inbox_id(),
                    self.now,
                )
                .await?;
        }
        if outcome == status::APPROVED && self.level < approval.level_count {
            let next = self.level + 1;
            store::advance(self.db, approval.id, next, self.now).await?;
            let approvers: Vec<String> = store::steps(self.db, approval.id)
                .await?
                .into_iter()
                .filter(|s| s.level == next)
                .map(|s| s.approver)
                .collect();
            cards
                .ask_level(
                    self.db,
                    &approval,
                    next,
                    &approvers,
                    self.inbox_id(),
                    self.now,
                )
                .await?;
            let detail = self
                .detail(json!({ "level": self.level, "decision": status::APPROVED, "next": next }));
            self.change(
                &approval,
                Change::new("level_decided", self.tapper, detail).key(self.level.to_string()),
            )
            .await?;
        } else {
            store::finish(self.db, approval.id, outcome, self.now).await?;
            cards
                .tell_requester(
                    self.db,
                    &approval,
                    outcome,
                    &step.approver,
                    self.inbox_id(),
                    self.now,
                )
                .await?;
            let detail = self.detail(json!({ "decision": outcome, "by": step.approver }));
            self.change(&approval, Change::new("decided", self.tapper, detail))
                .await?;
        }
        Ok(())
    }

    fn inbox_id(&self) -> Option<i64> {
        Some(self.effects.event_id())
    }

    async fn refuse(
        &self,
        approval: Option<&ApprovalRow>,
        reason: &str,
    ) -> Result<(), RequestError> {
        tracing::info!(
            approval = self.approval_id,
            tapper = self.tapper,
            reason,
            "tap refused"
        );
        let detail = self.detail(json!({ "level": self.level, "reason": reason }));
        match approval {
            Some(approval) => {
                self.change(approval, Change::new("tap_refused", self.tapper, detail))
                    .await
            }
            None => Ok(crate::audit::record(
                self.db,
                self.now,
                self.tapper,
                "approval.tap_refused",
                ("approval", &self.approval_id.to_string()),
                &detail,
            )
            .await?),
        }
    }

    /// `detail` with what identifies the tap: who, which button, which card, where.
    fn detail(&self, mut detail: serde_json::Value) -> serde_json::Value {
        detail["tapper"] = json!(self.tapper);
        detail["button"] = json!(self.tap.button);
        detail["card"] = json!(self.tap.track_id);
        detail["platform"] = json!(self.tap.platform);
        detail
    }

    async fn change(&self, approval: &ApprovalRow, change: Change<'_>) -> Result<(), RequestError> {
        Ok(self
            .approvals
            .changed(self.db, approval, change, self.now)
            .await?)
    }
}

/// How a level ends after `tapper` decided `decision`, if it does: a reject ends it; an
/// approve ends an any-one level, and an all-must level once every approver has approved —
/// themselves or through the manager standing in for them.
fn level_outcome(steps: &[StepRow], tapper: &str, decision: &str) -> Option<&'static str> {
    if decision == status::REJECTED {
        return Some(status::REJECTED);
    }
    if steps.first().is_none_or(|s| s.mode != "all") {
        return Some(status::APPROVED);
    }
    let approved = |step: &StepRow| {
        step.approver == tapper || step.decision.as_deref() == Some(status::APPROVED)
    };
    let all_approved = steps.iter().filter(|s| s.stands_for.is_none()).all(|own| {
        approved(own)
            || steps
                .iter()
                .any(|s| s.stands_for.as_deref() == Some(&own.approver) && approved(s))
    });
    all_approved.then_some(status::APPROVED)
}

/// Who decided a finished approval: the last approver to decide, or the requester for one
/// they withdrew.
async fn decider(db: &DatabaseTransaction, approval: &ApprovalRow) -> Result<String, RequestError> {
    if approval.status == status::WITHDRAWN {
        return Ok(approval.requester_name.clone());
    }
    Ok(store::steps(db, approval.id)
        .await?
        .into_iter()
        .filter(|s| s.decided_at.is_some())
        .max_by_key(|s| s.decided_at)
        .map(|s| s.approver)
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(
        approver: &str,
        mode: &str,
        decision: Option<&str>,
        stands_for: Option<&str>,
    ) -> StepRow {
        StepRow {
            level: 1,
            mode: mode.into(),
            approver: approver.into(),
            decision: decision.map(str::to_owned),
            decided_at: decision.map(|_| 1),
            card_key: None,
            asked_at: Some(0),
            reminded_at: None,
            reminder_key: None,
            escalated_at: None,
            stands_for: stands_for.map(str::to_owned),
        }
    }

    #[test]
    fn a_subject_names_the_approval_and_level() {
        assert_eq!(approval_card("approval:12:level:3"), Some((12, 3)));
        assert_eq!(approval_card("approval:12"), None);
        assert_eq!(approval_card("customer:12:level:3"), None);
        assert_eq!(approval_card("approval:x:level:3"), None);
    }

    #[test]
    fn any_level_ends_with_the_first_approve_and_any_reject() {
        let steps = [step("a", "any", None, None), step("b", "any", None, None)];
        assert_eq!(
            level_outcome(&steps, "a", status::APPROVED),
            Some(status::APPROVED)
        );
        assert_eq!(
            level_outcome(&steps, "b", status::REJECTED),
            Some(status::REJECTED)
        );
    }

    #[test]
    fn all_level_waits_for_everyone() {
        let steps = [step("a", "all", None, None), step("b", "all", None, None)];
        assert_eq!(level_outcome(&steps, "a", status::APPROVED), None);
        let steps = [
            step("a", "all", Some(status::APPROVED), None),
            step("b", "all", None, None),
        ];
        assert_eq!(
            level_outcome(&steps, "b", status::APPROVED),
            Some(status::APPROVED)
        );
        assert_eq!(
            level_outcome(&steps, "b", status::REJECTED),
            Some(status::REJECTED)
        );
    }

    #[test]
    fn a_stand_in_approves_for_the_idle_approver() {
        let steps = [
            step("a", "all", Some(status::APPROVED), None),
            step("b", "all", None, None),
            step("boss", "all", None, Some("b")),
        ];
        assert_eq!(
            level_outcome(&steps, "boss", status::APPROVED),
            Some(status::APPROVED)
        );
        let steps = [
            step("a", "all", None, None),
            step("b", "all", None, None),
            step("boss", "all", None, Some("b")),
        ];
        // The stand-in covers b, not a.
        assert_eq!(level_outcome(&steps, "boss", status::APPROVED), None);
    }
}

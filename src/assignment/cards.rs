//! The assignment's messages: the lead_assigned card to the rep (with Accept and Reassign),
//! its update once answered or timed out, and lead_reassigned to the pool's manager. None is
//! urgent, so all wait for working hours (`send_in_hours`).

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

use super::{
    PassedOn,
    store::{AssignmentRow, LeadRow},
};
use crate::{
    cards::{CardError, MessageKind, Notice, Recipient, Templates, message},
    domain::{calendar::WorkingHours, rules::Pool, task::MAX_TITLE_CHARS},
};

/// How assignment messages are rendered and sent.
pub struct Cards<'a> {
    pub templates: &'a Templates,
    pub calendar: &'a WorkingHours,
    pub locale: &'a str,
    pub public_base_url: &'a str,
}

/// The subject of offer `assignment_id`'s card: what a tap on it is routed by.
pub fn offer_subject(lead_id: i64, assignment_id: i64) -> String {
    format!("lead:{lead_id}:assignment:{assignment_id}")
}

/// `lead:<id>:assignment:<id>` → (lead id, assignment id).
pub fn parse_offer_subject(subject: &str) -> Option<(i64, i64)> {
    let rest = subject.strip_prefix("lead:")?;
    let (lead, assignment) = rest.split_once(":assignment:")?;
    Some((lead.parse().ok()?, assignment.parse().ok()?))
}

impl Cards<'_> {
    /// Sends `row`'s rep the lead_assigned card; `due_at` is when first contact is due.
    #[allow(clippy::too_many_arguments)]
    pub async fn offer(
        &self,
        db: &impl ConnectionTrait,
        lead: &LeadRow,
        row: &AssignmentRow,
        rule: &str,
        due_at: i64,
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), DbErr> {
        let data = self.offer_data(lead, row, rule, Some(due_at));
        let card = self
            .templates
            .render(MessageKind::LeadAssigned, self.locale, &data)
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let notice = self.notice(row, card);
        let to = Recipient::User(row.rep.clone());
        message::send_in_hours(db, &notice, &[to], self.calendar, inbox_id, now)
            .await
            .map_err(card_error)?;
        Ok(())
    }

    /// Updates `row`'s card to `state` (`accepted`, `reassigned`, `timed_out`), by `by`.
    #[allow(clippy::too_many_arguments)]
    pub async fn settle(
        &self,
        db: &impl ConnectionTrait,
        lead: &LeadRow,
        row: &AssignmentRow,
        state: &str,
        by: &str,
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), DbErr> {
        let mut data = self.offer_data(lead, row, &row.rule, None);
        data["state"] = json!({ "by": by, "at": self.calendar.local_minute(now), "comment": "" });
        let card = self
            .templates
            .render_state(MessageKind::LeadAssigned, self.locale, state, &data)
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let key = message::send_key(
            &self.notice(row, card.clone()),
            &Recipient::User(row.rep.clone()),
        );
        match message::update(db, &key, &card, inbox_id, now).await {
            Ok(_) => Ok(()),
            // A card never sent (its send failed to enqueue) has nothing to update.
            Err(CardError::UnknownCard(_)) => Ok(()),
            Err(e) => Err(card_error(e)),
        }
    }

    /// Tells `pool`'s manager that `row`'s rep passed `lead` on (`how`), and who has it now:
    /// `next`, or the manager themselves when every member was tried.
    #[allow(clippy::too_many_arguments)]
    pub async fn tell_manager(
        &self,
        db: &impl ConnectionTrait,
        lead: &LeadRow,
        row: &AssignmentRow,
        pool: &Pool,
        how: PassedOn,
        next: Option<&str>,
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), DbErr> {
        let data = json!({
            "lead": { "id": lead.id.to_string(), "source": lead.source },
            "customer": { "name": lead.name, "company": lead.company.clone().unwrap_or_default() },
            "from": { "name": row.rep },
            "reason": how.state(),
            "to": { "name": next.unwrap_or_default() },
            "pool": { "name": pool.name },
            "manager": { "name": pool.manager },
            "links": { "lead": self.public_base_url },
        });
        let card = self
            .templates
            .render(MessageKind::LeadReassigned, self.locale, &data)
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let notice = Notice {
            platform: pool.platform.clone(),
            tenant: lead.tenant.clone(),
            kind: MessageKind::LeadReassigned,
            subject: format!("lead:{}:passed:{}", lead.id, row.id),
            version: 1,
            card,
        };
        let to = Recipient::User(pool.manager.clone());
        message::send_in_hours(db, &notice, &[to], self.calendar, inbox_id, now)
            .await
            .map_err(card_error)?;
        Ok(())
    }

    /// The first_contact task's title, in the templates' locale.
    pub fn task_title(&self, lead: &LeadRow) -> String {
        let title = if self.locale.starts_with("zh") {
            format!("首次联系：{}", lead.display_name())
        } else {
            format!("First contact: {}", lead.display_name())
        };
        title.chars().take(MAX_TITLE_CHARS).collect()
    }

    /// The lead_assigned variables (docs/templates.md).
    fn offer_data(
        &self,
        lead: &LeadRow,
        row: &AssignmentRow,
        rule: &str,
        due_at: Option<i64>,
    ) -> Value {
        let fields = lead.fields();
        let note = match fields.get("note") {
            Some(Value::String(note)) => note.clone(),
            _ => String::new(),
        };
        json!({
            "lead": {
                "id": lead.id.to_string(),
                "source": lead.source,
                "due": due_at.map(|at| self.calendar.local_minute(at)).unwrap_or_default(),
                "note": note,
            },
            "customer": { "name": lead.name, "company": lead.company.clone().unwrap_or_default() },
            "assignee": { "name": row.rep },
            "assigned_by": { "name": rule },
            "links": { "lead": self.public_base_url },
        })
    }

    fn notice(&self, row: &AssignmentRow, card: crate::cards::Card) -> Notice {
        Notice {
            platform: row.platform.clone(),
            tenant: row.tenant.clone(),
            kind: MessageKind::LeadAssigned,
            subject: offer_subject(row.lead_id, row.id),
            version: 1,
            card,
        }
    }
}

fn card_error(e: CardError) -> DbErr {
    match e {
        CardError::Database(e) => e,
        other => DbErr::Custom(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_subject_names_the_lead_and_the_assignment() {
        assert_eq!(offer_subject(7, 12), "lead:7:assignment:12");
        assert_eq!(parse_offer_subject("lead:7:assignment:12"), Some((7, 12)));
        assert_eq!(parse_offer_subject("lead:7:passed:12"), None);
        assert_eq!(parse_offer_subject("approval:7:level:1"), None);
        assert_eq!(parse_offer_subject("lead:x:assignment:12"), None);
    }
}

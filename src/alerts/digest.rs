//! Sending raised alerts: not one by one, but per person once their oldest waiting alert is
//! older than the digest window — everything waiting for them then goes out together, as the
//! alert's own card when there is one, as one alert_digest card when there are several.
//! Cards wait for working hours (quiet hours), and the alerts are marked sent in the
//! transaction that enqueues the card, so a retried or concurrent tick sends nothing twice.

use sea_orm::TransactionTrait;
use serde_json::{Value, json};

use super::{AlertError, Alerts};
use crate::{
    cards::{MessageKind, Notice, Recipient, message},
    domain::alert::{
        kind,
        store::{self, UnsentAlert},
    },
};

impl Alerts {
    /// Sends every person's waiting alerts whose window has passed at `now`; returns how
    /// many cards it enqueued.
    pub(super) async fn send_due(&self, now: i64) -> Result<usize, AlertError> {
        let window = i64::try_from(self.digest_window.as_millis()).unwrap_or(i64::MAX);
        let mut groups: Vec<Vec<UnsentAlert>> = Vec::new();
        for alert in store::unsent(&self.db).await? {
            let same = |g: &&mut Vec<UnsentAlert>| {
                let first = &g[0];
                (&first.tenant, &first.platform, &first.recipient)
                    == (&alert.tenant, &alert.platform, &alert.recipient)
            };
            match groups.iter_mut().find(same) {
                Some(group) => group.push(alert),
                None => groups.push(vec![alert]),
            }
        }
        let mut sent = 0;
        // Oldest first within a group: the window runs from the first alert.
        for group in groups {
            if group[0].opened_at > now.saturating_sub(window) {
                continue;
            }
            if self.send_group(&group, now).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Enqueues the card of `group` (one recipient's waiting alerts); false when another
    /// instance sent or closed some of them first, or the card cannot be rendered.
    async fn send_group(&self, group: &[UnsentAlert], now: i64) -> Result<bool, AlertError> {
        let first = &group[0];
        let (kind, data) = match group {
            [one] => (message_kind(&one.kind), payload(one)),
            several => (MessageKind::AlertDigest, self.digest(several)),
        };
        let card = match self.templates.render(kind, &self.locale, &data) {
            Ok(card) => card,
            Err(e) => {
                tracing::error!(alert = first.id, %kind, error = %e,
                    "cannot render the alert card; the alerts stay unsent");
                return Ok(false);
            }
        };
        let notice = Notice {
            platform: first.platform.clone(),
            tenant: first.tenant.clone(),
            kind,
            // The first alert is sent in this card only: its id names the card.
            subject: format!("alert:{}", first.id),
            version: 1,
            card,
        };
        let recipient = Recipient::User(first.recipient.clone());
        let send_key = message::send_key(&notice, &recipient);
        let ids: Vec<i64> = group.iter().map(|a| a.id).collect();
        let txn = self.db.begin().await?;
        // The write comes first: on SQLite it takes the lock, on PostgreSQL it makes a
        // concurrent sender of the same alerts wait, then find them sent.
        if !store::mark_sent(&txn, &ids, &send_key, now).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        message::send_in_hours(
            &txn,
            &notice,
            std::slice::from_ref(&recipient),
            &self.calendar,
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// The variables of an alert_digest card listing `alerts`.
    fn digest(&self, alerts: &[UnsentAlert]) -> Value {
        let count = |k: &str| alerts.iter().filter(|a| a.kind == k).count();
        let listed: Vec<Value> = alerts
            .iter()
            .map(|alert| {
                let mut entry = payload(alert);
                entry["kind"] = json!(message_kind(&alert.kind).as_str());
                entry
            })
            .collect();
        json!({
            "digest": {
                "count": alerts.len().to_string(),
                "deal_idle": count(kind::DEAL_IDLE),
                "rep_idle": count(kind::REP_IDLE),
                "kpi": count(kind::KPI),
                "since": self.calendar.local_minute(alerts[0].opened_at),
            },
            "manager": { "name": alerts[0].recipient },
            "alerts": listed,
        })
    }
}

/// The card of an alert of `kind` alone.
fn message_kind(kind: &str) -> MessageKind {
    match kind {
        kind::DEAL_IDLE => MessageKind::DealIdleAlert,
        kind::REP_IDLE => MessageKind::RepIdleAlert,
        _ => MessageKind::KpiAlert,
    }
}

/// The variables stored with the alert; an object even if the row was edited by hand.
fn payload(alert: &UnsentAlert) -> Value {
    match serde_json::from_str(&alert.payload) {
        Ok(value @ Value::Object(_)) => value,
        _ => json!({}),
    }
}

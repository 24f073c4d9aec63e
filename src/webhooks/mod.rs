//! Outbound webhooks: outside systems (a CRM) learn of each state change by a signed JSON POST.
//!
//! A change publishes its event in its own transaction: one outbox row per matching hook, so
//! the POST is owed exactly when the change commits, and the dispatcher retries it until the
//! receiver takes it or it is dead-lettered for an operator.

pub mod delivery;
pub mod signature;

use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

use crate::{
    cards::message::bounded_key,
    config::{Secret, WebhookConfig},
    domain::time::utc_rfc3339,
    pipeline::{NewMessage, outbox},
};

pub use delivery::WebhookDelivery;
pub use signature::{sign, verify};

/// The `platform` of webhook outbox rows, under which [`WebhookDelivery`] is registered.
pub const PLATFORM: &str = "webhook";
/// The outbox `kind` of one event posted to one hook.
pub const KIND: &str = "webhook.event";

/// A state change to tell the hooks about.
#[derive(Debug, Clone, Copy)]
pub struct WebhookEvent<'a> {
    /// Unique per state change (`approval:12:decided`): with the hook's name it is the outbox
    /// key, so publishing the same change twice posts it once; receivers dedupe on it too.
    pub id: &'a str,
    /// The event type, e.g. `approval.decided`; hooks filter on it.
    pub kind: &'a str,
    pub tenant: &'a str,
    pub data: &'a serde_json::Value,
}

/// The body posted, in this key order.
#[derive(Serialize)]
struct Body<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    tenant: &'a str,
    occurred_at: String,
    data: &'a serde_json::Value,
}

/// The payload of a [`KIND`] outbox row. The body is stored as the exact text to post, so
/// every attempt sends (and signs) the same bytes. The secret is not stored: it is looked up
/// by the hook's name at each attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub hook: String,
    pub event_id: String,
    pub event_type: String,
    pub body: String,
}

/// One configured hook.
#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    pub url: String,
    pub secret: Secret,
    events: Vec<String>,
    tenants: Vec<String>,
    pub timeout: std::time::Duration,
}

impl Hook {
    /// Whether this hook wants events of `kind` from `tenant`. An `events` entry ending in `.`
    /// is a prefix; any other names one type exactly, so `approval.decided` does not also
    /// match a later `approval.decided_late`.
    pub fn wants(&self, kind: &str, tenant: &str) -> bool {
        let kind_ok = self.events.is_empty()
            || self
                .events
                .iter()
                .any(|e| e == kind || (e.ends_with('.') && kind.starts_with(e.as_str())));
        let tenant_ok = self.tenants.is_empty() || self.tenants.iter().any(|t| t == tenant);
        kind_ok && tenant_ok
    }
}

/// The configured hooks.
#[derive(Debug, Clone, Default)]
pub struct Webhooks {
    hooks: Vec<Hook>,
}

impl Webhooks {
    /// The hooks of `[[webhooks]]`, already validated with the rest of the configuration.
    pub fn from_config(config: &[WebhookConfig]) -> Self {
        let hooks = config
            .iter()
            .map(|c| Hook {
                name: c.name.clone(),
                url: c.url.clone(),
                secret: c.secret.clone(),
                events: c.events.clone(),
                tenants: c.tenants.clone(),
                timeout: std::time::Duration::from_secs(c.timeout_secs),
            })
            .collect();
        Self { hooks }
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&Hook> {
        self.hooks.iter().find(|hook| hook.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Hook> {
        self.hooks.iter()
    }

    /// Enqueues `event` for every hook that wants it, on `db`: the transaction of the change,
    /// so the POST is owed if and only if the change commits. `now` (epoch ms) is when the
    /// change happened. An event id already enqueued for a hook adds nothing.
    #[tracing::instrument(skip_all, fields(event = event.id, kind = event.kind, tenant = event.tenant))]
    pub async fn publish(
        &self,
        db: &impl ConnectionTrait,
        event: &WebhookEvent<'_>,
        now: i64,
    ) -> Result<(), DbErr> {
        // Collected, not a lazy filter: a closure's borrow held across the awaits below would
        // make the future not `Send` for callers inside handlers.
        let hooks: Vec<&Hook> = self
            .hooks
            .iter()
            .filter(|hook| hook.wants(event.kind, event.tenant))
            .collect();
        if hooks.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_string(&Body {
            id: event.id,
            kind: event.kind,
            tenant: event.tenant,
            occurred_at: utc_rfc3339(now),
            data: event.data,
        })
        .expect("a JSON value serializes");
        for hook in hooks {
            let payload = Payload {
                hook: hook.name.clone(),
                event_id: event.id.to_owned(),
                event_type: event.kind.to_owned(),
                body: body.clone(),
            };
            let message = NewMessage {
                idempotency_key: bounded_key(format!("webhook:{}:{}", hook.name, event.id)),
                platform: PLATFORM.into(),
                tenant: event.tenant.to_owned(),
                kind: KIND.into(),
                payload: serde_json::to_value(&payload).expect("strings serialize"),
                not_before: None,
                priority: outbox::PRIORITY_NORMAL,
            };
            outbox::enqueue(db, &message, None, now).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(events: &[&str], tenants: &[&str]) -> Hook {
        let mut config = WebhookConfig::new("crm", "http://127.0.0.1:1/", Secret::new("k"));
        config.events = events.iter().map(|e| e.to_string()).collect();
        config.tenants = tenants.iter().map(|t| t.to_string()).collect();
        Webhooks::from_config(&[config]).hooks.remove(0)
    }

    #[test]
    fn empty_filters_take_every_event_of_every_tenant() {
        assert!(hook(&[], &[]).wants("approval.decided", "acme"));
        assert!(hook(&[], &[]).wants("customer.added", "other"));
    }

    #[test]
    fn an_entry_ending_in_a_dot_is_a_prefix_and_any_other_an_exact_type() {
        let prefix = hook(&["approval."], &[]);
        assert!(prefix.wants("approval.decided", "acme"));
        assert!(!prefix.wants("approvals.x", "acme"));
        assert!(!prefix.wants("customer.added", "acme"));
        let exact = hook(&["approval.decided"], &[]);
        assert!(exact.wants("approval.decided", "acme"));
        assert!(!exact.wants("approval.decided_late", "acme"));
        assert!(!exact.wants("approval.requested", "acme"));
    }

    #[test]
    fn tenants_restrict_by_exact_name() {
        let h = hook(&["approval."], &["acme", "beta"]);
        assert!(h.wants("approval.decided", "beta"));
        assert!(!h.wants("approval.decided", "acme2"));
    }
}

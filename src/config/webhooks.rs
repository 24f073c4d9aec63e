//! `[[webhooks]]`: outside systems (a CRM) told of every state change by a signed HTTP POST.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, valid_tenant};

/// Longest webhook name: it is part of every outbox key of the hook.
const MAX_NAME_LEN: usize = 32;

/// One receiver of events.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Names the hook in outbox keys and logs: 1–32 of `[a-z0-9_-]`, unique. Required.
    pub name: String,
    /// Where events are posted: an `http://` or `https://` URL. Required.
    pub url: String,
    /// The HMAC-SHA256 key of the `x-salesbot-signature` header, shared with the receiver.
    /// Required; usually `env:NAME`.
    pub secret: Secret,
    /// Event types sent: an entry ending in `.` is a prefix (`approval.`), any other an exact
    /// type (`approval.decided`). Default `[]`: every event.
    #[serde(default)]
    pub events: Vec<String>,
    /// Tenants whose events are sent. Default `[]`: every tenant.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Timeout of one POST, connecting included. Default 10.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

impl WebhookConfig {
    /// A hook with its required keys and every other key at its default.
    pub fn new(name: impl Into<String>, url: impl Into<String>, secret: Secret) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            secret,
            events: Vec::new(),
            tenants: Vec::new(),
            timeout_secs: default_timeout(),
        }
    }
}

fn default_timeout() -> u64 {
    10
}

/// Checks every `[[webhooks]]` table; errors name `webhooks[i].key`. A POST must end within
/// the dispatcher's lease (`lease_secs`), or another dispatcher would send it a second time.
pub fn validate_webhooks(hooks: &[WebhookConfig], lease_secs: u64) -> Result<(), ConfigError> {
    let invalid = |i: usize, key: &str, reason: &str| {
        Err(ConfigError::Invalid {
            key: format!("webhooks[{i}].{key}"),
            reason: reason.into(),
        })
    };
    for (i, hook) in hooks.iter().enumerate() {
        if !valid_name(&hook.name) {
            return invalid(i, "name", "must be 1-32 of a-z, 0-9, - and _");
        }
        if hooks[..i].iter().any(|other| other.name == hook.name) {
            return invalid(i, "name", "is used by another [[webhooks]] table");
        }
        if !valid_url(&hook.url) {
            return invalid(i, "url", "must be an absolute http:// or https:// URL");
        }
        if hook.secret.expose().is_empty() {
            return invalid(i, "secret", "must not be empty");
        }
        if let Some(n) = hook.events.iter().position(|e| !valid_event(e)) {
            return invalid(
                i,
                &format!("events[{n}]"),
                "must be an event type or a prefix ending in `.`, of a-z, 0-9, _ and .",
            );
        }
        if let Some(n) = hook.tenants.iter().position(|t| !valid_tenant(t)) {
            return invalid(
                i,
                &format!("tenants[{n}]"),
                "must be 1-64 of a-z, 0-9, - and _",
            );
        }
        if hook.timeout_secs == 0 || hook.timeout_secs >= lease_secs {
            return invalid(
                i,
                "timeout_secs",
                "must be greater than 0 and less than pipeline.lease_secs",
            );
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn valid_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

fn valid_event(event: &str) -> bool {
    !event.is_empty()
        && !event.starts_with('.')
        && event
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

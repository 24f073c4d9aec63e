//! Posts webhook outbox rows: the stored body, signed afresh at each attempt, to the hook's URL.
//! What the receiver answers decides between sent, another try later, and a dead letter.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use reqwest::{
    StatusCode,
    header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT},
};
use serde_json::json;
use tracing::Instrument;

use super::{Payload, Webhooks, sign};
use crate::pipeline::{Delivery, DeliveryError, OutboxMessage, Receipt, clock::now_ms};

/// The event type header.
pub const EVENT_HEADER: &str = "x-salesbot-event";
/// The event id header: the receiver's dedupe key, the same at every attempt.
pub const DELIVERY_HEADER: &str = "x-salesbot-delivery";
/// The Unix seconds of this attempt, signed with the body.
pub const TIMESTAMP_HEADER: &str = "x-salesbot-timestamp";
/// `sha256=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub const SIGNATURE_HEADER: &str = "x-salesbot-signature";

const USER_AGENT_VALUE: &str = concat!("salesbot/", env!("CARGO_PKG_VERSION"));

/// The longest wait a receiver's `Retry-After` may ask for; past it the dispatcher's own
/// backoff still spaces the tries, so a bogus header cannot park a message for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Characters of a refusing receiver's body kept in the error, enough to read its reason.
const ERROR_BODY_CHARS: usize = 200;
/// Bytes of a refusing receiver's body read at most, so a large error page costs nothing.
const ERROR_BODY_BYTES: usize = 4096;

/// Why the webhook delivery could not be set up at start.
#[derive(Debug, thiserror::Error)]
#[error("[[webhooks]] `{hook}`: {reason}")]
pub struct SetupError {
    hook: String,
    reason: String,
}

/// The webhook side of the delivery port, registered under [`super::PLATFORM`].
pub struct WebhookDelivery {
    webhooks: Arc<Webhooks>,
    /// One client per hook, with the hook's timeout. Redirects are not followed: a receiver
    /// that moved must be reconfigured, not have signed events forwarded elsewhere.
    clients: HashMap<String, reqwest::Client>,
}

impl WebhookDelivery {
    pub fn new(webhooks: Arc<Webhooks>) -> Result<Self, SetupError> {
        let mut clients = HashMap::new();
        for hook in webhooks.iter() {
            let setup = |reason: String| SetupError {
                hook: hook.name.clone(),
                reason,
            };
            let client = salesbot_apikit::tls::client_builder(hook.timeout)
                .map_err(setup)?
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|err| setup(format!("HTTP client: {err}")))?;
            clients.insert(hook.name.clone(), client);
        }
        Ok(Self { webhooks, clients })
    }
}

#[async_trait]
impl Delivery for WebhookDelivery {
    async fn deliver(&self, message: &OutboxMessage) -> Result<Receipt, DeliveryError> {
        let payload: Payload = serde_json::from_str(&message.payload)
            .map_err(|err| DeliveryError::permanent(format!("malformed webhook payload: {err}")))?;
        let (Some(hook), Some(client)) = (
            self.webhooks.get(&payload.hook),
            self.clients.get(&payload.hook),
        ) else {
            // Retrying cannot help until an operator configures it again and retries the row.
            return Err(DeliveryError::permanent(format!(
                "webhook `{}` is not configured",
                payload.hook
            )));
        };
        let timestamp = now_ms().div_euclid(1000);
        let signature = sign(hook.secret.expose(), timestamp, payload.body.as_bytes());
        let request = client
            .post(&hook.url)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header(EVENT_HEADER, &payload.event_type)
            .header(DELIVERY_HEADER, &payload.event_id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(payload.body);
        let span = tracing::info_span!("webhook", hook = %hook.name, event = %payload.event_id);
        async {
            let response = request
                .send()
                .await
                .map_err(|err| request_error(&hook.name, err))?;
            let status = response.status();
            if status.is_success() {
                tracing::debug!(status = status.as_u16(), "webhook accepted the event");
                return Ok(Receipt::new(json!({ "status": status.as_u16() })));
            }
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = error_body(response).await;
            Err(refusal(&hook.name, status, retry_after, &body))
        }
        .instrument(span)
        .await
    }
}

/// What a non-2xx answer means: worth another try (timeout, too early, rate limited, server
/// trouble), or the same answer every time (anything else, a redirect included).
fn refusal(
    hook: &str,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &str,
) -> DeliveryError {
    let reason = if body.is_empty() {
        format!("webhook `{hook}` answered HTTP {}", status.as_u16())
    } else {
        format!("webhook `{hook}` answered HTTP {}: {body}", status.as_u16())
    };
    // 408 Request Timeout, 425 Too Early, 429 Too Many Requests.
    let transient = matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error();
    if transient {
        DeliveryError::Transient {
            reason,
            retry_after,
        }
    } else {
        DeliveryError::permanent(reason)
    }
}

/// A `Retry-After` in seconds, capped at [`MAX_RETRY_AFTER`]. The HTTP-date form is ignored:
/// the backoff does as well, and receivers' clocks are not ours.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// The start of a refusing receiver's body, on one line, for the error.
async fn error_body(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_BODY_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A request that got no answer: worth another try, unless the request itself cannot be built.
/// The URL is left out of the reason, since it may carry the receiver's credentials.
fn request_error(hook: &str, err: reqwest::Error) -> DeliveryError {
    let err = err.without_url();
    let mut reason = format!("webhook `{hook}`: ");
    if err.is_timeout() {
        reason.push_str("timed out");
    } else if err.is_connect() {
        reason.push_str("cannot connect");
    } else {
        reason.push_str("request failed");
    }
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    if err.is_builder() {
        DeliveryError::permanent(reason)
    } else {
        DeliveryError::transient(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_transient(status: u16) -> bool {
        let status = StatusCode::from_u16(status).unwrap();
        matches!(
            refusal("crm", status, None, ""),
            DeliveryError::Transient { .. }
        )
    }

    #[test]
    fn timeouts_rate_limits_and_server_errors_are_retried_and_the_rest_is_not() {
        for status in [408, 425, 429, 500, 502, 503, 504] {
            assert!(is_transient(status), "{status}");
        }
        for status in [301, 302, 304, 400, 401, 403, 404, 410, 413, 422] {
            assert!(!is_transient(status), "{status}");
        }
    }

    #[test]
    fn the_reason_names_hook_status_and_body() {
        let err = refusal("crm", StatusCode::BAD_REQUEST, None, "missing field");
        assert_eq!(
            err.to_string(),
            "webhook `crm` answered HTTP 400: missing field"
        );
        let err = refusal("crm", StatusCode::BAD_GATEWAY, None, "");
        assert_eq!(err.to_string(), "webhook `crm` answered HTTP 502");
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped_at_an_hour() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("86400"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-5"), None);
    }
}

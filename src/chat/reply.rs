//! The answer to a command as an outbox message: plain text to the sender, on the platform the
//! command came from, under a key derived from the command's message id so that one message
//! is answered once.

use serde::{Deserialize, Serialize};

use crate::pipeline::{DeliveryError, NewMessage, OutboxMessage, outbox::PRIORITY_URGENT};

/// Outbox kind of an answer.
pub const KIND: &str = "chat.reply";

/// The longest key: the key is also the audit actor of what the command did, and that column
/// holds 128 bytes.
const MAX_KEY_LEN: usize = 128;

/// The longest text: WeCom refuses text messages over 2048 bytes (wecom.md §5.2).
const MAX_TEXT_BYTES: usize = 2048;

/// The payload of a [`KIND`] message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The sender's user id on the platform.
    pub recipient: String,
    pub text: String,
}

impl Reply {
    /// `text` to `recipient`, cut to what every platform takes.
    pub fn new(recipient: impl Into<String>, text: &str) -> Self {
        Self {
            recipient: recipient.into(),
            text: truncate(text, MAX_TEXT_BYTES),
        }
    }

    /// The payload of `message`; one that does not parse will never send.
    pub fn of(message: &OutboxMessage) -> Result<Self, DeliveryError> {
        serde_json::from_str(&message.payload)
            .map_err(|e| DeliveryError::permanent(format!("{KIND} payload does not parse: {e}")))
    }
}

/// `chat:<platform>:<tenant>:<message id>`: names the one answer to a message and, as the
/// actor of the audit entries, what the message did.
pub fn key(platform: &str, tenant: &str, msg_id: &str) -> String {
    crate::cards::message::bounded_key_to(format!("chat:{platform}:{tenant}:{msg_id}"), MAX_KEY_LEN)
}

/// The outbox message that sends `reply` under `key`. Urgent: the sender is waiting for it.
pub fn message(platform: &str, tenant: &str, key: &str, reply: &Reply) -> NewMessage {
    NewMessage {
        idempotency_key: key.to_owned(),
        platform: platform.to_owned(),
        tenant: tenant.to_owned(),
        kind: KIND.into(),
        payload: serde_json::to_value(reply).expect("a reply serializes"),
        not_before: None,
        priority: PRIORITY_URGENT,
    }
}

/// `text` cut at a character boundary to at most `max` bytes, ending with `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let ellipsis = '…';
    let mut cut = max - ellipsis.len_utf8();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ellipsis}", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_stay_unique_within_the_audit_column() {
        let short = key("wecom", "acme", "123");
        assert_eq!(short, "chat:wecom:acme:123");
        let long_id = "m".repeat(200);
        let long = key("dingtalk", "acme", &long_id);
        assert!(long.len() <= MAX_KEY_LEN, "{long}");
        assert_ne!(long, key("dingtalk", "acme", &format!("{long_id}x")));
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        let text = "审".repeat(1000);
        let reply = Reply::new("alice", &text);
        assert!(reply.text.len() <= MAX_TEXT_BYTES);
        assert!(reply.text.ends_with('…'));
        assert_eq!(Reply::new("alice", "ok").text, "ok");
    }
}

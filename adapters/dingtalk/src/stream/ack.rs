//! ACK frames, our replies to DingTalk (dingtalk.md §4.4): the code, the answered `messageId`,
//! and a `data` JSON string whose content depends on what is answered.

use serde::Serialize;
use serde_json::json;

use super::config::CARD_CALLBACK_TOPIC;

/// ACK `code`s (dingtalk.md §4.4).
pub mod ack_code {
    /// Handled.
    pub const OK: u16 = 200;
    /// The frame could not be read (defined by the Python SDK).
    pub const BAD_REQUEST: u16 = 400;
    /// The frame type or topic is not supported.
    pub const NOT_FOUND: u16 = 404;
    /// The sink failed; for events, together with `LATER`.
    pub const INTERNAL_ERROR: u16 = 500;
}

/// One reply, ready to be serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ack {
    pub(crate) message_id: String,
    pub(crate) code: u16,
    message: &'static str,
    data: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AckHeaders<'a> {
    message_id: &'a str,
    content_type: &'static str,
}

#[derive(Serialize)]
struct AckFrame<'a> {
    code: u16,
    headers: AckHeaders<'a>,
    message: &'static str,
    data: &'a str,
}

impl Ack {
    /// An event the sink accepted: `{"status":"SUCCESS"}`.
    pub(crate) fn event_handled(message_id: String) -> Self {
        let data = json!({ "status": "SUCCESS", "message": "success" });
        Self::new(message_id, ack_code::OK, "OK", data.to_string())
    }

    /// An event the sink failed on: code 500 with `LATER`, asking for redelivery as the Go SDK
    /// does.
    pub(crate) fn event_later(message_id: String) -> Self {
        let data = json!({ "status": "LATER", "message": "not handled" });
        Self::new(
            message_id,
            ack_code::INTERNAL_ERROR,
            "internal error",
            data.to_string(),
        )
    }

    /// A callback the sink accepted. Robot messages ignore the data (`{"response":null}`); a card
    /// callback gets an empty update, which changes nothing (dingtalk.md §5.2.7), so the card is
    /// updated through the API instead.
    pub(crate) fn callback_handled(message_id: String, topic: &str) -> Self {
        let data = if topic == CARD_CALLBACK_TOPIC {
            json!({ "response": {} })
        } else {
            json!({ "response": null })
        };
        Self::new(message_id, ack_code::OK, "OK", data.to_string())
    }

    /// A callback the sink failed on.
    pub(crate) fn callback_failed(message_id: String) -> Self {
        let data = json!({ "response": null });
        Self::new(
            message_id,
            ack_code::INTERNAL_ERROR,
            "internal error",
            data.to_string(),
        )
    }

    /// The answer to a `ping`: the same `data`, code 200 (dingtalk.md §4.5).
    pub(crate) fn pong(message_id: String, data: String) -> Self {
        Self::new(message_id, ack_code::OK, "OK", data)
    }

    /// A plain 200 for informational SYSTEM frames.
    pub(crate) fn ok(message_id: String) -> Self {
        Self::new(message_id, ack_code::OK, "OK", "{}".to_owned())
    }

    /// A frame that could not be read.
    pub(crate) fn malformed(message_id: String) -> Self {
        Self::new(
            message_id,
            ack_code::BAD_REQUEST,
            "malformed frame",
            "{}".to_owned(),
        )
    }

    /// A frame type this client does not handle.
    pub(crate) fn unsupported(message_id: String) -> Self {
        Self::new(
            message_id,
            ack_code::NOT_FOUND,
            "unsupported frame type",
            "{}".to_owned(),
        )
    }

    fn new(message_id: String, code: u16, message: &'static str, data: String) -> Self {
        Self {
            message_id,
            code,
            message,
            data,
        }
    }

    /// The frame's JSON text.
    pub(crate) fn to_text(&self) -> String {
        let frame = AckFrame {
            code: self.code,
            headers: AckHeaders {
                message_id: &self.message_id,
                content_type: "application/json",
            },
            message: self.message,
            data: &self.data,
        };
        serde_json::to_string(&frame).unwrap_or_default()
    }
}

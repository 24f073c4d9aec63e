//! Frames from DingTalk (dingtalk.md §4.3, §4.5): the JSON envelope with its string headers and
//! its `data` JSON string, read into what the connection does with it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

/// Whether a message is an event or a callback (dingtalk.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// An `EVENT` frame: a console-configured event (dingtalk.md §3).
    Event,
    /// A `CALLBACK` frame: a robot message or a card callback, told apart by the topic.
    Callback,
}

/// One `EVENT` or `CALLBACK` frame as handed to a [`FrameSink`](super::FrameSink).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamMessage {
    /// `EVENT` or `CALLBACK`.
    pub kind: MessageKind,
    /// `headers.topic`: `*` for events, the callback's path otherwise.
    pub topic: String,
    /// `headers.messageId`: for ACK matching only; deduplicate by [`Self::event_id`].
    pub message_id: String,
    /// Every header, numbers turned into their decimal text.
    pub headers: BTreeMap<String, String>,
    /// `data`, parsed from its JSON string.
    pub data: Value,
}

impl StreamMessage {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// `headers.eventType`, e.g. `bpms_instance_change`.
    pub fn event_type(&self) -> Option<&str> {
        self.header("eventType")
    }

    /// `headers.eventId`: the dedupe key of an event (dingtalk.md §3.5).
    pub fn event_id(&self) -> Option<&str> {
        self.header("eventId")
    }

    /// `headers.eventCorpId`: the organisation.
    pub fn event_corp_id(&self) -> Option<&str> {
        self.header("eventCorpId")
    }

    /// `headers.eventBornTime`: when the event was produced, epoch ms.
    pub fn event_born_time(&self) -> Option<i64> {
        self.header("eventBornTime")?.trim().parse().ok()
    }

    /// `headers.time`: when DingTalk pushed the frame, epoch ms.
    pub fn push_time(&self) -> Option<i64> {
        self.header("time")?.trim().parse().ok()
    }
}

/// What a text frame asks of the connection.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// An `EVENT` or `CALLBACK` for the sink.
    Message(StreamMessage),
    /// `SYSTEM` `ping`: answer at once with the same `data` (dingtalk.md §4.5).
    Ping { message_id: String, data: String },
    /// `SYSTEM` `disconnect`: DingTalk is about to drop the connection.
    Disconnect {
        message_id: Option<String>,
        reason: Option<String>,
    },
    /// Another `SYSTEM` topic: informational, ACKed if it has a message id.
    OtherSystem {
        message_id: Option<String>,
        topic: String,
    },
    /// A frame type this client does not know.
    Unsupported {
        message_id: Option<String>,
        kind: String,
    },
    /// A frame that is not the documented JSON.
    Malformed {
        message_id: Option<String>,
        reason: &'static str,
    },
}

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    headers: Map<String, Value>,
    data: Option<Value>,
}

/// Reads one text frame. Never fails: what cannot be read is [`Inbound::Malformed`].
pub(crate) fn parse(text: &str) -> Inbound {
    let raw: RawFrame = match serde_json::from_str(text) {
        Ok(raw) => raw,
        Err(_) => {
            return Inbound::Malformed {
                message_id: None,
                reason: "not a JSON frame",
            };
        }
    };
    let headers = string_headers(&raw.headers);
    let message_id = headers.get("messageId").cloned();
    let Some(kind) = raw.kind else {
        return Inbound::Malformed {
            message_id,
            reason: "no frame type",
        };
    };
    let message_kind = match kind.to_ascii_uppercase().as_str() {
        "SYSTEM" => return system(headers, message_id, raw.data),
        "EVENT" => MessageKind::Event,
        "CALLBACK" => MessageKind::Callback,
        _ => return Inbound::Unsupported { message_id, kind },
    };
    let Some(message_id) = message_id else {
        return Inbound::Malformed {
            message_id: None,
            reason: "no messageId",
        };
    };
    let Some(topic) = headers.get("topic").cloned() else {
        return Inbound::Malformed {
            message_id: Some(message_id),
            reason: "no topic",
        };
    };
    let Some(data) = data_json(raw.data) else {
        return Inbound::Malformed {
            message_id: Some(message_id),
            reason: "data is not a JSON string",
        };
    };
    Inbound::Message(StreamMessage {
        kind: message_kind,
        topic,
        message_id,
        headers,
        data,
    })
}

fn system(
    headers: BTreeMap<String, String>,
    message_id: Option<String>,
    data: Option<Value>,
) -> Inbound {
    let topic = headers.get("topic").cloned().unwrap_or_default();
    match topic.as_str() {
        "ping" => match (message_id, data) {
            (Some(message_id), Some(Value::String(data))) => Inbound::Ping { message_id, data },
            (Some(message_id), Some(data @ Value::Object(_))) => Inbound::Ping {
                message_id,
                data: data.to_string(),
            },
            (message_id, _) => Inbound::Malformed {
                message_id,
                reason: "ping without messageId or data",
            },
        },
        "disconnect" => {
            let reason = data_json(data).and_then(|data| {
                data.get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            Inbound::Disconnect { message_id, reason }
        }
        _ => Inbound::OtherSystem { message_id, topic },
    }
}

/// The payload: a JSON string parsed a second time; an object is taken as it is.
fn data_json(data: Option<Value>) -> Option<Value> {
    match data? {
        Value::String(text) => serde_json::from_str(&text).ok(),
        object @ Value::Object(_) => Some(object),
        _ => None,
    }
}

/// Header values arrive as strings or numbers (dingtalk.md §4.3); both become text.
fn string_headers(headers: &Map<String, Value>) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let value = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_frame_reads_headers_of_either_type_and_parses_its_data_string() {
        let frame = r#"{"specVersion":"1.0","type":"EVENT","headers":{"topic":"*",
            "messageId":"m1","time":1717000000123,"eventType":"user_add_org","eventId":"e1",
            "eventBornTime":"1717000000000","eventCorpId":"dingcorp"},
            "data":"{\"userId\":[\"u1\"]}"}"#;
        let Inbound::Message(message) = parse(frame) else {
            panic!("an event frame is a message");
        };
        assert_eq!(message.kind, MessageKind::Event);
        assert_eq!(message.event_id(), Some("e1"));
        assert_eq!(message.push_time(), Some(1_717_000_000_123));
        assert_eq!(message.event_born_time(), Some(1_717_000_000_000));
        assert_eq!(message.data["userId"][0], "u1");
    }

    #[test]
    fn a_ping_keeps_its_data_text_for_the_echo() {
        let frame = r#"{"type":"SYSTEM","headers":{"topic":"ping","messageId":"p1"},
            "data":"{\"opaque\":\"abc\"}"}"#;
        let Inbound::Ping { message_id, data } = parse(frame) else {
            panic!("a ping frame is a ping");
        };
        assert_eq!(
            (message_id.as_str(), data.as_str()),
            ("p1", r#"{"opaque":"abc"}"#)
        );
    }
}

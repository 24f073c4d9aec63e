//! Decrypted DingTalk events (dingtalk.md §3): one JSON object whose shape depends on the
//! channel and era (current HTTP push with `eventId`, legacy PascalCase pushes, Stream data).
//! Keys are matched case-insensitively and numbers may arrive as strings, so the event keeps
//! the whole object and reads fields through lenient accessors.

use serde::Serialize;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// Why a decrypted event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("event has no EventType")]
    NoType,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DingEvent {
    /// `EventType`, e.g. `user_add_org`, `bpms_task_change`, `check_url`.
    pub event_type: String,
    /// The whole decrypted object, as sent.
    pub data: Map<String, Value>,
}

/// Id-list fields that identify a legacy event (one without `eventId`).
const ID_FIELDS: [&str; 8] = [
    "UserId",
    "DeptId",
    "ChatId",
    "OpenConversationId",
    "Operator",
    "Owner",
    "processInstanceId",
    "taskId",
];

impl DingEvent {
    /// Parses the decrypted JSON.
    pub fn parse(json: &str) -> Result<Self, EventError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| EventError::NotAnObject(e.to_string()))?;
        let Value::Object(data) = value else {
            return Err(EventError::NotAnObject("not an object".into()));
        };
        let event_type = field(&data, "EventType")
            .and_then(as_text)
            .ok_or(EventError::NoType)?;
        Ok(Self { event_type, data })
    }

    /// DingTalk's URL check when the subscription is saved: answer `success`, store nothing.
    pub fn is_check_url(&self) -> bool {
        self.event_type == "check_url"
    }

    /// `dingtalk.<EventType>`.
    pub fn kind(&self) -> String {
        format!("dingtalk.{}", self.event_type)
    }

    /// A field by name, case-insensitively, numbers given as text.
    pub fn text(&self, name: &str) -> Option<String> {
        field(&self.data, name).and_then(as_text)
    }

    /// An id-list field (`UserId`, `deptId`, ...): an array of ids, or a single id.
    pub fn ids(&self, name: &str) -> Vec<String> {
        match field(&self.data, name) {
            Some(Value::Array(items)) => items.iter().filter_map(as_text).collect(),
            Some(other) => as_text(other).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// The natural key (dingtalk.md §3.5): `evt:<eventId>` when DingTalk sent one; otherwise
    /// `legacy:<EventType>:<sha1>` over the type, the timestamp, the corp and the sorted ids, so
    /// DingTalk's retries (10 s and 40 s later) collapse onto one row.
    pub fn dedupe_key(&self) -> String {
        if let Some(id) = self.text("eventId") {
            return truncated(format!("evt:{id}"));
        }
        let mut sha = Sha1::new();
        let mut part = |name: &str, value: &str| {
            sha.update(name.as_bytes());
            sha.update((value.len() as u64).to_be_bytes());
            sha.update(value.as_bytes());
        };
        part("EventType", &self.event_type);
        for name in [
            "TimeStamp",
            "EventTime",
            "CorpId",
            "type",
            "result",
            "staffId",
        ] {
            if let Some(value) = self.text(name) {
                part(name, &value);
            }
        }
        for name in ID_FIELDS {
            let mut ids = self.ids(name);
            ids.sort();
            if !ids.is_empty() {
                part(name, &ids.join(","));
            }
        }
        let digest = sha.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let kind: String = self
            .event_type
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(200)
            .collect();
        format!("legacy:{kind}:{hex}")
    }
}

/// The member called `name`, ignoring case.
fn field<'a>(data: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    data.get(name).or_else(|| {
        data.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A string, or a number written as text.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// At most 255 bytes (the inbox's key column), cut on a character boundary.
pub(crate) fn truncated(mut key: String) -> String {
    if key.len() > 255 {
        let mut at = 255;
        while !key.is_char_boundary(at) {
            at -= 1;
        }
        key.truncate(at);
    }
    key
}

#[cfg(test)]
mod tests;

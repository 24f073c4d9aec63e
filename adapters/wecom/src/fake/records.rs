//! What the fake remembers for a test to read: every request, and every message, card update,
//! contact way and welcome message it accepted.

use std::collections::BTreeMap;

use serde_json::Value;

/// One request as the fake received it, and how it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path after `/cgi-bin/`, e.g. `message/send`.
    pub path: String,
    /// The query parameters; an `access_token` shows as `<redacted>`.
    pub query: BTreeMap<String, String>,
    /// The JSON body, if there was one and it parsed.
    pub body: Option<Value>,
    /// The HTTP status answered; 0 if the answer was never finished (e.g. cut off mid-delay).
    pub status: u16,
    /// The errcode answered, if the answer was WeCom JSON.
    pub errcode: Option<i64>,
}

/// A message `message/send` accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The msgid answered.
    pub msgid: String,
    /// When the fake accepted it.
    pub received_at: std::time::Instant,
    /// The response_code answered, for interactive cards.
    pub response_code: Option<String>,
    /// Valid `touser` recipients, lower-cased.
    pub recipients: Vec<String>,
    /// The request body.
    pub body: Value,
}

impl SentMessage {
    /// `msgtype`.
    pub fn msgtype(&self) -> Option<&str> {
        self.body.get("msgtype").and_then(Value::as_str)
    }

    /// `text.content` or `markdown.content`.
    pub fn content(&self) -> Option<&str> {
        let msgtype = self.msgtype()?;
        self.body.get(msgtype)?.get("content")?.as_str()
    }

    /// `template_card.task_id`.
    pub fn task_id(&self) -> Option<&str> {
        self.body.get("template_card")?.get("task_id")?.as_str()
    }
}

/// A card update `message/update_template_card` accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatedCard {
    /// The message whose card was updated.
    pub msgid: String,
    /// The response_code spent.
    pub response_code: String,
    /// The request body.
    pub body: Value,
    /// When the fake accepted it, for measuring how long an update took to arrive.
    pub received_at: std::time::Instant,
}

/// A contact way `add_contact_way` created.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactWayRecord {
    /// The config_id answered.
    pub config_id: String,
    /// The qr_code answered.
    pub qr_code: String,
    /// The request body.
    pub body: Value,
}

/// A welcome message `send_welcome_msg` accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct WelcomeRecord {
    /// The welcome_code spent.
    pub welcome_code: String,
    /// The request body.
    pub body: Value,
    /// When the fake accepted it, for measuring how long a welcome took to arrive.
    pub received_at: std::time::Instant,
}

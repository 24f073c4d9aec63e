//! What the fake remembers for a test to read: every request, and every work notification,
//! card, robot message and webhook post it accepted.

use std::collections::BTreeMap;

use serde_json::Value;

/// One request as the fake received it, and how it answered. Tokens and the app secret show
/// as `<redacted>`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST` or `PUT`.
    pub method: String,
    /// The path without the leading `/`, e.g. `topapi/v2/user/get`, `v1.0/card/instances`.
    pub path: String,
    /// The query parameters.
    pub query: BTreeMap<String, String>,
    /// Whether an app token came with it, in the header or the query.
    pub with_token: bool,
    /// The JSON body, if there was one and it parsed.
    pub body: Option<Value>,
    /// The HTTP status answered; 0 if the answer was never finished (e.g. cut off mid-delay).
    pub status: u16,
    /// The legacy errcode answered, if any.
    pub errcode: Option<i64>,
    /// The v1.0 error code answered, if any.
    pub code: Option<String>,
}

/// A work notification `asyncsend_v2` accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkNotificationRecord {
    /// The task id answered.
    pub task_id: i64,
    /// `userid_list`, split.
    pub userids: Vec<String>,
    /// The request body.
    pub body: Value,
}

impl WorkNotificationRecord {
    /// `msg.msgtype`.
    pub fn msgtype(&self) -> Option<&str> {
        self.body.get("msg")?.get("msgtype")?.as_str()
    }
}

/// A card instance as it stands after creation and every update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRecord {
    /// Its `outTrackId`.
    pub out_track_id: String,
    /// Its `cardTemplateId`.
    pub card_template_id: String,
    /// The spaces it was delivered to, as `(space type, space id)`.
    pub spaces: Vec<(String, String)>,
    /// The public variables now.
    pub card_param_map: BTreeMap<String, String>,
    /// The private variables now, by userId.
    pub private_data: BTreeMap<String, BTreeMap<String, String>>,
    /// How many updates it received.
    pub updates: usize,
}

/// A robot message `batchSend` or `groupMessages/send` accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotMessageRecord {
    /// The `processQueryKey` answered.
    pub process_query_key: String,
    /// The users it went to (one-to-one sends).
    pub user_ids: Vec<String>,
    /// The group it went to (group sends).
    pub open_conversation_id: Option<String>,
    /// `msgKey`.
    pub msg_key: String,
    /// `msgParam`, parsed.
    pub msg_param: Value,
}

/// A post to a custom robot's webhook that passed its checks.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookPost {
    /// The `timestamp` it was signed with, if the robot signs.
    pub timestamp: Option<i64>,
    /// The request body.
    pub body: Value,
}

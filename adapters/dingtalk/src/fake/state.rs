//! The fake's memory: issued tokens, registered members, departments and custom robots,
//! everything sent, scripted faults and the request log.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::faults::Fault;
use super::records::{
    CardRecord, RecordedRequest, RobotMessageRecord, WebhookPost, WorkNotificationRecord,
};

/// The `expireIn` the fake issues tokens with, as DingTalk does.
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

/// One issued token.
pub(crate) struct IssuedToken {
    pub(crate) expires_at: Instant,
    pub(crate) revoked: bool,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) tokens: HashMap<String, IssuedToken>,
    pub(crate) faults: HashMap<String, VecDeque<Fault>>,
    pub(crate) log: Vec<RecordedRequest>,
    pub(crate) users: BTreeMap<String, Value>,
    pub(crate) departments: BTreeMap<i64, Value>,
    /// Custom robots: their webhook token and signing secret.
    pub(crate) webhook_robots: HashMap<String, Option<String>>,
    pub(crate) work_notifications: Vec<WorkNotificationRecord>,
    pub(crate) cards: BTreeMap<String, CardRecord>,
    pub(crate) robot_messages: Vec<RobotMessageRecord>,
    pub(crate) webhook_posts: Vec<WebhookPost>,
}

impl State {
    /// The next scripted fault for `path`, if any.
    pub(crate) fn take_fault(&mut self, path: &str) -> Option<Fault> {
        self.faults.get_mut(path)?.pop_front()
    }

    /// The live token if there is one, its validity extended, else a new one: fetching again
    /// while a token is valid returns the same token (dingtalk.md §6).
    pub(crate) fn issue_token(&mut self) -> String {
        let now = Instant::now();
        let live = self
            .tokens
            .iter_mut()
            .find(|(_, issued)| !issued.revoked && issued.expires_at > now);
        if let Some((token, issued)) = live {
            issued.expires_at = now + TOKEN_LIFETIME;
            return token.clone();
        }
        let token = random_id(32);
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                expires_at: now + TOKEN_LIFETIME,
                revoked: false,
            },
        );
        token
    }

    /// Whether `token` was issued, and if so whether it is still live.
    pub(crate) fn token_state(&self, token: &str) -> TokenState {
        match self.tokens.get(token) {
            None => TokenState::Unknown,
            Some(issued) if issued.revoked || issued.expires_at <= Instant::now() => {
                TokenState::Expired
            }
            Some(_) => TokenState::Live,
        }
    }
}

/// What the fake knows of a presented token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenState {
    Live,
    Expired,
    Unknown,
}

/// A random id of ASCII letters and digits.
pub(crate) fn random_id(len: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(len)
        .collect()
}

/// Epoch milliseconds now.
pub(crate) fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// A string field, if present and a string.
pub(crate) fn str_field<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// A map of string values, `None` if absent or not such a map.
pub(crate) fn string_map(value: Option<&Value>) -> Option<BTreeMap<String, String>> {
    value?
        .as_object()?
        .iter()
        .map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
        .collect()
}

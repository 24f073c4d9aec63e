//! The fake's memory: the app's credentials, issued tokens, registered members, customers,
//! groups and tags, everything sent, scripted faults and the request log.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::faults::{Fault, INVALID_PARAMETER};
use super::records::{ContactWayRecord, RecordedRequest, SentMessage, UpdatedCard, WelcomeRecord};

/// The `expires_in` the fake issues tokens with, as WeCom normally does.
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

/// An answer's fields besides `errcode`/`errmsg`, or a rejection.
pub(crate) type Outcome = Result<Map<String, Value>, Rejection>;

/// A non-zero errcode, with any fields WeCom still sends alongside it (e.g. the invalid lists
/// of an 81013).
#[derive(Debug)]
pub(crate) struct Rejection {
    pub(crate) errcode: i64,
    pub(crate) fields: Map<String, Value>,
}

impl From<i64> for Rejection {
    fn from(errcode: i64) -> Self {
        Self {
            errcode,
            fields: Map::new(),
        }
    }
}

/// One issued token.
pub(crate) struct IssuedToken {
    pub(crate) expires_at: Instant,
    pub(crate) revoked: bool,
}

/// A corp tag group as the fake keeps it.
pub(crate) struct TagGroupRecord {
    pub(crate) group_id: String,
    pub(crate) group_name: String,
    pub(crate) create_time: i64,
    pub(crate) order: u64,
    pub(crate) tags: Vec<TagRecord>,
}

/// A corp tag as the fake keeps it.
pub(crate) struct TagRecord {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) create_time: i64,
    pub(crate) order: u64,
}

/// A `response_code` the fake issued, and what it may update.
pub(crate) struct IssuedResponseCode {
    pub(crate) msgid: String,
    pub(crate) used: bool,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) tokens: HashMap<String, IssuedToken>,
    pub(crate) faults: HashMap<String, VecDeque<Fault>>,
    pub(crate) log: Vec<RecordedRequest>,
    pub(crate) users: BTreeMap<String, Value>,
    pub(crate) contacts: BTreeMap<String, Value>,
    pub(crate) group_chats: BTreeMap<String, Value>,
    pub(crate) tag_groups: Vec<TagGroupRecord>,
    pub(crate) messages: Vec<SentMessage>,
    pub(crate) messages_read: usize,
    pub(crate) task_ids: HashSet<String>,
    pub(crate) response_codes: HashMap<String, IssuedResponseCode>,
    pub(crate) duplicate_check: HashMap<String, (Instant, String)>,
    pub(crate) card_updates: Vec<UpdatedCard>,
    pub(crate) contact_ways: Vec<ContactWayRecord>,
    pub(crate) welcome_codes: HashMap<String, bool>,
    /// OAuth codes not yet exchanged, and whom each identifies.
    pub(crate) oauth_codes: HashMap<String, Value>,
    pub(crate) welcome_messages: Vec<WelcomeRecord>,
}

impl State {
    /// The next scripted fault for `path`, if any.
    pub(crate) fn take_fault(&mut self, path: &str) -> Option<Fault> {
        self.faults.get_mut(path)?.pop_front()
    }

    /// Whether `query` carries a live token: 41001 without one, 40014 for one never issued,
    /// 42001 for one that expired or was expired by the test.
    pub(crate) fn check_token(&self, query: &HashMap<String, String>) -> Result<(), Rejection> {
        let token = query
            .get("access_token")
            .filter(|token| !token.is_empty())
            .ok_or(41001)?;
        let issued = self.tokens.get(token).ok_or(40014)?;
        if issued.revoked || issued.expires_at <= Instant::now() {
            return Err(42001.into());
        }
        Ok(())
    }

    /// Issues a fresh token; earlier ones stay valid until they expire, as WeCom's docs allow.
    pub(crate) fn issue_token(&mut self) -> String {
        let token = random_id(64);
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                expires_at: Instant::now() + TOKEN_LIFETIME,
                revoked: false,
            },
        );
        token
    }
}

/// A random id of ASCII letters and digits.
pub(crate) fn random_id(len: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(len)
        .collect()
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// The body as a JSON object, or 47001 as WeCom answers malformed JSON.
pub(crate) fn object(body: Option<&Value>) -> Result<&Map<String, Value>, Rejection> {
    body.and_then(Value::as_object)
        .ok_or_else(|| super::faults::DATA_FORMAT_ERROR.into())
}

/// A string field, if present and a string.
pub(crate) fn str_field<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// A list of strings, empty when absent; 40058 when present but not a list of strings.
pub(crate) fn str_list(body: &Map<String, Value>, key: &str) -> Result<Vec<String>, Rejection> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| INVALID_PARAMETER.into())
            })
            .collect(),
        Some(_) => Err(INVALID_PARAMETER.into()),
    }
}

/// A `0`/`1` flag (also accepting JSON booleans), false when absent.
pub(crate) fn flag(body: &Map<String, Value>, key: &str) -> bool {
    match body.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        _ => false,
    }
}

/// The fields of a JSON object literal.
pub(crate) fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

//! Stream mode settings: the app's credentials, the gateway host, the subscribed topics and the
//! connection timings (dingtalk.md §4.1, §4.6, §4.7).

use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;

use crate::api::DEFAULT_API_BASE_URL;

/// The path that hands out an endpoint and a one-time ticket (dingtalk.md §4.1).
pub const OPEN_CONNECTION_PATH: &str = "v1.0/gateway/connections/open";
/// The only `EVENT` topic: every event type ticked in the console (dingtalk.md §4.6).
pub const EVENT_TOPIC_ALL: &str = "*";
/// The `CALLBACK` topic of messages sent to the robot (dingtalk.md §5.4).
pub const ROBOT_MESSAGE_TOPIC: &str = "/v1.0/im/bot/messages/get";
/// The `CALLBACK` topic of card button taps (dingtalk.md §5.2.6).
pub const CARD_CALLBACK_TOPIC: &str = "/v1.0/card/instances/callback";
/// The first reconnection delay; the SDKs start at 1 s (dingtalk.md §4.7).
pub const DEFAULT_MIN_BACKOFF: Duration = Duration::from_secs(1);
/// Reconnection delays never grow past this; all SDKs cap at 60 s (dingtalk.md §4.7).
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Timeout of the `connections/open` call and of the WebSocket handshake.
pub const DEFAULT_OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// A WebSocket ping goes out this often; the Java and Python SDKs use 60 s (dingtalk.md §4.7).
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(60);
/// Silence this long after a ping's due time marks the connection dead (Go SDK: 5 s).
pub const DEFAULT_PONG_TIMEOUT: Duration = Duration::from_secs(5);
/// With no frame at all for this long, the connection is recycled: some connections stay open
/// with healthy pings but receive nothing (dingtalk.md §4.7).
pub const DEFAULT_SILENCE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The `ua` sent to `connections/open`, `name-sdk-lang/version` (dingtalk.md §4.1).
pub const DEFAULT_USER_AGENT: &str = concat!("salesbot-dingtalk-rust/", env!("CARGO_PKG_VERSION"));

/// How to open Stream connections as one app. `Debug` does not show the secret.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// Scheme and host of the v1.0 API that serves `connections/open`; default
    /// [`DEFAULT_API_BASE_URL`].
    pub api_base_url: String,
    /// The app's Client ID (AppKey).
    pub client_id: String,
    /// The app's Client Secret (AppSecret).
    pub client_secret: SecretString,
    /// The `ua` field; default [`DEFAULT_USER_AGENT`].
    pub user_agent: String,
    /// The optional `localIp` field, for DingTalk-side troubleshooting.
    pub local_ip: Option<String>,
    /// The first reconnection delay, doubled per failed attempt; default [`DEFAULT_MIN_BACKOFF`].
    pub min_backoff: Duration,
    /// The largest reconnection delay; default [`DEFAULT_MAX_BACKOFF`].
    pub max_backoff: Duration,
    /// Timeout of `connections/open` and of the handshake; default [`DEFAULT_OPEN_TIMEOUT`].
    pub open_timeout: Duration,
    /// How often a WebSocket ping is sent; default [`DEFAULT_PING_INTERVAL`].
    pub ping_interval: Duration,
    /// Grace after a ping interval before a silent connection counts as dead; default
    /// [`DEFAULT_PONG_TIMEOUT`].
    pub pong_timeout: Duration,
    /// No frame for this long recycles the connection; default [`DEFAULT_SILENCE_TIMEOUT`].
    pub silence_timeout: Duration,
}

impl StreamConfig {
    /// The defaults for the app with this Client ID and Client Secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            api_base_url: DEFAULT_API_BASE_URL.to_owned(),
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            local_ip: None,
            min_backoff: DEFAULT_MIN_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            open_timeout: DEFAULT_OPEN_TIMEOUT,
            ping_interval: DEFAULT_PING_INTERVAL,
            pong_timeout: DEFAULT_PONG_TIMEOUT,
            silence_timeout: DEFAULT_SILENCE_TIMEOUT,
        }
    }
}

/// A subscription's kind (dingtalk.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SubscriptionType {
    /// Events chosen in the console; the topic is always [`EVENT_TOPIC_ALL`].
    Event,
    /// Callbacks of one topic path, e.g. [`ROBOT_MESSAGE_TOPIC`].
    Callback,
}

/// One entry of `subscriptions` in `connections/open`. DingTalk pushes only what is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    /// `EVENT` or `CALLBACK`.
    #[serde(rename = "type")]
    pub kind: SubscriptionType,
    /// `*` for events, the topic path for callbacks.
    pub topic: String,
}

impl Subscription {
    /// Every event type ticked in the console.
    pub fn events() -> Self {
        Self {
            kind: SubscriptionType::Event,
            topic: EVENT_TOPIC_ALL.to_owned(),
        }
    }

    /// Callbacks on `topic`.
    pub fn callback(topic: impl Into<String>) -> Self {
        Self {
            kind: SubscriptionType::Callback,
            topic: topic.into(),
        }
    }

    /// Events, robot messages and card callbacks: what an app with a robot and interactive
    /// cards needs (dingtalk.md §4.6). Cards must also be created with `callbackType` `STREAM`.
    pub fn events_robot_and_cards() -> Vec<Self> {
        vec![
            Self::events(),
            Self::callback(ROBOT_MESSAGE_TOPIC),
            Self::callback(CARD_CALLBACK_TOPIC),
        ]
    }
}

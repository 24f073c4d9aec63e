//! The custom group robot (群自定义机器人, dingtalk.md §5.3.2): a per-robot webhook URL with its
//! own token, signed with the robot's `SEC…` secret, not with the app's token.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::client::{Call, DingtalkClient, Host, json_body};
use super::error::ApiError;

/// The webhook's name in errors and logs; its URL carries the robot's token.
const ROBOT_SEND: &str = "robot/send";

/// One custom robot: its webhook URL and, when it uses 加签, its secret. `Debug` shows neither:
/// the URL's `access_token` is the robot's credential.
#[derive(Clone)]
pub struct WebhookRobot {
    /// `https://oapi.dingtalk.com/robot/send?access_token=…`, as the group settings show it.
    pub url: String,
    /// The `SEC…` secret of the robot's 加签 setting, if enabled.
    pub secret: Option<SecretString>,
}

impl std::fmt::Debug for WebhookRobot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRobot")
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

impl WebhookRobot {
    /// A robot with this webhook URL and optional signing secret.
    pub fn new(url: impl Into<String>, secret: Option<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.map(SecretString::from),
        }
    }

    /// The URL to post to at `timestamp_ms`: the webhook URL plus `timestamp` and the
    /// URL-encoded `sign` when the robot has a secret.
    pub fn signed_url(&self, timestamp_ms: i64) -> Result<Url, ApiError> {
        let mut url = Url::parse(&self.url)
            .map_err(|_| ApiError::Config("the custom robot's webhook URL is invalid".into()))?;
        if let Some(secret) = &self.secret {
            let sign = webhook_sign(secret.expose_secret(), timestamp_ms);
            url.query_pairs_mut()
                .append_pair("timestamp", &timestamp_ms.to_string())
                .append_pair("sign", &sign);
        }
        Ok(url)
    }
}

/// Base64(HMAC-SHA256(key = `secret`, message = `timestamp_ms` + `"\n"` + `secret`)), before
/// URL-encoding (dingtalk.md §5.3.2 steps 1–3).
pub fn webhook_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A custom robot message: the content, whom to @-mention and an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    /// `msgtype` and its object.
    #[serde(flatten)]
    pub content: WebhookContent,
    /// Whom to mention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<At>,
    /// Idempotency key: a retried send with the same value is delivered once.
    #[serde(default, rename = "msgUuid", skip_serializing_if = "Option::is_none")]
    pub msg_uuid: Option<String>,
}

impl WebhookMessage {
    /// `content` with no mentions and no idempotency key.
    pub fn new(content: WebhookContent) -> Self {
        Self {
            content,
            at: None,
            msg_uuid: None,
        }
    }
}

/// A custom robot message's content, tagged by `msgtype`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "msgtype")]
pub enum WebhookContent {
    /// `{"msgtype":"text","text":{"content":…}}`.
    #[serde(rename = "text")]
    Text {
        /// The text.
        text: WebhookText,
    },
    /// `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`.
    #[serde(rename = "markdown")]
    Markdown {
        /// The markdown.
        markdown: super::message::Markdown,
    },
    /// `{"msgtype":"actionCard","actionCard":{…}}`.
    #[serde(rename = "actionCard")]
    ActionCard {
        /// The card.
        #[serde(rename = "actionCard")]
        action_card: WebhookActionCard,
    },
}

/// A text message's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookText {
    /// The text.
    pub content: String,
}

/// A custom robot's action card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookActionCard {
    /// Shown in the conversation list.
    pub title: String,
    /// Markdown.
    pub text: String,
    /// `"0"` vertical, `"1"` horizontal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub btn_orientation: Option<String>,
    /// The buttons; ignored when `singleTitle` is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub btns: Vec<WebhookButton>,
    /// One whole-card button's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_title: Option<String>,
    /// One whole-card button's URL.
    #[serde(default, rename = "singleURL", skip_serializing_if = "Option::is_none")]
    pub single_url: Option<String>,
}

/// One button of a custom robot's action card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookButton {
    /// The title.
    pub title: String,
    /// The link.
    #[serde(rename = "actionURL")]
    pub action_url: String,
}

/// Mentions, at most 50 people.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct At {
    /// userIds to mention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_user_ids: Vec<String>,
    /// Mobile numbers to mention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_mobiles: Vec<String>,
    /// Mention everyone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_at_all: bool,
}

impl DingtalkClient {
    /// Posts `message` to a custom robot's webhook, signed at `timestamp_ms` (the current time:
    /// DingTalk rejects timestamps more than an hour off). Goes through the client's rate limit
    /// and retries, without the app token. 20 messages a minute per robot, then 410100.
    pub async fn send_webhook(
        &self,
        robot: &WebhookRobot,
        message: &WebhookMessage,
        timestamp_ms: i64,
    ) -> Result<(), ApiError> {
        let call = Call {
            api: ROBOT_SEND,
            host: Host::Oapi,
            method: Method::POST,
            url: robot.signed_url(timestamp_ms)?,
            body: Some(json_body(ROBOT_SEND, message)?),
        };
        self.send_unauthenticated(&call).await.map(drop)
    }
}

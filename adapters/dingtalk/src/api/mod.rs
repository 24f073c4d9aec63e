//! The DingTalk server API client: one retrying, rate-limited, token-refreshing call path over
//! both hosts (dingtalk.md §1.1, §6, §8) and typed requests and responses for work
//! notifications, interactive cards, robot messages, custom robot webhooks and user look-ups.
//!
//! Requests serialize to the documented JSON; responses are parsed leniently (unknown keys are
//! ignored, documented fields that may be absent are `Option` or default to empty).

mod card;
mod client;
mod error;
mod message;
mod rate_limit;
mod robot;
mod serde_util;
mod token;
mod user;
mod webhook;

pub use card::{
    CallbackType, CardData, CardDelivered, CardDeliveries, CardUpdateOptions, CardUpdated,
    CreateAndDeliverCard, DeliverResult, GroupDeliverModel, OpenSpaceModel, RobotDeliverModel,
    SpaceType, UpdateCard, open_space_id,
};
pub use client::{
    ClientConfig, DEFAULT_API_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_OAPI_BASE_URL,
    DEFAULT_RATE_LIMITED_BACKOFF, DEFAULT_RETRY_BACKOFF, DEFAULT_TIMEOUT, DingtalkClient,
};
pub use error::{ApiError, TokenStoreError, code, errcode};
pub use message::{
    ActionCard, ActionCardButton, Markdown, WorkMessage, WorkNotification, WorkNotificationSent,
};
pub use rate_limit::{DEFAULT_BURST, DEFAULT_REQUESTS_PER_MINUTE, RateLimit};
pub use reqwest::Method;
pub use robot::{
    GroupMessage, GroupMessageSent, MAX_OTO_USERS, OtoMessages, OtoMessagesSent, RobotMessage,
};
pub use token::{AccessToken, CachedToken, MemoryTokenStore, TokenStore};
pub use user::{Department, LeaderInDept, User};
pub use webhook::{
    At, WebhookActionCard, WebhookButton, WebhookContent, WebhookMessage, WebhookRobot,
    WebhookText, webhook_sign,
};

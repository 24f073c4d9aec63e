//! `[[wecom]]` and `[[dingtalk]]`: one table per chat-platform app (a tenant of salesbot).

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// Default WeCom API base URL.
pub const WECOM_API_BASE: &str = "https://qyapi.weixin.qq.com";
/// Default DingTalk API base URLs: the v1.0 API and the legacy oapi.
pub const DINGTALK_API_BASE: &str = "https://api.dingtalk.com";
pub const DINGTALK_OAPI_BASE: &str = "https://oapi.dingtalk.com";

/// One WeCom self-built app. Its callbacks arrive at `/callbacks/wecom/{tenant}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    /// Name in the callback path and in the database: 1–64 of `[a-z0-9_-]`. Required.
    pub tenant: String,
    /// The corp id (`ww…`); also the receive id every callback must carry. Required.
    pub corp_id: String,
    /// The app's AgentId. Required.
    pub agent_id: i64,
    /// The app's Secret, for access tokens. Required; usually `env:NAME`.
    pub secret: Secret,
    /// The callback Token (at most 32 letters and digits). Required.
    pub callback_token: Secret,
    /// The callback EncodingAESKey (43 characters). Required.
    pub encoding_aes_key: Secret,
    /// API base URL. Default `https://qyapi.weixin.qq.com`; a fake server's in tests.
    #[serde(default = "default_api_base")]
    pub api_base: String,
    /// Reject callbacks whose timestamp is further than this from now. Default: no check, since
    /// WeCom's retries carry the original timestamp and the dedupe key already stops replays.
    #[serde(default)]
    pub max_clock_skew_secs: Option<u64>,
    /// API calls per minute this app may make; calls beyond it wait their turn. Default 600,
    /// well under WeCom's per-app limits; 0 turns the client-side limit off.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_minute: u32,
    /// Timeout of one API call. Default 10.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// How cards are sent: `card` (a `template_card`, falling back to markdown only where a card
    /// cannot be built) or `markdown` (always markdown, e.g. for members who read WeCom messages
    /// in WeChat, where template cards do not show). Default `card`.
    #[serde(default)]
    pub message_format: MessageFormat,
    /// WeCom's duplicate check window for sends (`duplicate_check_interval`): an identical send
    /// within it is not delivered again. Default 1800, at most 14400.
    #[serde(default = "default_duplicate_check")]
    pub duplicate_check_secs: u32,
    /// The company as customers know it, for the welcome message (`company.name`). Default "".
    #[serde(default)]
    pub company_name: String,
    /// The service hotline in the welcome message (`company.hotline`). Default "".
    #[serde(default)]
    pub company_hotline: String,
    /// The link of the welcome message (`links.home`). Default: `server.public_base_url`.
    #[serde(default)]
    pub home_url: Option<String>,
    /// Each rep's manager, by userid, for alerts about the rep's customers (`alice = "bob"`).
    /// A rep not listed gets WeCom's direct leader (`user/get`). Default none.
    #[serde(default)]
    pub managers: std::collections::BTreeMap<String, String>,
}

impl WecomConfig {
    /// An app with its required keys and every other key at its default (as if read from a
    /// table that names only the required keys).
    pub fn new(
        tenant: impl Into<String>,
        corp_id: impl Into<String>,
        agent_id: i64,
        secret: Secret,
        callback_token: Secret,
        encoding_aes_key: Secret,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            corp_id: corp_id.into(),
            agent_id,
            secret,
            callback_token,
            encoding_aes_key,
            api_base: default_api_base(),
            max_clock_skew_secs: None,
            rate_limit_per_minute: default_rate_limit(),
            request_timeout_secs: default_request_timeout(),
            message_format: MessageFormat::default(),
            duplicate_check_secs: default_duplicate_check(),
            company_name: String::new(),
            company_hotline: String::new(),
            home_url: None,
            managers: Default::default(),
        }
    }
}

/// How a WeCom app sends cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageFormat {
    #[default]
    Card,
    Markdown,
}

/// WeCom's longest duplicate check window (wecom.md §4.1).
const MAX_DUPLICATE_CHECK_SECS: u32 = 14400;

fn default_duplicate_check() -> u32 {
    1800
}

fn default_api_base() -> String {
    WECOM_API_BASE.into()
}

fn default_rate_limit() -> u32 {
    600
}

fn default_request_timeout() -> u64 {
    10
}

/// A tenant name as it may appear in a URL path and a database key.
pub fn valid_tenant(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Checks every `[[wecom]]` table; errors name `wecom[i].key`.
pub fn validate_wecom(apps: &[WecomConfig]) -> Result<(), ConfigError> {
    let invalid = |i: usize, key: &str, reason: &str| {
        Err(ConfigError::Invalid {
            key: format!("wecom[{i}].{key}"),
            reason: reason.into(),
        })
    };
    for (i, app) in apps.iter().enumerate() {
        if !valid_tenant(&app.tenant) {
            return invalid(i, "tenant", "must be 1-64 of a-z, 0-9, - and _");
        }
        if apps[..i].iter().any(|other| other.tenant == app.tenant) {
            return invalid(i, "tenant", "is used by another [[wecom]] table");
        }
        if app.corp_id.trim().is_empty() {
            return invalid(i, "corp_id", "must not be empty");
        }
        let token = app.callback_token.expose();
        if token.is_empty() || token.len() > 32 || !token.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return invalid(i, "callback_token", "must be 1-32 letters and digits");
        }
        if salesbot_wecom::crypto::CallbackCrypto::new(
            token,
            app.encoding_aes_key.expose(),
            &app.corp_id,
        )
        .is_err()
        {
            return invalid(
                i,
                "encoding_aes_key",
                "must be the 43 letters and digits shown by WeCom",
            );
        }
        if !(app.api_base.starts_with("http://") || app.api_base.starts_with("https://")) {
            return invalid(i, "api_base", "must be an http:// or https:// URL");
        }
        if app.request_timeout_secs == 0 {
            return invalid(i, "request_timeout_secs", "must be greater than 0");
        }
        if app.duplicate_check_secs > MAX_DUPLICATE_CHECK_SECS {
            return invalid(i, "duplicate_check_secs", "must be at most 14400 (4 hours)");
        }
    }
    Ok(())
}

/// One DingTalk internal app with an HTTP event subscription. Its pushes arrive at
/// `/callbacks/dingtalk/{tenant}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DingtalkConfig {
    /// Name in the callback path and in the database: 1–64 of `[a-z0-9_-]`. Required.
    pub tenant: String,
    /// The app's Client ID (AppKey). Required.
    pub app_key: String,
    /// The app's Client Secret (AppSecret). Required; usually `env:NAME`.
    pub app_secret: Secret,
    /// The app's AgentId. Required.
    pub agent_id: i64,
    /// The event subscription's 签名 token (3–32 letters and digits). Required.
    pub callback_token: Secret,
    /// The event subscription's aes_key (43 characters). Required.
    pub aes_key: Secret,
    /// The receive id every push must carry: the app key for a subscription configured in the
    /// developer console (the default), the corp id for one registered through the legacy
    /// register_call_back API (dingtalk.md §2.4).
    #[serde(default)]
    pub receive_id: Option<String>,
    /// How events reach salesbot: `http` (pushes to `/callbacks/dingtalk/{tenant}`) or
    /// `stream` (salesbot connects out to DingTalk; no public URL needed). Default `http`.
    #[serde(default)]
    pub mode: DingtalkMode,
    /// The `apiSecret` registered with the card callback route (dingtalk.md §5.2.5); it signs
    /// every card tap posted to `/callbacks/dingtalk/{tenant}/card`. Without it that path
    /// answers 404. Default none; usually `env:NAME`.
    #[serde(default)]
    pub card_callback_secret: Option<Secret>,
    /// v1.0 API base URL. Default `https://api.dingtalk.com`; a fake server's in tests.
    #[serde(default = "default_dingtalk_api_base")]
    pub api_base: String,
    /// Legacy API base URL. Default `https://oapi.dingtalk.com`.
    #[serde(default = "default_dingtalk_oapi_base")]
    pub oapi_base: String,
    /// API calls per minute this app may make; calls beyond it wait their turn. Default 600,
    /// half of DingTalk's 20 per second; 0 turns the client-side limit off.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_minute: u32,
    /// Timeout of one API call. Default 10.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// The published interactive-card template (`….schema`, dingtalk.md §5.2.1) that shows
    /// salesbot's cards; see docs/templates.md for the variables it must declare. Without it,
    /// cards go out as work notifications (action cards), whose buttons can only open links.
    #[serde(default)]
    pub card_template_id: Option<String>,
    /// HTTP mode: the callback route key registered for card taps (dingtalk.md §5.2.5). Stream
    /// mode needs none. Default none.
    #[serde(default)]
    pub card_callback_route_key: Option<String>,
    /// The robot that delivers interactive cards. Default: the app's robot (`app_key`).
    #[serde(default)]
    pub robot_code: Option<String>,
}

/// How a DingTalk app's events arrive (the console allows one of the two per app).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DingtalkMode {
    #[default]
    Http,
    Stream,
}

fn default_dingtalk_api_base() -> String {
    DINGTALK_API_BASE.into()
}

fn default_dingtalk_oapi_base() -> String {
    DINGTALK_OAPI_BASE.into()
}

impl DingtalkConfig {
    /// The receive id pushes are checked against.
    pub fn receive_id(&self) -> &str {
        self.receive_id.as_deref().unwrap_or(&self.app_key)
    }
}

/// Checks every `[[dingtalk]]` table; errors name `dingtalk[i].key`. Tenant names may repeat
/// those of `[[wecom]]`: the platform is part of every path and key.
pub fn validate_dingtalk(apps: &[DingtalkConfig]) -> Result<(), ConfigError> {
    let invalid = |i: usize, key: &str, reason: &str| {
        Err(ConfigError::Invalid {
            key: format!("dingtalk[{i}].{key}"),
            reason: reason.into(),
        })
    };
    for (i, app) in apps.iter().enumerate() {
        if !valid_tenant(&app.tenant) {
            return invalid(i, "tenant", "must be 1-64 of a-z, 0-9, - and _");
        }
        if apps[..i].iter().any(|other| other.tenant == app.tenant) {
            return invalid(i, "tenant", "is used by another [[dingtalk]] table");
        }
        if app.app_key.trim().is_empty() {
            return invalid(i, "app_key", "must not be empty");
        }
        let token = app.callback_token.expose();
        if !(3..=32).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return invalid(i, "callback_token", "must be 3-32 letters and digits");
        }
        if app.request_timeout_secs == 0 {
            return invalid(i, "request_timeout_secs", "must be greater than 0");
        }
        if app
            .card_template_id
            .as_deref()
            .is_some_and(|id| id.trim().is_empty())
        {
            return invalid(i, "card_template_id", "must not be empty when set");
        }
        if salesbot_msgcrypt::CallbackCrypto::new(token, app.aes_key.expose(), app.receive_id())
            .is_err()
        {
            return invalid(
                i,
                "aes_key",
                "must be the 43 letters and digits shown by DingTalk",
            );
        }
    }
    Ok(())
}

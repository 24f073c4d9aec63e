//! What can go wrong calling WeCom, classified by what the caller should do about it
//! (wecom.md §6.2, §6.3). No variant carries the access token, the secret or a request URL.

pub use salesbot_apikit::token::TokenStoreError;
use std::time::Duration;

/// WeCom errcodes the client acts on (wecom.md §6.2).
pub mod errcode {
    /// System busy: retry with backoff.
    pub const SYSTEM_BUSY: i64 = -1;
    /// Success.
    pub const OK: i64 = 0;
    /// Invalid secret from `gettoken`; elsewhere treated as a bad token, as the major SDKs do.
    pub const INVALID_CREDENTIAL: i64 = 40001;
    /// Invalid userid.
    pub const INVALID_USERID: i64 = 40003;
    /// Invalid corpid: a configuration fault.
    pub const INVALID_CORPID: i64 = 40013;
    /// Invalid access_token.
    pub const INVALID_ACCESS_TOKEN: i64 = 40014;
    /// Invalid agentid: a configuration fault.
    pub const INVALID_AGENTID: i64 = 40056;
    /// Invalid tag id.
    pub const INVALID_TAG_ID: i64 = 40068;
    /// Invalid external userid.
    pub const INVALID_EXTERNAL_USERID: i64 = 40096;
    /// access_token missing from the query.
    /// OAuth `code` used, expired or forged (wecom.md §7).
    pub const INVALID_OAUTH_CODE: i64 = 40029;
    pub const ACCESS_TOKEN_MISSING: i64 = 41001;
    /// Welcome message not allowed: already chatting, or the code was used.
    pub const WELCOME_NOT_ALLOWED: i64 = 41051;
    /// access_token expired.
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    /// Template card `card_action` missing or invalid.
    pub const CARD_ACTION_INVALID: i64 = 42045;
    /// Empty text content.
    pub const EMPTY_CONTENT: i64 = 44004;
    /// Message content too large.
    pub const CONTENT_TOO_LARGE: i64 = 45002;
    /// API frequency limit reached; blocked for the rest of the window.
    pub const FREQUENCY_LIMIT: i64 = 45009;
    /// API concurrency limit reached.
    pub const CONCURRENCY_LIMIT: i64 = 45033;
    /// API not permitted for this app.
    pub const API_NOT_PERMITTED: i64 = 48002;
    /// No permission for that member, department or tag.
    pub const NO_PERMISSION: i64 = 60011;
    /// Caller IP not in the app's trusted IPs.
    pub const IP_NOT_ALLOWED: i64 = 60020;
    /// userid not found.
    pub const USERID_NOT_FOUND: i64 = 60111;
    /// Every recipient of a send was invalid.
    pub const ALL_RECIPIENTS_INVALID: i64 = 81013;
    /// No such member–customer relationship.
    pub const NO_RELATIONSHIP: i64 = 84061;
}

/// The API name `gettoken` reports in errors; 40001 there is a wrong secret, not a bad token.
pub(crate) const GETTOKEN: &str = "gettoken";

/// How long a 45009 blocks the API: the rest of the per-minute window (wecom.md §6.1, §6.3).
const FREQUENCY_LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// A failed WeCom call. `api` names the endpoint (`"message/send"`), never the URL.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// WeCom answered with a non-zero errcode.
    #[error("WeCom {api} failed with errcode {errcode}: {errmsg}")]
    Wecom {
        api: &'static str,
        errcode: i64,
        errmsg: String,
    },
    /// WeCom (or a proxy in front of it) answered a non-200 HTTP status.
    #[error("WeCom {api} answered HTTP {status}")]
    Status { api: &'static str, status: u16 },
    /// No complete answer within the configured per-request timeout.
    #[error("WeCom {api} timed out")]
    Timeout { api: &'static str },
    /// Connecting, sending or reading failed.
    #[error("network error calling WeCom {api}")]
    Network {
        api: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not the documented JSON.
    #[error("WeCom {api} answered a body that is not the documented JSON")]
    Decode {
        api: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The client could not be built or a request could not be formed from the configuration.
    #[error("invalid WeCom client configuration: {0}")]
    Config(String),
    /// The token store failed.
    #[error(transparent)]
    TokenStore(#[from] TokenStoreError),
}

impl ApiError {
    /// Whether trying the same call again later may succeed: system busy, frequency and
    /// concurrency limits, HTTP 5xx, timeouts and network errors. Token errors are not
    /// retryable as such; the client refreshes the token and retries them once itself.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Wecom { errcode: code, .. } => matches!(
                *code,
                errcode::SYSTEM_BUSY | errcode::FREQUENCY_LIMIT | errcode::CONCURRENCY_LIMIT
            ),
            Self::Status { status, .. } => *status >= 500,
            Self::Timeout { .. } | Self::Network { .. } => true,
            Self::Decode { .. } | Self::Config(_) | Self::TokenStore(_) => false,
        }
    }

    /// Whether WeCom rejected the access token (invalid, expired or missing), so the cached
    /// token should be dropped and the call retried once with a fresh one. 40001 counts too,
    /// except from `gettoken`, where it means the secret is wrong (wecom.md §6.2 note).
    pub fn is_token_error(&self) -> bool {
        match self {
            Self::Wecom {
                api, errcode: code, ..
            } => match *code {
                errcode::INVALID_ACCESS_TOKEN
                | errcode::ACCESS_TOKEN_EXPIRED
                | errcode::ACCESS_TOKEN_MISSING => true,
                errcode::INVALID_CREDENTIAL => *api != GETTOKEN,
                _ => false,
            },
            _ => false,
        }
    }

    /// The least time to wait before calling the same API again, where the docs give one:
    /// 60 s after 45009 (wecom.md §6.3), so a job queue can park the work.
    pub fn retry_after(&self) -> Option<Duration> {
        (self.errcode() == Some(errcode::FREQUENCY_LIMIT)).then_some(FREQUENCY_LIMIT_WINDOW)
    }

    /// The WeCom errcode, if WeCom answered with one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Wecom { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// Classifies a transport failure. The URL is dropped first: it carries the access token
    /// (or, for `gettoken`, the secret) in its query.
    pub(crate) fn from_transport(api: &'static str, err: reqwest::Error) -> Self {
        let err = err.without_url();
        if err.is_timeout() {
            Self::Timeout { api }
        } else if err.is_builder() {
            Self::Config(err.to_string())
        } else {
            Self::Network { api, source: err }
        }
    }
}

//! What can go wrong calling DingTalk, classified by what the caller should do about it
//! (dingtalk.md §6, §8.4). No variant carries the access token, the app secret or a request URL.

pub use salesbot_apikit::token::TokenStoreError;

/// Legacy (oapi) errcodes the client acts on (dingtalk.md §8.4).
pub mod errcode {
    /// System busy: retry.
    pub const SYSTEM_BUSY: i64 = -1;
    /// Success.
    pub const OK: i64 = 0;
    /// Authentication or authorisation problem; the cause is in `sub_code`.
    pub const AUTH: i64 = 88;
    /// Wrong secret, or invalid token.
    pub const INVALID_CREDENTIAL: i64 = 40001;
    /// Invalid access_token.
    pub const INVALID_ACCESS_TOKEN: i64 = 40014;
    /// access_token missing.
    pub const ACCESS_TOKEN_MISSING: i64 = 41001;
    /// access_token expired.
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    /// The app lacks the API permission.
    pub const NO_PERMISSION: i64 = 60011;
    /// Caller IP not in the app's whitelist.
    pub const IP_NOT_ALLOWED: i64 = 60020;
    /// User not found.
    pub const USER_NOT_FOUND: i64 = 60121;
    /// Invalid userid.
    pub const INVALID_USERID: i64 = 33012;
    /// Invalid parameter.
    pub const INVALID_PARAMETER: i64 = 400002;
    /// QPS limit of one API across DingTalk.
    pub const API_QPS_LIMIT: i64 = 90002;
    /// QPS limit of this app on one API.
    pub const APP_API_QPS_LIMIT: i64 = 90018;
    /// Monthly API quota exhausted: no retry until next month.
    pub const MONTHLY_QUOTA: i64 = 90020;
    /// Custom robot: keyword missing, invalid timestamp, sign mismatch or IP not whitelisted.
    pub const WEBHOOK_REJECTED: i64 = 310000;
    /// Custom robot throttled for 10 minutes after 20 messages in a minute.
    pub const WEBHOOK_THROTTLED: i64 = 410100;
    /// Custom robot not found.
    pub const ROBOT_NOT_FOUND: i64 = 400106;
}

/// v1.0 (api) error `code`s the client acts on (dingtalk.md §8.4).
pub mod code {
    /// Invalid or expired token.
    pub const INVALID_AUTHENTICATION: &str = "InvalidAuthentication";
    /// A required parameter, e.g. the token header, is missing.
    pub const MISSING_PARAMETER: &str = "MissingParameter";
    /// Token request with wrong credentials.
    pub const INVALID_CLIENT: &str = "invalidClientIdOrSecret";
    /// QPS limit of this app on one API.
    pub const QPS_LIMIT_FOR_APPKEY_AND_API: &str = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi";
    /// Per-minute limit of this app on one API.
    pub const QPM_LIMIT_FOR_APPKEY_AND_API: &str = "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi";
    /// QPS limit of one API across DingTalk.
    pub const QPS_LIMIT_FOR_API: &str = "Forbidden.AccessDenied.QpsLimitForApi";
    /// Monthly quota exhausted.
    pub const API_COUNT_LIMIT_FOR_ORG: &str = "Forbidden.AccessDenied.ApiCountLimitForOrg";
    /// System busy (HTTP 429 or 500).
    pub const SYSTEM_BUSY: &str = "system.busy";
    /// System busy, the other spelling seen with HTTP 429.
    pub const SYSTEM_BUSY_CAMEL: &str = "systemBusy";
    /// Internal error (HTTP 500).
    pub const SYSTEM_ERROR: &str = "system.error";
    /// Card creation with an `outTrackId` already used.
    pub const CARD_ALREADY_EXIST: &str = "param.cardAlreadyExist";
    /// Malformed `openSpaceId`.
    pub const OPEN_SPACE_ID_INVALID: &str = "param.openSpaceIdInvalid";
}

/// A failed DingTalk call. `api` names the endpoint's path (`"topapi/v2/user/get"`), never the
/// URL.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The legacy host answered HTTP 200 with a non-zero `errcode`.
    #[error("DingTalk {api} failed with errcode {errcode}: {errmsg}")]
    Oapi {
        api: &'static str,
        errcode: i64,
        /// The real cause of an errcode 88, e.g. `"40014"`.
        sub_code: Option<String>,
        errmsg: String,
    },
    /// The v1.0 host answered a non-2xx status with `{"code","message","requestid"}`.
    #[error("DingTalk {api} answered HTTP {status} {code}: {message}")]
    Api {
        api: &'static str,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// A non-success HTTP status without DingTalk's error JSON, e.g. from a proxy.
    #[error("DingTalk {api} answered HTTP {status}")]
    Status { api: &'static str, status: u16 },
    /// No complete answer within the configured per-request timeout.
    #[error("DingTalk {api} timed out")]
    Timeout { api: &'static str },
    /// Connecting, sending or reading failed.
    #[error("network error calling DingTalk {api}")]
    Network {
        api: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not the documented JSON.
    #[error("DingTalk {api} answered a body that is not the documented JSON")]
    Decode {
        api: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The client could not be built or a request could not be formed from the configuration.
    #[error("invalid DingTalk client configuration: {0}")]
    Config(String),
    /// The token store failed.
    #[error(transparent)]
    TokenStore(#[from] TokenStoreError),
}

impl ApiError {
    /// Whether trying the same call again shortly may succeed: system busy, QPS and flow limits,
    /// HTTP 429 and 5xx, timeouts and network errors. Token errors are not retryable as such;
    /// the client refreshes the token and retries them once itself.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Oapi { errcode: code, .. } => {
                *code == errcode::SYSTEM_BUSY || self.is_rate_limited() || is_temporary_ban(*code)
            }
            Self::Api { status, code, .. } => {
                *status == 429
                    || *status >= 500
                    || self.is_rate_limited()
                    || matches!(code.as_str(), code::SYSTEM_BUSY | code::SYSTEM_BUSY_CAMEL)
            }
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Timeout { .. } | Self::Network { .. } => true,
            Self::Decode { .. } | Self::Config(_) | Self::TokenStore(_) => false,
        }
    }

    /// Whether DingTalk hit a QPS or QPM limit (dingtalk.md §8.1). Such bans last about a
    /// second, so the client waits at least its `rate_limited_backoff` before retrying.
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Self::Oapi { errcode: code, .. } => {
                matches!(*code, errcode::API_QPS_LIMIT | errcode::APP_API_QPS_LIMIT)
            }
            Self::Api { code: c, .. } => matches!(
                c.as_str(),
                code::QPS_LIMIT_FOR_APPKEY_AND_API
                    | code::QPM_LIMIT_FOR_APPKEY_AND_API
                    | code::QPS_LIMIT_FOR_API
            ),
            _ => false,
        }
    }

    /// Whether DingTalk rejected the access token (invalid, expired or missing), so the cached
    /// token should be dropped and the call retried once with a fresh one (dingtalk.md §6).
    pub fn is_token_error(&self) -> bool {
        match self {
            Self::Oapi {
                errcode: code,
                sub_code,
                ..
            } => match *code {
                errcode::INVALID_ACCESS_TOKEN
                | errcode::ACCESS_TOKEN_EXPIRED
                | errcode::INVALID_CREDENTIAL
                | errcode::ACCESS_TOKEN_MISSING => true,
                errcode::AUTH => matches!(sub_code.as_deref(), Some("40014" | "42001" | "40001")),
                _ => false,
            },
            Self::Api { code: c, .. } => c == code::INVALID_AUTHENTICATION,
            _ => false,
        }
    }

    /// The legacy errcode, if the oapi host answered with one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Oapi { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// The v1.0 error `code`, if the api host answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status of a non-success answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Classifies a transport failure. The URL is dropped first: it may carry the access token
    /// or a custom robot's token in its query.
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

/// 90001, 90003–90014, 90017: temporary bans of a server, organisation or ISV scope.
fn is_temporary_ban(code: i64) -> bool {
    code == 90001 || (90003..=90014).contains(&code) || code == 90017
}

//! Access tokens: a pluggable store shared by instances, and the refresh rule (dingtalk.md §6):
//! reuse a stored token until 10 minutes before expiry, refresh under a per-key lock, re-read
//! the store after taking it, and drop a token DingTalk rejected only if it is still the stored
//! one. One token, from the v1.0 endpoint, serves both hosts.

use std::time::Duration;

use serde::Deserialize;

pub use salesbot_apikit::token::{CachedToken, Fetched, MemoryTokenStore, TokenStore, Tokens};

/// Refresh this long before the stored expiry, so a token never expires mid-call; the docs
/// suggest 10 minutes, the Python SDK uses 5 (dingtalk.md §6).
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(10 * 60);

/// The answer of `POST /v1.0/oauth2/accessToken` (dingtalk.md §6). `Debug` does not show the
/// token.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// The token: the `x-acs-dingtalk-access-token` header on api, `access_token` on oapi.
    pub access_token: String,
    /// Seconds it stays valid, normally 7200.
    pub expire_in: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expire_in", &self.expire_in)
            .finish_non_exhaustive()
    }
}

impl From<AccessToken> for Fetched {
    fn from(token: AccessToken) -> Self {
        Fetched {
            token: token.access_token,
            expires_in: token.expire_in,
        }
    }
}

/// The store key for one app: `dingtalk:<id>:<fingerprint of the secret>`.
pub(crate) fn token_key(app_key: &str, secret: &str) -> String {
    salesbot_apikit::token::token_key("dingtalk", app_key, secret)
}

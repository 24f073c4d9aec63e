//! Access tokens: a pluggable store shared by instances, and the refresh rule (wecom.md §5.1):
//! reuse a stored token until 5 minutes before expiry, refresh under a per-key lock, re-read
//! the store after taking it, and drop a token WeCom rejected only if it is still the stored one.

use std::time::Duration;

use serde::Deserialize;

pub use salesbot_apikit::token::{CachedToken, Fetched, MemoryTokenStore, TokenStore, Tokens};

/// Refresh this long before the stored expiry, so a token never expires mid-call.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The answer of `GET /cgi-bin/gettoken` (wecom.md §5.1). `Debug` does not show the token.
#[derive(Clone, Deserialize)]
pub struct AccessToken {
    /// The token, sent as `access_token` in every other call's query.
    pub access_token: String,
    /// Seconds it stays valid, normally 7200.
    pub expires_in: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl From<AccessToken> for Fetched {
    fn from(token: AccessToken) -> Self {
        Fetched {
            token: token.access_token,
            expires_in: token.expires_in,
        }
    }
}

/// The store key for one app: `wecom:<id>:<fingerprint of the secret>`.
pub(crate) fn token_key(corp_id: &str, secret: &str) -> String {
    salesbot_apikit::token::token_key("wecom", corp_id, secret)
}

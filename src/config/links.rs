//! `[links]`: tracked links — how clicks are buffered and written, how many links are kept in
//! memory, and the salt that makes visitor ids anonymous.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// Shortest configured salt: a short one could be guessed and the visitor ids reversed by
/// hashing every address.
const MIN_SALT_CHARS: usize = 16;
/// Most clicks written in one transaction; a larger batch holds SQLite's one writer too long.
pub const MAX_BATCH_SIZE: usize = 10_000;

/// `[links]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinksConfig {
    /// The HMAC key of visitor ids, at least 16 characters; usually `env:NAME`. Default none:
    /// one is generated once and kept in the database (table `link_salt`), so unique counts
    /// survive restarts and agree between instances; `SALESBOT_LINKS__SALT`.
    pub salt: Option<Secret>,
    /// Clicks held in memory waiting to be written; beyond that a click is dropped (and
    /// counted), never the redirect delayed. Default 100000; `SALESBOT_LINKS__BUFFER_CAPACITY`.
    pub buffer_capacity: usize,
    /// Most clicks written in one transaction. Default 1000, at most 10000;
    /// `SALESBOT_LINKS__BATCH_SIZE`.
    pub batch_size: usize,
    /// Longest a click waits in memory before its batch is written. Default 200;
    /// `SALESBOT_LINKS__FLUSH_INTERVAL_MS`.
    pub flush_interval_ms: u64,
    /// Links kept in memory, so a redirect needs no database. Default 100000;
    /// `SALESBOT_LINKS__CACHE_CAPACITY`.
    pub cache_capacity: usize,
    /// Take the client address from the first `X-Forwarded-For` hop instead of the connection:
    /// only behind a proxy that sets it, since a client can write anything there. Default
    /// false; `SALESBOT_LINKS__TRUST_FORWARDED_FOR`.
    pub trust_forwarded_for: bool,
}

impl Default for LinksConfig {
    fn default() -> Self {
        Self {
            salt: None,
            buffer_capacity: 100_000,
            batch_size: 1000,
            flush_interval_ms: 200,
            cache_capacity: 100_000,
            trust_forwarded_for: false,
        }
    }
}

/// Checks `[links]`; errors name `links.key`.
pub fn validate_links(links: &LinksConfig) -> Result<(), ConfigError> {
    let invalid = |key: &str, reason: &str| {
        Err(ConfigError::Invalid {
            key: format!("links.{key}"),
            reason: reason.into(),
        })
    };
    if let Some(salt) = &links.salt
        && salt.expose().chars().count() < MIN_SALT_CHARS
    {
        return invalid("salt", "must be at least 16 characters");
    }
    for (key, value) in [
        ("buffer_capacity", links.buffer_capacity as u64),
        ("batch_size", links.batch_size as u64),
        ("flush_interval_ms", links.flush_interval_ms),
        ("cache_capacity", links.cache_capacity as u64),
    ] {
        if value == 0 {
            return invalid(key, "must be greater than 0");
        }
    }
    if links.batch_size > MAX_BATCH_SIZE {
        return invalid("batch_size", "must be at most 10000");
    }
    Ok(())
}

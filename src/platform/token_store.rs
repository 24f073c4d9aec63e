//! Platform access tokens in the `access_token` table, so that every instance uses the same
//! token per app instead of each fetching (and rate-limiting itself on) its own. WeCom and
//! DingTalk clients both take it.
//!
//! Every API call needs the token, so each store also keeps the last token it saw in memory
//! and reads the table only when that copy comes near its expiry (inside [`MEMORY_TRUST_MS`]),
//! where the instances' refreshes have to meet in the table. A token the platform rejects
//! early is dropped from both, and the next read goes to the table, where another instance
//! may already have put a fresh one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use salesbot_apikit::token::{CachedToken, TokenStore, TokenStoreError};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::pipeline::{clock::now_ms, queue::stmt};

/// The in-memory copy is used only while it has more than this left (ms): longer than either
/// client's refresh margin (WeCom 5 min, DingTalk 10 min), so refreshes always go through the
/// table.
pub const MEMORY_TRUST_MS: i64 = 15 * 60 * 1000;

/// The token cache over the service's database, with the last token seen kept in memory.
#[derive(Clone)]
pub struct DbTokenStore {
    db: DatabaseConnection,
    memory: Arc<Mutex<HashMap<String, CachedToken>>>,
}

impl DbTokenStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            memory: Arc::default(),
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `token` in memory unless a later-expiring one is there already.
    fn remember(&self, key: &str, token: &CachedToken) {
        let mut memory = self.memory();
        let newer = memory
            .get(key)
            .is_none_or(|known| known.expires_at_ms <= token.expires_at_ms);
        if newer {
            memory.insert(key.to_owned(), token.clone());
        }
    }

    /// The stored token and its expiry (epoch ms), expired or not.
    pub async fn load(&self, key: &str) -> Result<Option<(String, i64)>, DbErr> {
        let row = self
            .db
            .query_one_raw(stmt(
                &self.db,
                "SELECT token, expires_at FROM access_token WHERE cache_key = $1",
                [key.into()],
            ))
            .await?;
        row.map(|row| Ok((row.try_get("", "token")?, row.try_get("", "expires_at")?)))
            .transpose()
    }

    /// Stores a token, keeping whichever expires later, so a slow refresher never replaces a
    /// newer one.
    pub async fn save(&self, key: &str, token: &str, expires_at_ms: i64) -> Result<(), DbErr> {
        self.db
            .execute_raw(stmt(
                &self.db,
                "INSERT INTO access_token (cache_key, token, expires_at, refreshed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (cache_key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at, \
                 refreshed_at = excluded.refreshed_at WHERE access_token.expires_at <= excluded.expires_at",
                [key.into(), token.into(), expires_at_ms.into(), now_ms().into()],
            ))
            .await?;
        Ok(())
    }

    /// Removes the token for `key` if it is still `token`.
    pub async fn remove(&self, key: &str, token: &str) -> Result<(), DbErr> {
        self.db
            .execute_raw(stmt(
                &self.db,
                "DELETE FROM access_token WHERE cache_key = $1 AND token = $2",
                [key.into(), token.into()],
            ))
            .await?;
        Ok(())
    }
}

/// The token-store trait both SDKs take (salesbot-apikit's).
#[async_trait]
impl TokenStore for DbTokenStore {
    async fn get(&self, key: &str) -> Result<Option<CachedToken>, TokenStoreError> {
        let trusted = self
            .memory()
            .get(key)
            .filter(|known| known.expires_at_ms - now_ms() > MEMORY_TRUST_MS)
            .cloned();
        if trusted.is_some() {
            return Ok(trusted);
        }
        let stored = self.load(key).await.map_err(TokenStoreError::new)?;
        let stored = stored.map(|(token, expires_at_ms)| CachedToken {
            token,
            expires_at_ms,
        });
        if let Some(token) = &stored {
            self.remember(key, token);
        }
        Ok(stored)
    }

    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), TokenStoreError> {
        self.save(key, &token.token, token.expires_at_ms)
            .await
            .map_err(TokenStoreError::new)?;
        self.remember(key, token);
        Ok(())
    }

    async fn invalidate(&self, key: &str, token: &str) -> Result<(), TokenStoreError> {
        {
            let mut memory = self.memory();
            if memory.get(key).is_some_and(|known| known.token == token) {
                memory.remove(key);
            }
        }
        self.remove(key, token).await.map_err(TokenStoreError::new)
    }
}

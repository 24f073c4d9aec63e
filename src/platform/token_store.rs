//! Platform access tokens in the `access_token` table, so that every instance uses the same
//! token per app instead of each fetching (and rate-limiting itself on) its own. WeCom and
//! DingTalk clients both take it.

use async_trait::async_trait;
use salesbot_apikit::token::{CachedToken, TokenStore, TokenStoreError};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::pipeline::{clock::now_ms, queue::stmt};

/// The token cache over the service's database.
#[derive(Clone)]
pub struct DbTokenStore {
    db: DatabaseConnection,
}

impl DbTokenStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
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
        let stored = self.load(key).await.map_err(TokenStoreError::new)?;
        Ok(stored.map(|(token, expires_at_ms)| CachedToken {
            token,
            expires_at_ms,
        }))
    }

    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), TokenStoreError> {
        self.save(key, &token.token, token.expires_at_ms)
            .await
            .map_err(TokenStoreError::new)
    }

    async fn invalidate(&self, key: &str, token: &str) -> Result<(), TokenStoreError> {
        self.remove(key, token).await.map_err(TokenStoreError::new)
    }
}

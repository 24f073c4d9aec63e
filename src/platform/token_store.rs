//! Platform access tokens in the `access_token` table, so that every instance uses the same
//! token per app instead of each fetching (and rate-limiting itself on) its own. One store
//! serves both SDKs' token-store traits.

use async_trait::async_trait;
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

/// Implements an SDK's `TokenStore` over the three methods above.
macro_rules! token_store_for {
    ($sdk:ident) => {
        #[async_trait]
        impl $sdk::api::TokenStore for DbTokenStore {
            async fn get(
                &self,
                key: &str,
            ) -> Result<Option<$sdk::api::CachedToken>, $sdk::api::TokenStoreError> {
                let stored = self
                    .load(key)
                    .await
                    .map_err($sdk::api::TokenStoreError::new)?;
                Ok(stored.map(|(token, expires_at_ms)| $sdk::api::CachedToken {
                    token,
                    expires_at_ms,
                }))
            }

            async fn put(
                &self,
                key: &str,
                token: &$sdk::api::CachedToken,
            ) -> Result<(), $sdk::api::TokenStoreError> {
                self.save(key, &token.token, token.expires_at_ms)
                    .await
                    .map_err($sdk::api::TokenStoreError::new)
            }

            async fn invalidate(
                &self,
                key: &str,
                token: &str,
            ) -> Result<(), $sdk::api::TokenStoreError> {
                self.remove(key, token)
                    .await
                    .map_err($sdk::api::TokenStoreError::new)
            }
        }
    };
}

token_store_for!(salesbot_wecom);
token_store_for!(salesbot_dingtalk);

//! Platform access tokens in the `access_token` table, so that every instance uses the same
//! token per app instead of each fetching (and rate-limiting itself on) its own.

use async_trait::async_trait;
use salesbot_wecom::api::{CachedToken, TokenStore, TokenStoreError};
use sea_orm::{ConnectionTrait, DatabaseConnection};

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
}

#[async_trait]
impl TokenStore for DbTokenStore {
    async fn get(&self, key: &str) -> Result<Option<CachedToken>, TokenStoreError> {
        let row = self
            .db
            .query_one_raw(stmt(
                &self.db,
                "SELECT token, expires_at FROM access_token WHERE cache_key = $1",
                [key.into()],
            ))
            .await
            .map_err(TokenStoreError::new)?;
        row.map(|row| {
            Ok(CachedToken {
                token: row.try_get("", "token")?,
                expires_at_ms: row.try_get("", "expires_at")?,
            })
        })
        .transpose()
        .map_err(|e: sea_orm::DbErr| TokenStoreError::new(e))
    }

    /// Keeps whichever token expires later, so a slow refresher never replaces a newer one.
    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), TokenStoreError> {
        self.db
            .execute_raw(stmt(
                &self.db,
                "INSERT INTO access_token (cache_key, token, expires_at, refreshed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (cache_key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at, \
                 refreshed_at = excluded.refreshed_at WHERE access_token.expires_at <= excluded.expires_at",
                [key.into(), token.token.clone().into(), token.expires_at_ms.into(), now_ms().into()],
            ))
            .await
            .map_err(TokenStoreError::new)?;
        Ok(())
    }

    async fn invalidate(&self, key: &str, token: &str) -> Result<(), TokenStoreError> {
        self.db
            .execute_raw(stmt(
                &self.db,
                "DELETE FROM access_token WHERE cache_key = $1 AND token = $2",
                [key.into(), token.into()],
            ))
            .await
            .map_err(TokenStoreError::new)?;
        Ok(())
    }
}

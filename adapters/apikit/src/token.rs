//! Access tokens: a pluggable store shared by instances, and the refresh rule both platforms
//! document: reuse a stored token until a margin before expiry, refresh under a per-key lock,
//! re-read the store after taking it, and drop a rejected token only if it is still the stored
//! one.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};
use tokio::sync::Mutex as AsyncMutex;

/// The token store failed: its own error as the cause.
#[derive(Debug, thiserror::Error)]
#[error("token store failed")]
pub struct TokenStoreError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl TokenStoreError {
    /// Wraps the store's own error as the cause.
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

/// A token as kept in a [`TokenStore`]. `Debug` does not show the token.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The access token.
    pub token: String,
    /// When it expires, in milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// Where access tokens live, keyed by an opaque string that never contains the secret. Share
/// one store between instances (e.g. a database table) so they share one token per app.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored token for `key`, whether or not it has expired.
    async fn get(&self, key: &str) -> Result<Option<CachedToken>, TokenStoreError>;

    /// Stores `token` for `key`. When a token is already stored, keep whichever expires later,
    /// so a slow refresher cannot replace a newer token with an older one.
    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), TokenStoreError>;

    /// Removes the token for `key`, but only if the stored one is still `token`: another
    /// caller may already have replaced it with a fresh one.
    async fn invalidate(&self, key: &str, token: &str) -> Result<(), TokenStoreError>;
}

/// A [`TokenStore`] in process memory, for a single instance and for tests.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, CachedToken>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn get(&self, key: &str) -> Result<Option<CachedToken>, TokenStoreError> {
        Ok(self.tokens().get(key).cloned())
    }

    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), TokenStoreError> {
        let mut tokens = self.tokens();
        let newer = tokens
            .get(key)
            .is_none_or(|stored| stored.expires_at_ms <= token.expires_at_ms);
        if newer {
            tokens.insert(key.to_owned(), token.clone());
        }
        Ok(())
    }

    async fn invalidate(&self, key: &str, token: &str) -> Result<(), TokenStoreError> {
        let mut tokens = self.tokens();
        if tokens.get(key).is_some_and(|stored| stored.token == token) {
            tokens.remove(key);
        }
        Ok(())
    }
}

/// The store key for one app of `platform`: its id and a fingerprint of the secret (one token
/// per app and secret). A new secret gets a new key, so a rotated secret never reuses a token.
pub fn token_key(platform: &str, app_id: &str, secret: &str) -> String {
    let digest = Sha1::digest(secret.as_bytes());
    let fingerprint: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{platform}:{app_id}:{fingerprint}")
}

/// A token as the platform's token endpoint gave it.
#[derive(Clone)]
pub struct Fetched {
    pub token: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

/// One app's tokens: the shared store plus this process's refresh lock for the key.
pub struct Tokens {
    store: Arc<dyn TokenStore>,
    key: String,
    refresh_lock: Arc<AsyncMutex<()>>,
    /// Refresh this long before the stored expiry, so a token never expires mid-call.
    margin: Duration,
}

impl Tokens {
    pub fn new(store: Arc<dyn TokenStore>, key: String, margin: Duration) -> Self {
        let refresh_lock = refresh_lock_for(&key);
        Self {
            store,
            key,
            refresh_lock,
            margin,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// A token with more than the margin left, from the store or from `fetch`. Only one task
    /// per key and process fetches at a time; the others wait and reuse its token.
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<String, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, E>>,
        E: From<TokenStoreError>,
    {
        if let Some(token) = self.fresh().await? {
            return Ok(token);
        }
        let _refreshing = self.refresh_lock.lock().await;
        if let Some(token) = self.fresh().await? {
            return Ok(token);
        }
        let requested_at_ms = now_ms();
        let fetched = fetch().await?;
        let expires_in_ms = i64::try_from(fetched.expires_in)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        let cached = CachedToken {
            token: fetched.token,
            expires_at_ms: requested_at_ms.saturating_add(expires_in_ms),
        };
        self.store.put(&self.key, &cached).await?;
        tracing::debug!(key = %self.key, expires_at_ms = cached.expires_at_ms, "fetched an access token");
        Ok(cached.token)
    }

    /// Runs `attempt` with a token from [`Tokens::get`]. When the platform rejects that token
    /// (`rejected` says which errors mean so), drops it and runs `attempt` once more with a
    /// fresh one; a second rejection is returned, so a wrong secret cannot loop.
    pub async fn with_token<T, E, F, FetchFut, A, AttemptFut>(
        &self,
        fetch: F,
        attempt: A,
        rejected: impl Fn(&E) -> bool,
    ) -> Result<T, E>
    where
        F: Fn() -> FetchFut,
        FetchFut: Future<Output = Result<Fetched, E>>,
        A: Fn(String) -> AttemptFut,
        AttemptFut: Future<Output = Result<T, E>>,
        E: From<TokenStoreError>,
    {
        let token = self.get(&fetch).await?;
        match attempt(token.clone()).await {
            Err(err) if rejected(&err) => {
                self.invalidate(&token).await?;
                attempt(self.get(&fetch).await?).await
            }
            answer => answer,
        }
    }

    /// Drops `token` after the platform rejected it, unless it has already been replaced.
    pub async fn invalidate(&self, token: &str) -> Result<(), TokenStoreError> {
        self.store.invalidate(&self.key, token).await
    }

    async fn fresh(&self) -> Result<Option<String>, TokenStoreError> {
        let margin_ms = i64::try_from(self.margin.as_millis()).unwrap_or(i64::MAX);
        let stored = self.store.get(&self.key).await?;
        Ok(stored
            .filter(|cached| cached.expires_at_ms.saturating_sub(now_ms()) > margin_ms)
            .map(|cached| cached.token))
    }
}

/// The process-wide refresh lock for `key`, shared by every client of the same app, so two
/// clients on one store refresh once. Entries die with the last client that holds them.
fn refresh_lock_for(key: &str) -> Arc<AsyncMutex<()>> {
    static LOCKS: LazyLock<Mutex<HashMap<String, Weak<AsyncMutex<()>>>>> =
        LazyLock::new(Mutex::default);
    let mut locks = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
        return lock;
    }
    locks.retain(|_, lock| lock.strong_count() > 0);
    let lock = Arc::new(AsyncMutex::new(()));
    locks.insert(key.to_owned(), Arc::downgrade(&lock));
    lock
}

/// Wall-clock milliseconds since the Unix epoch: stored expiries are shared between hosts.
fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

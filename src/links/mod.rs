//! Tracked links at run time: the cache that lets a redirect answer without the database, the
//! click buffer and its writer, the visitor salt, and link creation. The records, checks and
//! queries are in [`crate::domain::link`]; the HTTP side is `http/links.rs` and
//! `http/redirect.rs`.

pub mod cache;
pub mod clicks;
pub mod create;
pub mod identity;
pub mod scoring;

use std::{sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::OnceCell;

pub use cache::LinkCache;
pub use clicks::{ClickBuffer, ClickWriter};
pub use create::{Created, create};

use crate::{
    config::{LinksConfig, Secret},
    domain::link::{
        AgentClass, Click, InvalidLink, Link, LinkCode, VisitorHasher, Who, store, visitor,
    },
    metrics::Metrics,
    pipeline::clock::now_ms,
};

/// Longest a redirect waits for the database on a cache miss (and for the salt, once) before
/// answering 503.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a link operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Invalid(#[from] InvalidLink),
    #[error("no link with code `{0}`")]
    NotFound(String),
    #[error("no free link code after {0} tries")]
    NoFreeCode(u32),
    #[error("the operating system's random source failed: {0}")]
    Random(getrandom::Error),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What a redirect learns about a code.
pub enum Lookup {
    Found(Arc<Link>),
    /// No such link (or not a code at all).
    Unknown,
    /// Not cached, and the database did not answer.
    Unavailable,
}

/// The tracked links of this instance.
pub struct Links {
    db: DatabaseConnection,
    cache: LinkCache,
    clicks: ClickBuffer,
    hasher: OnceCell<VisitorHasher>,
    metrics: Arc<Metrics>,
    /// Take the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Where short URLs point.
    pub public_base_url: String,
}

impl Links {
    /// The links service and the writer task that must run beside it.
    pub fn new(
        db: DatabaseConnection,
        config: &LinksConfig,
        public_base_url: &str,
        metrics: Arc<Metrics>,
    ) -> (Self, ClickWriter) {
        let (clicks, rx) = clicks::buffer(config.buffer_capacity, metrics.clone());
        let writer = ClickWriter::new(db.clone(), rx, config, metrics.clone());
        let hasher = match &config.salt {
            Some(salt) => OnceCell::new_with(Some(hasher_of(salt))),
            None => OnceCell::new(),
        };
        let links = Self {
            db,
            cache: LinkCache::new(config.cache_capacity),
            clicks,
            hasher,
            metrics,
            trust_forwarded_for: config.trust_forwarded_for,
            public_base_url: public_base_url.to_owned(),
        };
        (links, writer)
    }

    /// Reads (or stores) the visitor salt now rather than on the first click.
    pub async fn load_salt(&self) -> Result<(), DbErr> {
        self.hasher
            .get_or_try_init(|| load_hasher(&self.db))
            .await
            .map(|_| ())
    }

    /// The link with `code`: from the cache, else from the database (then cached). A cached
    /// link that has not been read for a while is read again in the background, so changes
    /// made through another instance arrive here too.
    pub async fn lookup(&self, code: &str) -> Lookup {
        if let Some(hit) = self.cache.get(code) {
            if hit.refresh {
                self.refresh(code);
            }
            return Lookup::Found(hit.link);
        }
        if LinkCode::parse(code).is_none() {
            return Lookup::Unknown;
        }
        match tokio::time::timeout(LOOKUP_TIMEOUT, store::find(&self.db, code)).await {
            Ok(Ok(Some(link))) => Lookup::Found(self.cache.put(link)),
            Ok(Ok(None)) => Lookup::Unknown,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "link lookup failed");
                Lookup::Unavailable
            }
            Err(_) => {
                tracing::warn!(timeout = ?LOOKUP_TIMEOUT, "link lookup timed out");
                Lookup::Unavailable
            }
        }
    }

    /// Caches a link just created or changed, so its first redirect needs no database.
    pub fn remember(&self, link: Link) -> Arc<Link> {
        self.cache.put(link)
    }

    /// Records a click on `link` by `address` (never stored) with `user_agent`. Never waits
    /// for the database, except for the salt's one read when it could not be read at start.
    pub async fn record(
        &self,
        link: Arc<Link>,
        address: &str,
        user_agent: &str,
        agent: AgentClass,
        who: Who,
    ) {
        let hasher = match self.hasher.get() {
            Some(hasher) => hasher,
            None => {
                let loaded = tokio::time::timeout(
                    LOOKUP_TIMEOUT,
                    self.hasher.get_or_try_init(|| load_hasher(&self.db)),
                )
                .await;
                match loaded {
                    Ok(Ok(hasher)) => hasher,
                    _ => {
                        tracing::warn!("visitor salt unavailable; click not recorded");
                        self.metrics.count_clicks_dropped("no_salt", 1);
                        return;
                    }
                }
            }
        };
        self.clicks.push(Click {
            link,
            at: now_ms(),
            agent,
            visitor: hasher.visitor(address, user_agent),
            who,
        });
    }

    /// Reads the link again without holding anyone up; on failure the cached one stays.
    fn refresh(&self, code: &str) {
        let (db, cache, code) = (self.db.clone(), self.cache.clone(), code.to_owned());
        tokio::spawn(async move {
            match tokio::time::timeout(LOOKUP_TIMEOUT, store::find(&db, &code)).await {
                Ok(Ok(Some(link))) => {
                    cache.put(link);
                }
                Ok(Ok(None)) => cache.remove(&code),
                Ok(Err(e)) => tracing::warn!(error = %e, code, "link refresh failed"),
                Err(_) => tracing::warn!(code, "link refresh timed out"),
            }
        });
    }
}

fn hasher_of(salt: &Secret) -> VisitorHasher {
    VisitorHasher::new(salt.expose().as_bytes())
}

/// The stored salt, or a new one stored now.
async fn load_hasher(db: &DatabaseConnection) -> Result<VisitorHasher, DbErr> {
    let candidate = visitor::generate_salt().map_err(|e| DbErr::Custom(e.to_string()))?;
    let salt = store::salt(db, &candidate, now_ms()).await?;
    Ok(VisitorHasher::new(salt.as_bytes()))
}

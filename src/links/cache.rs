//! The links a redirect needs, in memory, so that following a known link never waits for the
//! database and keeps working while it is slow or down.
//!
//! Two generations bound the size without an LRU list: new and recently used links live in the
//! young map; when it is half the capacity it becomes the old map, and the previous old map,
//! holding what nobody followed for a whole generation, is dropped. A hit in the old map moves
//! the link back to the young one.

use std::{
    collections::HashMap,
    mem,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::domain::link::Link;

/// How old a cached link may get before it is read again in the background: the time an
/// instance that did not answer a PATCH keeps redirecting with the old state.
pub const REFRESH_AFTER: Duration = Duration::from_secs(60);

struct Slot {
    link: Arc<Link>,
    /// When the link was read, or last sent to be read again.
    checked: Instant,
}

struct Generations {
    young: HashMap<String, Slot>,
    old: HashMap<String, Slot>,
    /// The young map's size at which it becomes the old one.
    half: usize,
}

impl Generations {
    fn insert_young(&mut self, code: String, slot: Slot) {
        self.young.insert(code, slot);
        if self.young.len() >= self.half {
            self.old = mem::take(&mut self.young);
        }
    }
}

/// What a cache hit says.
pub struct Hit {
    pub link: Arc<Link>,
    /// The link was read more than [`REFRESH_AFTER`] ago; the caller reads it again (no other
    /// caller is told so until another [`REFRESH_AFTER`] has passed).
    pub refresh: bool,
}

/// A bounded map of code → link, shared by all requests.
#[derive(Clone)]
pub struct LinkCache {
    inner: Arc<Mutex<Generations>>,
}

impl LinkCache {
    /// A cache of at most `capacity` links.
    pub fn new(capacity: usize) -> Self {
        let half = capacity.div_ceil(2).max(1);
        Self {
            inner: Arc::new(Mutex::new(Generations {
                young: HashMap::new(),
                old: HashMap::new(),
                half,
            })),
        }
    }

    pub fn get(&self, code: &str) -> Option<Hit> {
        let now = Instant::now();
        let mut g = self.lock();
        let hit = |slot: &mut Slot| {
            let refresh = now.duration_since(slot.checked) >= REFRESH_AFTER;
            if refresh {
                slot.checked = now;
            }
            Hit {
                link: slot.link.clone(),
                refresh,
            }
        };
        if let Some(slot) = g.young.get_mut(code) {
            return Some(hit(slot));
        }
        let (code, mut slot) = g.old.remove_entry(code)?;
        let found = hit(&mut slot);
        g.insert_young(code, slot);
        Some(found)
    }

    /// Caches `link` (replacing what was cached under its code) and returns it shared.
    pub fn put(&self, link: Link) -> Arc<Link> {
        let link = Arc::new(link);
        let slot = Slot {
            link: link.clone(),
            checked: Instant::now(),
        };
        let mut g = self.lock();
        g.old.remove(&link.code);
        g.insert_young(link.code.clone(), slot);
        link
    }

    pub fn remove(&self, code: &str) {
        let mut g = self.lock();
        g.young.remove(code);
        g.old.remove(code);
    }

    /// Links cached now.
    pub fn len(&self) -> usize {
        let g = self.lock();
        g.young.len() + g.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        // A panic while holding the lock leaves the maps consistent: every change is one call.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(code: &str) -> Link {
        Link {
            id: 1,
            code: code.into(),
            tenant: "acme".into(),
            target_url: format!("https://example.com/{code}"),
            campaign: "expo".into(),
            chat_id: None,
            rep: None,
            identify: false,
            enabled: true,
            created_at: 0,
        }
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        for capacity in [1, 2, 3, 10, 101] {
            let cache = LinkCache::new(capacity);
            for n in 0..1000 {
                cache.put(link(&format!("c{n}")));
                assert!(cache.len() <= capacity, "{capacity}: {}", cache.len());
            }
            assert!(cache.get("c999").is_some());
        }
    }

    #[test]
    fn links_in_use_survive_and_unused_ones_go() {
        let cache = LinkCache::new(10);
        cache.put(link("hot"));
        for n in 0..100 {
            cache.put(link(&format!("c{n}")));
            assert!(cache.get("hot").is_some(), "after {n}");
        }
        assert!(cache.get("c0").is_none());
    }

    #[test]
    fn put_replaces_and_remove_forgets() {
        let cache = LinkCache::new(4);
        cache.put(link("a"));
        let mut disabled = link("a");
        disabled.enabled = false;
        cache.put(disabled);
        assert!(!cache.get("a").unwrap().link.enabled);
        cache.remove("a");
        assert!(cache.get("a").is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_fresh_link_needs_no_refresh() {
        let cache = LinkCache::new(4);
        cache.put(link("a"));
        assert!(!cache.get("a").unwrap().refresh);
    }
}

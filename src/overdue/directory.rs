//! Assignees and their managers as the overdue cards need them, from the platform directory
//! (through the approvals' look-up, so a manager configured in `[[wecom]] managers` wins),
//! remembered for a few minutes: one tick may chase many tasks of the same rep.

use std::{collections::HashMap, sync::Arc, sync::Mutex};

use crate::approvals::{Approvals, Person, RequestError};

/// How long a looked-up person is reused: long enough for a tick's batch, short enough that
/// a change of manager shows within minutes.
const REMEMBER_MS: i64 = 10 * 60_000;

/// Looked-up persons by (platform, tenant, userid), with when they were looked up.
type Cache = HashMap<(String, String, String), (i64, Person)>;

/// The directory look-up of the overdue job.
pub struct Directory {
    approvals: Arc<Approvals>,
    cache: Mutex<Cache>,
}

impl Directory {
    pub fn new(approvals: Arc<Approvals>) -> Self {
        Self {
            approvals,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `userid` of `tenant` on `platform` at `now`: the name cards show and their manager.
    pub async fn person(
        &self,
        platform: &str,
        tenant: &str,
        userid: &str,
        now: i64,
    ) -> Result<Person, super::OverdueError> {
        let key = (platform.to_owned(), tenant.to_owned(), userid.to_owned());
        if let Some((at, person)) = self.cache().get(&key)
            && now - at < REMEMBER_MS
            && *at <= now
        {
            return Ok(person.clone());
        }
        let person = self
            .approvals
            .person(platform, tenant, userid)
            .await
            .map_err(|e| match e {
                RequestError::Database(e) => super::OverdueError::Database(e),
                other => super::OverdueError::Directory(other.to_string()),
            })?;
        let mut cache = self.cache();
        // Old entries go when the cache has grown, so it never holds more than a few
        // minutes' worth of reps.
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _)| now - *at < REMEMBER_MS);
        }
        cache.insert(key, (now, person.clone()));
        Ok(person)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

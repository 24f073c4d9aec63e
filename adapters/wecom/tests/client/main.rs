//! The API client against the fake WeCom: every endpoint's typed round trip, retries, token
//! refresh and sharing, timeouts, rate limiting, and the fake's signed callbacks.

#![cfg(feature = "fake")]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use salesbot_wecom::api::{ClientConfig, MemoryTokenStore, RateLimit, TokenStore, WecomClient};
use salesbot_wecom::fake::FakeWecom;

const AGENT: u32 = FakeWecom::AGENT_ID;

/// Test settings: near-instant backoff and a rate limit no test reaches unless it means to.
fn config(fake: &FakeWecom) -> ClientConfig {
    ClientConfig {
        retry_backoff: Duration::from_millis(1),
        rate_limit: RateLimit::new(600_000, 10_000),
        ..fake.client_config()
    }
}

fn client_with(config: ClientConfig, store: Arc<dyn TokenStore>) -> WecomClient {
    WecomClient::new(config, store).expect("client builds")
}

fn client(fake: &FakeWecom) -> WecomClient {
    client_with(config(fake), Arc::new(MemoryTokenStore::new()))
}

/// A fake with members alice, bob and dave (dave is alice's manager).
async fn fake_with_members() -> FakeWecom {
    let fake = FakeWecom::start().await;
    fake.add_user(json!({
        "userid": "alice", "name": "Alice", "department": [2, 5], "order": [0, 0],
        "main_department": 2, "is_leader_in_dept": [0, 0], "direct_leader": ["dave"],
        "position": "Account manager", "status": 1, "alias": "", "open_userid": "woEXAMPLEalice",
    }));
    fake.add_user(
        json!({ "userid": "bob", "name": "Bob", "department": [2], "direct_leader": [] }),
    );
    fake.add_user(
        json!({ "userid": "dave", "name": "Dave", "department": [2], "direct_leader": [] }),
    );
    fake
}

fn errcodes(fake: &FakeWecom, path: &str) -> Vec<Option<i64>> {
    fake.requests_to(path).iter().map(|r| r.errcode).collect()
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

mod callbacks;
mod endpoints;
mod rate_limit;
mod retries;
mod tokens;

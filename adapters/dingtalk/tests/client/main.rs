//! The API client against the fake DingTalk: every call's typed round trip, retries, token
//! refresh and sharing, timeouts, the custom robot signature and the fake's event pushes.

#![cfg(feature = "fake")]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use salesbot_dingtalk::api::{
    ClientConfig, DingtalkClient, MemoryTokenStore, RateLimit, TokenStore,
};
use salesbot_dingtalk::fake::FakeDingtalk;

const USER_GET: &str = "topapi/v2/user/get";
const CARD_INSTANCES: &str = "v1.0/card/instances";

/// Test settings: near-instant backoff and a rate limit no test reaches unless it means to.
fn config(fake: &FakeDingtalk) -> ClientConfig {
    ClientConfig {
        retry_backoff: Duration::from_millis(1),
        rate_limited_backoff: Duration::from_millis(1),
        rate_limit: RateLimit::new(600_000, 10_000),
        ..fake.client_config()
    }
}

fn client_with(config: ClientConfig, store: Arc<dyn TokenStore>) -> DingtalkClient {
    DingtalkClient::new(config, store).expect("client builds")
}

fn client(fake: &FakeDingtalk) -> DingtalkClient {
    client_with(config(fake), Arc::new(MemoryTokenStore::new()))
}

/// A fake with rep001 (managed by mgr001) and mgr001, in departments 2 and 1.
async fn fake_with_members() -> FakeDingtalk {
    let fake = FakeDingtalk::start().await;
    fake.add_user(json!({
        "userid": "rep001", "unionid": "unionrep001", "name": "Zhang San", "title": "Sales",
        "manager_userid": "mgr001", "dept_id_list": [2], "active": true,
        "leader_in_dept": [{ "dept_id": 2, "leader": false }],
        "dept_order_list": [{ "dept_id": 2, "order": 1 }],
    }));
    fake.add_user(json!({ "userid": "mgr001", "name": "Li Si", "dept_id_list": "[2,1]" }));
    fake.add_department(json!({
        "dept_id": 2, "name": "East sales", "parent_id": 1,
        "dept_manager_userid_list": ["mgr001"],
    }));
    fake
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

mod endpoints;
mod push;
mod retries;
mod stream;
mod tokens;
mod webhook;

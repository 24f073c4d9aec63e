//! A fake DingTalk server on loopback, for tests and demos: stateful, serving both hosts' paths
//! from one base URL in their documented JSON (oapi: HTTP 200 with errcode/errmsg; api: HTTP
//! 4xx/5xx with code/message/requestid), with scriptable faults, a log of every request, and
//! signed, encrypted event pushes as DingTalk sends them.
//!
//! It serves one app: AppKey [`FakeDingtalk::APP_KEY`], secret [`FakeDingtalk::APP_SECRET`],
//! agent [`FakeDingtalk::AGENT_ID`], robot [`FakeDingtalk::ROBOT_CODE`]. Members, departments
//! and custom robots exist once a test registers them; groups are not modelled (any
//! `openConversationId` is a group the robot belongs to).

mod endpoints;
mod faults;
mod push;
mod records;
mod server;
mod state;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

pub use faults::Fault;
pub use push::{EventPush, PushSigner};
pub use records::{
    CardRecord, RecordedRequest, RobotMessageRecord, WebhookPost, WorkNotificationRecord,
};
pub use stream::{AckRecord, FakeStreamGateway, OpenRequestRecord};

use crate::api::{ClientConfig, WebhookRobot};
use server::{Shared, lock};
use state::random_id;

/// A running fake. Dropping it stops the server.
pub struct FakeDingtalk {
    base_url: String,
    shared: Shared,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for FakeDingtalk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDingtalk")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl FakeDingtalk {
    /// The fake organisation's corpId.
    pub const CORP_ID: &str = "dingfakecorp00000001";
    /// The fake app's Client ID (AppKey).
    pub const APP_KEY: &str = "dingfakeappkey000001";
    /// The fake app's Client Secret; any other gets `invalidClientIdOrSecret`.
    pub const APP_SECRET: &str = "fake-app-secret-0123456789abcdefghijklmnopqrstuv";
    /// The fake app's AgentId; any other gets errcode 400002 from work notifications.
    pub const AGENT_ID: i64 = 3_000_000_001;
    /// The app robot's `robotCode`: for an internal app, its AppKey.
    pub const ROBOT_CODE: &str = Self::APP_KEY;

    /// Starts the fake on `127.0.0.1:0` in the current tokio runtime.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake DingTalk on a loopback port");
        let addr = listener
            .local_addr()
            .expect("local address of the fake DingTalk");
        let shared = Shared::default();
        let router = server::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            // Serving only ends when the task is aborted on drop.
            let _ = axum::serve(listener, router).await;
        });
        Self {
            base_url: format!("http://{addr}"),
            shared,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`, to use as both base URLs of the client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A client configuration for the fake app, both hosts pointing at the fake.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            api_base_url: self.base_url.clone(),
            oapi_base_url: self.base_url.clone(),
            ..ClientConfig::new(Self::APP_KEY, Self::APP_SECRET)
        }
    }

    /// Answers the next `times` calls of `path` (e.g. `"topapi/v2/user/get"`,
    /// `"v1.0/card/instances"`) with `fault`, after any faults already queued for it.
    pub fn fail_next(&self, path: &str, times: usize, fault: Fault) {
        let mut state = lock(&self.shared);
        let queue = state
            .faults
            .entry(path.trim_start_matches('/').to_owned())
            .or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Expires every token issued so far: calls with them are now rejected as expired, and the
    /// token endpoint issues a new one.
    pub fn expire_tokens(&self) {
        for token in lock(&self.shared).tokens.values_mut() {
            token.revoked = true;
        }
    }

    /// Registers a member in the shape of `topapi/v2/user/get`'s `result` (at least `userid`),
    /// so look-ups find them and robot messages and cards reach them.
    ///
    /// # Panics
    /// If `user` has no string `userid`.
    pub fn add_user(&self, user: Value) {
        let userid = user
            .get("userid")
            .and_then(Value::as_str)
            .expect("the registered user needs a string userid")
            .to_owned();
        lock(&self.shared).users.insert(userid, user);
    }

    /// Registers a department in the shape of `topapi/v2/department/get`'s `result`.
    ///
    /// # Panics
    /// If `department` has no numeric `dept_id`.
    pub fn add_department(&self, department: Value) {
        let id = department
            .get("dept_id")
            .and_then(Value::as_i64)
            .expect("the registered department needs a numeric dept_id");
        lock(&self.shared).departments.insert(id, department);
    }

    /// Registers a custom group robot, signing with `secret` if given, and returns its webhook
    /// URL and secret as a group's robot settings would show them.
    pub fn add_webhook_robot(&self, secret: Option<&str>) -> WebhookRobot {
        let token = random_id(64).to_lowercase();
        lock(&self.shared)
            .webhook_robots
            .insert(token.clone(), secret.map(str::to_owned));
        WebhookRobot::new(
            format!("{}/robot/send?access_token={token}", self.base_url),
            secret.map(str::to_owned),
        )
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).log.clone()
    }

    /// The requests to `path`, in order.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        let path = path.trim_start_matches('/');
        lock(&self.shared)
            .log
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
    }

    /// How many times the token endpoint was called.
    pub fn token_calls(&self) -> usize {
        self.requests_to("v1.0/oauth2/accessToken").len()
    }

    /// Every work notification accepted so far.
    pub fn work_notifications(&self) -> Vec<WorkNotificationRecord> {
        lock(&self.shared).work_notifications.clone()
    }

    /// The card instance `out_track_id` as it stands now.
    pub fn card(&self, out_track_id: &str) -> Option<CardRecord> {
        lock(&self.shared).cards.get(out_track_id).cloned()
    }

    /// Every robot message (one-to-one or group) accepted so far.
    pub fn robot_messages(&self) -> Vec<RobotMessageRecord> {
        lock(&self.shared).robot_messages.clone()
    }

    /// Every custom robot post that passed its checks.
    pub fn webhook_posts(&self) -> Vec<WebhookPost> {
        lock(&self.shared).webhook_posts.clone()
    }

    /// How long issued tokens live, for tests that reason about expiry.
    pub fn token_lifetime(&self) -> Duration {
        state::TOKEN_LIFETIME
    }
}

impl Drop for FakeDingtalk {
    fn drop(&mut self) {
        self.server.abort();
    }
}

//! A fake WeCom server on loopback, for tests and demos: stateful, speaking the documented JSON
//! (errcode/errmsg on every answer, HTTP 200 for API errors), with scriptable faults, a log of
//! every request, and signed, encrypted callbacks as WeCom sends them.
//!
//! It serves one app: corp [`FakeWecom::CORP_ID`], secret [`FakeWecom::SECRET`], agent
//! [`FakeWecom::AGENT_ID`]. Members, customers and groups exist once a test registers them in
//! the documented JSON shape; departments and member tags are not modelled (any id is valid).

mod callback;
mod contacts;
mod faults;
mod messages;
mod records;
mod server;
mod state;
mod tags;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

pub use callback::{CallbackRequest, CallbackSigner};
pub use faults::Fault;
pub use records::{ContactWayRecord, RecordedRequest, SentMessage, UpdatedCard, WelcomeRecord};

use crate::api::ClientConfig;
use server::{Shared, lock};
use state::{IssuedResponseCode, random_id};

/// A running fake. Dropping it stops the server.
pub struct FakeWecom {
    base_url: String,
    shared: Shared,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for FakeWecom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeWecom")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl FakeWecom {
    /// The fake corp's id.
    pub const CORP_ID: &str = "wwfakecorp000001";
    /// The fake app's secret; any other gets 40001 from `gettoken`.
    pub const SECRET: &str = "fake-app-secret-0123456789abcdef";
    /// The fake app's agent id; any other gets 40056.
    pub const AGENT_ID: u32 = 1_000_002;

    /// Starts the fake on `127.0.0.1:0` in the current tokio runtime.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake WeCom on a loopback port");
        let addr = listener
            .local_addr()
            .expect("local address of the fake WeCom");
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

    /// `http://127.0.0.1:PORT`, to use as the client's `base_url`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A client configuration for the fake app, with its base URL.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            base_url: self.base_url.clone(),
            ..ClientConfig::new(Self::CORP_ID, Self::SECRET)
        }
    }

    /// Answers the next `times` calls of `path` (e.g. `"message/send"`, `"gettoken"`) with
    /// `fault`, after any faults already queued for it.
    pub fn fail_next(&self, path: &str, times: usize, fault: Fault) {
        let mut state = lock(&self.shared);
        let queue = state.faults.entry(normalize(path).to_owned()).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Expires every token issued so far: calls with them now get 42001.
    pub fn expire_tokens(&self) {
        for token in lock(&self.shared).tokens.values_mut() {
            token.revoked = true;
        }
    }

    /// Registers a member in the `user/get` answer's shape (at least `userid`), so messages
    /// can reach them and `user/get` finds them.
    pub fn add_user(&self, user: Value) {
        let userid = string_at(&user, &["userid"]).to_lowercase();
        lock(&self.shared).users.insert(userid, user);
    }

    /// Registers a customer in the `externalcontact/get` answer's shape:
    /// `{"external_contact": {...}, "follow_user": [...]}`.
    pub fn add_external_contact(&self, contact: Value) {
        let id = string_at(&contact, &["external_contact", "external_userid"]);
        lock(&self.shared).contacts.insert(id, contact);
    }

    /// Registers a customer group in the shape of `groupchat/get`'s `group_chat`.
    pub fn add_group_chat(&self, group_chat: Value) {
        let id = string_at(&group_chat, &["chat_id"]);
        lock(&self.shared).group_chats.insert(id, group_chat);
    }

    /// A fresh `welcome_code`, as an `add_external_contact` callback would carry; usable once.
    pub fn issue_welcome_code(&self) -> String {
        let code = random_id(43);
        lock(&self.shared).welcome_codes.insert(code.clone(), false);
        code
    }

    /// A fresh OAuth `code`, as WeCom's client brings back to the redirect URI, that
    /// `auth/getuserinfo` exchanges once for `identity` (e.g. `{"userid": "alice"}` or
    /// `{"openid": "o…", "external_userid": "wm…"}`).
    pub fn issue_oauth_code(&self, identity: Value) -> String {
        let code = random_id(64);
        lock(&self.shared)
            .oauth_codes
            .insert(code.clone(), identity);
        code
    }

    /// A fresh single-use `ResponseCode` for the message `msgid`, as a click callback would
    /// carry; `None` if no such message was sent.
    pub fn click_response_code(&self, msgid: &str) -> Option<String> {
        let mut state = lock(&self.shared);
        state
            .messages
            .iter()
            .any(|message| message.msgid == msgid)
            .then(|| {
                let code = random_id(48);
                let issued = IssuedResponseCode {
                    msgid: msgid.to_owned(),
                    used: false,
                };
                state.response_codes.insert(code.clone(), issued);
                code
            })
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).log.clone()
    }

    /// The requests to `path` (e.g. `"message/send"`), in order.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        let path = normalize(path);
        lock(&self.shared)
            .log
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
    }

    /// How many times `gettoken` was called.
    pub fn gettoken_calls(&self) -> usize {
        self.requests_to("gettoken").len()
    }

    /// Every message accepted so far, read or not.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        lock(&self.shared).messages.clone()
    }

    /// The messages accepted since the last call, marking them read.
    pub fn take_messages(&self) -> Vec<SentMessage> {
        let mut state = lock(&self.shared);
        let unread = state.messages[state.messages_read..].to_vec();
        state.messages_read = state.messages.len();
        unread
    }

    /// Panics if a message was accepted that no test took with [`FakeWecom::take_messages`].
    pub fn assert_all_messages_read(&self) {
        let state = lock(&self.shared);
        let unread = &state.messages[state.messages_read..];
        assert!(
            unread.is_empty(),
            "messages sent but never read: {unread:#?}"
        );
    }

    /// Every card update accepted so far.
    pub fn card_updates(&self) -> Vec<UpdatedCard> {
        lock(&self.shared).card_updates.clone()
    }

    /// Every contact way created so far.
    pub fn contact_ways(&self) -> Vec<ContactWayRecord> {
        lock(&self.shared).contact_ways.clone()
    }

    /// Every welcome message accepted so far.
    pub fn welcome_messages(&self) -> Vec<WelcomeRecord> {
        lock(&self.shared).welcome_messages.clone()
    }

    /// A registered customer as `externalcontact/get` would answer it now (tags included).
    pub fn external_contact(&self, external_userid: &str) -> Option<Value> {
        lock(&self.shared).contacts.get(external_userid).cloned()
    }

    /// How long issued tokens live, for tests that reason about expiry.
    pub fn token_lifetime(&self) -> Duration {
        state::TOKEN_LIFETIME
    }
}

impl Drop for FakeWecom {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Accepts `"message/send"`, `"/message/send"` and `"/cgi-bin/message/send"` alike.
fn normalize(path: &str) -> &str {
    let path = path.trim_start_matches('/');
    path.strip_prefix("cgi-bin/").unwrap_or(path)
}

/// The string at `keys` in `value`.
///
/// # Panics
/// If it is missing: registering a record without its id is a mistake in the test.
fn string_at(value: &Value, keys: &[&str]) -> String {
    keys.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("the registered JSON needs a string at {}", keys.join(".")))
        .to_owned()
}

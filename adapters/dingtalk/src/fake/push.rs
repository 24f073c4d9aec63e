//! HTTP event pushes exactly as DingTalk sends them (dingtalk.md §2.6): `signature` and
//! `msg_signature` (the same value), `timestamp` in milliseconds and `nonce` in the query, and
//! `{"encrypt": "…"}` as the JSON body.

use serde_json::json;

use salesbot_msgcrypt::CallbackCrypto;

use super::state::{now_ms, random_id};

/// Characters in a generated nonce, as in the documented example request.
const NONCE_LEN: usize = 8;

/// A push to send to the service: `path_and_query(path)` for the URL and `body` to POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPush {
    /// `msg_signature` (and `signature`) as sent.
    pub msg_signature: String,
    /// `timestamp` as sent, epoch milliseconds.
    pub timestamp: String,
    /// `nonce` as sent.
    pub nonce: String,
    /// The signed ciphertext, the body's `encrypt`.
    pub encrypt: String,
    /// The query string, without the leading `?`.
    pub query: String,
    /// `{"encrypt":"…"}`.
    pub body: String,
}

impl EventPush {
    /// `path?query`, e.g. for `Request::post(push.path_and_query("/dingtalk/callback"))`.
    pub fn path_and_query(&self, path: &str) -> String {
        format!("{path}?{}", self.query)
    }
}

/// Signs and encrypts pushes with one app's event-subscription configuration.
#[derive(Debug, Clone)]
pub struct PushSigner<'a> {
    crypto: &'a CallbackCrypto,
    timestamp: String,
    nonce: String,
}

impl<'a> PushSigner<'a> {
    /// Signs with the current time and a random nonce.
    pub fn new(crypto: &'a CallbackCrypto) -> Self {
        Self {
            crypto,
            timestamp: now_ms().to_string(),
            nonce: random_id(NONCE_LEN),
        }
    }

    /// Signs with this timestamp (epoch ms) and nonce instead, e.g. to test replay windows.
    pub fn with_timestamp_and_nonce(
        self,
        timestamp: impl Into<String>,
        nonce: impl Into<String>,
    ) -> Self {
        Self {
            timestamp: timestamp.into(),
            nonce: nonce.into(),
            ..self
        }
    }

    /// The push of `event_json` (the decrypted event of dingtalk.md §3, e.g.
    /// `{"EventType":"check_url"}`), encrypted for the crypto's receive id.
    pub fn event(&self, event_json: &str) -> EventPush {
        let encrypt = self.crypto.encrypt(event_json.as_bytes());
        let msg_signature = self
            .crypto
            .signature(&self.timestamp, &self.nonce, &encrypt);
        // Signature, timestamp and nonce are hex, digits and letters: nothing to URL-encode.
        let query = format!(
            "signature={msg_signature}&msg_signature={msg_signature}&timestamp={}&nonce={}",
            self.timestamp, self.nonce
        );
        EventPush {
            body: json!({ "encrypt": encrypt }).to_string(),
            msg_signature,
            timestamp: self.timestamp.clone(),
            nonce: self.nonce.clone(),
            encrypt,
            query,
        }
    }
}

//! Callbacks exactly as WeCom sends them (wecom.md §1.7, §1.8): the signed query and the
//! `<xml><ToUserName/><AgentID/><Encrypt/></xml>` envelope for events, and the GET query with
//! a URL-encoded `echostr` for URL verification.

use crate::crypto::CallbackCrypto;

use super::state::unix_now;

/// Digits in a generated nonce; WeCom's are digit strings of about this length.
const NONCE_DIGITS: usize = 10;

/// A callback request to send to the service: `path_and_query(path)` for the URL and `body`
/// for a POST (empty for URL verification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRequest {
    /// `msg_signature` as sent.
    pub msg_signature: String,
    /// `timestamp` as sent (unix seconds).
    pub timestamp: String,
    /// `nonce` as sent.
    pub nonce: String,
    /// The signed ciphertext: the envelope's `Encrypt`, or the decoded `echostr`.
    pub encrypted: String,
    /// The URL-encoded query string, without the leading `?`.
    pub query: String,
    /// The XML envelope of an event; empty for URL verification.
    pub body: String,
}

impl CallbackRequest {
    /// `path?query`, e.g. for `Request::post(callback.path_and_query("/wecom/callback"))`.
    pub fn path_and_query(&self, path: &str) -> String {
        format!("{path}?{}", self.query)
    }
}

/// Signs and encrypts callbacks with one app's callback configuration.
#[derive(Debug, Clone)]
pub struct CallbackSigner<'a> {
    crypto: &'a CallbackCrypto,
    timestamp: String,
    nonce: String,
}

impl<'a> CallbackSigner<'a> {
    /// Signs with the current time and a random nonce.
    pub fn new(crypto: &'a CallbackCrypto) -> Self {
        let nonce = std::iter::repeat_with(|| fastrand::digit(10))
            .take(NONCE_DIGITS)
            .collect();
        Self {
            crypto,
            timestamp: unix_now().to_string(),
            nonce,
        }
    }

    /// Signs with this timestamp and nonce instead, e.g. to test replay windows.
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

    /// A POST event callback: `message_xml` (the decrypted `<xml>…</xml>` of §3/§4) encrypted
    /// into the envelope for corp `to_user_name` and app `agent_id`, signature over `Encrypt`.
    pub fn event(&self, to_user_name: &str, agent_id: &str, message_xml: &str) -> CallbackRequest {
        let encrypted = self.crypto.encrypt(message_xml.as_bytes());
        let body = format!(
            "<xml><ToUserName><![CDATA[{to_user_name}]]></ToUserName>\
             <AgentID><![CDATA[{agent_id}]]></AgentID>\
             <Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        );
        self.request(encrypted, None, body)
    }

    /// The GET URL verification: `echo` (in practice digits) encrypted as `echostr`, signed,
    /// and URL-encoded in the query (`+`, `/`, `=` as `%2B`, `%2F`, `%3D`).
    pub fn url_verification(&self, echo: &str) -> CallbackRequest {
        let encrypted = self.crypto.encrypt(echo.as_bytes());
        self.request(encrypted.clone(), Some(&encrypted), String::new())
    }

    fn request(&self, encrypted: String, echostr: Option<&str>, body: String) -> CallbackRequest {
        let msg_signature = self
            .crypto
            .signature(&self.timestamp, &self.nonce, &encrypted);
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("msg_signature", &msg_signature)
            .append_pair("timestamp", &self.timestamp)
            .append_pair("nonce", &self.nonce);
        if let Some(echostr) = echostr {
            query.append_pair("echostr", echostr);
        }
        CallbackRequest {
            msg_signature,
            timestamp: self.timestamp.clone(),
            nonce: self.nonce.clone(),
            encrypted,
            query: query.finish(),
            body,
        }
    }
}

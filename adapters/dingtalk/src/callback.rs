//! HTTP event subscription (dingtalk.md §2): the request body `{"encrypt": "..."}`, the crypto
//! shared with WeCom, and the encrypted `success` reply DingTalk requires for every delivery.

use serde::{Deserialize, Serialize};

pub use salesbot_msgcrypt::{CallbackCrypto, CryptoError, SignedQuery};

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body is not a JSON object with a string member `encrypt`: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Body {
    encrypt: String,
}

/// Reads the ciphertext from a push body. Other members are ignored.
pub fn parse_body(body: &[u8]) -> Result<String, BodyError> {
    let body: Body =
        serde_json::from_slice(body).map_err(|e| BodyError::Malformed(e.to_string()))?;
    Ok(body.encrypt)
}

/// The reply to every delivery, `check_url` included: the four members with their exact
/// spellings (`msg_signature`, `timeStamp`, `nonce`, `encrypt`), all strings (dingtalk.md §2.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub msg_signature: String,
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    pub nonce: String,
    pub encrypt: String,
}

/// Length of the random nonce of a reply, as in the reference code.
const NONCE_LEN: usize = 16;

impl Reply {
    /// The encrypted `success`, stamped `timestamp_ms` (epoch milliseconds) with a fresh nonce.
    pub fn success(crypto: &CallbackCrypto, timestamp_ms: i64) -> Self {
        let nonce: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(NONCE_LEN)
            .collect();
        Self::sealed(crypto, "success", &timestamp_ms.to_string(), &nonce)
    }

    /// `msg` encrypted for the app and signed over our own timestamp and nonce.
    pub fn sealed(crypto: &CallbackCrypto, msg: &str, time_stamp: &str, nonce: &str) -> Self {
        let encrypt = crypto.encrypt(msg.as_bytes());
        Self {
            msg_signature: crypto.signature(time_stamp, nonce, &encrypt),
            time_stamp: time_stamp.to_string(),
            nonce: nonce.to_string(),
            encrypt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto() -> CallbackCrypto {
        CallbackCrypto::new(
            "mryue",
            "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
            "ding6ccabc44d2c8d38b",
        )
        .unwrap()
    }

    #[test]
    fn the_body_yields_its_ciphertext() {
        assert_eq!(parse_body(br#"{"encrypt":"abc+/="}"#).unwrap(), "abc+/=");
        assert_eq!(parse_body(br#"{"encrypt":"x","other":1}"#).unwrap(), "x");
        for bad in [
            &b""[..],
            b"{}",
            b"[]",
            b"{\"encrypt\":1}",
            b"not json",
            b"{\"encrypt\":\"x\"",
        ] {
            assert!(
                parse_body(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn the_success_reply_has_the_exact_member_names_and_opens_to_success() {
        let c = crypto();
        let reply = Reply::success(&c, 1_717_000_000_000);
        let json: serde_json::Value = serde_json::to_value(&reply).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["encrypt", "msg_signature", "nonce", "timeStamp"]);
        assert!(
            json.as_object()
                .unwrap()
                .values()
                .all(serde_json::Value::is_string)
        );
        assert_eq!(reply.time_stamp, "1717000000000");
        assert_eq!(reply.nonce.len(), 16);
        let query = SignedQuery {
            msg_signature: &reply.msg_signature,
            timestamp: &reply.time_stamp,
            nonce: &reply.nonce,
        };
        assert_eq!(c.open(&query, &reply.encrypt).unwrap(), "success");
    }
}

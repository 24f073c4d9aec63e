//! The `x-salesbot-signature` header: `sha256=` and the lowercase hex HMAC-SHA256 of
//! `"<timestamp>.<body>"` under the hook's secret. The timestamp is signed with the body so that
//! a captured request cannot be replayed later with a fresh timestamp.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// What the signature header value starts with, naming the algorithm.
pub const PREFIX: &str = "sha256=";

/// The `x-salesbot-signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(PREFIX.len() + 2 * digest.len());
    out.push_str(PREFIX);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `signature` (the header value) signs `body` at `timestamp` under `secret`, and
/// `timestamp` is within `max_age_secs` of `now_secs` either way (clocks drift both ways). The
/// comparison takes the same time wherever the signatures differ.
pub fn verify(
    secret: &str,
    timestamp: i64,
    body: &[u8],
    signature: &str,
    now_secs: i64,
    max_age_secs: u64,
) -> bool {
    if now_secs.abs_diff(timestamp) > max_age_secs {
        return false;
    }
    let expected = sign(secret, timestamp, body);
    bool::from(expected.as_bytes().ct_eq(signature.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from Python: hmac.new(key, b"<timestamp>.<body>", hashlib.sha256).hexdigest().
    #[test]
    fn signs_timestamp_dot_body_as_lowercase_hex() {
        assert_eq!(
            sign("key", 1_700_000_000, b"{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert_eq!(
            sign(
                "whsec-test",
                1_795_773_946,
                br#"{"id":"approval:12:decided"}"#
            ),
            "sha256=8baa3d51b0991da0bfc038d8eb982841f88c56d75dbc2191ba414316f43549d6"
        );
    }

    #[test]
    fn verify_accepts_a_fresh_signature_and_refuses_any_change() {
        let body = br#"{"id":"x"}"#;
        let signature = sign("key", 1_000, body);
        assert!(verify("key", 1_000, body, &signature, 1_000, 300));
        assert!(verify("key", 1_000, body, &signature, 1_300, 300));
        assert!(verify("key", 1_000, body, &signature, 700, 300));
        assert!(!verify("key", 1_000, body, &signature, 1_301, 300), "stale");
        assert!(
            !verify("key", 1_001, body, &signature, 1_000, 300),
            "timestamp"
        );
        assert!(
            !verify("other", 1_000, body, &signature, 1_000, 300),
            "secret"
        );
        assert!(!verify("key", 1_000, b"{}", &signature, 1_000, 300), "body");
        let bare = signature.trim_start_matches(PREFIX);
        assert!(!verify("key", 1_000, body, bare, 1_000, 300), "prefix");
        assert!(!verify("key", 1_000, body, "", 1_000, 300), "empty");
    }
}

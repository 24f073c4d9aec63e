//! Callback crypto (WXBizMsgCrypt): the scheme WeCom shares with DingTalk, from
//! salesbot-msgcrypt, plus WeCom's XML passive reply.
//!
//! Decoding is strict about what WeCom never sends (non-canonical base64, a signature that is not
//! 40 lowercase hex digits, padding that is not 1..=32 copies of its own length) and lenient only
//! where the protocol requires it: the EncodingAESKey's trailing bits.

pub use salesbot_msgcrypt::{CallbackCrypto, CryptoError, ENCODING_AES_KEY_LEN, SignedQuery};

/// The XML of a passive (synchronous) reply carrying `msg`, signed with the given timestamp and
/// nonce (wecom.md §1.9).
pub fn seal_reply(crypto: &CallbackCrypto, msg: &str, timestamp: &str, nonce: &str) -> String {
    let encrypted = crypto.encrypt(msg.as_bytes());
    let signature = crypto.signature(timestamp, nonce, &encrypted);
    format!(
        "<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>\
         <TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
        let from = s.find(start).unwrap() + start.len();
        &s[from..from + s[from..].find(end).unwrap()]
    }

    #[test]
    fn sealed_reply_opens_with_its_own_signature() {
        let crypto = CallbackCrypto::new(
            "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
            "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
            "ww1436e0e65a779aee",
        )
        .unwrap();
        let xml = seal_reply(
            &crypto,
            "<xml><Content>ok</Content></xml>",
            "1717200000",
            "1234567890",
        );
        let encrypted = between(&xml, "<Encrypt><![CDATA[", "]]>");
        let signature = between(&xml, "<MsgSignature><![CDATA[", "]]>");
        let query = SignedQuery {
            msg_signature: signature,
            timestamp: "1717200000",
            nonce: "1234567890",
        };
        assert_eq!(
            crypto.open(&query, encrypted).unwrap(),
            "<xml><Content>ok</Content></xml>"
        );
    }
}

//! Every step of the WeCom callback decode path on arbitrary input: the envelope reader, the
//! base64 + AES + frame path, the frame checks on a raw plaintext, and the event parser. None
//! may panic; whatever decodes must be what was framed.

#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use salesbot_wecom::{
    crypto::{CallbackCrypto, SignedQuery},
    envelope,
    event::Callback,
};

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP: &str = "ww1436e0e65a779aee";

fuzz_target!(|data: &[u8]| {
    let crypto = CallbackCrypto::new(TOKEN, KEY, CORP).unwrap();
    let text = String::from_utf8_lossy(data);

    // The envelope, then the whole open path with a signature that matches what was found.
    if let Ok(env) = envelope::parse(&text) {
        let signature = crypto.signature("1", "2", &env.encrypt);
        let query = SignedQuery { msg_signature: &signature, timestamp: "1", nonce: "2" };
        if let Ok(xml) = crypto.open(&query, &env.encrypt) {
            let _ = Callback::parse(&xml);
        }
    }
    // Arbitrary bytes as a ciphertext: AES, padding and frame checks.
    let _ = crypto.decrypt(&base64::engine::general_purpose::STANDARD.encode(data));
    let _ = crypto.decrypt(&text);
    // Arbitrary bytes as a decrypted frame: padding, length field, receive id, UTF-8.
    if let Ok(msg) = crypto.open_frame(data) {
        assert!(data.len() >= 20 + msg.len() + CORP.len());
    }
    // Arbitrary text as a decrypted callback.
    if let Ok(callback) = Callback::parse(&text) {
        assert!(callback.dedupe_key.len() <= 255);
        assert!(!callback.kind().is_empty());
    }
});

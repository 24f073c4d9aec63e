//! The DingTalk push decode path on arbitrary input: the JSON body, the shared decrypt path with
//! a matching signature, and the lenient event reader with its dedupe key. None may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use salesbot_dingtalk::{
    callback::{CallbackCrypto, SignedQuery, parse_body},
    event::DingEvent,
};

fuzz_target!(|data: &[u8]| {
    let crypto = CallbackCrypto::new("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b").unwrap();
    if let Ok(encrypt) = parse_body(data) {
        let signature = crypto.signature("1", "2", &encrypt);
        let query = SignedQuery { msg_signature: &signature, timestamp: "1", nonce: "2" };
        if let Ok(json) = crypto.open(&query, &encrypt) {
            let _ = DingEvent::parse(&json).map(|e| e.dedupe_key());
        }
    }
    if let Ok(event) = DingEvent::parse(&String::from_utf8_lossy(data)) {
        let key = event.dedupe_key();
        assert!(key.len() <= 255 && !key.is_empty());
        let _ = (event.kind(), event.ids("UserId"), event.text("eventId"));
    }
});

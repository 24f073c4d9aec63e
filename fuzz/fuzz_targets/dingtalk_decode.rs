//! The DingTalk decode paths on arbitrary input: the push body, the shared decrypt path with a
//! matching signature, the lenient event reader with its dedupe key, and the card-tap and robot
//! message parsers. None may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use salesbot_dingtalk::{
    callback::{CallbackCrypto, SignedQuery, parse_body},
    card_callback::CardTap,
    event::DingEvent,
    robot_callback::RobotMessage,
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
    if let Ok(tap) = CardTap::parse(data) {
        assert!(tap.dedupe_key().starts_with("card:"));
    }
    if let Ok(message) = RobotMessage::parse(data) {
        assert!(message.dedupe_key().len() <= 255);
    }
});

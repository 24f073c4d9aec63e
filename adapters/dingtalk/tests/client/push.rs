//! The fake's event pushes are what DingTalk sends: they verify and decrypt with
//! `CallbackCrypto`.

use salesbot_dingtalk::fake::{FakeDingtalk, PushSigner};
use salesbot_msgcrypt::{CallbackCrypto, SignedQuery};
use serde_json::Value;

/// A 43-character aes_key and token of an app's event subscription.
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const TOKEN: &str = "fakePushToken";

fn crypto() -> CallbackCrypto {
    CallbackCrypto::new(TOKEN, AES_KEY, FakeDingtalk::APP_KEY).unwrap()
}

#[test]
fn an_event_push_opens_with_callback_crypto() {
    let crypto = crypto();
    let event = r#"{"EventType":"user_add_org","UserId":["rep001"],"TimeStamp":"1717000000000"}"#;

    let push = PushSigner::new(&crypto).event(event);

    let body: Value = serde_json::from_str(&push.body).unwrap();
    let encrypt = body["encrypt"].as_str().unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert_eq!(encrypt, push.encrypt);
    let query = SignedQuery {
        msg_signature: &push.msg_signature,
        timestamp: &push.timestamp,
        nonce: &push.nonce,
    };
    assert_eq!(crypto.open(&query, encrypt).unwrap(), event);
}

#[test]
fn an_event_push_carries_both_signature_names_a_millisecond_timestamp_and_a_nonce() {
    let crypto = crypto();

    let push = PushSigner::new(&crypto)
        .with_timestamp_and_nonce("1717000000000", "Ab3dE6gH")
        .event(r#"{"EventType":"check_url"}"#);

    assert_eq!(
        push.query,
        format!(
            "signature={0}&msg_signature={0}&timestamp=1717000000000&nonce=Ab3dE6gH",
            push.msg_signature
        )
    );
    assert_eq!(
        push.path_and_query("/dingtalk/callback"),
        format!("/dingtalk/callback?{}", push.query)
    );
    assert_eq!(
        push.msg_signature,
        crypto.signature("1717000000000", "Ab3dE6gH", &push.encrypt)
    );
}

#[test]
fn a_push_signed_for_another_token_does_not_verify() {
    let push = PushSigner::new(&crypto()).event(r#"{"EventType":"check_url"}"#);
    let other = CallbackCrypto::new("otherToken", AES_KEY, FakeDingtalk::APP_KEY).unwrap();
    let query = SignedQuery {
        msg_signature: &push.msg_signature,
        timestamp: &push.timestamp,
        nonce: &push.nonce,
    };

    assert!(other.open(&query, &push.encrypt).is_err());
}

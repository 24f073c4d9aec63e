//! The fake itself: signed, encrypted callbacks as WeCom sends them, and its token checks.

use std::collections::HashMap;

use serde_json::Value;

use salesbot_wecom::crypto::{CallbackCrypto, SignedQuery};
use salesbot_wecom::fake::CallbackSigner;

use super::*;

const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap() + start.len();
    let to = from + text[from..].find(end).unwrap();
    &text[from..to]
}

fn query_map(query: &str) -> HashMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[test]
fn a_signed_event_callback_opens_with_the_apps_callback_crypto() {
    let crypto = CallbackCrypto::new("callbacktoken", AES_KEY, FakeWecom::CORP_ID).unwrap();
    let message = "<xml><ToUserName><![CDATA[wwfakecorp000001]]></ToUserName><Event><![CDATA[template_card_event]]></Event></xml>";

    let callback = CallbackSigner::new(&crypto)
        .with_timestamp_and_nonce("1717201000", "1234567890")
        .event(FakeWecom::CORP_ID, "1000002", message);

    assert!(callback.body.starts_with("<xml><ToUserName><![CDATA[wwfakecorp000001]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA["));
    let query = query_map(&callback.query);
    assert_eq!(query.len(), 3);
    let signed = SignedQuery {
        msg_signature: &query["msg_signature"],
        timestamp: &query["timestamp"],
        nonce: &query["nonce"],
    };
    assert_eq!(signed.timestamp, "1717201000");
    let encrypt = between(&callback.body, "<Encrypt><![CDATA[", "]]>");
    assert_eq!(crypto.open(&signed, encrypt).unwrap(), message);
    assert_eq!(
        callback.path_and_query("/wecom"),
        format!("/wecom?{}", callback.query)
    );
}

#[test]
fn a_url_verification_carries_a_url_encoded_echostr_that_decrypts_to_the_echo() {
    let crypto = CallbackCrypto::new("callbacktoken", AES_KEY, FakeWecom::CORP_ID).unwrap();

    let callback = CallbackSigner::new(&crypto).url_verification("4412345678901234567");

    assert!(callback.body.is_empty());
    let raw_echostr = between(&format!("{}&", callback.query), "echostr=", "&").to_owned();
    assert!(!raw_echostr.contains(['+', '/', '=']), "{raw_echostr}");
    let query = query_map(&callback.query);
    assert_eq!(query["echostr"], callback.encrypted);
    let signed = SignedQuery {
        msg_signature: &query["msg_signature"],
        timestamp: &query["timestamp"],
        nonce: &query["nonce"],
    };
    assert_eq!(
        crypto.open(&signed, &query["echostr"]).unwrap(),
        "4412345678901234567"
    );
}

/// A plain HTTP client for talking to the fake directly, bypassing `WecomClient`.
fn raw_http() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_fake_answers_41001_40014_and_42001_for_missing_unknown_and_expired_tokens() {
    let fake = fake_with_members().await;
    let http = raw_http();
    let answer = |query: String| {
        let url = format!("{}/cgi-bin/user/get?userid=alice{query}", fake.base_url());
        let http = http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let token_answer: Value = http
        .get(format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={}",
            fake.base_url(),
            FakeWecom::CORP_ID,
            FakeWecom::SECRET
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token_answer["access_token"].as_str().unwrap().to_owned();

    let missing = answer(String::new()).await;
    let unknown = answer("&access_token=forged".into()).await;
    let valid = answer(format!("&access_token={token}")).await;
    fake.expire_tokens();
    let expired = answer(format!("&access_token={token}")).await;

    assert_eq!(token_answer["expires_in"], json!(7200));
    assert_eq!(token_answer["errcode"], json!(0));
    assert_eq!(missing["errcode"], json!(41001));
    assert_eq!(unknown["errcode"], json!(40014));
    assert_eq!(valid["errcode"], json!(0));
    assert_eq!(valid["errmsg"], json!("ok"));
    assert_eq!(valid["direct_leader"], json!(["dave"]));
    assert_eq!(expired["errcode"], json!(42001));
    assert!(
        expired["errmsg"]
            .as_str()
            .unwrap()
            .contains("access_token expired")
    );
    let tokens_seen: Vec<_> = fake
        .requests()
        .into_iter()
        .filter_map(|r| r.query.get("access_token").cloned())
        .collect();
    assert_eq!(tokens_seen, ["<redacted>"; 3]);
}

//! WeCom callbacks end to end: URL verification with the official vector, events stored once
//! however often WeCom retries, and every kind of bad input refused with nothing stored.

use reqwest::StatusCode;
use salesbot::{
    app::{Extensions, Startup},
    config::{Secret, WecomConfig},
};
use salesbot_wecom::crypto::CallbackCrypto;
use serde_json::Value;

use crate::helpers::{TestApp, TestDb, frame, raw_frame_encrypt};

/// Vector A of the reference (the current official sample).
const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP: &str = "ww1436e0e65a779aee";
const A2_QUERY: &str =
    "msg_signature=0c3914025cb4b4d68103f6bfc8db550f79dcf48e&timestamp=1476422779&nonce=1597212914";
const A2_ENCRYPT: &str = "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+";

pub fn wecom_app(tenant: &str, token: &str, key: &str, corp: &str) -> WecomConfig {
    WecomConfig {
        api_base: "http://127.0.0.1:1".into(),
        request_timeout_secs: 5,
        ..WecomConfig::new(
            tenant,
            corp,
            1000002,
            Secret::new("app-secret-never-logged"),
            Secret::new(token),
            Secret::new(key),
        )
    }
}

struct Wecom {
    app: TestApp,
    t: TestDb,
}

impl Wecom {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(edit: impl FnOnce(&mut salesbot::config::Config)) -> Self {
        let t = TestDb::sqlite().await;
        let mut config = t.config();
        config.wecom = vec![
            wecom_app("acme", TOKEN, KEY, CORP),
            wecom_app(
                "globex",
                "otherToken",
                "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                "wx5823bf96d3bd56c7",
            ),
        ];
        edit(&mut config);
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self { app, t }
    }

    async fn post(
        &self,
        tenant: &str,
        query: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let url = format!("{}/callbacks/wecom/{tenant}?{query}", self.app.address);
        self.app.client.post(url).body(body).send().await.unwrap()
    }

    async fn inbox_rows(&self) -> i64 {
        self.t.count("SELECT COUNT(*) FROM inbox").await
    }

    async fn stop(self) {
        self.app.stop().await;
        self.t.finish().await;
    }
}

fn envelope(encrypt: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
}

/// A callback as WeCom would send it: `xml` encrypted and signed for the acme app.
fn signed(crypto: &CallbackCrypto, encrypt: &str) -> String {
    let (timestamp, nonce) = ("1717200000", "1234567");
    format!(
        "msg_signature={}&timestamp={timestamp}&nonce={nonce}",
        crypto.signature(timestamp, nonce, encrypt)
    )
}

fn acme() -> CallbackCrypto {
    CallbackCrypto::new(TOKEN, KEY, CORP).unwrap()
}

const ADD_CONTACT: &str = "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
    <CreateTime>1717200000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>\
    <ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[alice]]></UserID>\
    <ExternalUserID><![CDATA[wmEXAMPLEcustomer000000000001]]></ExternalUserID><State><![CDATA[expo2026-sh]]></State>\
    <WelcomeCode><![CDATA[EXAMPLE_WELCOME_CODE]]></WelcomeCode></xml>";

#[tokio::test]
async fn url_verification_answers_the_official_echostr_bare() {
    let w = Wecom::start().await;
    // The reference's vector A1, with the echostr percent-encoded as on the wire.
    let url = format!(
        "{}/callbacks/wecom/acme?msg_signature=012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb&timestamp=1476416373&nonce=47744683&echostr={}",
        w.app.address,
        "fsi1xnbH4yQh0%2BPJxcOdhhK6TDXkjMyhEPA7xB2TGz6b%2Bg7xyAbEkRxN%2F3cNXW9qdqjnoVzEtpbhnFyq6SVHyA%3D%3D"
    );
    let response = w.app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        b"1288432023552776189"
    );
    // Unencoded '+' and '/' survive too.
    let raw = url.replace("%2B", "+").replace("%2F", "/");
    assert_eq!(
        w.app
            .client
            .get(&raw)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "1288432023552776189"
    );
    // A bad signature, another tenant's key, an unknown tenant.
    let bad = url.replace("012bc692", "112bc692");
    assert_eq!(
        w.app.client.get(&bad).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let other = url.replace("/acme?", "/globex?");
    assert_eq!(
        w.app.client.get(&other).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let unknown = url.replace("/acme?", "/initech?");
    assert_eq!(
        w.app.client.get(&unknown).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let missing = url.split("&echostr").next().unwrap().to_string();
    assert_eq!(
        w.app.client.get(&missing).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(w.inbox_rows().await, 0);
    w.stop().await;
}

#[tokio::test]
async fn the_official_message_is_stored_once_however_often_wecom_retries() {
    let w = Wecom::start().await;
    for _ in 0..4 {
        let response = w.post("acme", A2_QUERY, envelope(A2_ENCRYPT)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.bytes().await.unwrap().is_empty(),
            "the answer is an empty body"
        );
    }
    let events = w.t.inbox_events().await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.platform.as_str(), e.tenant.as_str(), e.kind.as_str()),
        ("wecom", "acme", "wecom.text")
    );
    assert_eq!(e.dedupe_key, "msg:1456453720");
    let payload: Value = serde_json::from_str(&e.payload).unwrap();
    assert_eq!(payload["event"]["content"], "你好");
    assert_eq!(payload["from_user_name"], "ChenJiaShun");
    w.stop().await;
}

#[tokio::test]
async fn a_customer_contact_event_is_stored_as_an_urgent_typed_event() {
    let w = Wecom::start().await;
    let encrypt = acme().encrypt(ADD_CONTACT.as_bytes());
    let response = w
        .post("acme", &signed(&acme(), &encrypt), envelope(&encrypt))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // A retry is encrypted afresh (new random prefix) but is the same event.
    let again = acme().encrypt(ADD_CONTACT.as_bytes());
    assert_ne!(again, encrypt);
    assert_eq!(
        w.post("acme", &signed(&acme(), &again), envelope(&again))
            .await
            .status(),
        StatusCode::OK
    );
    let events = w.t.inbox_events().await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind, "wecom.change_external_contact.add_external_contact");
    assert_eq!(e.priority, salesbot::pipeline::inbox::PRIORITY_HIGH);
    assert!(e.dedupe_key.starts_with("evt:change_external_contact:"));
    let payload: Value = serde_json::from_str(&e.payload).unwrap();
    assert_eq!(payload["event"]["type"], "external_contact");
    assert_eq!(payload["event"]["state"], "expo2026-sh");
    assert_eq!(payload["event"]["welcome_code"], "EXAMPLE_WELCOME_CODE");
    // The metrics count the stored callback and the duplicate.
    let metrics = w.app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            r#"salesbot_callbacks_total{platform="wecom",tenant="acme",outcome="stored"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"salesbot_callbacks_total{platform="wecom",tenant="acme",outcome="duplicate"} 1"#
        ),
        "{metrics}"
    );
    w.stop().await;
}

#[tokio::test]
async fn an_unmodelled_event_is_stored_raw_with_its_type() {
    let w = Wecom::start().await;
    let xml = "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>sys</FromUserName><CreateTime>1717200001</CreateTime><MsgType>event</MsgType><Event>change_contact</Event><ChangeType>update_user</ChangeType><UserID>bob</UserID></xml>";
    let encrypt = acme().encrypt(xml.as_bytes());
    assert_eq!(
        w.post("acme", &signed(&acme(), &encrypt), envelope(&encrypt))
            .await
            .status(),
        StatusCode::OK
    );
    let events = w.t.inbox_events().await;
    assert_eq!(events[0].kind, "wecom.change_contact");
    let payload: Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(payload["xml"], xml);
    assert_eq!(payload["event"]["type"], "other");
    w.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_right_status_and_nothing_stored() {
    let w = Wecom::start_with(|c| c.server.body_limit_bytes = 64 * 1024).await;
    let a = acme();
    let good = a.encrypt(ADD_CONTACT.as_bytes());
    let mut tampered = good.clone().into_bytes();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let other_corp = CallbackCrypto::new(TOKEN, KEY, "wwsomeoneelse")
        .unwrap()
        .encrypt(ADD_CONTACT.as_bytes());
    let globex = CallbackCrypto::new(
        "otherToken",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "wx5823bf96d3bd56c7",
    )
    .unwrap();
    let globex_encrypt = globex.encrypt(ADD_CONTACT.as_bytes());
    let msg = ADD_CONTACT.as_bytes();
    let zero_pad = raw_frame_encrypt(KEY, &frame(msg, msg.len() as u32, CORP, Some(0)));
    let big_pad = raw_frame_encrypt(KEY, &frame(msg, msg.len() as u32, CORP, Some(40)));
    let beyond = raw_frame_encrypt(KEY, &frame(msg, 100_000, CORP, None));
    let not_utf8 = raw_frame_encrypt(KEY, &frame(&[0xff, 0xfe, 0xfd], 3, CORP, None));
    let doctype = a.encrypt(b"<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><ToUserName>&e;</ToUserName></xml>");
    let not_xml = a.encrypt(b"hello");
    let url_safe = good.replace('+', "-").replace('/', "_");
    let good_query = signed(&a, &good);

    let cases: Vec<(&str, String, String, StatusCode)> = vec![
        (
            "wrong signature",
            good_query.replace("msg_signature=", "msg_signature=0"),
            envelope(&good),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "uppercase signature",
            good_query
                .to_uppercase()
                .replace("MSG_SIGNATURE", "msg_signature")
                .replace("TIMESTAMP", "timestamp")
                .replace("NONCE", "nonce"),
            envelope(&good),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "signed with another tenant's token",
            signed(&globex, &globex_encrypt),
            envelope(&globex_encrypt),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "tampered ciphertext, signature of the original",
            good_query.clone(),
            envelope(&tampered),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "tampered ciphertext, re-signed",
            signed(&a, &tampered),
            envelope(&tampered),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad base64",
            signed(&a, "!!notbase64!!"),
            envelope("!!notbase64!!"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "url-safe base64",
            signed(&a, &url_safe),
            envelope(&url_safe),
            StatusCode::BAD_REQUEST,
        ),
        (
            "zero padding",
            signed(&a, &zero_pad),
            envelope(&zero_pad),
            StatusCode::BAD_REQUEST,
        ),
        (
            "padding over 32",
            signed(&a, &big_pad),
            envelope(&big_pad),
            StatusCode::BAD_REQUEST,
        ),
        (
            "length beyond the buffer",
            signed(&a, &beyond),
            envelope(&beyond),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong receive id",
            signed(&a, &other_corp),
            envelope(&other_corp),
            StatusCode::BAD_REQUEST,
        ),
        (
            "non-UTF-8 plaintext",
            signed(&a, &not_utf8),
            envelope(&not_utf8),
            StatusCode::BAD_REQUEST,
        ),
        (
            "DTD in the plaintext",
            signed(&a, &doctype),
            envelope(&doctype),
            StatusCode::BAD_REQUEST,
        ),
        (
            "plaintext not XML",
            signed(&a, &not_xml),
            envelope(&not_xml),
            StatusCode::BAD_REQUEST,
        ),
        (
            "DTD in the envelope",
            good_query.clone(),
            format!("<!DOCTYPE xml [<!ENTITY e \"{good}\">]><xml><Encrypt>&e;</Encrypt></xml>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "two Encrypt elements",
            good_query.clone(),
            format!("<xml><Encrypt>{good}</Encrypt><Encrypt>{good}</Encrypt></xml>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "missing Encrypt",
            good_query.clone(),
            "<xml><ToUserName>ww</ToUserName></xml>".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "malformed XML",
            good_query.clone(),
            format!("<xml><Encrypt>{good}</Encrypt>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "empty body",
            good_query.clone(),
            String::new(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "missing nonce",
            good_query.split("&nonce").next().unwrap().to_string(),
            envelope(&good),
            StatusCode::BAD_REQUEST,
        ),
        (
            "repeated parameter",
            format!("{good_query}&nonce=1"),
            envelope(&good),
            StatusCode::BAD_REQUEST,
        ),
        (
            "body over the limit",
            good_query.clone(),
            format!(
                "<xml><Encrypt>{good}</Encrypt><Pad>{}</Pad></xml>",
                "x".repeat(70 * 1024)
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (name, query, body, status) in cases {
        let response = w.post("acme", &query, body).await;
        assert_eq!(response.status(), status, "{name}");
    }
    let not_utf8_body = w.post("acme", &good_query, vec![0xffu8, 0xfe, 0x3c]).await;
    assert_eq!(not_utf8_body.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        w.post("initech", &good_query, envelope(&good))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(w.inbox_rows().await, 0, "nothing is stored from bad input");
    // The good callback still goes through afterwards.
    assert_eq!(
        w.post("acme", &good_query, envelope(&good)).await.status(),
        StatusCode::OK
    );
    assert_eq!(w.inbox_rows().await, 1);
    w.stop().await;
}

#[tokio::test]
async fn an_optional_clock_skew_limit_refuses_stale_callbacks() {
    let w = Wecom::start_with(|c| c.wecom[0].max_clock_skew_secs = Some(300)).await;
    // The official vector is from 2016.
    assert_eq!(
        w.post("acme", A2_QUERY, envelope(A2_ENCRYPT))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let now = (salesbot::pipeline::clock::now_ms() / 1000).to_string();
    let a = acme();
    let encrypt = a.encrypt(ADD_CONTACT.as_bytes());
    let query = format!(
        "msg_signature={}&timestamp={now}&nonce=1",
        a.signature(&now, "1", &encrypt)
    );
    assert_eq!(
        w.post("acme", &query, envelope(&encrypt)).await.status(),
        StatusCode::OK
    );
    w.stop().await;
}

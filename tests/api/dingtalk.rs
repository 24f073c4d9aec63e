//! DingTalk HTTP pushes end to end: check_url with the official vector, events stored once with
//! the encrypted success reply, and bad input refused with nothing stored.

use reqwest::StatusCode;
use salesbot::{
    app::{Extensions, Startup},
    config::{DingtalkConfig, Secret},
};
use salesbot_dingtalk::callback::{CallbackCrypto, Reply, SignedQuery};
use serde_json::Value;

use crate::helpers::{TestApp, TestDb, frame, raw_frame_encrypt};

/// Vector B of dingtalk.md §2.10 (the official Python self-test).
const TOKEN: &str = "mryue";
const KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";
const APP_KEY: &str = "ding6ccabc44d2c8d38b";
const APP_SECRET: &str = "app-secret";
const CARD_SECRET: &str = "card-route-secret";
const B_QUERY: &str =
    "msg_signature=03044561471240d4a14bb09372dfcfd4fd0e40cb&timestamp=1608001896814&nonce=WL4PK6yA";
const B_ENCRYPT: &str = "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3";

fn app() -> DingtalkConfig {
    DingtalkConfig {
        tenant: "acme".into(),
        app_key: APP_KEY.into(),
        app_secret: Secret::new(APP_SECRET),
        agent_id: 123456789,
        callback_token: Secret::new(TOKEN),
        aes_key: Secret::new(KEY),
        receive_id: None,
        mode: salesbot::config::DingtalkMode::Http,
        card_callback_secret: Some(Secret::new(CARD_SECRET)),
        api_base: "http://127.0.0.1:1".into(),
        oapi_base: "http://127.0.0.1:1".into(),
        rate_limit_per_minute: 600,
        request_timeout_secs: 5,
        card_template_id: None,
        card_callback_route_key: None,
        robot_code: None,
    }
}

fn crypto() -> CallbackCrypto {
    CallbackCrypto::new(TOKEN, KEY, APP_KEY).unwrap()
}

struct Ding {
    app: TestApp,
    t: TestDb,
}

impl Ding {
    async fn start() -> Self {
        let t = TestDb::sqlite().await;
        let mut config = t.config();
        config.server.body_limit_bytes = 64 * 1024;
        config.dingtalk = vec![app()];
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self { app, t }
    }

    async fn post(
        &self,
        tenant: &str,
        query: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let url = format!("{}/callbacks/dingtalk/{tenant}?{query}", self.app.address);
        self.app
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.app.stop().await;
        self.t.finish().await;
    }
}

fn body(encrypt: &str) -> String {
    serde_json::json!({ "encrypt": encrypt }).to_string()
}

/// A push as DingTalk sends it: the event encrypted and signed for acme.
fn push(json: &str) -> (String, String) {
    let c = crypto();
    let encrypt = c.encrypt(json.as_bytes());
    (signed(&encrypt), body(&encrypt))
}

fn signed(encrypt: &str) -> String {
    let (ts, nonce) = ("1717000000000", "Ab3dE6gH");
    format!(
        "msg_signature={}&timestamp={ts}&nonce={nonce}",
        crypto().signature(ts, nonce, encrypt)
    )
}

/// The reply must be the four-member JSON that opens to `success` with the app's crypto.
async fn assert_success_reply(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::OK);
    let json: Value = response.json().await.unwrap();
    let reply: Reply = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 4, "{json}");
    let query = SignedQuery {
        msg_signature: &reply.msg_signature,
        timestamp: &reply.time_stamp,
        nonce: &reply.nonce,
    };
    assert_eq!(crypto().open(&query, &reply.encrypt).unwrap(), "success");
}

const USER_ADD: &str = r#"{"EventType":"user_add_org","EventTime":1717000000000,"CorpId":"dingxxxxxxxx","eventId":"c7c7120f2c0741a9b0ebdba0318c8e11","timeStamp":"1717000000000","userId":["manager4220"]}"#;

#[tokio::test]
async fn check_url_with_the_official_vector_gets_the_encrypted_success_and_stores_nothing() {
    let d = Ding::start().await;
    assert_success_reply(d.post("acme", B_QUERY, body(B_ENCRYPT)).await).await;
    // The older spelling of the parameters works too.
    let legacy = B_QUERY
        .replace("msg_signature=", "signature=")
        .replace("timestamp=", "timeStamp=");
    assert_success_reply(d.post("acme", &legacy, body(B_ENCRYPT)).await).await;
    assert_eq!(d.t.count("SELECT COUNT(*) FROM inbox").await, 0);
    d.stop().await;
}

#[tokio::test]
async fn an_event_is_stored_once_however_often_it_is_pushed() {
    let d = Ding::start().await;
    for _ in 0..3 {
        let (query, body) = push(USER_ADD);
        assert_success_reply(d.post("acme", &query, body).await).await;
    }
    let events = d.t.inbox_events().await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.platform.as_str(), e.tenant.as_str(), e.kind.as_str()),
        ("dingtalk", "acme", "dingtalk.user_add_org")
    );
    assert_eq!(e.dedupe_key, "evt:c7c7120f2c0741a9b0ebdba0318c8e11");
    let payload: Value = serde_json::from_str(&e.payload).unwrap();
    assert_eq!(payload["data"]["userId"][0], "manager4220");
    // A legacy push without eventId is keyed by its fields.
    let legacy = r#"{"EventType":"user_add_org","TimeStamp":"1717000000000","CorpId":"dingxxxxxxxx","UserId":["rep001"]}"#;
    for _ in 0..2 {
        let (query, body) = push(legacy);
        assert_eq!(d.post("acme", &query, body).await.status(), StatusCode::OK);
    }
    assert_eq!(d.t.count("SELECT COUNT(*) FROM inbox").await, 2);
    let metrics = d.app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            r#"salesbot_callbacks_total{platform="dingtalk",tenant="acme",outcome="duplicate"} 3"#
        ),
        "{metrics}"
    );
    d.stop().await;
}

#[tokio::test]
async fn bad_pushes_are_refused_with_the_right_status_and_nothing_stored() {
    let d = Ding::start().await;
    let (good_query, good_body) = push(USER_ADD);
    let good_encrypt = serde_json::from_str::<Value>(&good_body).unwrap()["encrypt"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tampered = good_encrypt.clone().into_bytes();
    tampered[30] = if tampered[30] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let msg = USER_ADD.as_bytes();
    let bad_pad = raw_frame_encrypt(KEY, &frame(msg, msg.len() as u32, APP_KEY, Some(0)));
    let beyond = raw_frame_encrypt(KEY, &frame(msg, 90_000, APP_KEY, None));
    let corp_id = raw_frame_encrypt(KEY, &frame(msg, msg.len() as u32, "dingcorpid", None));
    let not_json = crypto().encrypt(b"not json");
    let no_type = crypto().encrypt(br#"{"eventId":"x"}"#);
    let cases: Vec<(&str, String, String, StatusCode)> = vec![
        (
            "wrong signature",
            good_query.replace("msg_signature=", "msg_signature=0"),
            good_body.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "tampered ciphertext, original signature",
            good_query.clone(),
            body(&tampered),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "tampered ciphertext, re-signed",
            signed(&tampered),
            body(&tampered),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad base64",
            signed("%%%"),
            body("%%%"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad padding",
            signed(&bad_pad),
            body(&bad_pad),
            StatusCode::BAD_REQUEST,
        ),
        (
            "length beyond the buffer",
            signed(&beyond),
            body(&beyond),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong receive id",
            signed(&corp_id),
            body(&corp_id),
            StatusCode::BAD_REQUEST,
        ),
        (
            "plaintext not JSON",
            signed(&not_json),
            body(&not_json),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no EventType",
            signed(&no_type),
            body(&no_type),
            StatusCode::BAD_REQUEST,
        ),
        (
            "malformed JSON body",
            good_query.clone(),
            "{\"encrypt\":".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "body without encrypt",
            good_query.clone(),
            "{}".into(),
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
            good_body.clone(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "body over the limit",
            good_query.clone(),
            format!("{{\"encrypt\":\"{}\"}}", "A".repeat(70 * 1024)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (name, query, body, status) in cases {
        assert_eq!(
            d.post("acme", &query, body).await.status(),
            status,
            "{name}"
        );
    }
    assert_eq!(
        d.post("initech", &good_query, good_body.clone())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(d.t.count("SELECT COUNT(*) FROM inbox").await, 0);
    assert_success_reply(d.post("acme", &good_query, good_body).await).await;
    assert_eq!(d.t.count("SELECT COUNT(*) FROM inbox").await, 1);
    d.stop().await;
}

const TAP: &str = r#"{"type":"actionCallback","outTrackId":"approval-7f3c2a-step-1","corpId":"dingxxxxxxxx","userId":"mgr001","content":"{\"cardPrivateData\":{\"actionIds\":[\"approve_btn\"],\"params\":{\"action\":\"approve\"}}}"}"#;

impl Ding {
    async fn post_with(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .post(format!("{}{path}", self.app.address))
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap()
    }
}

fn card_headers(secret: &str, timestamp_ms: i64) -> Vec<(&'static str, String)> {
    let ts = timestamp_ms.to_string();
    vec![
        ("x-ddpaas-signature-timestamp", ts.clone()),
        (
            "x-ddpaas-signature",
            salesbot_dingtalk::card_callback::sign(secret, &ts),
        ),
    ]
}

#[tokio::test]
async fn a_signed_card_tap_is_stored_once_and_a_forged_one_is_refused() {
    let d = Ding::start().await;
    let now = salesbot::pipeline::clock::now_ms();
    for _ in 0..2 {
        let response = d
            .post_with(
                "/callbacks/dingtalk/acme/card",
                &card_headers(CARD_SECRET, now),
                TAP,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            serde_json::json!({})
        );
    }
    let events = d.t.inbox_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "dingtalk.card_callback");
    assert_eq!(events[0].priority, salesbot::pipeline::inbox::PRIORITY_HIGH);
    let payload: Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(
        (
            payload["user_id"].as_str(),
            payload["params"]["action"].as_str()
        ),
        (Some("mgr001"), Some("approve"))
    );

    for (name, headers, body, status) in [
        (
            "wrong secret",
            card_headers("guess", now),
            TAP.to_string(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "stale timestamp",
            card_headers(CARD_SECRET, now - 3_600_000),
            TAP.to_string(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "no headers",
            Vec::new(),
            TAP.to_string(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "malformed body",
            card_headers(CARD_SECRET, now),
            "{\"outTrackId\":1}".to_string(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(
            d.post_with("/callbacks/dingtalk/acme/card", &headers, &body)
                .await
                .status(),
            status,
            "{name}"
        );
    }
    assert_eq!(
        d.post_with(
            "/callbacks/dingtalk/initech/card",
            &card_headers(CARD_SECRET, now),
            TAP
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(d.t.count("SELECT COUNT(*) FROM inbox").await, 1);
    d.stop().await;
}

#[tokio::test]
async fn a_signed_robot_message_is_stored_and_a_stale_or_forged_one_is_refused() {
    let d = Ding::start().await;
    let now = salesbot::pipeline::clock::now_ms();
    let body = r#"{"msgtype":"text","text":{"content":" tasks"},"msgId":"msgAbCdEf==","conversationType":"1","conversationId":"cid1","senderStaffId":"rep001","senderNick":"Rep"}"#;
    let headers = |secret: &str, ts: i64| {
        vec![
            ("timestamp", ts.to_string()),
            ("sign", salesbot_dingtalk::api::webhook_sign(secret, ts)),
        ]
    };
    for _ in 0..2 {
        assert_eq!(
            d.post_with(
                "/callbacks/dingtalk/acme/robot",
                &headers(APP_SECRET, now),
                body
            )
            .await
            .status(),
            StatusCode::OK
        );
    }
    let events = d.t.inbox_events().await;
    assert_eq!(
        (
            events.len(),
            events[0].kind.as_str(),
            events[0].dedupe_key.as_str()
        ),
        (1, "dingtalk.robot_message", "msg:msgAbCdEf==")
    );
    let payload: Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(payload["text"]["content"], "tasks");
    assert_eq!(
        d.post_with(
            "/callbacks/dingtalk/acme/robot",
            &headers("wrong", now),
            body
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        d.post_with(
            "/callbacks/dingtalk/acme/robot",
            &headers(APP_SECRET, now - 7_200_000),
            body
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        d.post_with(
            "/callbacks/dingtalk/acme/robot",
            &headers(APP_SECRET, now),
            "{}"
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(d.t.count("SELECT COUNT(*) FROM inbox").await, 1);
    d.stop().await;
}

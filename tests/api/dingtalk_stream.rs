//! DingTalk Stream mode end to end: the app connects out to a fake gateway, every frame lands in
//! the inbox before its ACK, and a dropped connection mid-burst loses nothing and stores nothing
//! twice.

use std::time::Duration;

use salesbot::{
    app::{Extensions, Startup},
    config::{DingtalkConfig, DingtalkMode, Secret},
};
use salesbot_dingtalk::{
    fake::{FakeDingtalk, FakeStreamGateway},
    stream::{CARD_CALLBACK_TOPIC, ROBOT_MESSAGE_TOPIC},
};
use serde_json::json;

use crate::helpers::{TestApp, TestDb, wait_until};

fn stream_app(gateway: &FakeStreamGateway) -> DingtalkConfig {
    DingtalkConfig {
        tenant: "acme".into(),
        app_key: FakeDingtalk::APP_KEY.into(),
        app_secret: Secret::new(FakeDingtalk::APP_SECRET),
        agent_id: 1,
        callback_token: Secret::new("mryue"),
        aes_key: Secret::new("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"),
        receive_id: None,
        mode: DingtalkMode::Stream,
        card_callback_secret: None,
        api_base: gateway.stream_config().api_base_url,
        oapi_base: "http://127.0.0.1:1".into(),
        rate_limit_per_minute: 600,
        request_timeout_secs: 5,
        card_template_id: None,
        card_callback_route_key: None,
        robot_code: None,
    }
}

async fn start() -> (FakeStreamGateway, TestApp, TestDb) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let gateway = FakeStreamGateway::start().await;
    let t = TestDb::sqlite().await;
    let mut config = t.config();
    config.dingtalk = vec![stream_app(&gateway)];
    let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
    assert!(
        wait_until(Duration::from_secs(10), || async { gateway.is_connected() }).await,
        "the app never connected"
    );
    (gateway, app, t)
}

#[tokio::test]
async fn stream_events_robot_messages_and_card_taps_are_stored_then_acked() {
    let (gateway, app, t) = start().await;
    let event = gateway.push_event(
        "evt-001",
        "user_add_org",
        &json!({ "timeStamp": "1717000000000", "userId": ["rep001"] }),
    );
    let robot = gateway.push_callback(ROBOT_MESSAGE_TOPIC, &json!({ "msgtype": "text", "text": { "content": " tasks" }, "msgId": "msg-1", "senderStaffId": "rep001" }));
    let card = gateway.push_callback(
        CARD_CALLBACK_TOPIC,
        &json!({ "type": "actionCallback", "outTrackId": "card-1", "userId": "mgr001", "content": "{\"cardPrivateData\":{\"actionIds\":[\"approve\"],\"params\":{}}}" }),
    );
    for id in [&event, &robot, &card] {
        assert!(
            wait_until(Duration::from_secs(10), || async {
                !gateway.acks_for(id).is_empty()
            })
            .await,
            "no ACK for {id}"
        );
        assert_eq!(
            gateway.acks_for(id)[0].code,
            200,
            "{:?}",
            gateway.acks_for(id)
        );
    }
    let mut kinds: Vec<String> = t
        .inbox_events()
        .await
        .into_iter()
        .map(|e| format!("{} {}", e.kind, e.dedupe_key))
        .collect();
    kinds.sort();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(
        kinds.contains(&"dingtalk.user_add_org evt:evt-001".to_string()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"dingtalk.robot_message msg:msg-1".to_string()),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|k| k.starts_with("dingtalk.card_callback card:")),
        "{kinds:?}"
    );
    // A frame salesbot cannot use gets an error ACK and stores nothing; the connection stays.
    let unknown = gateway.push_callback("/v1.0/something/else", &json!({}));
    assert!(
        wait_until(Duration::from_secs(10), || async {
            !gateway.acks_for(&unknown).is_empty()
        })
        .await
    );
    assert_ne!(gateway.acks_for(&unknown)[0].code, 200);
    assert_eq!(t.count("SELECT COUNT(*) FROM inbox").await, 3);
    assert_eq!(gateway.connections().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_connection_dropped_mid_burst_loses_no_event_and_stores_none_twice() {
    let (gateway, app, t) = start().await;
    let ids: Vec<String> = (0..20).map(|n| format!("evt-{n:03}")).collect();
    let push = |n: usize| {
        gateway.push_event(
            &ids[n],
            "chat_add_member",
            &json!({ "chatId": "chat1", "userId": [format!("rep{n}")] }),
        )
    };
    let first: Vec<String> = (0..10).map(push).collect();
    // Half the burst is stored and ACKed, the other half is in flight when the connection drops.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            first[..5].iter().all(|m| !gateway.acks_for(m).is_empty())
        })
        .await
    );
    gateway.drop_connection();
    // The app reconnects with a fresh ticket; the rest of the burst arrives on the new connection,
    // and DingTalk redelivers whatever it has no ACK for.
    assert!(
        wait_until(Duration::from_secs(20), || async {
            gateway.connections().len() >= 2 && gateway.is_connected()
        })
        .await
    );
    (10..20).for_each(|n| {
        push(n);
    });
    let redelivered = gateway.redeliver_unacked();
    println!("redelivered after the drop: {redelivered}");
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM inbox", 20).await,
        "not every event arrived"
    );
    let keys: std::collections::BTreeSet<String> = t
        .inbox_events()
        .await
        .into_iter()
        .map(|e| e.dedupe_key)
        .collect();
    assert_eq!(keys.len(), 20);
    assert!(ids.iter().all(|id| keys.contains(&format!("evt:{id}"))));
    assert!(
        gateway.tickets().len() >= 2,
        "the reconnect used a fresh ticket"
    );
    app.stop().await;
}

//! Stream mode against the fake gateway: delivery to the sink before the ACK, error ACKs that
//! keep the connection, SYSTEM frames, reconnection with a fresh ticket, and shutdown.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use salesbot_dingtalk::fake::FakeStreamGateway;
use salesbot_dingtalk::stream::{
    CARD_CALLBACK_TOPIC, FrameSink, MessageKind, ROBOT_MESSAGE_TOPIC, SinkError, StreamClient,
    StreamMessage, Subscription, ack_code,
};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::*;

/// How long any awaited condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);

/// A sink that records every delivery, stores each event once by `eventId`, can be told to
/// fail, and can hold its answer until released.
#[derive(Default)]
struct TestSink {
    seen: Mutex<Vec<StreamMessage>>,
    stored: Mutex<BTreeMap<String, Value>>,
    fail: AtomicBool,
    hold: HoldGate,
}

struct HoldGate(watch::Sender<bool>);

impl Default for HoldGate {
    fn default() -> Self {
        Self(watch::Sender::new(false))
    }
}

impl TestSink {
    fn hold(&self, hold: bool) {
        self.hold.0.send_replace(hold);
    }

    fn seen(&self) -> Vec<StreamMessage> {
        self.seen.lock().unwrap().clone()
    }

    fn stored(&self) -> BTreeMap<String, Value> {
        self.stored.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl FrameSink for TestSink {
    async fn deliver(&self, message: StreamMessage) -> Result<(), SinkError> {
        self.seen.lock().unwrap().push(message.clone());
        if self.fail.load(Ordering::SeqCst) {
            return Err(SinkError::new("the store is down"));
        }
        let key = message.event_id().unwrap_or(&message.message_id).to_owned();
        self.stored
            .lock()
            .unwrap()
            .entry(key)
            .or_insert(message.data);
        let mut hold = self.hold.0.subscribe();
        let _ = hold.wait_for(|hold| !*hold).await;
        Ok(())
    }
}

/// Waits until `condition` holds, failing the test after [`DEADLINE`].
async fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

struct Running {
    fake: FakeStreamGateway,
    sink: Arc<TestSink>,
    shutdown: CancellationToken,
    run: JoinHandle<()>,
}

/// A fake gateway and a client connected to it.
async fn connected() -> Running {
    let fake = FakeStreamGateway::start().await;
    let client = StreamClient::new(fake.stream_config(), Subscription::events_robot_and_cards())
        .expect("client builds");
    let sink = Arc::new(TestSink::default());
    let shutdown = CancellationToken::new();
    let run = tokio::spawn({
        let sink: Arc<dyn FrameSink> = sink.clone();
        let shutdown = shutdown.clone();
        async move { client.run(sink, shutdown).await }
    });
    wait_for("the first connection", || fake.is_connected()).await;
    Running {
        fake,
        sink,
        shutdown,
        run,
    }
}

fn ack_code_of(fake: &FakeStreamGateway, message_id: &str) -> Option<i64> {
    fake.acks_for(message_id).last().map(|ack| ack.code)
}

#[tokio::test]
async fn the_client_opens_with_its_credentials_and_subscriptions_and_uses_the_ticket() {
    let Running { fake, .. } = connected().await;

    let opens = fake.open_requests();
    assert_eq!(opens.len(), 1);
    assert_eq!(opens[0].client_id, FakeDingtalk::APP_KEY);
    assert_eq!(
        opens[0].subscriptions,
        json!([
            { "type": "EVENT", "topic": "*" },
            { "type": "CALLBACK", "topic": ROBOT_MESSAGE_TOPIC },
            { "type": "CALLBACK", "topic": CARD_CALLBACK_TOPIC },
        ])
    );
    assert_eq!(fake.connections(), fake.tickets());
}

#[tokio::test]
async fn an_event_reaches_the_sink_and_is_acked_only_after_the_sink_returns() {
    let Running { fake, sink, .. } = connected().await;
    sink.hold(true);

    let id = fake.push_event("ev-1", "user_add_org", &json!({ "userId": ["rep001"] }));
    wait_for("the delivery", || sink.seen().len() == 1).await;
    // A ping answered after the delivery shows the client is reading, yet the event waits.
    let ping = fake.ping();
    wait_for("the pong", || fake.ping_answered(&ping)).await;
    assert!(fake.acks_for(&id).is_empty());

    sink.hold(false);
    wait_for("the ACK", || !fake.acks_for(&id).is_empty()).await;
    let ack = &fake.acks_for(&id)[0];
    assert_eq!(ack.code, i64::from(ack_code::OK));
    assert_eq!(ack.data_json()["status"], "SUCCESS");
    let message = &sink.seen()[0];
    assert_eq!(message.kind, MessageKind::Event);
    assert_eq!(message.topic, "*");
    assert_eq!(message.message_id, id);
    assert_eq!(message.event_type(), Some("user_add_org"));
    assert_eq!(message.event_id(), Some("ev-1"));
    assert_eq!(message.event_corp_id(), Some(FakeDingtalk::CORP_ID));
    assert!(message.event_born_time().is_some());
    assert_eq!(message.data, json!({ "userId": ["rep001"] }));
}

#[tokio::test]
async fn robot_and_card_callbacks_reach_the_sink_and_are_acked_with_a_response() {
    let Running { fake, sink, .. } = connected().await;

    let robot = fake.push_callback(ROBOT_MESSAGE_TOPIC, &json!({ "msgId": "m1" }));
    let card = fake.push_callback(CARD_CALLBACK_TOPIC, &json!({ "outTrackId": "c1" }));
    wait_for("both ACKs", || {
        ack_code_of(&fake, &robot).is_some() && ack_code_of(&fake, &card).is_some()
    })
    .await;

    assert_eq!(
        fake.acks_for(&robot)[0].data_json(),
        json!({ "response": null })
    );
    assert_eq!(
        fake.acks_for(&card)[0].data_json(),
        json!({ "response": {} })
    );
    let topics: Vec<_> = sink
        .seen()
        .iter()
        .map(|m| (m.kind, m.topic.clone()))
        .collect();
    assert!(topics.contains(&(MessageKind::Callback, CARD_CALLBACK_TOPIC.to_owned())));
    assert!(topics.contains(&(MessageKind::Callback, ROBOT_MESSAGE_TOPIC.to_owned())));
}

#[tokio::test]
async fn a_failing_sink_gets_an_error_ack_and_the_connection_stays_up() {
    let Running { fake, sink, .. } = connected().await;
    sink.fail.store(true, Ordering::SeqCst);

    let failed = fake.push_event("ev-1", "user_add_org", &json!({}));
    wait_for("the error ACK", || ack_code_of(&fake, &failed).is_some()).await;
    sink.fail.store(false, Ordering::SeqCst);
    let handled = fake.push_event("ev-2", "user_add_org", &json!({}));
    wait_for("the ACK", || ack_code_of(&fake, &handled).is_some()).await;

    let error = &fake.acks_for(&failed)[0];
    assert_eq!(error.code, i64::from(ack_code::INTERNAL_ERROR));
    assert_eq!(error.data_json()["status"], "LATER");
    assert_eq!(ack_code_of(&fake, &handled), Some(i64::from(ack_code::OK)));
    assert_eq!(fake.connections().len(), 1);
}

#[tokio::test]
async fn pings_are_answered_with_their_message_id_and_data() {
    let Running { fake, .. } = connected().await;

    let pings = [fake.ping(), fake.ping()];

    for ping in &pings {
        wait_for("the pong", || fake.ping_answered(ping)).await;
    }
    assert_eq!(fake.connections().len(), 1);
}

#[tokio::test]
async fn malformed_frames_and_unknown_types_are_acked_with_errors_and_the_connection_is_kept() {
    let Running { fake, sink, .. } = connected().await;

    fake.push_raw("this is not JSON");
    fake.push_raw(
        json!({ "type": "EVENT", "headers": { "topic": "*", "messageId": "bad-data" }, "data": "{not json" })
            .to_string(),
    );
    fake.push_raw(
        json!({ "type": "TELEMETRY", "headers": { "topic": "x", "messageId": "odd-type" }, "data": "{}" })
            .to_string(),
    );
    let good = fake.push_event("ev-1", "user_add_org", &json!({}));
    wait_for("the ACKs", || {
        ["bad-data", "odd-type", good.as_str()]
            .iter()
            .all(|id| ack_code_of(&fake, id).is_some())
    })
    .await;

    assert_eq!(
        ack_code_of(&fake, "bad-data"),
        Some(i64::from(ack_code::BAD_REQUEST))
    );
    assert_eq!(
        ack_code_of(&fake, "odd-type"),
        Some(i64::from(ack_code::NOT_FOUND))
    );
    assert_eq!(ack_code_of(&fake, &good), Some(i64::from(ack_code::OK)));
    assert_eq!(fake.acks().len(), 3);
    assert_eq!(sink.seen().len(), 1);
    assert_eq!(fake.connections().len(), 1);
}

#[tokio::test]
async fn a_drop_mid_burst_is_followed_by_a_new_ticket_and_every_event_is_stored_once() {
    let Running { fake, sink, .. } = connected().await;
    let first: Vec<String> = (0..5)
        .map(|i| fake.push_event(&format!("ev-{i}"), "user_add_org", &json!({ "n": i })))
        .collect();
    wait_for("the first half ACKed", || {
        first.iter().all(|id| ack_code_of(&fake, id).is_some())
    })
    .await;

    // The second half reaches the sink, which stores it, but the connection drops before the
    // sink returns, so none of it is ACKed.
    sink.hold(true);
    for i in 5..10 {
        fake.push_event(&format!("ev-{i}"), "user_add_org", &json!({ "n": i }));
    }
    wait_for("the second half delivered", || sink.seen().len() == 10).await;
    fake.drop_connection();
    wait_for("the reconnection", || {
        fake.connections().len() == 2 && fake.is_connected()
    })
    .await;
    sink.hold(false);
    assert_eq!(fake.redeliver_unacked(), 5);
    wait_for("every event ACKed", || {
        fake.acks().iter().filter(|ack| ack.code == 200).count() == 10
    })
    .await;

    let tickets = fake.tickets();
    assert_eq!(tickets.len(), 2);
    assert_ne!(tickets[0], tickets[1]);
    assert_eq!(fake.connections(), tickets);
    assert_eq!(fake.rejected_connections(), 0);
    let seen: std::collections::BTreeSet<_> = sink
        .seen()
        .iter()
        .filter_map(|m| m.event_id().map(str::to_owned))
        .collect();
    let expected: std::collections::BTreeSet<_> = (0..10).map(|i| format!("ev-{i}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(sink.seen().len(), 15);
    let stored = sink.stored();
    assert_eq!(
        stored
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        expected
    );
    assert_eq!(stored["ev-7"], json!({ "n": 7 }));
    assert_eq!(
        fake.acks().iter().filter(|ack| ack.connection == 1).count(),
        5
    );
}

#[tokio::test]
async fn a_disconnect_announcement_makes_the_client_reconnect_with_a_new_ticket() {
    let Running { fake, .. } = connected().await;

    fake.announce_disconnect();
    wait_for("the reconnection", || {
        fake.connections().len() == 2 && fake.is_connected()
    })
    .await;

    let tickets = fake.tickets();
    assert_ne!(tickets[0], tickets[1]);
    assert_eq!(fake.connections(), tickets);
}

#[tokio::test]
async fn wrong_credentials_are_retried_and_never_connect() {
    let fake = FakeStreamGateway::start().await;
    let mut config = fake.stream_config();
    config.client_secret = "wrong-secret".to_owned().into();
    let client = StreamClient::new(config, Subscription::events_robot_and_cards()).unwrap();
    let shutdown = CancellationToken::new();
    let run = tokio::spawn({
        let shutdown = shutdown.clone();
        let sink: Arc<dyn FrameSink> = Arc::new(TestSink::default());
        async move { client.run(sink, shutdown).await }
    });

    wait_for("a retry", || fake.open_requests().len() >= 2).await;
    shutdown.cancel();
    tokio::time::timeout(DEADLINE, run).await.unwrap().unwrap();

    assert!(fake.open_requests().iter().all(|open| !open.accepted));
    assert!(fake.tickets().is_empty());
}

#[tokio::test]
async fn cancelling_shutdown_ends_run_and_closes_the_connection() {
    let Running {
        fake,
        shutdown,
        run,
        ..
    } = connected().await;

    shutdown.cancel();

    tokio::time::timeout(DEADLINE, run)
        .await
        .expect("run ends after shutdown")
        .expect("run does not panic");
    wait_for("the connection closed", || !fake.is_connected()).await;
    assert_eq!(fake.connections().len(), 1);
}

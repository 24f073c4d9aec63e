//! A fake Stream gateway (dingtalk.md §4): `connections/open` issuing one-time tickets, and a
//! loopback WebSocket that accepts only an unused ticket, pushes the frames a test asks for,
//! records every ACK, and can drop the connection on demand.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request, Response as WsResponse,
};
use tokio_util::sync::CancellationToken;

use super::FakeDingtalk;
use super::state::{now_ms, random_id};
use crate::stream::{OPEN_CONNECTION_PATH, StreamConfig};

/// One `connections/open` call, without the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRequestRecord {
    /// `clientId`.
    pub client_id: String,
    /// `subscriptions`, as sent.
    pub subscriptions: Value,
    /// Whether the credentials were right, so a ticket was issued.
    pub accepted: bool,
}

/// One ACK frame received from the client.
#[derive(Debug, Clone, PartialEq)]
pub struct AckRecord {
    /// `headers.messageId`.
    pub message_id: String,
    /// `code`.
    pub code: i64,
    /// `message`.
    pub message: String,
    /// `data`, the JSON string as sent.
    pub data: String,
    /// Which connection (index into [`FakeStreamGateway::connections`]) carried it.
    pub connection: usize,
}

impl AckRecord {
    /// `data` parsed as JSON.
    pub fn data_json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
}

enum Command {
    Send(String),
    Drop,
}

#[derive(Default)]
struct GatewayState {
    open_requests: Vec<OpenRequestRecord>,
    tickets: Vec<String>,
    used_tickets: HashSet<String>,
    connections: Vec<String>,
    rejected_connections: usize,
    current: Option<(usize, mpsc::UnboundedSender<Command>)>,
    /// `EVENT` and `CALLBACK` frames pushed so far, for redelivery: (message id, frame).
    pushed: Vec<(String, String)>,
    pings: Vec<(String, String)>,
    acks: Vec<AckRecord>,
}

type Shared = Arc<Mutex<GatewayState>>;

fn lock(shared: &Shared) -> MutexGuard<'_, GatewayState> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake gateway. Dropping it closes every connection.
pub struct FakeStreamGateway {
    base_url: String,
    shared: Shared,
    stop: CancellationToken,
}

impl std::fmt::Debug for FakeStreamGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeStreamGateway")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl FakeStreamGateway {
    /// Starts `connections/open` and the WebSocket on loopback ports of the current runtime. It
    /// accepts the credentials [`FakeDingtalk::APP_KEY`] and [`FakeDingtalk::APP_SECRET`].
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        let http = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let ws = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let base_url = format!("http://{}", http.local_addr().expect("local address"));
        let endpoint = format!("ws://{}/connect", ws.local_addr().expect("local address"));
        let shared = Shared::default();
        let stop = CancellationToken::new();
        let router = axum::Router::new()
            .route(&format!("/{OPEN_CONNECTION_PATH}"), post(open))
            .with_state((Arc::clone(&shared), endpoint));
        let serving = stop.clone();
        tokio::spawn(async move {
            let server =
                axum::serve(http, router).with_graceful_shutdown(serving.cancelled_owned());
            let _ = server.await;
        });
        tokio::spawn(accept_loop(ws, Arc::clone(&shared), stop.clone()));
        Self {
            base_url,
            shared,
            stop,
        }
    }

    /// A client configuration for the fake app with short timings for tests.
    pub fn stream_config(&self) -> StreamConfig {
        StreamConfig {
            api_base_url: self.base_url.clone(),
            min_backoff: std::time::Duration::from_millis(10),
            max_backoff: std::time::Duration::from_millis(200),
            ..StreamConfig::new(FakeDingtalk::APP_KEY, FakeDingtalk::APP_SECRET)
        }
    }

    /// Pushes an `EVENT` frame with these headers and `data` as its JSON string; returns the
    /// frame's `messageId`.
    ///
    /// # Panics
    /// If no connection is open.
    pub fn push_event(&self, event_id: &str, event_type: &str, data: &Value) -> String {
        let message_id = message_id();
        let now = now_ms().to_string();
        let frame = json!({
            "specVersion": "1.0",
            "type": "EVENT",
            "headers": {
                "topic": "*", "messageId": message_id, "contentType": "application/json",
                "time": now, "eventType": event_type, "eventId": event_id, "eventBornTime": now,
                "eventCorpId": FakeDingtalk::CORP_ID, "eventUnifiedAppId": "fake-unified-app-id",
            },
            "data": data.to_string(),
        });
        self.push_message(message_id, frame)
    }

    /// Pushes a `CALLBACK` frame on `topic` with `data` as its JSON string; returns its
    /// `messageId`.
    ///
    /// # Panics
    /// If no connection is open.
    pub fn push_callback(&self, topic: &str, data: &Value) -> String {
        let message_id = message_id();
        let frame = json!({
            "specVersion": "1.0",
            "type": "CALLBACK",
            "headers": {
                "topic": topic, "messageId": message_id, "contentType": "application/json",
                "time": now_ms(), "appId": "fake-app-id",
            },
            "data": data.to_string(),
        });
        self.push_message(message_id, frame)
    }

    fn push_message(&self, message_id: String, frame: Value) -> String {
        let text = frame.to_string();
        lock(&self.shared)
            .pushed
            .push((message_id.clone(), text.clone()));
        self.push_raw(text);
        message_id
    }

    /// Sends `text` as it is, e.g. a malformed frame; it is not kept for redelivery.
    ///
    /// # Panics
    /// If no connection is open.
    pub fn push_raw(&self, text: impl Into<String>) {
        self.command(Command::Send(text.into()));
    }

    /// Sends a `SYSTEM` `ping` with a fresh `opaque`; returns its `messageId`.
    pub fn ping(&self) -> String {
        let message_id = message_id();
        let data = json!({ "opaque": random_id(16) }).to_string();
        lock(&self.shared)
            .pings
            .push((message_id.clone(), data.clone()));
        let frame = json!({
            "specVersion": "1.0", "type": "SYSTEM",
            "headers": { "topic": "ping", "messageId": message_id, "contentType": "application/json", "time": now_ms().to_string() },
            "data": data,
        });
        self.push_raw(frame.to_string());
        message_id
    }

    /// Whether the ping `message_id` was answered with code 200 and the same `data`.
    pub fn ping_answered(&self, message_id: &str) -> bool {
        let state = lock(&self.shared);
        let Some((_, data)) = state.pings.iter().find(|(id, _)| id == message_id) else {
            return false;
        };
        state
            .acks
            .iter()
            .any(|ack| ack.message_id == message_id && ack.code == 200 && ack.data == *data)
    }

    /// Sends a `SYSTEM` `disconnect`, as DingTalk does before rotating a connection.
    pub fn announce_disconnect(&self) {
        let frame = json!({
            "specVersion": "1.0", "type": "SYSTEM",
            "headers": { "topic": "disconnect", "messageId": message_id(), "contentType": "application/json" },
            "data": json!({ "reason": "load balancing" }).to_string(),
        });
        self.push_raw(frame.to_string());
    }

    /// Drops the open connection without a closing handshake, as a network failure would.
    pub fn drop_connection(&self) {
        self.command(Command::Drop);
    }

    /// Pushes again, on the open connection, every `EVENT` and `CALLBACK` frame that has no
    /// 200 ACK yet, as DingTalk redelivers; returns how many.
    pub fn redeliver_unacked(&self) -> usize {
        let frames: Vec<String> = {
            let state = lock(&self.shared);
            state
                .pushed
                .iter()
                .filter(|(id, _)| {
                    !state
                        .acks
                        .iter()
                        .any(|ack| ack.message_id == *id && ack.code == 200)
                })
                .map(|(_, frame)| frame.clone())
                .collect()
        };
        for frame in &frames {
            self.push_raw(frame.clone());
        }
        frames.len()
    }

    fn command(&self, command: Command) {
        let state = lock(&self.shared);
        let (_, sender) = state.current.as_ref().expect("a Stream connection is open");
        let _ = sender.send(command);
    }

    /// Whether a connection is open now.
    pub fn is_connected(&self) -> bool {
        lock(&self.shared).current.is_some()
    }

    /// Every `connections/open` call, in order.
    pub fn open_requests(&self) -> Vec<OpenRequestRecord> {
        lock(&self.shared).open_requests.clone()
    }

    /// Every ticket issued, in order.
    pub fn tickets(&self) -> Vec<String> {
        lock(&self.shared).tickets.clone()
    }

    /// The ticket of every accepted connection, in order.
    pub fn connections(&self) -> Vec<String> {
        lock(&self.shared).connections.clone()
    }

    /// How many WebSocket handshakes were refused for a missing, unknown or used ticket.
    pub fn rejected_connections(&self) -> usize {
        lock(&self.shared).rejected_connections
    }

    /// Every ACK received, in order.
    pub fn acks(&self) -> Vec<AckRecord> {
        lock(&self.shared).acks.clone()
    }

    /// The ACKs of the frame `message_id`, in order.
    pub fn acks_for(&self, message_id: &str) -> Vec<AckRecord> {
        let state = lock(&self.shared);
        state
            .acks
            .iter()
            .filter(|ack| ack.message_id == message_id)
            .cloned()
            .collect()
    }
}

impl Drop for FakeStreamGateway {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn message_id() -> String {
    format!(
        "{}_{}",
        random_id(8).to_lowercase(),
        random_id(6).to_lowercase()
    )
}

/// `POST /v1.0/gateway/connections/open` (dingtalk.md §4.1).
async fn open(
    AxumState((shared, endpoint)): AxumState<(Shared, String)>,
    Json(body): Json<Value>,
) -> Response {
    let field = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or("");
    let subscriptions = body.get("subscriptions").cloned().unwrap_or(Value::Null);
    let accepted = field("clientId") == FakeDingtalk::APP_KEY
        && field("clientSecret") == FakeDingtalk::APP_SECRET
        && subscriptions
            .as_array()
            .is_some_and(|list| !list.is_empty());
    let mut state = lock(&shared);
    state.open_requests.push(OpenRequestRecord {
        client_id: field("clientId").to_owned(),
        subscriptions,
        accepted,
    });
    if !accepted {
        let body = json!({ "code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret", "requestid": random_id(16) });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let ticket = random_id(36);
    state.tickets.push(ticket.clone());
    Json(json!({ "endpoint": endpoint, "ticket": ticket })).into_response()
}

async fn accept_loop(listener: TcpListener, shared: Shared, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        if let Ok((tcp, _)) = accepted {
            tokio::spawn(serve_socket(tcp, Arc::clone(&shared), stop.clone()));
        }
    }
}

/// Takes the ticket of a handshake if it was issued and not used yet (dingtalk.md §4.2).
fn take_ticket(shared: &Shared, request: &Request) -> Option<String> {
    let query = request.uri().query().unwrap_or("");
    let ticket = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("ticket="))?;
    let mut state = lock(shared);
    let valid = request.uri().path() == "/connect"
        && state.tickets.iter().any(|issued| issued == ticket)
        && state.used_tickets.insert(ticket.to_owned());
    valid.then(|| ticket.to_owned())
}

async fn serve_socket(tcp: TcpStream, shared: Shared, stop: CancellationToken) {
    let mut ticket = None;
    // The handshake callback's signature is tungstenite's.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: WsResponse| -> Result<WsResponse, ErrorResponse> {
        ticket = take_ticket(&shared, request);
        if ticket.is_some() {
            return Ok(response);
        }
        let mut refusal = ErrorResponse::new(Some("invalid ticket".to_owned()));
        *refusal.status_mut() = StatusCode::UNAUTHORIZED;
        Err(refusal)
    };
    let accepted = tokio_tungstenite::accept_hdr_async(tcp, check).await;
    let (Ok(mut socket), Some(ticket)) = (accepted, ticket) else {
        lock(&shared).rejected_connections += 1;
        return;
    };
    let (sender, mut commands) = mpsc::unbounded_channel();
    let index = {
        let mut state = lock(&shared);
        state.connections.push(ticket);
        let index = state.connections.len() - 1;
        state.current = Some((index, sender));
        index
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            command = commands.recv() => match command {
                Some(Command::Send(text)) => {
                    if socket.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Command::Drop) | None => break,
            },
            received = socket.next() => match received {
                Some(Ok(Message::Text(text))) => record_ack(&shared, index, text.as_str()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let mut state = lock(&shared);
    if state
        .current
        .as_ref()
        .is_some_and(|(current, _)| *current == index)
    {
        state.current = None;
    }
}

fn record_ack(shared: &Shared, connection: usize, text: &str) {
    let Ok(ack) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let text_of = |value: &Value| value.as_str().unwrap_or("").to_owned();
    lock(shared).acks.push(AckRecord {
        message_id: text_of(&ack["headers"]["messageId"]),
        code: ack["code"].as_i64().unwrap_or(0),
        message: text_of(&ack["message"]),
        data: text_of(&ack["data"]),
        connection,
    });
}

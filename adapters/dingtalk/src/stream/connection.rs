//! One open connection: read frames, hand events and callbacks to the sink concurrently, ACK
//! each once its sink call has returned, answer SYSTEM frames, and watch liveness
//! (dingtalk.md §4.3–§4.5, §4.7).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::ack::Ack;
use super::frame::{Inbound, MessageKind, StreamMessage, parse};
use super::open::Socket;
use super::sink::FrameSink;

/// Liveness settings of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Liveness {
    pub(crate) ping_interval: Duration,
    pub(crate) pong_timeout: Duration,
    pub(crate) silence_timeout: Duration,
}

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum Ended {
    /// Shutdown was requested; the connection was closed.
    Shutdown,
    /// DingTalk announced a `disconnect`: reconnect at once.
    Disconnect,
    /// The peer closed the connection or it failed.
    Lost(String),
}

/// The outcome of [`serve`]: why it ended and how many messages went to the sink.
pub(crate) struct Served {
    pub(crate) ended: Ended,
    pub(crate) delivered: u64,
}

/// Serves `socket` until it ends or `shutdown` is cancelled. Sink calls still running when the
/// connection ends are abandoned un-ACKed: DingTalk pushes those frames again.
pub(crate) async fn serve(
    socket: Socket,
    sink: &Arc<dyn FrameSink>,
    liveness: Liveness,
    shutdown: &CancellationToken,
) -> Served {
    let (mut writer, mut reader) = socket.split();
    let mut deliveries: JoinSet<Ack> = JoinSet::new();
    let mut delivered = 0;
    let mut last_heard = Instant::now();
    let mut last_frame = Instant::now();
    let mut pings = tokio::time::interval_at(
        Instant::now() + liveness.ping_interval,
        liveness.ping_interval,
    );
    let ended = loop {
        tokio::select! {
            () = shutdown.cancelled() => {
                let _ = writer.send(Message::Close(None)).await;
                break Ended::Shutdown;
            }
            Some(joined) = deliveries.join_next(), if !deliveries.is_empty() => {
                let Ok(ack) = joined else {
                    tracing::error!("a stream sink panicked; its frame stays un-ACKed and will be redelivered");
                    continue;
                };
                if let Err(err) = writer.send(Message::text(ack.to_text())).await {
                    break Ended::Lost(format!("sending an ACK failed: {err}"));
                }
            }
            received = reader.next() => {
                last_heard = Instant::now();
                let text = match received {
                    Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                    Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
                    // tungstenite queues the pong itself; flushing sends it.
                    Some(Ok(Message::Ping(_))) => {
                        if let Err(err) = writer.flush().await {
                            break Ended::Lost(format!("answering a WebSocket ping failed: {err}"));
                        }
                        continue;
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(frame))) => {
                        let reason = frame.map(|frame| frame.reason.to_string()).unwrap_or_default();
                        break Ended::Lost(format!("closed by DingTalk: {reason}"));
                    }
                    Some(Err(err)) => break Ended::Lost(err.to_string()),
                    None => break Ended::Lost("connection ended".to_owned()),
                };
                last_frame = Instant::now();
                let reply = match parse(&text) {
                    Inbound::Message(message) => {
                        delivered += 1;
                        deliveries.spawn(deliver(Arc::clone(sink), message));
                        None
                    }
                    Inbound::Ping { message_id, data } => Some(Ack::pong(message_id, data)),
                    Inbound::Disconnect { message_id, reason } => {
                        tracing::info!(reason = reason.as_deref().unwrap_or(""), "DingTalk announced a Stream disconnect");
                        if let Some(message_id) = message_id {
                            let _ = writer.send(Message::text(Ack::ok(message_id).to_text())).await;
                        }
                        let _ = writer.send(Message::Close(None)).await;
                        break Ended::Disconnect;
                    }
                    Inbound::OtherSystem { message_id, topic } => {
                        tracing::info!(%topic, "informational Stream SYSTEM frame");
                        message_id.map(Ack::ok)
                    }
                    Inbound::Unsupported { message_id, kind } => {
                        tracing::warn!(%kind, message_id = message_id.as_deref().unwrap_or(""), "Stream frame of an unknown type");
                        message_id.map(Ack::unsupported)
                    }
                    Inbound::Malformed { message_id, reason } => {
                        tracing::warn!(reason, bytes = text.len(), message_id = message_id.as_deref().unwrap_or(""), "malformed Stream frame");
                        message_id.map(Ack::malformed)
                    }
                };
                if let Some(ack) = reply
                    && let Err(err) = writer.send(Message::text(ack.to_text())).await
                {
                    break Ended::Lost(format!("sending an ACK failed: {err}"));
                }
            }
            _ = pings.tick() => {
                if last_heard.elapsed() > liveness.ping_interval + liveness.pong_timeout {
                    break Ended::Lost("no answer to WebSocket pings".to_owned());
                }
                if last_frame.elapsed() > liveness.silence_timeout {
                    break Ended::Lost("no frame for too long".to_owned());
                }
                if let Err(err) = writer.send(Message::Ping(Vec::new().into())).await {
                    break Ended::Lost(format!("sending a WebSocket ping failed: {err}"));
                }
            }
        }
    };
    Served { ended, delivered }
}

/// One sink call and the ACK it earns.
#[tracing::instrument(skip_all, fields(topic = %message.topic, message_id = %message.message_id, event_id = message.event_id().unwrap_or("")))]
async fn deliver(sink: Arc<dyn FrameSink>, message: StreamMessage) -> Ack {
    let kind = message.kind;
    let topic = message.topic.clone();
    let message_id = message.message_id.clone();
    let result = sink.deliver(message).await;
    if let Err(err) = &result {
        tracing::warn!(error = %err, cause = ?std::error::Error::source(err), "the stream sink failed; ACKing the frame as failed");
    }
    match (kind, result) {
        (MessageKind::Event, Ok(())) => Ack::event_handled(message_id),
        (MessageKind::Event, Err(_)) => Ack::event_later(message_id),
        (MessageKind::Callback, Ok(())) => Ack::callback_handled(message_id, &topic),
        (MessageKind::Callback, Err(_)) => Ack::callback_failed(message_id),
    }
}

//! The caller's side of delivery: a [`FrameSink`] accepts each event or callback, and the frame
//! is ACKed only once it has returned `Ok`.

use super::frame::StreamMessage;

/// Where a [`StreamClient`](super::StreamClient) hands every `EVENT` and `CALLBACK` frame.
///
/// The ACK goes out only after `deliver` returns `Ok`; an `Err` is ACKed as a failure (for
/// events: `LATER`, asking for redelivery). Deliveries run concurrently, so pings are answered
/// while a sink works, but the ACK deadline is 3 s for events and 2 s for card callbacks
/// (dingtalk.md §4.8): record the message and return, and do slow work elsewhere. The same
/// event may arrive more than once; deduplicate by [`StreamMessage::event_id`].
#[async_trait::async_trait]
pub trait FrameSink: Send + Sync {
    /// Accepts one message, e.g. by storing it durably.
    async fn deliver(&self, message: StreamMessage) -> Result<(), SinkError>;
}

/// A sink's failure to accept a message; the frame is ACKed as failed and the connection kept.
#[derive(Debug, thiserror::Error)]
#[error("the stream sink did not accept the message")]
pub struct SinkError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl SinkError {
    /// Wraps the sink's own error as the cause.
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

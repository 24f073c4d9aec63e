//! Stream mode (dingtalk.md §4): one outbound WebSocket per client that carries events, robot
//! messages and card callbacks, each ACKed only after the caller's sink has accepted it.
//!
//! [`StreamClient::run`] owns the whole life cycle: a fresh ticket from
//! `POST /v1.0/gateway/connections/open` for every connection, the WebSocket to the returned
//! endpoint, SYSTEM frames (`ping`, `disconnect`), keep-alive, and reconnection with jittered
//! exponential backoff. Delivery is at least once: a frame whose ACK was not sent before a drop is
//! pushed again by DingTalk, so sinks deduplicate by `eventId` (dingtalk.md §3.5).

mod ack;
mod client;
mod config;
mod connection;
mod error;
mod frame;
mod open;
mod sink;

pub use ack::ack_code;
pub use client::StreamClient;
pub use config::{
    CARD_CALLBACK_TOPIC, DEFAULT_MAX_BACKOFF, DEFAULT_MIN_BACKOFF, DEFAULT_OPEN_TIMEOUT,
    DEFAULT_PING_INTERVAL, DEFAULT_PONG_TIMEOUT, DEFAULT_SILENCE_TIMEOUT, DEFAULT_USER_AGENT,
    EVENT_TOPIC_ALL, OPEN_CONNECTION_PATH, ROBOT_MESSAGE_TOPIC, StreamConfig, Subscription,
    SubscriptionType,
};
pub use error::StreamError;
pub use frame::{MessageKind, StreamMessage};
pub use sink::{FrameSink, SinkError};

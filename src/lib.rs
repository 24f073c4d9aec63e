//! salesbot: a chat-ops bot service for sales teams on WeCom and DingTalk.
//!
//! The library holds everything; the binary only parses the command line and calls
//! [`app::Application`]. See `docs/` and ARCHITECTURE for the event flow
//! (callback → inbox → workers → outbox → platforms).

pub mod alerts;
pub mod app;
pub mod approvals;
pub mod assignment;
pub mod audit;
pub mod cards;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod links;
pub mod metrics;
pub mod overdue;
pub mod pipeline;
pub mod platform;
pub mod tasks;
pub mod telemetry;
pub mod webhooks;

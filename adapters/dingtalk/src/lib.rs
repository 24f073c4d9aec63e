//! salesbot-dingtalk: a self-contained SDK for DingTalk (钉钉): the HTTP event-subscription
//! crypto and events, and an API client.
//!
//! It knows nothing of salesbot; the service's `platform` module translates its types.

pub mod api;
pub mod callback;
pub mod card_callback;
pub mod event;
#[cfg(feature = "fake")]
pub mod fake;
pub mod robot_callback;
pub mod stream;

//! salesbot-wecom: a self-contained SDK for WeCom (企业微信): the callback crypto
//! (WXBizMsgCrypt), callback events as typed structs, and an API client.
//!
//! It knows nothing of salesbot; the service's `platform` module translates its types.

pub mod api;
pub mod crypto;
pub mod envelope;
pub mod event;
#[cfg(feature = "fake")]
pub mod fake;
pub mod xml;

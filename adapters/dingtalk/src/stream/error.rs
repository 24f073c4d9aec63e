//! What can go wrong opening or keeping a Stream connection. No variant carries the app secret,
//! the ticket or the ticketed WebSocket URL.

/// A failed Stream connection attempt or a broken connection. [`StreamClient::run`] logs these
/// and reconnects; only [`StreamClient::new`] returns one.
///
/// [`StreamClient::run`]: super::StreamClient::run
/// [`StreamClient::new`]: super::StreamClient::new
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The client could not be built from the configuration.
    #[error("invalid DingTalk Stream configuration: {0}")]
    Config(String),
    /// `connections/open` answered a non-2xx status, with DingTalk's error code if it sent one.
    #[error("DingTalk connections/open answered HTTP {status} {code}: {message}")]
    Open {
        status: u16,
        code: String,
        message: String,
    },
    /// `connections/open` answered 2xx without an endpoint or a ticket.
    #[error("DingTalk connections/open answered without an endpoint or a ticket")]
    NoTicket,
    /// `connections/open` answered a body that is not the documented JSON.
    #[error("DingTalk connections/open answered a body that is not the documented JSON")]
    Decode(#[source] serde_json::Error),
    /// Calling `connections/open` failed on the network or timed out.
    #[error("network error calling DingTalk connections/open")]
    Network(#[source] reqwest::Error),
    /// The WebSocket handshake or the connection failed; the text is already redacted.
    #[error("DingTalk Stream WebSocket failed: {0}")]
    WebSocket(String),
    /// The WebSocket handshake did not finish within the open timeout.
    #[error("DingTalk Stream WebSocket handshake timed out")]
    HandshakeTimeout,
}

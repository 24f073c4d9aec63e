//! Opening one connection: a fresh endpoint and one-time ticket from `connections/open`
//! (dingtalk.md §4.1), then the WebSocket to `{endpoint}?ticket={ticket}` (§4.2), both over
//! rustls with the ring provider and the webpki roots.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::config::{OPEN_CONNECTION_PATH, StreamConfig, Subscription};
use super::error::StreamError;

/// The WebSocket of one Stream connection.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Replaces the secret or the ticket should either ever appear in a message.
const REDACTED: &str = "<redacted>";

/// Everything needed to open connections for one app.
pub(crate) struct Gateway {
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    open_url: Url,
    client_id: String,
    client_secret: SecretString,
    subscriptions: Vec<Subscription>,
    user_agent: String,
    local_ip: Option<String>,
    open_timeout: Duration,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenRequest<'a> {
    client_id: &'a str,
    client_secret: &'a str,
    subscriptions: &'a [Subscription],
    ua: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_ip: Option<&'a str>,
}

#[derive(Deserialize)]
struct OpenAnswer {
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    ticket: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl Gateway {
    pub(crate) fn new(
        config: StreamConfig,
        subscriptions: Vec<Subscription>,
    ) -> Result<Self, StreamError> {
        if subscriptions.is_empty() {
            return Err(StreamError::Config("no subscriptions".to_owned()));
        }
        let base = config.api_base_url.trim_end_matches('/');
        let open_url = Url::parse(&format!("{base}/{OPEN_CONNECTION_PATH}"))
            .map_err(|err| StreamError::Config(format!("base URL {base:?}: {err}")))?;
        let tls = Arc::new(tls_config()?);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .timeout(config.open_timeout)
            .connect_timeout(config.open_timeout)
            .build()
            .map_err(|err| StreamError::Config(format!("HTTP client: {err}")))?;
        Ok(Self {
            http,
            tls,
            open_url,
            client_id: config.client_id,
            client_secret: config.client_secret,
            subscriptions,
            user_agent: config.user_agent,
            local_ip: config.local_ip,
            open_timeout: config.open_timeout,
        })
    }

    /// A new ticket and the WebSocket it opens. Every attempt fetches its own ticket: a ticket
    /// is valid for one connection only (dingtalk.md §4.2).
    pub(crate) async fn connect(&self) -> Result<(Socket, String), StreamError> {
        let (endpoint, ticket) = self.open().await?;
        let mut url = Url::parse(&endpoint)
            .map_err(|_| StreamError::WebSocket(format!("endpoint {endpoint:?} is not a URL")))?;
        url.query_pairs_mut()
            .append_pair("ticket", ticket.expose_secret());
        let connector = Connector::Rustls(Arc::clone(&self.tls));
        let handshake = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            None,
            true,
            Some(connector),
        );
        let (socket, _) = tokio::time::timeout(self.open_timeout, handshake)
            .await
            .map_err(|_| StreamError::HandshakeTimeout)?
            .map_err(|err| StreamError::WebSocket(redact(&err.to_string(), &ticket)))?;
        Ok((socket, endpoint))
    }

    /// `POST /v1.0/gateway/connections/open`: the endpoint and a one-time ticket.
    async fn open(&self) -> Result<(String, SecretString), StreamError> {
        let request = OpenRequest {
            client_id: &self.client_id,
            client_secret: self.client_secret.expose_secret(),
            subscriptions: &self.subscriptions,
            ua: &self.user_agent,
            local_ip: self.local_ip.as_deref(),
        };
        let response = self
            .http
            .post(self.open_url.clone())
            .header(CONTENT_TYPE, "application/json")
            // The Node.js SDK notes the endpoint may otherwise answer in XML (dingtalk.md §4.1).
            .header(ACCEPT, "application/json")
            .json(&request)
            .send()
            .await
            .map_err(|err| StreamError::Network(err.without_url()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| StreamError::Network(err.without_url()))?;
        if !(200..300).contains(&status) {
            let answer: ErrorAnswer = serde_json::from_slice(&bytes).unwrap_or(ErrorAnswer {
                code: String::new(),
                message: String::new(),
            });
            return Err(StreamError::Open {
                status,
                code: answer.code,
                message: redact(&answer.message, &self.client_secret),
            });
        }
        let answer: OpenAnswer = serde_json::from_slice(&bytes).map_err(StreamError::Decode)?;
        if answer.endpoint.is_empty() || answer.ticket.is_empty() {
            return Err(StreamError::NoTicket);
        }
        Ok((answer.endpoint, SecretString::from(answer.ticket)))
    }
}

fn redact(message: &str, secret: &SecretString) -> String {
    let secret = secret.expose_secret();
    if secret.is_empty() {
        return message.to_owned();
    }
    // A ticket also appears URL-encoded in the WebSocket URL.
    let mut query = Url::parse("ws://localhost/").expect("a literal URL");
    query.query_pairs_mut().append_pair("t", secret);
    let encoded = query
        .query()
        .unwrap_or_default()
        .trim_start_matches("t=")
        .to_owned();
    message
        .replace(secret, REDACTED)
        .replace(&encoded, REDACTED)
}

/// rustls with the ring provider and the webpki roots, as the API client uses: no aws-lc-rs and
/// no system certificate store.
fn tls_config() -> Result<rustls::ClientConfig, StreamError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| StreamError::Config(format!("TLS: {err}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

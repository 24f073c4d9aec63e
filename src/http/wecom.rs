//! WeCom callbacks: `GET /callbacks/wecom/{tenant}` answers the URL verification with the
//! decrypted echostr; `POST` verifies, decrypts and parses a callback, stores it in the inbox
//! and answers 200 with an empty body. Nothing slow runs before the answer: no API call, only
//! the durable insert.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use salesbot_wecom::{
    crypto::{CryptoError, SignedQuery},
    envelope,
    event::{Callback, EventError},
    xml::XmlError,
};

use super::query::{Params, QueryError};
use crate::{
    app::AppState,
    pipeline::{Stored, clock::now_ms, inbox},
    platform::wecom::{PLATFORM, WecomApp, inbox_event},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/callbacks/wecom/{tenant}", get(verify_url).post(receive))
}

/// Why a callback was refused; each maps to one status code.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("unknown tenant")]
    UnknownTenant,
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    #[error("envelope: {0}")]
    Envelope(#[from] XmlError),
    #[error("event: {0}")]
    Event(#[from] EventError),
    #[error("body is not UTF-8")]
    NotUtf8,
    #[error("timestamp is missing, malformed or outside the allowed clock skew")]
    Stale,
    #[error("storing the event failed: {0}")]
    Storage(#[from] sea_orm::DbErr),
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::UnknownTenant => StatusCode::NOT_FOUND,
            Self::Crypto(CryptoError::BadSignature) | Self::Stale => StatusCode::UNAUTHORIZED,
            Self::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Logs the reason (never a secret: errors carry none) and answers a short plain text.
    fn respond(self, state: &AppState, tenant: &str) -> Response {
        let status = self.status();
        let outcome = match &self {
            Self::Storage(_) => "error",
            _ => "refused",
        };
        if status.is_server_error() {
            tracing::error!(%tenant, reason = %self, "callback not stored; the platform will retry");
        } else {
            tracing::warn!(%tenant, status = status.as_u16(), reason = %self, "callback refused");
        }
        state.metrics.count_callback(PLATFORM, tenant, outcome);
        let text = match &self {
            Self::Storage(_) => "temporarily unavailable".to_string(),
            other => other.to_string(),
        };
        (status, text).into_response()
    }
}

/// The signed query of a callback, with the app's optional freshness check.
fn signed<'a>(app: &WecomApp, params: &'a Params) -> Result<SignedQuery<'a>, Refusal> {
    let query = SignedQuery {
        msg_signature: params.require("msg_signature")?,
        timestamp: params.require("timestamp")?,
        nonce: params.require("nonce")?,
    };
    if let Some(skew) = app.max_clock_skew_secs {
        let sent: i64 = query.timestamp.parse().map_err(|_| Refusal::Stale)?;
        if (now_ms() / 1000 - sent).unsigned_abs() > skew {
            return Err(Refusal::Stale);
        }
    }
    Ok(query)
}

#[tracing::instrument(skip_all, fields(%tenant))]
async fn verify_url(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let result = (|| {
        let app = state.wecom.get(&tenant).ok_or(Refusal::UnknownTenant)?;
        let params = Params::parse(raw.as_deref())?;
        let query = signed(app, &params)?;
        Ok::<_, Refusal>(app.crypto.open(&query, params.require("echostr")?)?)
    })();
    match result {
        Ok(echo) => {
            tracing::info!("callback URL verified");
            state.metrics.count_callback(PLATFORM, &tenant, "verified");
            // The plaintext exactly: no quotes, no newline.
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response()
        }
        Err(refusal) => refusal.respond(&state, &tenant),
    }
}

#[tracing::instrument(skip_all, fields(%tenant))]
async fn receive(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    match store(&state, &tenant, raw.as_deref(), &body).await {
        Ok(stored) => {
            let outcome = match stored {
                Stored::New(id) => {
                    tracing::debug!(event_id = id, "callback stored");
                    state.wake_inbox.notify_waiters();
                    "stored"
                }
                Stored::Duplicate => {
                    tracing::debug!("duplicate callback; already stored");
                    "duplicate"
                }
            };
            state.metrics.count_callback(PLATFORM, &tenant, outcome);
            StatusCode::OK.into_response()
        }
        Err(refusal) => refusal.respond(&state, &tenant),
    }
}

/// Verify → decrypt → parse → store. Returns only once the event is durable.
async fn store(
    state: &AppState,
    tenant: &str,
    raw: Option<&str>,
    body: &[u8],
) -> Result<Stored, Refusal> {
    let app = state.wecom.get(tenant).ok_or(Refusal::UnknownTenant)?;
    let params = Params::parse(raw)?;
    let query = signed(app, &params)?;
    let body = std::str::from_utf8(body).map_err(|_| Refusal::NotUtf8)?;
    let envelope = envelope::parse(body)?;
    let xml = app.crypto.open(&query, &envelope.encrypt)?;
    let callback = Callback::parse(&xml)?;
    let event = inbox_event(tenant, &callback, &xml);
    Ok(inbox::insert(&state.db, &event, now_ms()).await?)
}

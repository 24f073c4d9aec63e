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
use salesbot_wecom::{crypto::SignedQuery, envelope, event::Callback};

use super::{
    query::Params,
    refusal::{Refusal, check_skew},
};
use crate::{
    app::AppState,
    pipeline::{Stored, clock::now_ms, inbox},
    platform::wecom::{PLATFORM, WecomApp, inbox_event},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/callbacks/wecom/{tenant}", get(verify_url).post(receive))
}

/// The signed query of a callback, with the app's optional freshness check.
fn signed<'a>(app: &WecomApp, params: &'a Params) -> Result<SignedQuery<'a>, Refusal> {
    let query = SignedQuery {
        msg_signature: params.require("msg_signature")?,
        timestamp: params.require("timestamp")?,
        nonce: params.require("nonce")?,
    };
    if let Some(skew) = app.max_clock_skew_secs {
        check_skew(query.timestamp.parse().ok(), now_ms() / 1000, skew)?;
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
        Err(refusal) => refusal.respond(&state, PLATFORM, &tenant),
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
        Err(refusal) => refusal.respond(&state, PLATFORM, &tenant),
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
    let body =
        std::str::from_utf8(body).map_err(|_| Refusal::Malformed("body is not UTF-8".into()))?;
    let envelope =
        envelope::parse(body).map_err(|e| Refusal::Malformed(format!("envelope: {e}")))?;
    let xml = app.crypto.open(&query, &envelope.encrypt)?;
    let callback = Callback::parse(&xml).map_err(|e| Refusal::Malformed(format!("event: {e}")))?;
    let event = inbox_event(tenant, &callback, &xml);
    Ok(inbox::insert(&state.db, &event, now_ms()).await?)
}

//! DingTalk HTTP event pushes: `POST /callbacks/dingtalk/{tenant}` verifies, decrypts and parses
//! the event, stores it in the inbox, and answers the encrypted `success` DingTalk requires
//! (dingtalk.md §2.6–§2.8). `check_url` is answered the same way and stored nowhere.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    response::{IntoResponse, Response},
    routing::post,
};
use salesbot_dingtalk::{
    callback::{Reply, SignedQuery, parse_body},
    event::DingEvent,
};

use super::{query::Params, refusal::Refusal};
use crate::{
    app::AppState,
    pipeline::{Stored, clock::now_ms, inbox},
    platform::dingtalk::{DingtalkApp, PLATFORM, inbox_event},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/callbacks/dingtalk/{tenant}", post(receive))
}

/// What became of a push that was accepted.
enum Accepted {
    CheckUrl,
    Stored(Stored),
}

#[tracing::instrument(skip_all, fields(%tenant))]
async fn receive(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let Some(app) = state.dingtalk.get(&tenant).cloned() else {
        return Refusal::UnknownTenant.respond(&state, PLATFORM, &tenant);
    };
    match accept(&state, &app, raw.as_deref(), &body).await {
        Ok(accepted) => {
            let outcome = match accepted {
                Accepted::CheckUrl => {
                    tracing::info!("callback URL verified");
                    "verified"
                }
                Accepted::Stored(Stored::New(id)) => {
                    tracing::debug!(event_id = id, "callback stored");
                    state.wake_inbox.notify_waiters();
                    "stored"
                }
                Accepted::Stored(Stored::Duplicate) => "duplicate",
            };
            state.metrics.count_callback(PLATFORM, &tenant, outcome);
            Json(Reply::success(&app.crypto, now_ms())).into_response()
        }
        Err(refusal) => refusal.respond(&state, PLATFORM, &tenant),
    }
}

/// Verify → decrypt → parse → store. Returns only once the event is durable.
async fn accept(
    state: &AppState,
    app: &DingtalkApp,
    raw: Option<&str>,
    body: &[u8],
) -> Result<Accepted, Refusal> {
    let params = Params::parse(raw)?;
    // Pages and samples differ on the names; DingTalk has sent both spellings (§2.6).
    let query = SignedQuery {
        msg_signature: params
            .require("msg_signature")
            .or_else(|_| params.require("signature"))?,
        timestamp: params
            .require("timestamp")
            .or_else(|_| params.require("timeStamp"))?,
        nonce: params.require("nonce")?,
    };
    let encrypt = parse_body(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let json = app.crypto.open(&query, &encrypt)?;
    let event = DingEvent::parse(&json).map_err(|e| Refusal::Malformed(format!("event: {e}")))?;
    if event.is_check_url() {
        return Ok(Accepted::CheckUrl);
    }
    let stored = inbox::insert(&state.db, &inbox_event(&app.tenant, &event), now_ms()).await?;
    Ok(Accepted::Stored(stored))
}

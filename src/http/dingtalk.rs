//! DingTalk callbacks over HTTP:
//! - `POST /callbacks/dingtalk/{tenant}`: event pushes, verified, decrypted and stored, answered
//!   with the encrypted `success` DingTalk requires (dingtalk.md §2.6–§2.8); `check_url` is
//!   answered the same way and stored nowhere;
//! - `POST /callbacks/dingtalk/{tenant}/card`: card button taps, signed with the card route's
//!   apiSecret (§5.2.6), stored and answered `{}` (the card is updated through the API later);
//! - `POST /callbacks/dingtalk/{tenant}/robot`: messages to the robot, signed with the app
//!   secret (§5.4), stored and answered `{}`.

use axum::http::HeaderMap;
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    response::{IntoResponse, Response},
    routing::post,
};
use salesbot_dingtalk::{
    callback::{Reply, SignedQuery, parse_body},
    card_callback::{self, CardTap},
    event::DingEvent,
    robot_callback::{self, RobotMessage},
};

use super::{query::Params, refusal::Refusal};
use crate::{
    app::AppState,
    pipeline::{Stored, clock::now_ms, inbox},
    platform::dingtalk::{DingtalkApp, PLATFORM, card_tap_event, inbox_event, robot_message_event},
};

/// How far a card callback's signing timestamp may be from now; the docs give no window.
const CARD_MAX_AGE_MS: i64 = 5 * 60 * 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/callbacks/dingtalk/{tenant}", post(receive))
        .route("/callbacks/dingtalk/{tenant}/card", post(receive_card_tap))
        .route(
            "/callbacks/dingtalk/{tenant}/robot",
            post(receive_robot_message),
        )
}

#[tracing::instrument(skip_all, fields(%tenant))]
async fn receive_card_tap(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let stored = async {
        let app = state.dingtalk.get(&tenant).ok_or(Refusal::UnknownTenant)?;
        // No card route configured: there is nothing at this path for the tenant.
        let secret = app
            .card_callback_secret
            .as_ref()
            .ok_or(Refusal::UnknownTenant)?;
        card_callback::verify(
            secret.expose(),
            header(&headers, card_callback::TIMESTAMP_HEADER),
            header(&headers, card_callback::SIGNATURE_HEADER),
            now_ms(),
            CARD_MAX_AGE_MS,
        )?;
        let tap = CardTap::parse(&body)?;
        Ok::<_, Refusal>(inbox::insert(&state.db, &card_tap_event(&tenant, &tap), now_ms()).await?)
    }
    .await;
    answer_stored(&state, &tenant, stored)
}

#[tracing::instrument(skip_all, fields(%tenant))]
async fn receive_robot_message(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let stored = async {
        let app = state.dingtalk.get(&tenant).ok_or(Refusal::UnknownTenant)?;
        robot_callback::verify(
            app.app_secret.expose(),
            header(&headers, "timestamp"),
            header(&headers, "sign"),
            now_ms(),
        )?;
        let message = RobotMessage::parse(&body)?;
        Ok::<_, Refusal>(
            inbox::insert(&state.db, &robot_message_event(&tenant, &message), now_ms()).await?,
        )
    }
    .await;
    answer_stored(&state, &tenant, stored)
}

/// A header's value as text; header names are case-insensitive.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Counts the outcome and answers `{}` for a stored (or duplicate) tap or message.
fn answer_stored(state: &AppState, tenant: &str, stored: Result<Stored, Refusal>) -> Response {
    match stored {
        Ok(stored) => {
            let outcome = match stored {
                Stored::New(_) => {
                    state.wake_inbox.notify_waiters();
                    "stored"
                }
                Stored::Duplicate => "duplicate",
            };
            state.metrics.count_callback(PLATFORM, tenant, outcome);
            Json(serde_json::json!({})).into_response()
        }
        Err(refusal) => refusal.respond(state, PLATFORM, tenant),
    }
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

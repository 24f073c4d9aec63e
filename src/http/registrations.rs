//! `POST /api/v1/registrations`: sign-ups from a form service. Not behind the admin token: the
//! form service signs each request the way salesbot signs its webhooks
//! ([`crate::webhooks::signature`]), with the `[registrations] secret`. Without a secret the
//! path does not exist.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};

use super::ApiError;
use crate::{
    app::AppState,
    domain::lead::{
        form::{NewRegistration, RegistrationForm},
        registration::{self, Registered},
        score::Scoring,
    },
    pipeline::clock::now_ms,
    webhooks,
};

/// Unix seconds the request was signed at.
const TIMESTAMP_HEADER: &str = "x-salesbot-timestamp";
/// `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<raw body>`.
const SIGNATURE_HEADER: &str = "x-salesbot-signature";
/// How far the timestamp may be from now, either way: long enough for clock drift and a
/// retry, short enough that a captured request cannot be replayed for long (a replay within
/// it is harmless anyway: the dedupe key makes it change nothing).
const MAX_AGE_SECS: u64 = 300;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/registrations", post(register))
}

#[tracing::instrument(skip_all, fields(tenant))]
async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let Some((secret, salt)) = state.config.registrations.enabled() else {
        return Err(ApiError::NotFound("not found".into()));
    };
    verify(secret.expose(), &headers, &body)?;
    let form: RegistrationForm =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    tracing::Span::current().record("tenant", form.tenant.as_str());
    let new = NewRegistration::parse(form, salt.expose())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let scoring = Scoring {
        rules: state.rules.lead_score(),
        webhooks: &state.webhooks,
        assigner: Some(&state.assigner),
    };
    let registered =
        registration::record(&state.db, &scoring, &new, Some(&state.tasks), now_ms()).await?;
    if !registered.created {
        return Ok((StatusCode::OK, Json(registered)));
    }
    state.wake_outbox.notify_waiters();
    tracing::info!(
        registration_id = registered.id,
        matched = registered.matched,
        new_lead = registered.new_lead,
        "registration recorded"
    );
    Ok((StatusCode::CREATED, Json(registered)))
}

/// Checks the signature headers against the raw body, before the body is parsed.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = header(TIMESTAMP_HEADER)
        .and_then(|t| t.trim().parse::<i64>().ok())
        .ok_or(ApiError::BadSignature(
            "X-Salesbot-Timestamp is missing or not Unix seconds",
        ))?;
    let signature = header(SIGNATURE_HEADER)
        .ok_or(ApiError::BadSignature("X-Salesbot-Signature is missing"))?;
    let now_secs = now_ms() / 1000;
    if now_secs.abs_diff(timestamp) > MAX_AGE_SECS {
        return Err(ApiError::BadSignature(
            "X-Salesbot-Timestamp is more than 300 seconds from now",
        ));
    }
    if webhooks::verify(secret, timestamp, body, signature, now_secs, MAX_AGE_SECS) {
        Ok(())
    } else {
        Err(ApiError::BadSignature(
            "X-Salesbot-Signature does not sign the timestamp and body",
        ))
    }
}

//! The admin API under `/api/v1` (bearer token): the pipeline's dead letters and parked events,
//! listed and put back in the queue, and the queue depths. Described by the OpenAPI document
//! served at `/api/v1/openapi.json`.

use axum::{
    Json, Router,
    extract::{Path, Query, Request, State},
    http::{HeaderMap, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::ApiError;
use crate::{
    app::AppState,
    pipeline::{
        clock::now_ms,
        inbox, outbox,
        queue::Queue,
        requeue::{self, Requeued},
    },
};

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Most rows one list call returns.
const MAX_LIMIT: u32 = 500;

pub fn router(state: AppState) -> Router<AppState> {
    let protected = Router::new()
        .route("/api/v1/pipeline/stats", get(stats))
        .route("/api/v1/inbox", get(list_inbox))
        .route("/api/v1/inbox/{id}/replay", post(replay_inbox))
        .route("/api/v1/outbox", get(list_outbox))
        .route("/api/v1/outbox/{id}/retry", post(retry_outbox))
        .route_layer(middleware::from_fn_with_state(state, require_token));
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .merge(protected)
}

/// Lets a request through only with `Authorization: Bearer <admin.token>`, compared in constant
/// time. Without a configured token the API is closed.
pub(super) async fn require_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = match (&state.config.admin.token, presented) {
        (Some(token), Some(presented)) => {
            bool::from(token.expose().as_bytes().ct_eq(presented.as_bytes()))
        }
        _ => false,
    };
    if allowed {
        next.run(request).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    limit: Option<u32>,
}

impl ListQuery {
    fn parse(&self, default_state: &str, states: &[&str]) -> Result<(String, u32), ApiError> {
        let state = self
            .state
            .clone()
            .unwrap_or_else(|| default_state.to_string());
        if !states.contains(&state.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "state must be one of {}",
                states.join(", ")
            )));
        }
        Ok((state, self.limit.unwrap_or(50).clamp(1, MAX_LIMIT)))
    }
}

fn depth_json(counts: Vec<(String, i64)>) -> Value {
    counts
        .into_iter()
        .map(|(state, n)| (state, Value::from(n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

async fn stats(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({
        "inbox": depth_json(inbox::QUEUE.depth(&state.db).await?),
        "outbox": depth_json(outbox::QUEUE.depth(&state.db).await?),
    })))
}

async fn list_inbox(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let (which, limit) = q.parse(inbox::state::PARKED, &inbox::state::ALL)?;
    let events: Vec<inbox::InboxEvent> = inbox::QUEUE.list(&state.db, &which, limit).await?;
    Ok(Json(json!({ "events": events })))
}

async fn list_outbox(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let (which, limit) = q.parse(outbox::state::DEAD, &outbox::state::ALL)?;
    let messages: Vec<outbox::OutboxMessage> = outbox::QUEUE.list(&state.db, &which, limit).await?;
    Ok(Json(json!({ "messages": messages })))
}

async fn replay_inbox(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let answer = requeue(&state, &inbox::QUEUE, id).await?;
    state.wake_inbox.notify_waiters();
    Ok(answer)
}

async fn retry_outbox(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let answer = requeue(&state, &outbox::QUEUE, id).await?;
    state.wake_outbox.notify_waiters();
    Ok(answer)
}

/// Puts a parked event or dead message back in its queue (audited).
#[tracing::instrument(skip_all, fields(queue = queue.table, id))]
async fn requeue(state: &AppState, queue: &Queue, id: i64) -> Result<Json<Value>, ApiError> {
    match requeue::requeue(&state.db, queue, id, "admin-api", now_ms()).await? {
        Requeued::Done => Ok(Json(json!({ "id": id, "state": "pending" }))),
        Requeued::NotFound => Err(ApiError::NotFound(format!("no {} row {id}", queue.table))),
        Requeued::NotFailed(current) => Err(ApiError::Conflict(format!(
            "{} row {id} is {current}; only {} rows can be put back in the queue",
            queue.table, queue.failed_state
        ))),
    }
}

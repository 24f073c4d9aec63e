//! The approvals API under `/api/v1/approvals` (bearer token): start an approval (routed by
//! the rules, cards sent to the first level's approvers), and read one with its whole history.

use axum::{
    Json, Router,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    middleware,
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{ApiError, admin::require_token};
use crate::{
    app::AppState,
    approvals::{ApprovalRequest, RequestError, Started, WithdrawError},
    audit,
    domain::approval::store,
    pipeline::clock::now_ms,
};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/approvals", post(start))
        .route("/api/v1/approvals/{id}", get(history))
        .route("/api/v1/approvals/{id}/withdraw", post(withdraw))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

#[tracing::instrument(skip_all)]
async fn start(
    State(state): State<AppState>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    let Json(request) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let started = state
        .approvals
        .start(&request, "admin-api", now_ms())
        .await
        .map_err(|e| match e {
            RequestError::Invalid(reason) => ApiError::BadRequest(reason),
            RequestError::Unroutable(reason) => ApiError::Unprocessable(reason),
            RequestError::Platform(reason) => ApiError::BadGateway(reason),
            RequestError::Database(e) => ApiError::Internal(e),
        })?;
    state.wake_outbox.notify_waiters();
    Ok((StatusCode::CREATED, Json(started)))
}

/// `{"requester": "<user id>"}`: who withdraws; only the requester may.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Withdrawal {
    requester: String,
}

async fn withdraw(
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    body: Result<Json<Withdrawal>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    state
        .approvals
        .withdraw(id, &body.requester, "admin-api", now_ms())
        .await
        .map_err(|e| match e {
            WithdrawError::NotFound(_) => ApiError::NotFound(e.to_string()),
            WithdrawError::NotRequester(_) => ApiError::BadRequest(e.to_string()),
            WithdrawError::Decided(_) => ApiError::Conflict(e.to_string()),
            WithdrawError::Database(e) | WithdrawError::Request(RequestError::Database(e)) => {
                ApiError::Internal(e)
            }
            WithdrawError::Request(other) => ApiError::BadRequest(other.to_string()),
        })?;
    state.wake_outbox.notify_waiters();
    Ok(Json(json!({ "id": id, "status": "withdrawn" })))
}

/// The approval, its steps, and every audit entry about it, oldest first.
async fn history(
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let approval = store::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no approval {id}")))?;
    let steps = store::steps(&state.db, id).await?;
    let mut history = audit::for_subject(&state.db, "approval", &id.to_string()).await?;
    history.reverse();
    let fields: Value = serde_json::from_str(&approval.fields).unwrap_or(Value::Null);
    Ok(Json(json!({
        "approval": approval,
        "fields": fields,
        "steps": steps,
        "history": history,
    })))
}

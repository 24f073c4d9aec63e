//! The tasks and deals API under `/api/v1/tasks` and `/api/v1/deals` (bearer token): list,
//! create and change tasks (completing one runs its task rules), create and change deals (a
//! stage change runs the stage's task rules). The work is in [`crate::tasks`].

use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::StatusCode,
    middleware,
    routing::get,
};
use serde::{Deserialize, Serialize};

use super::{ApiError, admin::require_token};
use crate::{
    app::AppState,
    domain::{
        deal::store::{self as deals, DealRow},
        task::{
            state,
            store::{self, Filter, TaskRow},
        },
    },
    pipeline::clock::now_ms,
    tasks::{DealInput, DealPatch, TaskError, TaskInput, TaskPatch},
};

/// Most tasks or deals per page.
const MAX_LIMIT: u64 = 200;
/// Tasks or deals per page when the query does not say.
const DEFAULT_LIMIT: u64 = 50;
/// Who API changes are recorded as.
const ACTOR: &str = "admin-api";

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/tasks", get(list).post(create))
        .route("/api/v1/tasks/{id}", get(one).patch(change))
        .route("/api/v1/deals", get(list_deals).post(create_deal))
        .route("/api/v1/deals/{id}", get(one_deal).patch(change_deal))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::NotFound(_) | TaskError::NoDeal(_) => Self::NotFound(e.to_string()),
            TaskError::NotOpen(_) => Self::Conflict(e.to_string()),
            TaskError::Invalid(reason) => Self::BadRequest(reason),
            TaskError::Database(e) => Self::Internal(e),
        }
    }
}

/// `GET /api/v1/tasks` query; an unknown key is refused rather than ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    tenant: Option<String>,
    assignee: Option<String>,
    state: Option<String>,
    lead_id: Option<i64>,
    deal_id: Option<i64>,
    /// Only open tasks past due now.
    overdue: Option<bool>,
    /// The `next` of the previous page.
    after: Option<i64>,
    limit: Option<u64>,
}

/// A page of tasks; `next` is the `after` of the next page, absent on the last.
#[derive(Serialize)]
struct TaskPage {
    tasks: Vec<TaskRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<i64>,
}

fn limit(asked: Option<u64>) -> Result<u64, ApiError> {
    match asked.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(ApiError::BadRequest(format!(
            "`limit` must be 1 to {MAX_LIMIT}, not {n}"
        ))),
    }
}

async fn list(
    State(app): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<TaskPage>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if let Some(asked) = p.state.as_deref().filter(|s| !state::ALL.contains(s)) {
        return Err(ApiError::BadRequest(format!(
            "`state` must be one of {}, not `{asked}`",
            state::ALL.join(", ")
        )));
    }
    let limit = limit(p.limit)?;
    let overdue = p.overdue.unwrap_or(false);
    let filter = Filter {
        tenant: p.tenant,
        assignee: p.assignee,
        state: if overdue {
            Some(state::OPEN.into())
        } else {
            p.state
        },
        lead_id: p.lead_id,
        deal_id: p.deal_id,
        due_before: overdue.then(now_ms),
        source: None,
        after_id: p.after,
        // One more than asked tells whether there is a next page.
        limit: limit + 1,
    };
    let mut tasks = store::list(&app.db, &filter).await?;
    let next = if tasks.len() as u64 > limit {
        tasks.truncate(limit as usize);
        tasks.last().map(|t| t.id)
    } else {
        None
    };
    Ok(Json(TaskPage { tasks, next }))
}

async fn one(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<TaskRow>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let task = store::get(&app.db, id)
        .await?
        .ok_or(TaskError::NotFound(id))?;
    Ok(Json(task))
}

async fn create(
    State(app): State<AppState>,
    body: Result<Json<TaskInput>, JsonRejection>,
) -> Result<(StatusCode, Json<TaskRow>), ApiError> {
    let Json(input) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (task, new) = app.tasks.create(&input, ACTOR, now_ms()).await?;
    app.wake_outbox.notify_waiters();
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(task)))
}

async fn change(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<TaskPatch>, JsonRejection>,
) -> Result<Json<TaskRow>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let Json(patch) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let task = app.tasks.update(id, &patch, ACTOR, now_ms()).await?;
    app.wake_outbox.notify_waiters();
    Ok(Json(task))
}

/// `GET /api/v1/deals` query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DealParams {
    tenant: String,
    owner: Option<String>,
    stage: Option<String>,
    after: Option<i64>,
    limit: Option<u64>,
}

#[derive(Serialize)]
struct DealPage {
    deals: Vec<DealRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<i64>,
}

async fn list_deals(
    State(app): State<AppState>,
    params: Result<Query<DealParams>, QueryRejection>,
) -> Result<Json<DealPage>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = limit(p.limit)?;
    let mut deals = deals::list(
        &app.db,
        &p.tenant,
        p.owner.as_deref(),
        p.stage.as_deref(),
        p.after.unwrap_or(0),
        limit + 1,
    )
    .await?;
    let next = if deals.len() as u64 > limit {
        deals.truncate(limit as usize);
        deals.last().map(|d| d.id)
    } else {
        None
    };
    Ok(Json(DealPage { deals, next }))
}

async fn one_deal(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<DealRow>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let deal = deals::get(&app.db, id)
        .await?
        .ok_or(TaskError::NoDeal(id))?;
    Ok(Json(deal))
}

async fn create_deal(
    State(app): State<AppState>,
    body: Result<Json<DealInput>, JsonRejection>,
) -> Result<(StatusCode, Json<DealRow>), ApiError> {
    let Json(input) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (deal, new) = app.tasks.create_deal(&input, ACTOR, now_ms()).await?;
    app.wake_outbox.notify_waiters();
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(deal)))
}

async fn change_deal(
    State(app): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<DealPatch>, JsonRejection>,
) -> Result<Json<DealRow>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let Json(patch) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let deal = app.tasks.update_deal(id, &patch, ACTOR, now_ms()).await?;
    app.wake_outbox.notify_waiters();
    Ok(Json(deal))
}

//! `GET /api/v1/groups/{chat_id}/activity?tenant=…` (bearer token): one customer group's
//! members with how they joined, the tracked links posted in it with their clicks, and which
//! identified members and customers clicked what ([`crate::domain::group_activity`]).

use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    middleware,
    routing::get,
};
use serde::Deserialize;

use super::{ApiError, admin::require_token};
use crate::{
    app::AppState,
    domain::group_activity::{self, Activity},
};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/groups/{chat_id}/activity", get(activity))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    tenant: String,
}

#[tracing::instrument(skip_all, fields(chat_id))]
async fn activity(
    State(state): State<AppState>,
    chat_id: Result<Path<String>, PathRejection>,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Activity>, ApiError> {
    let Path(chat_id) = chat_id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let Query(params) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("chat_id", chat_id.as_str());
    group_activity::activity(&state.db, &params.tenant, &chat_id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no group `{chat_id}` of tenant `{}`",
                params.tenant
            ))
        })
}

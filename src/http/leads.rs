//! The leads API under `/api/v1/leads` (bearer token): a tenant's leads paged by cursor like
//! customers, and one lead with its score history and registrations. The queries are in
//! [`crate::domain::lead::query`].

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
    domain::{
        customer::query::PageRequest,
        lead::query::{self, LeadDetail, LeadPage},
    },
    pipeline::clock::now_ms,
};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/leads", get(list))
        .route("/api/v1/leads/{id}", get(detail))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

/// The list's query string; an unknown or repeated key is refused rather than ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    tenant: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[tracing::instrument(skip_all, fields(tenant))]
async fn list(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<LeadPage>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("tenant", p.tenant.as_deref());
    let page = PageRequest::parse(p.limit, p.cursor.as_deref())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let half_life = state.rules.lead_score().half_life_days();
    let leads = query::list(&state.db, p.tenant.as_deref(), page, half_life, now_ms()).await?;
    Ok(Json(leads))
}

#[tracing::instrument(skip_all, fields(lead_id))]
async fn detail(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<LeadDetail>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("lead_id", id);
    let half_life = state.rules.lead_score().half_life_days();
    query::get(&state.db, id, half_life, now_ms())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no lead {id}")))
}

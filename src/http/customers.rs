//! The customer profiles API under `/api/v1/customers` (bearer token): a filtered list paged by
//! cursor, and one customer's whole profile with its lead score. The queries are in
//! [`crate::domain::customer::query`].

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
    domain::customer::query::{self, CustomerPage, CustomerProfile, Filter, PageRequest},
    pipeline::clock::now_ms,
};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/customers", get(list))
        .route("/api/v1/customers/{id}", get(profile))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

/// The list's query string; an unknown or repeated key is refused rather than ignored, so a
/// misspelt filter never silently returns everything.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    tenant: Option<String>,
    tag: Option<String>,
    owner: Option<String>,
    state: Option<String>,
    external_userid: Option<String>,
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[tracing::instrument(skip_all, fields(tenant))]
async fn list(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<CustomerPage>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("tenant", p.tenant.as_deref());
    let page = PageRequest::parse(p.limit, p.cursor.as_deref())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let filter = Filter {
        tenant: p.tenant,
        tag: p.tag,
        owner: p.owner,
        state: p.state,
        external_userid: p.external_userid,
        q: p.q,
    };
    Ok(Json(query::list(&state.db, &filter, page).await?))
}

#[tracing::instrument(skip_all, fields(customer_id))]
async fn profile(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<CustomerProfile>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("customer_id", id);
    let half_life = state.rules.lead_score().half_life_days();
    query::profile(&state.db, id, half_life, now_ms())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no customer {id}")))
}

//! The leads API under `/api/v1/leads` (bearer token): leads posted by a CRM or form (stored
//! and assigned to a rep), a tenant's leads paged by cursor like customers, and one lead with
//! its score history, registrations, owner and assignment history. The queries are in
//! [`crate::domain::lead::query`].

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
    assignment::store::AssignmentRow,
    domain::{
        customer::query::PageRequest,
        lead::{
            create::{self, CreateError, LeadForm, NewLead},
            query::{self, LeadDetail, LeadPage},
        },
    },
    pipeline::clock::now_ms,
};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/leads", get(list).post(post))
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

/// A posted lead: the lead as stored, and its current offer (`null` when no rule took it).
#[derive(Serialize)]
struct Posted {
    #[serde(flatten)]
    lead: LeadDetail,
    assignment: Option<AssignmentRow>,
}

/// Stores and assigns a lead: 201 the first time, 200 with the stored lead for an
/// `external_ref` posted before.
#[tracing::instrument(skip_all, fields(tenant, lead_id))]
async fn post(
    State(state): State<AppState>,
    body: Result<Json<LeadForm>, JsonRejection>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    let Json(form) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("tenant", form.tenant.as_str());
    let lead = NewLead::parse(form).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let now = now_ms();
    let posted = create::create(&state.db, &state.assigner, &lead, now)
        .await
        .map_err(|e| match e {
            CreateError::Invalid(e) => ApiError::Unprocessable(e.to_string()),
            CreateError::Database(e) => ApiError::Internal(e),
        })?;
    tracing::Span::current().record("lead_id", posted.lead_id);
    let half_life = state.rules.lead_score().half_life_days();
    let lead = query::get(&state.db, posted.lead_id, half_life, now)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no lead {}", posted.lead_id)))?;
    let assignment = lead.assignments.first().cloned();
    let status = if posted.created {
        state.wake_outbox.notify_waiters();
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Posted { lead, assignment })))
}

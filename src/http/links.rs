//! The tracked links API under `/api/v1` (bearer token): create a link, disable or enable it,
//! and read the click stats of a link or a campaign. The redirect itself is `redirect.rs`.

use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{JsonRejection, QueryRejection},
    },
    http::StatusCode,
    middleware,
    routing::{get, patch, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, admin::require_token};
use crate::{
    app::AppState,
    domain::link::{
        NewLink,
        stats::{self, Scope},
        store,
    },
    links::{self, LinkError},
    pipeline::clock::now_ms,
};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/links", post(create))
        .route("/api/v1/links/{code}", patch(update))
        .route("/api/v1/links/{code}/stats", get(link_stats))
        .route("/api/v1/campaigns/{campaign}/stats", get(campaign_stats))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

/// The body of a create call; unknown keys are refused so a misspelt option is not ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    tenant: String,
    target_url: String,
    campaign: String,
    chat_id: Option<String>,
    rep: Option<String>,
    identify: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignParams {
    tenant: String,
}

impl From<LinkError> for ApiError {
    fn from(err: LinkError) -> Self {
        match err {
            LinkError::Invalid(e) => Self::BadRequest(e.to_string()),
            LinkError::NotFound(code) => Self::NotFound(format!("no link with code `{code}`")),
            LinkError::Database(e) => Self::Internal(e),
            // Both mean the code could not be drawn; logged with their cause like any fault.
            e @ (LinkError::NoFreeCode(_) | LinkError::Random(_)) => {
                Self::Internal(sea_orm::DbErr::Custom(e.to_string()))
            }
        }
    }
}

#[tracing::instrument(skip_all, fields(tenant, campaign))]
async fn create(
    State(state): State<AppState>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let span = tracing::Span::current();
    span.record("tenant", body.tenant.as_str());
    span.record("campaign", body.campaign.as_str());
    let new = NewLink::parse(
        &body.tenant,
        &body.target_url,
        &body.campaign,
        body.chat_id.as_deref(),
        body.rep.as_deref(),
        body.identify.unwrap_or(false),
    )
    .map_err(LinkError::from)?;
    let created = links::create(&state.db, &new, &state.links.public_base_url, now_ms()).await?;
    let code = created.link.code.clone();
    state.links.remember(created.link);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "code": code, "url": created.url })),
    ))
}

#[tracing::instrument(skip_all, fields(code = %code))]
async fn update(
    State(state): State<AppState>,
    Path(code): Path<String>,
    body: Result<Json<UpdateBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let link = store::set_enabled(&state.db, &code, body.enabled)
        .await?
        .ok_or_else(|| LinkError::NotFound(code.clone()))?;
    tracing::info!(enabled = link.enabled, "tracked link changed");
    let answer = json!({ "code": link.code, "enabled": link.enabled });
    state.links.remember(link);
    Ok(Json(answer))
}

#[tracing::instrument(skip_all, fields(code = %code))]
async fn link_stats(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let link = store::find(&state.db, &code)
        .await?
        .ok_or_else(|| LinkError::NotFound(code.clone()))?;
    let stats = stats::stats(&state.db, &Scope::Link(link.id)).await?;
    let mut answer = json!({ "code": link.code, "campaign": link.campaign });
    merge(&mut answer, &stats);
    Ok(Json(answer))
}

#[tracing::instrument(skip_all, fields(tenant, campaign = %campaign))]
async fn campaign_stats(
    State(state): State<AppState>,
    Path(campaign): Path<String>,
    params: Result<Query<CampaignParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("tenant", p.tenant.as_str());
    let links = stats::campaign_links(&state.db, &p.tenant, &campaign).await?;
    if links.is_empty() {
        return Err(ApiError::NotFound(format!(
            "tenant `{}` has no link in campaign `{campaign}`",
            p.tenant
        )));
    }
    let scope = Scope::Campaign {
        tenant: &p.tenant,
        campaign: &campaign,
    };
    let stats = stats::stats(&state.db, &scope).await?;
    let mut answer = json!({ "tenant": p.tenant, "campaign": campaign });
    merge(&mut answer, &stats);
    answer["links"] = json!(links);
    Ok(Json(answer))
}

/// Adds the fields of `stats` to the object `answer`.
fn merge(answer: &mut Value, stats: &stats::Stats) {
    if let (Some(answer), Value::Object(fields)) = (answer.as_object_mut(), json!(stats)) {
        answer.extend(fields);
    }
}

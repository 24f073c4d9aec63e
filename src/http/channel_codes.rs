//! The channel codes API under `/api/v1/channel-codes` (bearer token): create a 「联系我」 QR code
//! in WeCom and store it, and list a tenant's codes with the customers each brought in. The
//! store and the checks are in [`crate::domain::channel`].

use axum::{
    Json, Router,
    extract::{
        Query, State,
        rejection::{JsonRejection, QueryRejection},
    },
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use salesbot_wecom::api::AddContactWay;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, admin::require_token};
use crate::{
    app::AppState,
    domain::channel::{self, ChannelCode, NewCode},
    pipeline::clock::now_ms,
};

/// `add_contact_way`'s `scene` for a QR code (1 would be a mini-program button).
const SCENE_QR_CODE: u8 = 2;
/// `add_contact_way`'s `type` for one rep, and for several.
const TYPE_SINGLE: u8 = 1;
const TYPE_MULTIPLE: u8 = 2;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/channel-codes", get(list).post(create))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

/// The body of a create call; unknown keys are refused so a misspelt option is not ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    tenant: String,
    state: String,
    users: Vec<String>,
    remark: Option<String>,
    skip_verify: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    tenant: String,
}

/// Why a create call failed: a client or internal error, or WeCom refusing or failing the call
/// (502, with WeCom's errcode; nothing is stored and the operator may try again).
enum CreateError {
    Api(ApiError),
    Wecom(salesbot_wecom::api::ApiError),
}

impl From<ApiError> for CreateError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<sea_orm::DbErr> for CreateError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Api(err.into())
    }
}

impl IntoResponse for CreateError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(err) => err.into_response(),
            Self::Wecom(err) => {
                tracing::warn!(error = %err, "WeCom did not create the channel code");
                let message = format!("WeCom did not create the channel code: {err}");
                (StatusCode::BAD_GATEWAY, Json(json!({ "error": message }))).into_response()
            }
        }
    }
}

#[tracing::instrument(skip_all, fields(tenant, state))]
async fn create(
    State(state): State<AppState>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<ChannelCode>), CreateError> {
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let span = tracing::Span::current();
    span.record("tenant", body.tenant.as_str());
    span.record("state", body.state.as_str());
    let code = NewCode::parse(
        &body.tenant,
        &body.state,
        body.users,
        body.remark,
        body.skip_verify.unwrap_or(true),
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let app = state.wecom.get(&code.tenant).ok_or_else(|| {
        ApiError::NotFound(format!(
            "tenant `{}` has no WeCom app configured",
            code.tenant
        ))
    })?;
    let duplicate = || {
        ApiError::Conflict(format!(
            "tenant `{}` has a channel code with state `{}` already",
            code.tenant,
            code.state.as_str()
        ))
    };
    // Checked before calling WeCom, so a repeated request leaves no orphan code there.
    if channel::exists(&state.db, &code.tenant, &code.state).await? {
        return Err(duplicate().into());
    }
    let request = AddContactWay {
        kind: if code.users.len() == 1 {
            TYPE_SINGLE
        } else {
            TYPE_MULTIPLE
        },
        scene: SCENE_QR_CODE,
        remark: (!code.remark.is_empty()).then(|| code.remark.clone()),
        skip_verify: Some(code.skip_verify),
        state: Some(code.state.as_str().to_owned()),
        user: code.users.clone(),
        ..AddContactWay::default()
    };
    let way = app
        .client
        .add_contact_way(&request)
        .await
        .map_err(CreateError::Wecom)?;
    let now = now_ms();
    if !channel::insert(
        &state.db,
        &code,
        &way.config_id,
        way.qr_code.as_deref(),
        now,
    )
    .await?
    {
        // A concurrent request stored the state first; WeCom's second code is left unused.
        tracing::warn!(
            config_id = way.config_id,
            "channel code created in WeCom but not stored: state taken meanwhile"
        );
        return Err(duplicate().into());
    }
    let stored = channel::find(&state.db, &code.tenant, &code.state)
        .await?
        .ok_or(sea_orm::DbErr::RecordNotFound(
            "the channel code just stored".into(),
        ))?;
    tracing::info!(config_id = stored.config_id, "channel code created");
    Ok((StatusCode::CREATED, Json(stored)))
}

#[tracing::instrument(skip_all, fields(tenant))]
async fn list(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    tracing::Span::current().record("tenant", p.tenant.as_str());
    let items = channel::list(&state.db, &p.tenant).await?;
    Ok(Json(json!({ "items": items })))
}

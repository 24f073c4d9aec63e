//! Inbound HTTP, kept thin: each area has its own `router()`, merged here with the layers every
//! request passes through (request id, tracing span, body-size limit, request metrics).
//! Served with the peer address attached (`ConnectInfo`), which the tracked-link redirect needs.

mod admin;
mod approvals;
mod channel_codes;
mod customers;
mod dingtalk;
mod error;
mod groups;
mod health;
mod leads;
mod links;
mod query;
mod redirect;
mod refusal;
mod registrations;
mod request_id;
mod tasks;
mod wecom;

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::app::AppState;
pub use error::ApiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let limit = state.config.server.body_limit_bytes;
    Router::new()
        .merge(health::router())
        .merge(admin::router(state.clone()))
        .merge(customers::router(state.clone()))
        .merge(approvals::router(state.clone()))
        .merge(channel_codes::router(state.clone()))
        .merge(groups::router(state.clone()))
        .merge(leads::router(state.clone()))
        .merge(tasks::router(state.clone()))
        .merge(registrations::router())
        .merge(links::router(state.clone()))
        .merge(redirect::router())
        .merge(wecom::router())
        .merge(dingtalk::router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .fallback(not_found)
        .with_state(state)
        // Extractors enforce the same limit as the layer, also for a body without a length.
        .layer(DefaultBodyLimit::max(limit))
        // Layers run outside-in from the last added: id first, then the span, then the limit.
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(request_id::span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, request_id::MakeId))
}

/// Counts each answered request under its route template.
async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let method = request.method().to_string();
    let response = next.run(request).await;
    state
        .metrics
        .count_request(&route, &method, response.status().as_u16());
    response
}

async fn not_found(State(state): State<AppState>, request: Request) -> impl IntoResponse {
    state
        .metrics
        .count_request("unmatched", request.method().as_str(), 404);
    (StatusCode::NOT_FOUND, "not found\n")
}

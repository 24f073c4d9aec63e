//! Liveness, readiness and metrics: what load balancers and Prometheus ask.

use std::time::Duration;

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use serde_json::json;

use crate::{app::AppState, db, pipeline};

/// Longest a readiness probe waits for the database before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up and serving HTTP; says nothing about the database.
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready to take traffic: the database answers and every migration is applied.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let reason = match tokio::time::timeout(READY_TIMEOUT, db::check_ready(&state.db)).await {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("database did not answer within {READY_TIMEOUT:?}"),
    };
    tracing::warn!(%reason, "not ready");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "not ready", "reason": reason })),
    )
}

/// Prometheus text format; queue depths are read from the database at scrape time, so they are
/// the same whichever instance is scraped.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let depths = tokio::time::timeout(READY_TIMEOUT, async {
        Ok::<_, sea_orm::DbErr>((
            pipeline::inbox::QUEUE.depth(&state.db).await?,
            pipeline::outbox::QUEUE.depth(&state.db).await?,
        ))
    })
    .await;
    match depths {
        Ok(Ok((inbox, outbox))) => state.metrics.set_depths(&inbox, &outbox),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "queue depths unavailable; serving the last known")
        }
        Err(_) => tracing::warn!("queue depths timed out; serving the last known"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

//! One error type for the JSON API, mapped to status codes in one place. Client mistakes get a
//! short reason; internal faults are logged with their cause and answered as an opaque 500.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A signed request whose signature headers are missing, wrong or stale.
    #[error("{0}")]
    BadSignature(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Well-formed but not something salesbot can act on (no rule routes it).
    #[error("{0}")]
    Unprocessable(String),
    /// A platform salesbot had to ask failed.
    #[error("{0}")]
    BadGateway(String),
    #[error("internal error")]
    Internal(#[from] sea_orm::DbErr),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::BadSignature(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

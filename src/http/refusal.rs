//! Why a platform callback was refused, mapped to one status code each, logged without secrets
//! and counted. Shared by the WeCom and DingTalk endpoints so both answer alike.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use salesbot_dingtalk::{card_callback::CardCallbackError, robot_callback::RobotCallbackError};
use salesbot_msgcrypt::CryptoError;

use super::query::QueryError;
use crate::app::AppState;

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("unknown tenant")]
    UnknownTenant,
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The body or the decrypted event cannot be read (XML, JSON, UTF-8).
    #[error("{0}")]
    Malformed(String),
    #[error("timestamp is missing, malformed or outside the allowed clock skew")]
    Stale,
    /// A header signature (card taps, robot messages) does not match.
    #[error("{0}")]
    BadHeaderSignature(String),
    #[error("storing the event failed: {0}")]
    Storage(#[from] sea_orm::DbErr),
}

impl Refusal {
    /// 404 unknown tenant; 401 bad signature or stale; 503 storage (the platform retries);
    /// 400 anything else malformed.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownTenant => StatusCode::NOT_FOUND,
            Self::Crypto(CryptoError::BadSignature) | Self::Stale | Self::BadHeaderSignature(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Logs the reason (errors carry no secret), counts it, and answers a short plain text.
    pub fn respond(self, state: &AppState, platform: &str, tenant: &str) -> Response {
        let status = self.status();
        let outcome = match &self {
            Self::Storage(_) => "error",
            _ => "refused",
        };
        if status.is_server_error() {
            tracing::error!(%platform, %tenant, reason = %self, "callback not stored; the platform will retry");
        } else {
            tracing::warn!(%platform, %tenant, status = status.as_u16(), reason = %self, "callback refused");
        }
        state.metrics.count_callback(platform, tenant, outcome);
        let text = match &self {
            Self::Storage(_) => "temporarily unavailable".to_string(),
            other => other.to_string(),
        };
        (status, text).into_response()
    }
}

/// Rejects a timestamp further than `skew_secs` from `now_secs`.
pub fn check_skew(
    timestamp_secs: Option<i64>,
    now_secs: i64,
    skew_secs: u64,
) -> Result<(), Refusal> {
    match timestamp_secs {
        Some(sent) if (now_secs - sent).unsigned_abs() <= skew_secs => Ok(()),
        _ => Err(Refusal::Stale),
    }
}

impl From<CardCallbackError> for Refusal {
    fn from(e: CardCallbackError) -> Self {
        match e {
            CardCallbackError::BadSignature => Self::BadHeaderSignature(e.to_string()),
            CardCallbackError::Stale => Self::Stale,
            CardCallbackError::Malformed(_) => Self::Malformed(e.to_string()),
        }
    }
}

impl From<RobotCallbackError> for Refusal {
    fn from(e: RobotCallbackError) -> Self {
        match e {
            RobotCallbackError::BadSign => Self::BadHeaderSignature(e.to_string()),
            RobotCallbackError::Stale => Self::Stale,
            RobotCallbackError::Malformed(_) => Self::Malformed(e.to_string()),
        }
    }
}

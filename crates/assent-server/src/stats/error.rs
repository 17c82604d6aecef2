//! How stats requests fail: JSON of the collector's usual shape.

use assent_store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("sign in at /dashboard/, or send `Authorization: Bearer <admin or viewer token>`")]
    Unauthorized,
    #[error("unknown token: use an admin or viewer token of the project (write keys are public and never open the dashboard)")]
    BadToken,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no such statistic under /v1/stats; see docs/dashboard.md")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StatsError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> StatsError {
        StatsError::Invalid {
            field,
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            StatsError::Unauthorized | StatsError::BadToken => StatusCode::UNAUTHORIZED,
            StatsError::Forbidden(_) => StatusCode::FORBIDDEN,
            StatsError::Invalid { .. } => StatusCode::BAD_REQUEST,
            StatsError::NotFound => StatusCode::NOT_FOUND,
            StatsError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            StatsError::Unauthorized | StatsError::BadToken => "unauthorized",
            StatsError::Forbidden(_) => "forbidden",
            StatsError::Invalid { .. } => "invalid_request",
            StatsError::NotFound => "not_found",
            StatsError::Store(_) => "store_unavailable",
        }
    }
}

impl IntoResponse for StatsError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({"error": self.code(), "message": self.to_string()});
        if let StatsError::Invalid { field, .. } = &self {
            body["field"] = json!(field);
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, "no-store".parse().expect("valid"));
        match status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"assent-stats\"".parse().expect("valid"),
                );
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %self, "stats request failed; the client should retry");
                headers.insert(header::RETRY_AFTER, "1".parse().expect("valid"));
            }
            _ => {}
        }
        response
    }
}

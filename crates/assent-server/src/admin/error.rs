//! How admin requests fail: JSON like every other answer (`api_error.rs` shape).
//!
//! A wrong or missing token gets the same `401` whatever it asked about, so the answer never
//! tells whether a subject exists.

use assent_store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("admin endpoints need `Authorization: Bearer <admin token>`; write keys are never accepted here")]
    Unauthorized,
    #[error("a viewer token reads statistics only (the dashboard and /v1/stats); exports, deletions, consent histories, the audit trail and replays need an admin token")]
    ViewerToken,
    #[error("no such {0} under /v1/admin")]
    NotFound(&'static str),
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} is not allowed here; see docs/privacy-operations.md for each endpoint's method")]
    Method(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the store cannot be read right now: {0}")]
    Read(String),
}

impl From<assent_store::export::ExportError> for AdminError {
    fn from(e: assent_store::export::ExportError) -> Self {
        AdminError::Read(e.to_string())
    }
}

impl AdminError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
        AdminError::Invalid {
            field,
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AdminError::Unauthorized => StatusCode::UNAUTHORIZED,
            AdminError::ViewerToken => StatusCode::FORBIDDEN,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AdminError::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            AdminError::Store(_) | AdminError::Read(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AdminError::Unauthorized => "unauthorized",
            AdminError::ViewerToken => "forbidden",
            AdminError::NotFound(_) => "not_found",
            AdminError::Invalid { .. } => "invalid_request",
            AdminError::Method(_) => "method_not_allowed",
            AdminError::Store(_) | AdminError::Read(_) => "store_unavailable",
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({"error": self.code(), "message": self.to_string()});
        if let AdminError::Invalid { field, .. } = &self {
            body["field"] = json!(field);
        }
        match status {
            StatusCode::UNAUTHORIZED => (
                status,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"assent-admin\"")],
                Json(body),
            )
                .into_response(),
            StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %self, "admin request failed; the client should retry");
                (status, [(header::RETRY_AFTER, "1")], Json(body)).into_response()
            }
            _ => (status, Json(body)).into_response(),
        }
    }
}

//! Every way a request can fail, and the JSON answer each one gets.
//!
//! The body always names what to fix: `{"error": "<code>", "message": "...", "field": "..."}`.

use assent_core::{BodyError, Rejection};
use assent_store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::projects::KeyError;

/// Seconds a client is asked to wait when the store is busy or failing.
const RETRY_AFTER_SECONDS: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The one event of a single-event endpoint was rejected.
    #[error(transparent)]
    Event(#[from] Rejection),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("origin {0:?} is not in this project's allowed_origins")]
    Origin(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A query string parameter is missing, repeated or not of its type.
    #[error("{message}")]
    Query { field: String, message: String },
    /// No route has this path (`known` lists the ones that exist).
    #[error("no endpoint {method} {path}{suggestion}; the collector answers: {known}")]
    NoRoute {
        method: String,
        path: String,
        suggestion: String,
        known: String,
    },
    /// The path exists, for other methods.
    #[error("{method} is not allowed on {path}; see docs/compatibility.md and README.md for each endpoint's method")]
    Method { method: String, path: String },
    #[error("the request was not read and answered within {} s; send the whole body at once and retry", .0.as_secs_f64())]
    Timeout(std::time::Duration),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Body(BodyError::TooLarge { .. })
            | ApiError::Event(Rejection::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Body(_) | ApiError::Event(_) => StatusCode::BAD_REQUEST,
            ApiError::Key(_) => StatusCode::UNAUTHORIZED,
            ApiError::Origin(_) => StatusCode::FORBIDDEN,
            ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Query { .. } => StatusCode::BAD_REQUEST,
            ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::Method { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// A stable code for clients and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Body(BodyError::TooLarge { .. }) => "too_large",
            ApiError::Body(BodyError::NotJson(_)) => "invalid_json",
            ApiError::Body(_) => "invalid_body",
            ApiError::Event(r) => r.label(),
            ApiError::Key(_) => "unauthorized",
            ApiError::Origin(_) => "origin_not_allowed",
            ApiError::Store(StoreError::QueueFull { .. }) => "queue_full",
            ApiError::Store(_) => "store_unavailable",
            ApiError::Timeout(_) => "request_timeout",
            ApiError::Query { .. } => "invalid_query",
            ApiError::NoRoute { .. } => "not_found",
            ApiError::Method { .. } => "method_not_allowed",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::Body(e) => e.field(),
            ApiError::Event(
                Rejection::Missing { field, .. } | Rejection::Invalid { field, .. },
            ) => Some(field),
            ApiError::Query { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_error(self.status(), self.code(), &self, self.field())
    }
}

/// The JSON answer of a failed ingest request (native, compat or replay): a `503` also says
/// when to retry, and is logged, since it means the store is struggling.
pub(crate) fn json_error(
    status: StatusCode,
    code: &'static str,
    error: &dyn std::fmt::Display,
    field: Option<&str>,
) -> Response {
    let body = Json(ErrorBody {
        error: code,
        message: error.to_string(),
        field,
    });
    if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(%error, "refusing a request for now; the client should retry");
        (status, [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)], body).into_response()
    } else {
        (status, body).into_response()
    }
}

//! Every way a replay request can fail, answered with the same JSON shape as ingest:
//! `{"error": "<code>", "message": "...", "field": "..."}`.

use assent_store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::projects::KeyError;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the chunk is {size} bytes compressed; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the chunk inflates to more than {limit} bytes")]
    InflatesTooLarge { limit: usize },
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("replays are never recorded under anonymous tracking; this request carries {0}")]
    Anonymous(&'static str),
    #[error("the chunk's consent snapshot does not grant `replay` (consent.state.replay is {0})")]
    NoConsent(String),
    #[error("origin {0:?} is not in this project's allowed_origins")]
    Origin(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReplayError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> ReplayError {
        ReplayError::Invalid {
            field,
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ReplayError::TooLarge { .. } | ReplayError::InflatesTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ReplayError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ReplayError::Key(_) => StatusCode::UNAUTHORIZED,
            ReplayError::Anonymous(_) | ReplayError::NoConsent(_) | ReplayError::Origin(_) => {
                StatusCode::FORBIDDEN
            }
            ReplayError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ReplayError::TooLarge { .. } | ReplayError::InflatesTooLarge { .. } => "too_large",
            ReplayError::Invalid { .. } => "invalid_chunk",
            ReplayError::Key(_) => "unauthorized",
            ReplayError::Anonymous(_) => "anonymous_replay_refused",
            ReplayError::NoConsent(_) => "replay_not_consented",
            ReplayError::Origin(_) => "origin_not_allowed",
            ReplayError::Store(StoreError::QueueFull { .. }) => "queue_full",
            ReplayError::Store(_) => "store_unavailable",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ReplayError::TooLarge { .. } | ReplayError::InflatesTooLarge { .. } => Some("body"),
            ReplayError::Invalid { field, .. } => Some(field),
            ReplayError::Anonymous(header) => Some(header),
            ReplayError::NoConsent(_) => Some("consent.state.replay"),
            _ => None,
        }
    }
}

impl IntoResponse for ReplayError {
    fn into_response(self) -> Response {
        crate::api_error::json_error(self.status(), self.code(), &self, self.field())
    }
}

//! Every way a replay request can fail, answered with the same JSON shape as ingest:
//! `{"error": "<code>", "message": "...", "field": "..."}`.

use assent_store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use assent_core::policy::Reason;

use crate::projects::KeyError;

/// Why the project's policy refused a chunk, in words a site owner can act on.
fn refusal_message(reason: Reason) -> &'static str {
    match reason {
        Reason::ReplayNotGranted => {
            "the chunk's consent snapshot does not grant `replay` (consent.state.replay must be \"granted\")"
        }
        Reason::ConsentNotGranted => {
            "the chunk's consent snapshot does not allow every category this project requires for identifiers"
        }
        Reason::CnilExempt => {
            "this project runs under the CNIL-exempt preset (audience measurement only), which allows no session replay"
        }
        Reason::GlobalPrivacyControl => {
            "the browser sent Sec-GPC: 1, which this project treats as an opt-out"
        }
        Reason::DoNotTrack => "the browser sent DNT: 1, which this project honours",
        Reason::AnonymousRequest => "replays are never recorded under anonymous tracking",
        Reason::MarketingNotGranted => "marketing is not granted",
    }
}

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
    #[error("{}", refusal_message(*.0))]
    Refused(assent_core::policy::Reason),
    #[error("the session's chunks would inflate to more than {limit} bytes; start a new session")]
    SessionFull { limit: u64 },
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
            ReplayError::TooLarge { .. }
            | ReplayError::InflatesTooLarge { .. }
            | ReplayError::SessionFull { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ReplayError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ReplayError::Key(_) => StatusCode::UNAUTHORIZED,
            ReplayError::Anonymous(_) | ReplayError::Refused(_) | ReplayError::Origin(_) => {
                StatusCode::FORBIDDEN
            }
            ReplayError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ReplayError::TooLarge { .. } | ReplayError::InflatesTooLarge { .. } => "too_large",
            ReplayError::SessionFull { .. } => "session_too_large",
            ReplayError::Invalid { .. } => "invalid_chunk",
            ReplayError::Key(_) => "unauthorized",
            ReplayError::Anonymous(_) => "anonymous_replay_refused",
            ReplayError::Refused(Reason::ReplayNotGranted | Reason::ConsentNotGranted) => {
                "replay_not_consented"
            }
            ReplayError::Refused(_) => "replay_refused_by_policy",
            ReplayError::Origin(_) => "origin_not_allowed",
            ReplayError::Store(StoreError::QueueFull { .. }) => "queue_full",
            ReplayError::Store(_) => "store_unavailable",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ReplayError::TooLarge { .. }
            | ReplayError::InflatesTooLarge { .. }
            | ReplayError::SessionFull { .. } => Some("body"),
            ReplayError::Invalid { field, .. } => Some(field),
            ReplayError::Anonymous(header) => Some(header),
            ReplayError::Refused(Reason::ReplayNotGranted) => Some("consent.state.replay"),
            ReplayError::Refused(Reason::ConsentNotGranted) => Some("consent.state"),
            _ => None,
        }
    }
}

impl IntoResponse for ReplayError {
    fn into_response(self) -> Response {
        crate::api_error::json_error(self.status(), self.code(), &self, self.field())
    }
}

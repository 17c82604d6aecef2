//! `/v1/admin`: privacy operations for the site owner, behind an admin token.
//!
//! | method and path | what |
//! |---|---|
//! | `DELETE /v1/admin/subjects/{id}` | delete a connected subject, suppress its ids (a job) |
//! | `GET /v1/admin/deletions/{job}` | a deletion job's status and counts |
//! | `GET /v1/admin/subjects/{id}/export` | everything about a subject, one JSON document |
//! | `GET /v1/admin/consent?subject=ID` | the subject's consent-ledger history |
//! | `GET /v1/admin/audit` | the audit trail: deletions, exports, retention runs, replays viewed |
//! | `GET /v1/admin/replays` | the project's recorded sessions (playback page) |
//! | `GET /v1/admin/replays/{session}` | one session's rrweb events, for the player |
//!
//! Handlers are thin: the work is in `assent_store`. Whether a subject exists never changes
//! a status code: an unknown subject is deleted (nothing) and exported (empty) like any other.

mod audit;
mod auth;
mod consent;
pub mod error;
mod export;
mod subjects;

use assent_store::subjects::MAX_ID_LEN;
use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::Method;
use axum::routing::{any, delete, get};
use axum::Router;

use crate::App;
pub(crate) use auth::{bearer, Admin};
use error::AdminError;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/subjects/{id}", delete(subjects::delete))
        .route("/subjects/{id}/export", get(export::export))
        .route("/deletions/{job}", get(subjects::job))
        .route("/consent", get(consent::history))
        .route("/audit", get(audit::list))
        .route("/replays", get(crate::replay::admin::list))
        .route("/replays/{session}", get(crate::replay::admin::events))
        // Spelled out, so that it wins over the collector's own `/v1/{*rest}`.
        .route("/{*rest}", any(not_found))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// Unknown paths: a token is still required, so the 404 tells an outsider nothing.
async fn not_found(_admin: Admin) -> AdminError {
    AdminError::NotFound("endpoint")
}

async fn method_not_allowed(_admin: Admin, method: Method) -> AdminError {
    AdminError::Method(method.to_string())
}

/// The `{id}` of a subject path.
fn subject_id(id: Result<Path<String>, PathRejection>) -> Result<String, AdminError> {
    let Path(id) = id.map_err(|e| AdminError::invalid("id", e.body_text()))?;
    check_subject_id(id, "id")
}

/// An identifier as ingest accepts them: not empty, at most 256 characters.
fn check_subject_id(id: String, field: &'static str) -> Result<String, AdminError> {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        return Err(AdminError::invalid(
            field,
            format!("{field} must be an anonymousId or userId of 1 to {MAX_ID_LEN} characters"),
        ));
    }
    Ok(id)
}

/// Milliseconds since 1970 as RFC 3339 UTC with milliseconds.
fn iso_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| format!("{t:.3}"))
        .unwrap_or_default()
}

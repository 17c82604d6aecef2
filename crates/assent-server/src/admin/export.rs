//! `GET /v1/admin/subjects/{id}/export`: the subject's data as one JSON document, streamed.
//!
//! The export is written on a blocking thread straight into the response body
//! ([`crate::streamed_body`]), so memory stays flat whatever the subject's size, and a failure
//! part way cuts the body short rather than ending a document that looks complete. The audit
//! entry is recorded once the whole document was written.

use assent_store::audit::{AuditAction, AuditEntry};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::auth::Admin;
use super::error::AdminError;
use super::subject_id;
use crate::streamed_body::streamed;
use crate::App;

pub async fn export(
    State(app): State<App>,
    admin: Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AdminError> {
    let id = subject_id(id)?;
    let project = admin.project.id.to_string();
    let runtime = tokio::runtime::Handle::current();
    let body = streamed(
        {
            let (project, store) = (project.clone(), app.store.clone());
            move |out| store.write_export(&project, &id, crate::now_ms(), out)
        },
        move |written| {
            let Ok((subject, counts)) = written else {
                return;
            };
            let entry = AuditEntry {
                at_ms: crate::now_ms(),
                actor: admin.actor,
                action: AuditAction::Export,
                project,
                subject_hash: Some(app.store.subject_hash(&subject.ids)),
                counts,
            };
            runtime.spawn(async move {
                if let Err(e) = app.store.record_audit(entry).await {
                    tracing::error!(error = %e, "could not record an export in the audit trail");
                }
            });
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subject-export.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

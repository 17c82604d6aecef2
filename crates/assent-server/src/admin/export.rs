//! `GET /v1/admin/subjects/{id}/export`: the subject's data as one JSON document, streamed.
//!
//! The export is written on a blocking thread straight into the response body through a
//! small channel, so memory stays flat whatever the subject's size. The audit entry is
//! recorded once the whole document was written. An error after the first byte can only cut
//! the body short (the status is already sent); the client then sees invalid JSON, never a
//! complete-looking partial export.

use std::io::Write;

use assent_store::audit::{AuditAction, AuditEntry};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::auth::Admin;
use super::error::AdminError;
use super::subject_id;
use crate::App;

/// Bytes gathered before a chunk is sent to the client.
const CHUNK: usize = 64 * 1024;

pub async fn export(
    State(app): State<App>,
    admin: Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AdminError> {
    let id = subject_id(id)?;
    let conn = app.sqlite.reader()?;
    let (chunks, body) = mpsc::channel::<std::io::Result<Bytes>>(4);
    let project = admin.project.id.to_string();
    let blocking = tokio::task::spawn_blocking({
        let project = project.clone();
        move || {
            let mut out = std::io::BufWriter::with_capacity(CHUNK, ChannelWriter(chunks.clone()));
            let written = assent_store::export::export_subject(
                &conn,
                &project,
                &id,
                crate::now_ms(),
                &mut out,
            );
            if let Err(e) = &written {
                tracing::error!(error = %e, "export failed part way; the body is cut short");
                let _ = chunks.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
            written
        }
    });
    tokio::spawn(async move {
        if let Ok(Ok((subject, counts))) = blocking.await {
            let entry = AuditEntry {
                at_ms: crate::now_ms(),
                actor: admin.actor,
                action: AuditAction::Export,
                project,
                subject_hash: Some(app.sqlite.subject_hasher().hash_subject(&subject.ids)),
                counts,
            };
            if let Err(e) = app.sqlite.record_audit(entry).await {
                tracing::error!(error = %e, "could not record an export in the audit trail");
            }
        }
    });
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subject-export.json\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// A `Write` whose bytes become body chunks; it blocks while the client is slow to read.
struct ChannelWriter(mpsc::Sender<std::io::Result<Bytes>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

//! The admin API the playback page reads: `GET /v1/admin/replays` lists the project's recorded
//! sessions; `GET /v1/admin/replays/{session}` returns one session's rrweb events, inflated
//! and in order. Both need an admin token of the project (`Authorization: Bearer …`), and
//! each playback is written to the audit trail (`replay_view`, the subject as a keyed hash).

use assent_store::audit::{AuditAction, AuditEntry, Counts};
use assent_store::replays::MAX_INFLATED_CHUNK;
use std::io::Write;

use assent_store::{ReplaySession, Store};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::admin::error::AdminError;
use crate::admin::Admin;
use crate::json_query::JsonQuery;
use crate::streamed_body::streamed;
use crate::App;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    session_id: i64,
    anonymous_id: Option<String>,
    user_id: Option<String>,
    chunks: i64,
    bytes: i64,
    first_timestamp: i64,
    last_timestamp: i64,
}

impl From<ReplaySession> for SessionSummary {
    fn from(s: ReplaySession) -> SessionSummary {
        SessionSummary {
            session_id: s.session_id,
            anonymous_id: s.anonymous_id,
            user_id: s.user_id,
            chunks: s.chunks,
            bytes: s.bytes,
            first_timestamp: s.first_timestamp,
            last_timestamp: s.last_timestamp,
        }
    }
}

#[derive(Serialize)]
pub struct ReplayList {
    replays: Vec<SessionSummary>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
}

/// Only the events of each stored chunk, as text; the metadata was checked at upload.
#[derive(Deserialize)]
struct ChunkEvents<'a> {
    #[serde(borrow)]
    events: &'a RawValue,
}

pub async fn list(
    State(app): State<App>,
    admin: Admin,
    JsonQuery(query): JsonQuery<ListQuery>,
) -> Result<Json<ReplayList>, AdminError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let sessions = app
        .store
        .replay_sessions(admin.project.id.to_string(), limit)
        .await?;
    Ok(Json(ReplayList {
        replays: sessions.into_iter().map(SessionSummary::from).collect(),
    }))
}

/// `{"sessionId": …, "events": [...]}`: every event of the session, in order, streamed a
/// chunk at a time ([`crate::streamed_body`]): whatever is stored, the server holds one
/// inflated chunk per playback, never the session.
pub async fn events(
    State(app): State<App>,
    admin: Admin,
    session: Result<Path<String>, PathRejection>,
) -> Result<Response, AdminError> {
    let Path(session) = session.map_err(|e| AdminError::invalid("session", e.body_text()))?;
    let session_id: i64 = session.parse().map_err(|_| {
        AdminError::invalid("session", "the session id in the path must be an integer")
    })?;
    let project = admin.project.id.to_string();
    let seqs = app
        .store
        .replay_chunk_seqs(project.clone(), session_id)
        .await?;
    if seqs.is_empty() {
        return Err(AdminError::NotFound("replay"));
    }
    let subject_ids = app
        .store
        .replay_subject_ids(project.clone(), session_id)
        .await?;
    // Reading a replay is reading personal data: it leaves a trace, without any identifier.
    app.store
        .record_audit(AuditEntry {
            at_ms: crate::now_ms(),
            actor: admin.actor,
            action: AuditAction::ReplayView,
            project: project.clone(),
            subject_hash: Some(app.store.subject_hash(&subject_ids)),
            counts: Counts::from([("chunks".to_string(), seqs.len() as u64)]),
        })
        .await?;
    let store = app.store.clone();
    let body = streamed(
        move |out| write_events(store.as_ref(), &project, session_id, &seqs, out),
        |_| {},
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn write_events(
    store: &dyn Store,
    project: &str,
    session_id: i64,
    seqs: &[i64],
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let damaged = |seq: i64, e: String| {
        AdminError::Read(format!("stored replay chunk {seq} is damaged: {e}"))
    };
    write!(out, "{{\"sessionId\":{session_id},\"events\":[").map_err(write_error)?;
    let mut first = true;
    for &seq in seqs {
        // A chunk deleted since the list was read (deletion, retention) is simply gone.
        let Some(chunk) = store.replay_chunk(project, session_id, seq)? else {
            continue;
        };
        let inflated = chunk
            .encoding
            .inflate(&chunk.data, MAX_INFLATED_CHUNK)
            .map_err(|e| damaged(seq, e.to_string()))?;
        let text = std::str::from_utf8(&inflated).map_err(|e| damaged(seq, e.to_string()))?;
        let parsed: ChunkEvents =
            serde_json::from_str(text).map_err(|e| damaged(seq, e.to_string()))?;
        let inner = parsed.events.get().trim();
        let inner = inner
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .ok_or_else(|| damaged(seq, "events is not an array".into()))?
            .trim();
        if inner.is_empty() {
            continue;
        }
        if !first {
            out.write_all(b",").map_err(write_error)?;
        }
        out.write_all(inner.as_bytes()).map_err(write_error)?;
        first = false;
    }
    out.write_all(b"]}").map_err(write_error)
}

fn write_error(e: std::io::Error) -> AdminError {
    AdminError::Read(format!("the playback could not be sent: {e}"))
}

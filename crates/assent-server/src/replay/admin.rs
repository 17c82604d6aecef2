//! The admin API the playback page reads: `GET /v1/admin/replays` lists the project's recorded
//! sessions; `GET /v1/admin/replays/{session}` returns one session's rrweb events, inflated
//! and in order. Both need an admin token of the project (`Authorization: Bearer …`), and
//! each playback is written to the audit trail (`replay_view`, the subject as a keyed hash).

use assent_store::audit::{AuditAction, AuditEntry, Counts};
use assent_store::replays::MAX_INFLATED_CHUNK;
use assent_store::ReplaySession;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::with_store;
use crate::admin::error::AdminError;
use crate::admin::Admin;
use crate::json_query::JsonQuery;
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayEvents {
    session_id: i64,
    events: Vec<Box<RawValue>>,
}

/// Only the events of each stored chunk; the metadata was checked at upload.
#[derive(Deserialize)]
struct ChunkEvents {
    events: Vec<Box<RawValue>>,
}

pub async fn list(
    State(app): State<App>,
    admin: Admin,
    JsonQuery(query): JsonQuery<ListQuery>,
) -> Result<Json<ReplayList>, AdminError> {
    let project = admin.project.id.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let sessions = with_store(&app, move |store| store.sessions(&project, limit)).await?;
    Ok(Json(ReplayList {
        replays: sessions.into_iter().map(SessionSummary::from).collect(),
    }))
}

pub async fn events(
    State(app): State<App>,
    admin: Admin,
    session: Result<Path<String>, PathRejection>,
) -> Result<Json<ReplayEvents>, AdminError> {
    let Path(session) = session.map_err(|e| AdminError::invalid("session", e.body_text()))?;
    let session_id: i64 = session.parse().map_err(|_| {
        AdminError::invalid("session", "the session id in the path must be an integer")
    })?;
    let project = admin.project.id.clone();
    let (events, chunks, subject_ids) = with_store(&app, move |store| {
        let chunks = store.chunks(&project, session_id)?;
        if chunks.is_empty() {
            return Err(AdminError::NotFound("replay"));
        }
        let count = chunks.len();
        let mut events = Vec::new();
        for chunk in chunks {
            let damaged = |e: String| {
                AdminError::Read(format!("stored replay chunk {} is damaged: {e}", chunk.seq))
            };
            let inflated = chunk
                .encoding
                .inflate(&chunk.data, MAX_INFLATED_CHUNK)
                .map_err(|e| damaged(e.to_string()))?;
            let parsed: ChunkEvents =
                serde_json::from_slice(&inflated).map_err(|e| damaged(e.to_string()))?;
            events.extend(parsed.events);
        }
        let ids = store.subject_ids(&project, session_id)?;
        Ok((events, count, ids))
    })
    .await?;
    // Reading a replay is reading personal data: it leaves a trace, without any identifier.
    app.sqlite
        .record_audit(AuditEntry {
            at_ms: crate::now_ms(),
            actor: admin.actor,
            action: AuditAction::ReplayView,
            project: admin.project.id.to_string(),
            subject_hash: Some(app.sqlite.subject_hasher().hash_subject(&subject_ids)),
            counts: Counts::from([("chunks".to_string(), chunks as u64)]),
        })
        .await?;
    Ok(Json(ReplayEvents { session_id, events }))
}

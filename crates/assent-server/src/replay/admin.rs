//! The admin API the playback page reads: `GET /v1/admin/replays` lists the project's recorded
//! sessions; `GET /v1/admin/replays/{session}` returns one session's rrweb events, inflated
//! and in order. Both need an admin token of the project (`Authorization: Bearer …`).

use assent_store::replays::MAX_INFLATED_CHUNK;
use assent_store::ReplaySession;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::ReplayError;
use super::{with_store, ReplayState};

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
    State(state): State<ReplayState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Json<ReplayList>, ReplayError> {
    let project = state
        .admins
        .project(&headers)
        .ok_or(ReplayError::AdminToken)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let sessions = with_store(&state, move |store| Ok(store.sessions(&project, limit)?)).await?;
    Ok(Json(ReplayList {
        replays: sessions.into_iter().map(SessionSummary::from).collect(),
    }))
}

pub async fn events(
    State(state): State<ReplayState>,
    headers: HeaderMap,
    Path(session): Path<String>,
) -> Result<Json<ReplayEvents>, ReplayError> {
    let project = state
        .admins
        .project(&headers)
        .ok_or(ReplayError::AdminToken)?;
    let session_id: i64 = session.parse().map_err(|_| {
        ReplayError::invalid("session", "the session id in the path must be an integer")
    })?;
    // Reading a replay is reading personal data: it leaves a trace (the audit log of the
    // privacy operations takes this over at merge).
    tracing::info!(project = %project, session_id, "admin read a session replay");
    let events = with_store(&state, move |store| {
        let chunks = store.chunks(&project, session_id)?;
        if chunks.is_empty() {
            return Err(ReplayError::NotFound(session_id));
        }
        let mut events = Vec::new();
        for chunk in chunks {
            let inflated = chunk
                .encoding
                .inflate(&chunk.data, MAX_INFLATED_CHUNK)
                .map_err(|e| {
                    assent_store::StoreError::Commit(format!(
                        "stored chunk {} is damaged: {e}",
                        chunk.seq
                    ))
                })?;
            let parsed: ChunkEvents = serde_json::from_slice(&inflated).map_err(|e| {
                assent_store::StoreError::Commit(format!(
                    "stored chunk {} is damaged: {e}",
                    chunk.seq
                ))
            })?;
            events.extend(parsed.events);
        }
        Ok(events)
    })
    .await?;
    Ok(Json(ReplayEvents { session_id, events }))
}

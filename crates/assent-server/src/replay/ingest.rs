//! `POST /v1/replay`: one compressed chunk of a recorded session.
//!
//! The server never trusts the browser alone: a chunk goes through the project's policy like an
//! event (`assent_core::policy::replay`): anonymous tracking, the CNIL-exempt preset, the GPC
//! and DNT rules, the required categories and an explicit `replay` grant. A refused chunk gets
//! a 403 naming why, so a misconfigured tracker cannot store a replay. Chunks of deleted
//! subjects are accepted and dropped (suppression), so the tracker does not retry them.

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use bytes::Bytes;
use serde::Serialize;

use super::error::ReplayError;
use super::upload::{self, MAX_CHUNK_BYTES};
use crate::App;
use crate::{ANONYMOUS_HEADER, SNOWPLOW_ANONYMOUS_HEADER};
use assent_store::{NewChunk, Stored};

#[derive(Debug, Serialize)]
pub struct ChunkAccepted {
    pub accepted: usize,
    /// 1 when this chunk was already stored (a retry).
    pub duplicates: usize,
    /// 1 when the chunk belongs to a deleted subject and was not stored (never retry it).
    pub discarded: usize,
}

pub async fn upload(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ChunkAccepted>, ReplayError> {
    let result = store_chunk(&app, &headers, body).await;
    if let Err(e) = &result {
        tracing::debug!(error = %e, "replay chunk refused");
    }
    result.map(Json)
}

async fn store_chunk(
    app: &App,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<ChunkAccepted, ReplayError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ReplayError::TooLarge {
            size: MAX_CHUNK_BYTES + 1,
            limit: MAX_CHUNK_BYTES,
        },
        _ => ReplayError::invalid("body", rejection.body_text()),
    })?;
    for header in [ANONYMOUS_HEADER, SNOWPLOW_ANONYMOUS_HEADER] {
        if headers.contains_key(header) {
            return Err(ReplayError::Anonymous(header));
        }
    }
    let upload = upload::read(&body)?;
    let project = app
        .projects
        .for_ingest(headers, upload.write_key.as_deref())?;
    crate::ingest::check_origin(project, headers)
        .map_err(|_| ReplayError::Origin(origin_text(headers)))?;
    assent_core::policy::replay(
        &upload.consent,
        &crate::ingest::signals(headers),
        &project.policy,
    )
    .map_err(ReplayError::Refused)?;
    let chunk = NewChunk {
        project: project.id.to_string(),
        session_id: upload.session_id,
        seq: upload.seq,
        anonymous_id: Some(upload.anonymous_id),
        user_id: upload.user_id,
        first_timestamp: upload.first_timestamp,
        last_timestamp: upload.last_timestamp,
        received_at: crate::now_ms(),
        encoding: upload.encoding,
        data: body.to_vec(),
        inflated_bytes: upload.inflated_bytes,
    };
    let stored = app.store.insert_replay_chunk(chunk).await?;
    if stored == Stored::SessionFull {
        return Err(ReplayError::SessionFull {
            limit: assent_store::replays::MAX_INFLATED_SESSION,
        });
    }
    Ok(ChunkAccepted {
        accepted: 1,
        duplicates: usize::from(stored == Stored::Duplicate),
        discarded: usize::from(stored == Stored::Suppressed),
    })
}

fn origin_text(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::ORIGIN)
        .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned())
        .unwrap_or_default()
}

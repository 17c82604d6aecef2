//! The native ingest endpoints: `POST /v1/batch` and `POST /v1/{track,page,…}`.
//!
//! Each handler only parses, calls the pipeline and maps the result: the work is in
//! `assent_core` (pure) and the store (durable).

use std::net::SocketAddr;

use assent_core::enrich::IndexedRejection;
use assent_core::{decode, enrich, EventType, Received, StoredEvent};
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use bytes::Bytes;
use serde::Serialize;

use crate::api_error::ApiError;
use crate::projects::Project;
use crate::{App, ANONYMOUS_HEADER, SNOWPLOW_ANONYMOUS_HEADER};

/// The answer to an accepted request.
#[derive(Debug, Serialize)]
pub struct Accepted {
    /// Events now durable, including duplicates of events already stored.
    pub accepted: usize,
    pub rejected: Vec<RejectedEvent>,
    /// Of `accepted`, how many were already stored (a retry).
    pub duplicates: usize,
}

#[derive(Debug, Serialize)]
pub struct RejectedEvent {
    pub index: usize,
    pub reason: String,
}

pub async fn batch(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ApiError> {
    let result = async {
        let body = body_bytes(body, &app)?;
        let batch = decode::batch(&body, &app.limits)?;
        ingest(&app, &headers, peer, batch).await
    };
    app.count_refusal(result.await)
}

pub async fn single(
    kind: EventType,
    app: App,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ApiError> {
    let result = async {
        let body = body_bytes(body, &app)?;
        let mut batch = decode::single(&body, kind, &app.limits)?;
        // With one event there is no batch to save: its rejection is the request's error.
        if let Some(Err(rejection)) = batch.events.pop_if(|e| e.is_err()) {
            app.metrics.rejected(rejection.label());
            return Err(rejection.into());
        }
        ingest(&app, &headers, peer, batch).await
    };
    app.count_refusal(result.await)
}

async fn ingest(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    batch: decode::Batch,
) -> Result<Json<Accepted>, ApiError> {
    let project = app
        .projects
        .for_ingest(headers, batch.write_key.as_deref())?;
    check_origin(project, headers)?;
    // An anonymous request leaves no address behind, not even a truncated one (DESIGN §6).
    let received = Received::now((!is_anonymous(headers)).then(|| peer.ip()));
    let (events, rejected) = enrich::batch(batch, &received, project.ip);
    commit(app, project, events, rejected).await.map(Json)
}

/// A browser request from an origin its project does not allow is refused, whatever its key.
pub(crate) fn check_origin(project: &Project, headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN) {
        Some(origin) if !project.allows_origin(origin) => Err(ApiError::Origin(
            String::from_utf8_lossy(origin.as_bytes()).into(),
        )),
        _ => Ok(()),
    }
}

/// Whether the tracker asked for the request to be handled anonymously.
pub(crate) fn is_anonymous(headers: &HeaderMap) -> bool {
    headers.contains_key(ANONYMOUS_HEADER) || headers.contains_key(SNOWPLOW_ANONYMOUS_HEADER)
}

/// The end every ingest path shares, whatever format the events came in: counts the
/// rejections, makes the events durable and only then tells what was accepted.
pub(crate) async fn commit(
    app: &App,
    project: &Project,
    events: Vec<StoredEvent>,
    rejected: Vec<IndexedRejection>,
) -> Result<Accepted, ApiError> {
    for r in &rejected {
        app.metrics.rejected(r.rejection.label());
    }
    let report = if events.is_empty() {
        Default::default()
    } else {
        app.store.append(project.id.clone(), events)?.await?
    };
    app.metrics
        .accepted(&project.id, report.inserted, report.duplicates);
    Ok(Accepted {
        accepted: report.inserted + report.duplicates,
        duplicates: report.duplicates,
        rejected: rejected
            .into_iter()
            .map(|r| RejectedEvent {
                index: r.index,
                reason: r.rejection.to_string(),
            })
            .collect(),
    })
}

/// The body as bytes. Any `Content-Type` is read as JSON: browsers send `text/plain` to skip
/// the CORS preflight, `curl -d` sends a form type, and in every case the body either is JSON
/// or gets a `400` saying it is not.
pub(crate) fn body_bytes(
    body: Result<Bytes, BytesRejection>,
    app: &App,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => assent_core::BodyError::TooLarge {
            what: "request body",
            // The body was cut off at the limit: it is at least one byte over.
            size: app.limits.body_bytes + 1,
            limit: app.limits.body_bytes,
        }
        .into(),
        _ => assent_core::BodyError::NotJson(rejection.body_text()).into(),
    })
}

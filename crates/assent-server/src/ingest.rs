//! The native ingest endpoints: `POST /v1/batch` and `POST /v1/{track,page,…}`, and the end
//! that every ingest path shares, whatever format its events came in.
//!
//! Each handler only parses, calls the pipeline and maps the result: the work is in
//! `assent_core` (pure) and the store (durable).

use std::net::SocketAddr;

use assent_core::client_address::client_ip;
use assent_core::pipeline::{self, Processed};
use assent_core::policy::Signals;
use assent_core::{decode, visitor, EventType, Received};
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use bytes::Bytes;
use serde::Serialize;

use crate::api_error::ApiError;
use crate::projects::Project;
use crate::App;

/// The answer to an accepted request.
#[derive(Debug, Serialize)]
pub struct Accepted {
    /// Events now durable, including duplicates of events already stored.
    pub accepted: usize,
    pub rejected: Vec<RejectedEvent>,
    /// Of `accepted`, how many were already stored (a retry).
    pub duplicates: usize,
    /// Of `accepted`, how many the project's privacy policy does not store (never retry them).
    #[serde(skip_serializing_if = "is_zero")]
    pub discarded: usize,
    /// Of `accepted`, how many are stored without any identifier: sent without one, or their
    /// consent snapshot did not allow the ones they carried. A count, never which.
    #[serde(rename = "withoutIdentifiers")]
    pub without_identifiers: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    let received = received(app, project, headers, peer);
    let processed = pipeline::process(batch, &received, &signals(headers), &project.policy);
    commit(app, project, processed).await.map(Json)
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

/// What the request's headers say about privacy (anonymous, GPC, DNT).
pub(crate) fn signals(headers: &HeaderMap) -> Signals {
    Signals::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
}

/// The facts of the request the events are enriched with: when, from which client address
/// (through trusted proxies only), and the day's cookieless visitor hash, unless the request
/// asks to be anonymous: then no hash at all, since an equal hash would link it to the same
/// browser's identified requests of the day.
pub(crate) fn received(
    app: &App,
    project: &Project,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Received {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = client_ip(peer.ip(), forwarded_for, &app.trusted_proxies);
    let mut received = Received::now(Some(ip));
    let signals = signals(headers);
    received.gpc = signals.gpc;
    received.dnt = signals.dnt;
    if signals.anonymous {
        return received;
    }
    // Looked up on the full address, before the policy truncates or drops it; an anonymous
    // request gets no country, as it gets no hash.
    received.country = app.countries.as_ref().and_then(|db| db.country(ip));
    let salt = app
        .visitor_salts
        .for_day(visitor::day_of(received.at.as_millisecond()));
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    received.visitor = Some(visitor::hash(
        &salt,
        &project.id,
        ip,
        user_agent.unwrap_or_default(),
    ));
    received
}

/// The end every ingest path shares: counts rejections and policy actions, makes the events
/// durable, and only then tells what was accepted.
pub(crate) async fn commit(
    app: &App,
    project: &Project,
    processed: Processed,
) -> Result<Accepted, ApiError> {
    let Processed {
        events,
        rejected,
        discarded,
        without_identifiers,
        actions,
        ..
    } = processed;
    for r in &rejected {
        app.metrics.rejected(r.rejection.label());
    }
    for action in actions {
        app.metrics.policy(action);
    }
    let report = if events.is_empty() {
        Default::default()
    } else {
        app.store.append(project.id.clone(), events)?.await?
    };
    app.metrics.accepted(&project.id, &report);
    // Events of deleted subjects are acknowledged like any other (never retried) and not
    // reported apart: the write key is public, and the answer must not tell who was deleted.
    Ok(Accepted {
        accepted: report.inserted + report.duplicates + report.suppressed + discarded,
        duplicates: report.duplicates,
        discarded,
        without_identifiers,
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

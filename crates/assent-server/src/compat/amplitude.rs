//! Amplitude's HTTP V2 API (`POST /2/httpapi`, `POST /batch`), answered in Amplitude's own
//! shapes so that the SDK's retry logic behaves as it does against Amplitude: `200` with
//! `events_ingested`; `400` with `missing_field` (the SDK drops the batch) or with
//! `events_with_invalid_fields` / `events_with_missing_fields` (it drops those events and
//! retries the others); `413` (it halves its batch); `503` (it retries later).
//!
//! As at Amplitude, an upload with an invalid event stores nothing: the SDK resends the
//! valid events, and `insert_id` keeps that resend from duplicating anything.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use assent_core::decode::amplitude;
use assent_core::{BodyError, Received, Rejection};
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::ingest::{body_bytes, check_origin, commit, received, signals};
use crate::App;
use assent_core::pipeline::process_addressed;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/2/httpapi", post(upload))
        .route("/batch", post(upload))
        .route("/config/{api_key}", get(remote_config))
}

/// Why an upload was refused, each answered as Amplitude would.
enum Refusal {
    Api(ApiError),
    /// Events that are wrong on their own, by index.
    Events(Vec<(usize, Rejection)>),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<BodyError> for Refusal {
    fn from(e: BodyError) -> Self {
        Refusal::Api(e.into())
    }
}

async fn upload(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match ingest(&app, &headers, peer, body).await {
        Ok((ingested, size)) => Json(json!({
            "code": 200,
            "events_ingested": ingested,
            "payload_size_bytes": size,
            "server_upload_time": Received::now(None).at.as_millisecond(),
        }))
        .into_response(),
        Err(refusal) => {
            app.metrics.refused(match &refusal {
                Refusal::Api(e) => e.code(),
                Refusal::Events(_) => "invalid_events",
            });
            refusal.into_response()
        }
    }
}

/// Events ingested (duplicates of stored ones included, as a retry must succeed) and the
/// size of the body.
async fn ingest(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    body: Result<Bytes, BytesRejection>,
) -> Result<(usize, usize), Refusal> {
    let body = body_bytes(body, app)?;
    let upload = amplitude::upload(&body, &app.limits)?;
    // The API key is the write key; an `Authorization` header is not Amplitude's and is
    // ignored, so the key in the body is the only one that counts.
    let project = app
        .projects
        .for_ingest(&HeaderMap::new(), Some(&upload.api_key))
        .map_err(ApiError::from)?;
    check_origin(project, headers)?;
    let mut events = Vec::with_capacity(upload.events.len());
    let mut rejected = Vec::new();
    for (index, decoded) in upload.events.into_iter().enumerate() {
        match decoded {
            Ok(d) => events.push((d.event, d.ip)),
            Err(rejection) => rejected.push((index, rejection)),
        }
    }
    if !rejected.is_empty() {
        for (_, r) in &rejected {
            app.metrics.rejected(r.label());
        }
        return Err(Refusal::Events(rejected));
    }
    let received = received(app, project, headers, peer);
    let processed = process_addressed(
        events,
        Vec::new(),
        &received,
        &signals(headers),
        &project.policy,
    );
    let accepted = commit(app, project, processed).await?;
    Ok((accepted.accepted, body.len()))
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => api_error(e),
            Refusal::Events(rejected) => {
                if let Some((_, too_large)) = rejected
                    .iter()
                    .find(|(_, r)| matches!(r, Rejection::TooLarge { .. }))
                {
                    // The SDK halves its batch on 413 until the event travels alone, then
                    // drops it: the right outcome for an event over the size limit.
                    return answer(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        json!({"error": too_large.to_string()}),
                    );
                }
                let mut invalid: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                let mut missing: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                for (index, r) in &rejected {
                    match r {
                        Rejection::Missing { field, .. } => {
                            missing.entry(field).or_default().push(*index)
                        }
                        Rejection::Invalid { field, .. } => {
                            invalid.entry(field).or_default().push(*index)
                        }
                        Rejection::NotAnObject | Rejection::TooLarge { .. } => {
                            invalid.entry("event").or_default().push(*index)
                        }
                    }
                }
                let reasons: Vec<Value> = rejected
                    .iter()
                    .map(|(index, r)| json!({"index": index, "reason": r.to_string()}))
                    .collect();
                answer(
                    StatusCode::BAD_REQUEST,
                    json!({
                        "error": "Request contains invalid events; nothing was stored",
                        "events_with_invalid_fields": invalid,
                        "events_with_missing_fields": missing,
                        "events_with_invalid_id_lengths": {},
                        "silenced_events": [],
                        // Assent's own addition: each event's reason in words.
                        "reasons": reasons,
                    }),
                )
            }
        }
    }
}

/// An [`ApiError`] in Amplitude's shape. A bad key is a `400` whose `error` starts with
/// "Invalid API key", which is what makes the SDK drop the batch instead of retrying it.
fn api_error(e: ApiError) -> Response {
    let message = e.to_string();
    let (status, body) = match &e {
        ApiError::Key(_) => (
            StatusCode::BAD_REQUEST,
            json!({"error": format!("Invalid API key: {message}")}),
        ),
        ApiError::Body(BodyError::Missing { field }) => (
            StatusCode::BAD_REQUEST,
            json!({"error": "Request missing required field", "missing_field": field}),
        ),
        _ => (e.status(), json!({"error": message})),
    };
    let mut response = answer(status, body);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // Keep the native answer's Retry-After: the SDK retries either way, a proxy may use it.
        if let Some(retry_after) = e.into_response().headers().get(header::RETRY_AFTER) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.clone());
        }
    }
    response
}

/// Amplitude's SDK reads the status from the body's `code`, not from the HTTP status line.
fn answer(status: StatusCode, mut body: Value) -> Response {
    body["code"] = status.as_u16().into();
    (status, Json(body)).into_response()
}

/// The SDK's remote configuration (`remoteConfig.serverUrl` pointed at `<collector>/config`):
/// a harmless answer that changes none of the page's settings and keeps Amplitude's own
/// diagnostics off, so the SDK has no reason to call Amplitude.
async fn remote_config(State(app): State<App>, Path(api_key): Path<String>) -> Response {
    match app.projects.for_ingest(&HeaderMap::new(), Some(&api_key)) {
        Ok(_) => Json(json!({
            "configs": {"diagnostics": {"browserSDK": {"enabled": false, "sampleRate": 0}}}
        }))
        .into_response(),
        Err(e) => {
            app.metrics.refused("unauthorized");
            // 401 is what makes the SDK stop asking.
            answer(
                StatusCode::UNAUTHORIZED,
                json!({"error": format!("Invalid API key: {e}")}),
            )
        }
    }
}

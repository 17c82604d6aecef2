//! Segment's HTTP Tracking API, as analytics.js (`@segment/analytics-next`) calls it.
//!
//! The bodies are native ones, so the native handlers serve them; what is added here is the
//! one-letter paths, the batch path of the batching dispatcher, and the settings document
//! analytics.js loads before anything else, so that `cdnURL` can point at the collector and
//! nothing is fetched from Segment's CDN.

use std::net::SocketAddr;

use assent_core::decode::segment;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::{ingest, App};

pub(super) fn routes(mut router: Router<App>) -> Router<App> {
    for short in segment::SHORT_PATHS {
        let kind = segment::event_type(short).expect("every short path names a type");
        router = router.route(
            &format!("/v1/{short}"),
            post(
                move |State(app): State<App>,
                      ConnectInfo(peer): ConnectInfo<SocketAddr>,
                      headers,
                      body| { ingest::single(kind, app, peer, headers, body) },
            ),
        );
    }
    router
        // analytics.js's batching dispatcher posts to `<apiHost>/b`, with `apiHost` ending in
        // `/v1` by default; `/b` serves an `apiHost` without it.
        .route("/v1/b", post(ingest::batch))
        .route("/b", post(ingest::batch))
        .route("/v1/projects/{write_key}/settings", get(settings))
}

/// The settings document analytics.js fetches from `<cdnURL>/v1/projects/<writeKey>/settings`.
///
/// It sends events back to the host that served it, turns off Segment's own telemetry
/// (`metrics.sampleRate: 0`) and names no other destination, so the library loads no other
/// script. The collector speaks plain HTTP; behind a TLS proxy `X-Forwarded-Proto: https`
/// makes the tracker use `https`.
async fn settings(
    State(app): State<App>,
    Path(write_key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let result = app
        .projects
        .for_ingest(&HeaderMap::new(), Some(&write_key))
        .map_err(ApiError::from);
    app.count_refusal(result)?;
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let protocol = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    let mut segment_io = json!({"apiKey": write_key, "protocol": protocol});
    if let Some(host) = header(header::HOST.as_str()) {
        segment_io["apiHost"] = format!("{host}/v1").into();
    }
    Ok(Json(json!({
        "integrations": {"Segment.io": segment_io},
        "metrics": {"sampleRate": 0},
        "remotePlugins": [],
        "enabledMiddleware": {},
        "middlewareSettings": {},
        "legacyVideoPluginsEnabled": false,
        "analyticsNextEnabled": true,
    })))
}

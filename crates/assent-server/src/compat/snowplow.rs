//! Snowplow's collector endpoints, as `@snowplow/browser-tracker` v4 calls them:
//! `POST /com.snowplowanalytics.snowplow/tp2` (batches in a `payload_data` envelope) and
//! `GET /i` (one event in the query string, answered with a 1×1 GIF).
//!
//! Snowplow trackers send no write key: the project is the one whose `snowplow_app_ids`
//! lists the events' app id (`aid`). A request with `SP-Anonymous` (the tracker's server
//! anonymisation) stores no identifier and no address.

use std::net::SocketAddr;

use assent_core::decode::snowplow::{self, Decoded};
use assent_core::enrich::IndexedRejection;
use assent_core::Rejection;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::json;

use crate::api_error::ApiError;
use crate::ingest::{body_bytes, check_origin, commit, received, signals, Accepted};
use crate::projects::Project;
use crate::App;
use assent_core::pipeline::process_addressed;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/com.snowplowanalytics.snowplow/tp2", post(tp2))
        .route("/i", get(pixel))
}

/// A transparent 1×1 GIF, the answer a tracking pixel expects.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Why a request could not be stored.
enum Refusal {
    Api(ApiError),
    /// No event names an app id that some project lists.
    UnknownApp(String),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => e.into_response(),
            // The same shape as every other Assent error, naming the field to fix.
            Refusal::UnknownApp(message) => (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "unknown_app_id", "message": message, "field": "aid"})),
            )
                .into_response(),
        }
    }
}

impl Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::Api(e) => e.code(),
            Refusal::UnknownApp(_) => "unknown_app_id",
        }
    }
}

fn request(headers: &HeaderMap) -> snowplow::Request<'_> {
    snowplow::Request {
        anonymous: signals(headers).anonymous,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    }
}

async fn tp2(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let body = body_bytes(body, &app)?;
        let events =
            snowplow::post(&body, &request(&headers), &app.limits).map_err(ApiError::from)?;
        store(&app, &headers, peer, events).await
    };
    match result.await {
        Ok(accepted) => Json(accepted).into_response(),
        Err(refusal) => {
            app.metrics.refused(refusal.code());
            refusal.into_response()
        }
    }
}

async fn pixel(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let query = query.unwrap_or_default();
        let event = snowplow::get(&query, &request(&headers), &app.limits).map_err(|r| {
            app.metrics.rejected(r.label());
            // With one event there is no batch to save: its rejection is the request's error.
            Refusal::Api(ApiError::Event(r))
        })?;
        store(&app, &headers, peer, vec![Ok(event)]).await?;
        Ok::<(), Refusal>(())
    };
    match result.await {
        Ok(()) => (
            [
                (header::CONTENT_TYPE, "image/gif"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            PIXEL,
        )
            .into_response(),
        Err(refusal) => {
            app.metrics.refused(refusal.code());
            refusal.into_response()
        }
    }
}

/// Chooses the project by app id, then enriches and commits as native ingest does.
async fn store(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    events: Vec<Result<Decoded, Rejection>>,
) -> Result<Accepted, Refusal> {
    let project = project(app, &events)?;
    check_origin(project, headers)?;
    let mut accepted = Vec::with_capacity(events.len());
    let mut rejected = Vec::new();
    for (index, decoded) in events.into_iter().enumerate() {
        let same_project = |d: &Decoded| {
            d.app_id
                .as_deref()
                .and_then(|aid| app.projects.for_snowplow_app(aid))
                .is_some_and(|p| p.id == project.id)
        };
        match decoded {
            Ok(d) if same_project(&d) => accepted.push((d.event, d.ip)),
            Ok(d) => rejected.push(IndexedRejection {
                index,
                rejection: Rejection::Invalid {
                    field: "aid",
                    problem: format!(
                        "{:?} is not an app id of project {:?}, which this request's first event chose",
                        d.app_id.unwrap_or_default(),
                        &*project.id
                    )
                    .into(),
                },
            }),
            Err(rejection) => rejected.push(IndexedRejection { index, rejection }),
        }
    }
    // `SP-Anonymous` stores no address, whatever the events say: the policy sees the header.
    let received = received(app, project, headers, peer);
    let processed = process_addressed(
        accepted,
        rejected,
        &received,
        &signals(headers),
        &project.policy,
    );
    Ok(commit(app, project, processed).await?)
}

/// The project of the first event whose app id some project lists.
fn project<'a>(
    app: &'a App,
    events: &[Result<Decoded, Rejection>],
) -> Result<&'a Project, Refusal> {
    let app_ids: Vec<&str> = events
        .iter()
        .filter_map(|e| e.as_ref().ok()?.app_id.as_deref())
        .collect();
    if let Some(project) = app_ids
        .iter()
        .find_map(|aid| app.projects.for_snowplow_app(aid))
    {
        return Ok(project);
    }
    // Nothing to store: a request whose only events are malformed says so rather than
    // blaming the app id.
    if let Some(Err(rejection)) = events.iter().find(|e| e.is_err()) {
        if events.iter().all(Result::is_err) {
            return Err(Refusal::Api(ApiError::Event(rejection.clone())));
        }
    }
    Err(Refusal::UnknownApp(match app_ids.first() {
        None => "no event has an app id (`aid`): create the tracker with `appId`, and list it in the project's snowplow_app_ids".into(),
        Some(aid) => format!(
            "app id {aid:?} is in no project's snowplow_app_ids: add it to the project these events belong to"
        ),
    }))
}

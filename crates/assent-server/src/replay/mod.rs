//! Session replay on the collector: `POST /v1/replay` stores compressed rrweb chunks in
//! `replays.db` ([`assent_store::ReplayStore`]); the admin API (`/v1/admin/replays`, in
//! [`crate::admin`]) and the playback page at `/replay/` play them back; `/sdk/replay/`
//! serves the recorder and the player. Deletion, export, suppression, retention and the
//! audit trail cover replays through the store's privacy operations.

pub(crate) mod admin;
mod error;
mod ingest;
mod upload;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use tower_http::services::ServeDir;

use crate::config::Settings;
use crate::App;

pub use upload::MAX_CHUNK_BYTES;

/// The playback page: asks for the admin token, lists replays, plays one with rrweb-player.
const PLAYBACK_PAGE: &str = include_str!("playback.html");

pub fn routes(settings: &Settings, app: App) -> Router<App> {
    let missing_file = crate::not_found(&app);
    let upload = Router::new()
        .route("/v1/replay", post(ingest::upload))
        .method_not_allowed_fallback(crate::unknown_route::wrong_method)
        // A little over the chunk limit, so an oversized chunk still gets its precise 413.
        .layer(DefaultBodyLimit::max(MAX_CHUNK_BYTES + 1))
        .layer(crate::cors(app));
    // The page is same-origin only: no CORS layer.
    Router::new()
        .merge(upload)
        .route("/replay", get(|| async { Redirect::permanent("/replay/") }))
        .route("/replay/", get(playback_page))
        .method_not_allowed_fallback(crate::unknown_route::wrong_method)
        .nest_service(
            "/sdk/replay",
            ServeDir::new(&settings.web.replay_dir).not_found_service(missing_file),
        )
}

async fn playback_page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page holds an admin token: never framed, never cached.
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PLAYBACK_PAGE,
    )
}

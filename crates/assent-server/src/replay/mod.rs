//! Session replay on the collector: `POST /v1/replay` stores compressed rrweb chunks in
//! `replays.db` ([`assent_store::ReplayStore`]); the admin API and the playback page at
//! `/replay/` play them back; `/sdk/replay/` serves the recorder and the player.

mod admin;
mod admin_token;
mod error;
mod ingest;
pub mod retention;
mod upload;

use std::sync::Arc;

use assent_store::ReplayStore;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use tower_http::services::ServeDir;

use crate::config::Settings;
use crate::App;
use admin_token::AdminTokens;

pub use upload::MAX_CHUNK_BYTES;

/// What the replay handlers share.
#[derive(Clone)]
pub struct ReplayState {
    app: App,
    store: Arc<ReplayStore>,
    admins: Arc<AdminTokens>,
}

/// The playback page: asks for the admin token, lists replays, plays one with rrweb-player.
const PLAYBACK_PAGE: &str = include_str!("playback.html");

pub fn routes<S: Clone + Send + Sync + 'static>(
    settings: &Settings,
    app: App,
    store: Arc<ReplayStore>,
) -> Router<S> {
    let state = ReplayState {
        app: app.clone(),
        store,
        admins: Arc::new(AdminTokens::new(&settings.projects)),
    };
    let upload = Router::new()
        .route("/v1/replay", post(ingest::upload))
        // A little over the chunk limit, so an oversized chunk still gets its precise 413.
        .layer(DefaultBodyLimit::max(MAX_CHUNK_BYTES + 1))
        .layer(crate::cors(app));
    // The admin API and the page are same-origin only: no CORS layer.
    Router::new()
        .merge(upload)
        .route("/v1/admin/replays", get(admin::list))
        .route("/v1/admin/replays/{session}", get(admin::events))
        .route("/replay", get(|| async { Redirect::permanent("/replay/") }))
        .route("/replay/", get(playback_page))
        .with_state(state)
        .nest_service("/sdk/replay", ServeDir::new(&settings.web.replay_dir))
}

/// Runs a replay-store call on the blocking pool: SQLite calls block, and a big chunk or a
/// long list must not hold up the async threads.
async fn with_store<T: Send + 'static>(
    state: &ReplayState,
    call: impl FnOnce(&ReplayStore) -> Result<T, error::ReplayError> + Send + 'static,
) -> Result<T, error::ReplayError> {
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || call(&store))
        .await
        .map_err(|e| assent_store::StoreError::Commit(e.to_string()))?
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

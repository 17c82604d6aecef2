//! What a browser loads from the collector: the tracker bundle and the demo page.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::App;

/// `window.ASSENT_DEMO`, so the demo page works against whatever project runs here without
/// hard-coding a key. Write keys are public by design; admin tokens never appear here.
pub async fn demo_config(State(app): State<App>) -> impl IntoResponse {
    let config = serde_json::json!({
        "writeKey": app.demo_write_key.as_deref(),
        "endpoint": "",
    });
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!("window.ASSENT_DEMO = {config};\n"),
    )
}

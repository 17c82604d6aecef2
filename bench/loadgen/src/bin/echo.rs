//! The yardstick for ingest figures: a bare axum server that reads each request's JSON into a
//! tree and answers how many events it held. No policy, no store, no durability: what the
//! machine can do with HTTP and JSON alone, measured by the same load generator in the same run.
//!
//!   echo --addr 127.0.0.1:0      prints `echo listening on http://ADDR`

use axum::body::Bytes;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

async fn batch(body: Bytes) -> Json<Value> {
    let events = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(body)) => body
            .get("batch")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        _ => 0,
    };
    Json(json!({"accepted": events, "rejected": [], "duplicates": 0}))
}

async fn single(body: Bytes) -> Json<Value> {
    let ok = serde_json::from_slice::<Value>(&body).is_ok();
    Json(json!({"accepted": usize::from(ok), "rejected": [], "duplicates": 0}))
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .skip_while(|a| a != "--addr")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let app = Router::new()
        .route("/v1/batch", post(batch))
        .route("/v1/track", post(single));
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    println!(
        "echo listening on http://{}",
        listener.local_addr().unwrap()
    );
    axum::serve(listener, app).await.unwrap();
}

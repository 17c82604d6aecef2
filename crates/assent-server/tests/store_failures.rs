//! When the store cannot commit, clients are told to retry (503 + Retry-After) and nothing is
//! acknowledged that is not on disk. A second SQLite connection holding the write lock stands
//! in for a backup tool or a full disk: a real lock on the real file, not a mock.

mod support;

/// These tests lock the store behind the writer's back and count what the writer does; the
/// retention sweeper's first run at start-up would take its own turn in the queue.
const NO_SWEEPER: &str = "retention_sweep_minutes = 0";

use std::time::Duration;

use serde_json::json;
use support::{track, TestServer};

fn lock_the_store(server: &TestServer) -> rusqlite::Connection {
    let db = server.db();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    db
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_that_cannot_happen_is_a_503_and_the_retry_succeeds() {
    let server = TestServer::start_with(
        "127.0.0.1:0",
        &format!("busy_timeout_ms = 100\n{NO_SWEEPER}"),
        "",
    )
    .await;
    let lock = lock_the_store(&server);

    let res = server
        .http
        .post(format!("{}/v1/batch", server.url))
        .basic_auth(support::WRITE_KEY, Some(""))
        .json(&json!({"batch": [track("during-lock")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    let (_, answer) = support::answer(res).await;
    assert_eq!(answer["error"], "store_unavailable");

    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), 503);

    lock.execute_batch("ROLLBACK").unwrap();
    let (status, answer) = server
        .post("/v1/batch", &json!({"batch": [track("during-lock")]}))
        .await;
    assert_eq!(
        (status, answer["duplicates"].as_u64()),
        (200, Some(0)),
        "nothing from the failed commit was kept"
    );
    assert_eq!(server.get("/readyz").await.status(), 200);
    assert_eq!(server.count("SELECT count(*) FROM events"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_write_queue_is_a_503_at_once_and_queued_requests_still_commit() {
    let server = TestServer::start_with(
        "127.0.0.1:0",
        &format!("busy_timeout_ms = 5000\nqueue_capacity = 1\n{NO_SWEEPER}"),
        "",
    )
    .await;
    let lock = lock_the_store(&server);
    let send = |id: &'static str| {
        let (http, url) = (server.http.clone(), server.url.clone());
        tokio::spawn(async move {
            http.post(format!("{url}/v1/batch"))
                .basic_auth(support::WRITE_KEY, Some(""))
                .json(&json!({"batch": [track(id)]}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // The writer takes the first request and waits on the lock; the second fills the queue.
    let first = send("first");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = send("second");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (status, answer) = server
        .post("/v1/batch", &json!({"batch": [track("third")]}))
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("queue_full"))
    );

    lock.execute_batch("ROLLBACK").unwrap();
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(second.await.unwrap(), 200);
    assert_eq!(server.count("SELECT count(*) FROM events"), 2);
}

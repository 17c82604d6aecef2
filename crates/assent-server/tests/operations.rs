//! What an operator relies on: health, readiness, metrics, and a shutdown that loses nothing.

mod support;

use serde_json::json;
use support::{track, TestServer};

#[tokio::test]
async fn health_and_readiness_answer_in_json() {
    let server = TestServer::start().await;
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
    // Readiness really wrote through the store.
    assert_eq!(
        server.count("SELECT count(*) FROM meta WHERE key = 'probe'"),
        1
    );
}

#[tokio::test]
async fn metrics_count_what_happened_in_prometheus_text() {
    let server = TestServer::start().await;
    let batch = json!({"batch": [track("a"), track("b"), {"type": "track"}]});
    server.post("/v1/batch", &batch).await;
    server.post("/v1/batch", &batch).await;
    server.post("/v1/batch", &json!({"nope": 1})).await;

    let res = server.get("/metrics").await;
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    for line in [
        "assent_events_accepted_total{project=\"demo\"} 2",
        "assent_events_deduplicated_total{project=\"demo\"} 2",
        "assent_events_rejected_total{reason=\"missing_field\"} 2",
        "assent_requests_refused_total{code=\"invalid_body\"} 1",
        "assent_commit_events_sum 4.0",
        "assent_write_queue_depth 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    // Two event commits, plus the readiness probes the harness made while waiting.
    let commits: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("assent_commit_seconds_count "))
        .expect("a commit latency histogram")
        .parse()
        .unwrap();
    assert!(commits >= 2.0, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_finishes_requests_in_flight_and_commits_them() {
    let server = TestServer::start().await;
    let mut clients = Vec::new();
    for c in 0..8 {
        let (http, url) = (server.http.clone(), server.url.clone());
        clients.push(tokio::spawn(async move {
            let mut acked = 0;
            for i in 0..50 {
                let batch = json!({"batch": (0..20).map(|j| track(&format!("{c}-{i}-{j}"))).collect::<Vec<_>>()});
                let sent = http
                    .post(format!("{url}/v1/batch"))
                    .basic_auth(support::WRITE_KEY, Some(""))
                    .json(&batch)
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status() == 200 => acked += 20,
                    _ => break, // the server has stopped taking requests
                }
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let dir = server.stop().await;
    let mut acked = 0;
    for c in clients {
        acked += c.await.unwrap();
    }
    let db = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
    assent_store::partition::attach_all(&db, dir.path()).unwrap();
    let stored: i64 = db
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert!(acked > 0);
    assert_eq!(
        stored, acked,
        "every acknowledged event is stored after shutdown, and nothing else"
    );
}

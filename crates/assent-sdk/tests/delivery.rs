//! Delivery against the real collector binary: everything queued arrives, once, through a
//! collector that dies and comes back, through overload answers and lost answers, and a full
//! queue behaves as configured.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assent_sdk::{Client, Consent, Options, WhenFull};
use support::{Collector, WRITE_KEY};

fn granted() -> Consent {
    Consent::new()
        .id("c-delivery")
        .grant("analytics")
        .source("banner")
        .decided_at(1_764_500_000_000)
}

/// Quick batches and retries, so a test does not wait for the defaults.
fn quick() -> Options {
    Options::default()
        .batch_size(50)
        .flush_interval(Duration::from_millis(20))
        .retry(Duration::from_millis(20), Duration::from_millis(300))
}

async fn wait_for_rows(collector: &Collector, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while collector.count("SELECT count(*) FROM events") < at_least {
        assert!(
            Instant::now() < deadline,
            "the collector never stored {at_least} events"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_delivers_everything_queued_once() {
    let collector = Collector::start();
    let client = Client::new(&collector.url, WRITE_KEY, quick()).unwrap();
    let consent = granted();
    let mut sent = HashSet::new();
    for n in 0..1_000 {
        let receipt = client
            .track("Invoice Paid")
            .consent(&consent)
            .user_id(format!("u-{}", n % 7))
            .property("n", n)
            .send()
            .await
            .unwrap();
        sent.insert(receipt.message_id.unwrap().to_string());
    }

    client.shutdown(Duration::from_secs(30)).await.unwrap();

    let (stored, rows) = collector.message_ids();
    assert_eq!(stored, sent, "every event queued is stored");
    assert_eq!(rows, 1_000, "and none twice");
    let stats = client.stats();
    assert_eq!(
        (stats.delivered, stats.queued, stats.in_flight),
        (1_000, 0, 0)
    );
    let after = client.track("Late").consent(&consent).send().await;
    assert_eq!(after.unwrap_err(), assent_sdk::Error::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_exactly_once_through_a_collector_killed_and_restarted() {
    let mut collector = Collector::start();
    let client = Client::new(&collector.url, WRITE_KEY, quick()).unwrap();
    let sent: Arc<Mutex<HashSet<String>>> = Arc::default();
    let producer = {
        let (client, sent) = (client.clone(), sent.clone());
        tokio::spawn(async move {
            let consent = granted();
            for n in 0..3_000 {
                let receipt = client
                    .track("Load")
                    .consent(&consent)
                    .anonymous_id("a-load")
                    .property("n", n)
                    .send()
                    .await
                    .unwrap();
                sent.lock()
                    .unwrap()
                    .insert(receipt.message_id.unwrap().to_string());
                if n % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };

    // Mid-run, the collector dies without warning and comes back half a second later.
    wait_for_rows(&collector, 500).await;
    collector.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    collector.start_again();

    producer.await.unwrap();
    client.shutdown(Duration::from_secs(60)).await.unwrap();
    let sent = sent.lock().unwrap().clone();
    let (stored, rows) = collector.message_ids();
    assert_eq!(sent.len(), 3_000);
    let missing: Vec<_> = sent.difference(&stored).take(3).collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    assert_eq!(rows, 3_000, "no event stored twice");
    assert!(
        client.stats().retries > 0,
        "the collector's death was noticed"
    );
}

/// A proxy before the real collector that answers the first request `503` with
/// `Retry-After: 1`, forwards the second and loses its answer, and forwards the rest.
async fn start_fault_proxy(target: String) -> (String, Arc<Mutex<Vec<Instant>>>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    let attempts: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let log = attempts.clone();
    let http = reqwest::Client::new();
    let handler = move |headers: HeaderMap, body: Bytes| {
        let (log, http, target) = (log.clone(), http.clone(), target.clone());
        async move {
            let attempt = {
                let mut log = log.lock().unwrap();
                log.push(Instant::now());
                log.len()
            };
            if attempt == 1 {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", "1")],
                    "busy",
                )
                    .into_response();
            }
            let mut request = http.post(format!("{target}/v1/batch")).body(body);
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name, value);
                }
            }
            let answer = request.send().await.unwrap();
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let text = answer.text().await.unwrap();
            if attempt == 2 {
                // The collector committed; the client never hears it.
                return (StatusCode::BAD_GATEWAY, "answer lost").into_response();
            }
            (status, text).into_response()
        }
    };
    let app = axum::Router::new().route("/v1/batch", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, attempts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_a_lost_answer_stores_nothing_twice() {
    let collector = Collector::start();
    let (proxy, attempts) = start_fault_proxy(collector.url.clone()).await;
    let options = quick().retry(Duration::from_millis(10), Duration::from_secs(5));
    let client = Client::new(&proxy, WRITE_KEY, options).unwrap();
    let consent = granted();
    for n in 0..20 {
        client
            .track("Retried")
            .consent(&consent)
            .property("n", n)
            .send()
            .await
            .unwrap();
    }

    client.flush(Duration::from_secs(20)).await.unwrap();

    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), 3, "503, lost answer, acknowledged");
    let waited = attempts[1] - attempts[0];
    assert!(
        waited >= Duration::from_millis(900),
        "Retry-After: 1 was honoured (waited {waited:?}; the backoff alone is 10 ms)"
    );
    assert_eq!(collector.count("SELECT count(*) FROM events"), 20);
    let stats = client.stats();
    assert_eq!(
        (stats.delivered, stats.duplicates, stats.retries),
        (20, 20, 2)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_its_oldest_events_and_counts_them() {
    let collector = Collector::start();
    let options = Options::default()
        .queue_capacity(10)
        .batch_size(100)
        .flush_interval(Duration::from_secs(3_600));
    let client = Client::new(&collector.url, WRITE_KEY, options).unwrap();
    let consent = granted();
    // Nothing is awaited: the delivery task does not run in between, the queue only fills.
    let ids: Vec<String> = (0..25)
        .map(|n| {
            let receipt = client
                .track("Burst")
                .consent(&consent)
                .property("n", n)
                .try_send()
                .unwrap();
            receipt.message_id.unwrap().to_string()
        })
        .collect();
    let stats = client.stats();
    assert_eq!((stats.queued, stats.dropped_overflow), (10, 15));

    client.flush(Duration::from_secs(10)).await.unwrap();

    let (stored, _) = collector.message_ids();
    let newest: HashSet<String> = ids[15..].iter().cloned().collect();
    assert_eq!(
        stored, newest,
        "the ten newest went, the fifteen oldest did not"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn with_wait_a_full_queue_makes_the_call_wait_for_room() {
    let collector = Collector::start();
    let options = Options::default()
        .queue_capacity(5)
        .batch_size(5)
        .when_full(WhenFull::Wait);
    let client = Client::new(&collector.url, WRITE_KEY, options).unwrap();
    let consent = granted();
    for n in 0..5 {
        client
            .track("Steady")
            .consent(&consent)
            .property("n", n)
            .try_send()
            .unwrap();
    }
    let full = client.track("Steady").consent(&consent).try_send();
    assert_eq!(
        full.unwrap_err(),
        assent_sdk::Error::QueueFull { capacity: 5 }
    );

    // Awaited, the call gets its place once the delivery task took the full batch.
    let receipt = client
        .track("Steady")
        .consent(&consent)
        .property("n", 5)
        .send()
        .await
        .unwrap();
    client.shutdown(Duration::from_secs(10)).await.unwrap();
    assert_eq!(collector.count("SELECT count(*) FROM events"), 6);
    assert_eq!(client.stats().dropped_overflow, 0);
    collector.event(&receipt.message_id.unwrap().to_string());
}

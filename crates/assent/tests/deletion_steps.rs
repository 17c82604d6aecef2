//! Deleting a subject with three million events: accepted at once (the subject is suppressed from
//! that moment), deleted in bounded steps that let ingest through, and finished after a
//! `kill -9` of the collector in the middle of it.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use support::Collector;

const EVENTS: i64 = 3_000_000;
const SUBJECT: &str = "heavy-user@example.org";

fn count(dir: &std::path::Path, sql: &str) -> i64 {
    support::store_db(&dir.join("data"))
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

async fn job_status(collector: &Collector, job: &str) -> Value {
    collector
        .http
        .get(format!("{}/v1/admin/deletions/{job}", collector.url))
        .bearer_auth("sk_demo")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn millions_of_events_are_deleted_in_steps_ingest_goes_on_and_a_crash_does_not_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::demo_config(dir.path(), "");
    {
        // Makes the store and today's partition.
        let collector = Collector::start(&config);
        let res = collector
            .http
            .post(format!("{}/v1/batch", collector.url))
            .basic_auth("pk_demo", Some(""))
            .json(&json!({"batch": [{"type": "track", "event": "First", "messageId": "first", "anonymousId": "someone"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Millions of events of one subject, written straight into today's partition.
    let data = dir.path().join("data");
    let today = assent_store::partition::list(&data)[0];
    rusqlite::Connection::open(today.path(&data))
        .unwrap()
        .execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EVENTS})
             INSERT INTO events (project, message_id, dedupe_ts, type, event, user_id, timestamp, received_at, payload)
             SELECT 'demo', 'heavy-' || i, i, 'track', 'Load', '{SUBJECT}', i, i, '{{}}' FROM n;
             UPDATE projects SET events = events + {EVENTS} WHERE project = 'demo';"
        ))
        .unwrap();

    let collector = Collector::start(&config);
    // Four clients of other visitors keep sending while the deletion runs.
    let stop = Arc::new(AtomicBool::new(false));
    let statuses: Arc<Mutex<Vec<u16>>> = Arc::default();
    let answered_during = Arc::new(AtomicUsize::new(0));
    let deleting = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..4 {
        let (http, url) = (collector.http.clone(), collector.url.clone());
        let (stop, statuses) = (stop.clone(), statuses.clone());
        let (answered_during, deleting) = (answered_during.clone(), deleting.clone());
        clients.push(tokio::spawn(async move {
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let batch: Vec<Value> = (0..20)
                    .map(|i| json!({"type": "track", "event": "Other", "messageId": format!("o{client}-{n}-{i}"), "anonymousId": format!("other-{client}")}))
                    .collect();
                let res = http
                    .post(format!("{url}/v1/batch"))
                    .basic_auth("pk_demo", Some(""))
                    .json(&json!({"batch": batch}))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let Ok(res) = res else { break }; // the collector was killed
                statuses.lock().unwrap().push(res.status().as_u16());
                if deleting.load(Ordering::Relaxed) {
                    answered_during.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    deleting.store(true, Ordering::Relaxed);
    let res = collector
        .http
        .delete(format!("{}/v1/admin/subjects/{SUBJECT}", collector.url))
        .bearer_auth("sk_demo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["status"], "running", "{accepted}");
    let job = accepted["job"].as_str().unwrap().to_string();

    // From the acceptance on, the subject's new events are dropped.
    let late = collector
        .http
        .post(format!("{}/v1/batch", collector.url))
        .basic_auth("pk_demo", Some(""))
        .json(&json!({"batch": [{"type": "track", "event": "Late", "messageId": "late-1", "userId": SUBJECT}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 200);

    // Pull the plug while the job runs: its answer said so.
    let during = answered_during.load(Ordering::Relaxed);
    let mut collector = collector;
    collector.child.kill().unwrap();
    collector.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let statuses = statuses.lock().unwrap().clone();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "ingest was refused during the deletion: {:?}",
        statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>()
    );
    assert!(
        during >= 20,
        "only {during} ingest requests were answered while millions of events were deleted"
    );
    let left = count(
        dir.path(),
        &format!("SELECT count(*) FROM events WHERE user_id = '{SUBJECT}'"),
    );
    assert!(left > 0, "the crash was meant to come mid-deletion");

    // The collector comes back and finishes the job it had accepted.
    let collector = Collector::start(&config);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let finished = loop {
        let status = job_status(&collector, &job).await;
        if status["status"] == "finished" {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the accepted deletion was not finished after the restart: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(finished["counts"]["events"], EVENTS, "{finished}");
    assert_eq!(
        count(
            dir.path(),
            &format!("SELECT count(*) FROM events WHERE user_id = '{SUBJECT}'")
        ),
        0
    );
    assert!(
        count(
            dir.path(),
            "SELECT count(*) FROM events WHERE event = 'Other'"
        ) > 0
    );
    assert_eq!(
        count(dir.path(), "SELECT count(*) FROM deletions_running"),
        0,
        "the identifiers kept for the steps are gone"
    );
}

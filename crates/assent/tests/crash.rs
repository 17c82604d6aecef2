//! The promise behind every `200`: kill the collector with SIGKILL in the middle of a load,
//! start it again on the same data directory, and every acknowledged event is there, once.

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::Collector;

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("assent.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[[projects]]\nid = \"demo\"\nwrite_keys = [\"pk_demo\"]\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    path
}

fn batch(client: usize, n: usize) -> (Vec<String>, serde_json::Value) {
    let ids: Vec<String> = (0..50).map(|i| format!("c{client}-b{n}-e{i}")).collect();
    let events: Vec<_> = ids
        .iter()
        .map(|id| json!({"type": "track", "event": "Load", "messageId": id, "anonymousId": format!("a{client}")}))
        .collect();
    (ids, json!({"batch": events}))
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Option<serde_json::Value> {
    let res = http
        .post(format!("{url}/v1/batch"))
        .basic_auth("pk_demo", Some(""))
        .json(body)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    res.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_load_loses_no_acknowledged_event_and_duplicates_none() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut collector = Collector::start(&config);
    let acked: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let http = reqwest::Client::new();

    // Six clients send 50-event batches as fast as they are acknowledged.
    let mut clients = Vec::new();
    for client in 0..6 {
        let (http, url, acked) = (http.clone(), collector.url.clone(), acked.clone());
        clients.push(tokio::spawn(async move {
            for n in 0.. {
                let (_, body) = batch(client, n);
                match post(&http, &url, &body).await {
                    Some(_) => acked.lock().unwrap().push((client, n)),
                    None => break, // the collector is gone
                }
            }
        }));
    }
    // Let the load build up, then pull the plug without warning.
    while acked.lock().unwrap().len() < 100 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    collector.child.kill().unwrap(); // SIGKILL
    collector.child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let acked_ids: HashSet<String> = acked.iter().flat_map(|&(c, n)| batch(c, n).0).collect();
    assert!(acked_ids.len() >= 100 * 50);

    // Start again on the same data directory.
    let mut collector = Collector::start(&config);
    let db = support::store_db(&dir.path().join("data"));
    let stored: HashSet<String> = {
        let mut q = db.prepare("SELECT message_id FROM events").unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let rows: i64 = db
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let missing: Vec<_> = acked_ids.difference(&stored).take(5).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost: {missing:?} (of {})",
        acked_ids.len()
    );
    assert_eq!(rows as usize, stored.len(), "no event is stored twice");
    // Only whole batches were committed: a batch is all there or not at all.
    assert_eq!(stored.len() % 50, 0);

    // The clients retry batches whose answers they may have missed: nothing new is added.
    let &(c, n) = acked.last().unwrap();
    let answer = post(&http, &collector.url, &batch(c, n).1)
        .await
        .expect("the restarted collector accepts");
    assert_eq!(answer["duplicates"], 50);
    let after: i64 = db
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, rows);

    collector.child.kill().unwrap();
    collector.child.wait().unwrap();
}

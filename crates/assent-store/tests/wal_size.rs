//! A collector under sustained load keeps its WAL near `wal_limit_bytes`: the checkpointer
//! restarts it, rather than letting it grow with every commit until the load stops (it used to
//! reach gigabytes in a minute of the ingest benchmark).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_core::{decode, enrich, IpPolicy, Limits, Received, StoredEvent};
use assent_store::{SqliteStore, Store, StoreOptions};

/// `n` track events with a few properties, ids starting with `prefix`.
fn track_events(prefix: &str, n: usize) -> Vec<StoredEvent> {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"type":"track","event":"Viewed","messageId":"{prefix}-{i}","anonymousId":"a-{prefix}-{i}","properties":{{"sku":"G-{i}","price":18.99}}}}"#
            )
        })
        .collect();
    let body = format!(r#"{{"batch":[{}]}}"#, items.join(","));
    let batch = decode::batch(body.as_bytes(), &Limits::default()).unwrap();
    enrich::batch(batch, &Received::now(None), IpPolicy::Drop).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_near_its_limit_while_the_writer_never_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let limit: u64 = 256 * 1024;
    let options = StoreOptions {
        wal_limit_bytes: limit,
        ..StoreOptions::default()
    };
    let store = Arc::new(SqliteStore::open(dir.path(), options).unwrap());
    // Events go to the day's partition: its WAL is the one that grows.
    let today =
        assent_store::partition::PartitionDay::of_ms(jiff::Timestamp::now().as_millisecond())
            .path(dir.path());
    let wal = std::path::PathBuf::from(format!("{}-wal", today.display()));
    let project: Arc<str> = "p".into();

    // Appends are queued before the earlier ones are answered, so the writer never waits for
    // work: the passive checkpoints alone never find a moment to start the WAL over.
    let until = Instant::now() + Duration::from_secs(3);
    let mut in_flight = VecDeque::new();
    let (mut sent, mut largest) = (0, 0);
    while Instant::now() < until {
        while in_flight.len() < 16 {
            let events = track_events(&format!("b{sent}"), 100);
            in_flight.push_back(store.append(project.clone(), events).unwrap());
            sent += 1;
        }
        in_flight.pop_front().unwrap().await.unwrap();
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    for ack in in_flight {
        ack.await.unwrap();
    }

    let reader = store.reader().unwrap();
    assent_store::partition::attach_all(&reader, dir.path()).unwrap();
    let stored: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored,
        sent as i64 * 100,
        "every acknowledged event is stored"
    );
    let db_bytes = std::fs::metadata(&today).unwrap().len();
    assert!(
        db_bytes > 20 * limit,
        "the load wrote {db_bytes} bytes, too little to need restarts of a {limit}-byte WAL"
    );
    assert!(
        largest < 16 * limit,
        "the WAL reached {largest} bytes under load; its limit is {limit}"
    );
}

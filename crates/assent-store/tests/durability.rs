//! Both durability levels acknowledge only what a fresh connection can read back, and a
//! store that is closed answers every append it had queued.

use std::sync::Arc;

use assent_core::{decode, enrich, IpPolicy, Limits, Received, StoredEvent};
use assent_store::{Durability, SqliteStore, Store, StoreError, StoreOptions};

fn events(prefix: &str, n: usize) -> Vec<StoredEvent> {
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"type":"page","messageId":"{prefix}-{i}"}}"#))
        .collect();
    let body = format!(r#"{{"batch":[{}]}}"#, items.join(","));
    let batch = decode::batch(body.as_bytes(), &Limits::default()).unwrap();
    enrich::batch(batch, &Received::now(None), IpPolicy::Drop).0
}

/// A fresh connection that sees every partition's events, as `events`.
fn all_events(store: &SqliteStore) -> rusqlite::Connection {
    let conn = store.reader().unwrap();
    assent_store::partition::attach_all(&conn, store.dir()).unwrap();
    conn
}

async fn acknowledged_means_readable(durability: Durability) {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        durability,
        ..StoreOptions::default()
    };
    let store = SqliteStore::open(dir.path(), options).unwrap();
    let project: Arc<str> = "p".into();
    // Many appends in flight at once, as concurrent requests make them.
    let acks: Vec<_> = (0..40)
        .map(|i| {
            store
                .append(project.clone(), events(&format!("r{i}"), 25))
                .unwrap()
        })
        .collect();
    for ack in acks {
        let report = ack.await.unwrap();
        assert_eq!((report.inserted, report.duplicates), (25, 0));
        let reader = all_events(&store);
        let rows: i64 = reader
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert!(
            rows >= 25,
            "an acknowledged append is visible to another connection"
        );
    }
    let reader = all_events(&store);
    let rows: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1000);
    store.probe().unwrap().await.unwrap();
}

#[tokio::test]
async fn full_durability_answers_after_the_flush() {
    acknowledged_means_readable(Durability::Full).await;
}

#[tokio::test]
async fn normal_durability_answers_after_the_commit() {
    acknowledged_means_readable(Durability::Normal).await;
}

#[tokio::test]
async fn close_answers_everything_queued_and_refuses_what_comes_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let project: Arc<str> = "p".into();
    let acks: Vec<_> = (0..10)
        .map(|i| {
            store
                .append(project.clone(), events(&format!("c{i}"), 10))
                .unwrap()
        })
        .collect();
    store.close();
    for ack in acks {
        assert_eq!(ack.await.unwrap().inserted, 10);
    }
    assert!(matches!(
        store.append(project, events("late", 1)),
        Err(StoreError::Closed)
    ));
    // The last checkpoint left everything in the main files.
    let today = assent_store::partition::list(dir.path())[0];
    for db in [dir.path().join("events.db"), today.path(dir.path())] {
        let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
        assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    }
}

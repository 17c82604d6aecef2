//! Within the dedupe window a retried event is never stored twice, whichever day's partition
//! its first copy is in, across restarts; past the window it may be stored again.

use assent_core::{decode, enrich, IpPolicy, Limits, Received, StoredEvent};
use assent_store::{AppendReport, SqliteStore, Store, StoreOptions};

const DAY: i64 = 24 * 60 * 60 * 1000;

/// One event as a tracker sends it, received `days_ago` days before now.
fn event(message_id: &str, timestamp: &str, days_ago: i64) -> Vec<StoredEvent> {
    let body = format!(
        r#"{{"batch":[{{"type":"track","event":"Paid","messageId":"{message_id}","timestamp":"{timestamp}"}}]}}"#
    );
    let now = jiff::Timestamp::now().as_millisecond();
    let received = Received {
        at: jiff::Timestamp::from_millisecond(now - days_ago * DAY).unwrap(),
        ip: None,
        ..Received::now(None)
    };
    enrich::batch(
        decode::batch(body.as_bytes(), &Limits::default()).unwrap(),
        &received,
        IpPolicy::Drop,
    )
    .0
}

async fn append(store: &SqliteStore, events: Vec<StoredEvent>) -> AppendReport {
    store.append("web".into(), events).unwrap().await.unwrap()
}

#[tokio::test]
async fn a_retry_within_the_window_is_a_duplicate_across_partitions_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let five_days_ago = event("m-5", "2026-11-25T10:00:00.123Z", 5);
    let ten_days_ago = event("m-10", "2026-11-20T10:00:00Z", 10);
    assert_eq!(append(&store, five_days_ago).await.inserted, 1);
    assert_eq!(append(&store, ten_days_ago).await.inserted, 1);
    // The same day: the partition's own unique key.
    assert_eq!(
        append(&store, event("m-5", "2026-11-25T10:00:00.123Z", 5))
            .await
            .duplicates,
        1
    );
    store.close();
    assert_eq!(assent_store::partition::list(dir.path()).len(), 2);

    // Days later, after a restart, the trackers retry: same messageId, same timestamp.
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let retry = append(&store, event("m-5", "2026-11-25T10:00:00.123Z", 0)).await;
    assert_eq!(
        (retry.inserted, retry.duplicates),
        (0, 1),
        "within the window"
    );
    let late = append(&store, event("m-10", "2026-11-20T10:00:00Z", 0)).await;
    assert_eq!(
        (late.inserted, late.duplicates),
        (1, 0),
        "past the 7-day window, a retry is stored again"
    );
    // A messageId sent again with another timestamp is another event.
    let other = append(&store, event("m-5", "2026-11-30T09:00:00Z", 0)).await;
    assert_eq!(other.inserted, 1);
    store.close();
}

#[tokio::test]
async fn a_longer_window_reaches_further_back() {
    let dir = tempfile::tempdir().unwrap();
    let options = || StoreOptions {
        dedupe_window: std::time::Duration::from_secs(14 * 24 * 3600),
        ..StoreOptions::default()
    };
    let store = SqliteStore::open(dir.path(), options()).unwrap();
    assert_eq!(
        append(&store, event("m-10", "2026-11-20T10:00:00Z", 10))
            .await
            .inserted,
        1
    );
    store.close();
    let store = SqliteStore::open(dir.path(), options()).unwrap();
    assert_eq!(
        append(&store, event("m-10", "2026-11-20T10:00:00Z", 0))
            .await
            .duplicates,
        1
    );
    store.close();
}

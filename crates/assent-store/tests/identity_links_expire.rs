//! Identity links pair an anonymousId with a userId, often an e-mail address: they expire like
//! events do, counted from the last time the pair was seen.

use assent_core::{decode, enrich, IpPolicy, Limits, Received};
use assent_store::retention::{NothingExpired, RetentionRule};
use assent_store::{SqliteStore, Store, StoreOptions};

const DAY: i64 = 24 * 60 * 60 * 1000;

async fn identify(store: &SqliteStore, message_id: &str, anonymous: &str, user: &str, day: i64) {
    let body = format!(
        r#"{{"batch":[{{"type":"identify","messageId":"{message_id}","anonymousId":"{anonymous}","userId":"{user}"}}]}}"#
    );
    let received = Received {
        at: jiff::Timestamp::from_millisecond(day * DAY).unwrap(),
        ip: None,
        ..Received::now(None)
    };
    let (events, _) = enrich::batch(
        decode::batch(body.as_bytes(), &Limits::default()).unwrap(),
        &received,
        IpPolicy::Drop,
    );
    store.append("web".into(), events).unwrap().await.unwrap();
}

fn links(store: &SqliteStore) -> Vec<String> {
    let db = store.reader().unwrap();
    let mut q = db
        .prepare("SELECT anonymous_id FROM identity_links ORDER BY anonymous_id")
        .unwrap();
    q.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_link_not_seen_within_its_period_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    identify(&store, "m1", "anon-gone", "ada@example.org", 1).await;
    identify(&store, "m2", "anon-busy", "grace@example.org", 1).await;
    // Seen again on day 35: its period starts over.
    identify(&store, "m3", "anon-busy", "grace@example.org", 35).await;
    assert_eq!(links(&store), ["anon-busy", "anon-gone"]);

    let rules = vec![RetentionRule {
        project: "web".into(),
        events_days: None,
        consent_days: None,
        replays_days: None,
        identity_links_days: Some(30),
    }];
    let report = store
        .run_retention(rules, 40 * DAY, "test", NothingExpired::Audit)
        .await
        .unwrap();
    assert_eq!(report.projects["web"]["identity_links"], 1);
    assert_eq!(links(&store), ["anon-busy"]);
    store.close();
}

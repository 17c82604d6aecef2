//! A store written before partitions (schema 7: every event in one `events` table) is upgraded
//! in place when opened: its events move into daily partitions, retries of them are still
//! recognised, and exports still find them.

use assent_core::{decode, enrich, IpPolicy, Limits, Received};
use assent_store::{partition, SqliteStore, Store, StoreOptions};

const DAY: i64 = 24 * 60 * 60 * 1000;

#[tokio::test]
async fn an_older_store_is_moved_into_partitions_and_keeps_its_promises() {
    let dir = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    {
        let mut db = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
        db.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .unwrap();
        db.pragma_update(None, "journal_mode", "WAL").unwrap();
        assent_store::schema::migrate_up_to(&mut db, 7).unwrap();
        // Rows as the previous writer stored them: two days, one subject with a link.
        for (i, (days_ago, anonymous, user)) in [
            (2, "anon-1", None),
            (2, "anon-1", Some("ada@example.org")),
            (1, "anon-2", None),
        ]
        .into_iter()
        .enumerate()
        {
            let received = now - days_ago * DAY;
            db.execute(
                "INSERT INTO events (project, message_id, type, event, anonymous_id, user_id,
                    timestamp, received_at, payload)
                 VALUES ('web', ?1, 'track', 'Viewed', ?2, ?3, ?4, ?4, ?5)",
                rusqlite::params![
                    format!("old-{i}"),
                    anonymous,
                    user,
                    received,
                    r#"{"properties":{"sku":"G-1"},"originalTimestamp":"2026-11-28T10:00:00.123Z"}"#
                ],
            )
            .unwrap();
        }
        db.execute(
            "INSERT INTO identity_links (project, anonymous_id, user_id, first_seen, last_seen)
             VALUES ('web', 'anon-1', 'ada@example.org', ?1, ?1)",
            [now],
        )
        .unwrap();
        db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }

    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(
        partition::list(dir.path()).len(),
        2,
        "one partition per day"
    );
    let db = store.reader().unwrap();
    let old_table: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'events'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old_table, 0, "the old table is gone");
    partition::attach_all(&db, dir.path()).unwrap();
    let moved: i64 = db
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(moved, 3);

    // A tracker retrying one of those events (same messageId, same timestamp) adds nothing.
    let body = r#"{"batch":[{"type":"track","event":"Viewed","messageId":"old-1","timestamp":"2026-11-28T10:00:00.123Z"}]}"#;
    let (events, _) = enrich::batch(
        decode::batch(body.as_bytes(), &Limits::default()).unwrap(),
        &Received::now(None),
        IpPolicy::Drop,
    );
    let report = store.append("web".into(), events).unwrap().await.unwrap();
    assert_eq!((report.inserted, report.duplicates), (0, 1));

    // The subject's export finds every event it had, through the identity graph.
    let mut out = Vec::new();
    let (_, counts) =
        assent_store::export::export_subject(&db, "web", "ada@example.org", now, &mut out).unwrap();
    assert_eq!(counts["events"], 2);
    store.close();
}

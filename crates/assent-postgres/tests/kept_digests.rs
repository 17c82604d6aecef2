//! The dashboard's digests of closed days are kept in PostgreSQL so that every collector reads
//! them instead of the rows. This follows one digest through its life: built by one collector,
//! read by another, and gone, with the deleted subject's property values, in the deletion's
//! own transaction.

use std::sync::Arc;

use assent_core::{decode, enrich, IpPolicy, Limits, Received, StoredEvent};
use assent_postgres::{PostgresOptions, PostgresStore, DAY_MS};
use assent_store::deletion::DeletionRequest;
use assent_store::stats::{Interval, StatsQuery};
use assent_store::Store;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Two events of `visitor` that happened, and were received, three days ago.
fn three_days_ago(visitor: &str, secret: &str) -> Vec<StoredEvent> {
    let at = jiff::Timestamp::from_millisecond(now_ms() - 3 * DAY_MS).unwrap();
    let consent = r#"{"consent":{"id":"c","state":{"analytics":"granted"}}}"#;
    let body = format!(
        r#"{{"batch":[
            {{"type":"page","name":"/","messageId":"{visitor}-1","anonymousId":"{visitor}",
              "timestamp":"{at}","properties":{{"path":"/"}},"context":{consent}}},
            {{"type":"track","event":"Signed Up","messageId":"{visitor}-2","anonymousId":"{visitor}",
              "timestamp":"{at}","properties":{{"nickname":"{secret}"}},"context":{consent}}}]}}"#
    );
    let decoded = decode::batch(body.as_bytes(), &Limits::default()).unwrap();
    let (mut events, rejected) = enrich::batch(decoded, &Received::now(None), IpPolicy::Truncate);
    assert!(rejected.is_empty(), "{rejected:?}");
    for e in &mut events {
        e.received_at_ms -= 3 * DAY_MS;
    }
    events
}

fn open(url: &str, keys: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(PostgresStore::open(PostgresOptions::new(url, keys.to_path_buf())).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_digest_serves_every_collector_and_goes_with_a_deletion() {
    let pg = assent_testbed::Postgres::start();
    let url = pg.new_database("digests");
    let keys = tempfile::tempdir().unwrap();
    let kept_with = |needle: &str| {
        pg.sql(
            "digests",
            &format!(
                "SELECT count(*) FROM stats_digests
                 WHERE position('{needle}' in encode(data, 'escape')) > 0"
            ),
        )
    };
    let today = now_ms() - now_ms().rem_euclid(DAY_MS);
    let query = || StatsQuery::new("shop", today - 5 * DAY_MS, today + DAY_MS);

    let first = open(&url, keys.path());
    for (visitor, secret) in [("ada", "nick-ada-7f3a"), ("bob", "nick-bob-19c2")] {
        let report = first
            .append("shop".into(), three_days_ago(visitor, secret))
            .unwrap()
            .await
            .unwrap();
        assert_eq!(report.inserted, 2);
    }
    let traffic = first.stats_traffic(query(), Interval::Day).await.unwrap();
    assert_eq!(traffic.totals.visitors, 2);
    assert_eq!(
        kept_with("nick-ada-7f3a"),
        "1",
        "the first question keeps the digest"
    );

    // Another collector answers from the kept digest: with the day's rows taken out from
    // under it for a moment (an experiment, no deployment does this), the answer can only
    // come from the digest.
    let second = open(&url, keys.path());
    let day = (now_ms() - 3 * DAY_MS).div_euclid(DAY_MS);
    let partition = format!(
        "events_{}",
        jiff::Timestamp::from_millisecond(day * DAY_MS)
            .unwrap()
            .strftime("%Y%m%d")
    );
    pg.sql(
        "digests",
        &format!("ALTER TABLE events DETACH PARTITION {partition}"),
    );
    let from_digest = second.stats_traffic(query(), Interval::Day).await.unwrap();
    pg.sql(
        "digests",
        &format!(
            "ALTER TABLE events ATTACH PARTITION {partition} FOR VALUES FROM ({day}) TO ({})",
            day + 1
        ),
    );
    assert_eq!(from_digest.totals, traffic.totals);

    // A deletion removes the kept digest in its own transaction: no collector's next answer,
    // and no byte in the database, holds the subject's property values.
    second
        .accept_deletion(DeletionRequest {
            job_id: "job-ada".into(),
            project: "shop".into(),
            id: "ada".into(),
            actor: "dpo".into(),
        })
        .await
        .unwrap();
    second.run_deletion("job-ada".into()).await.unwrap();
    assert_eq!(kept_with("nick-ada-7f3a"), "0");
    for store in [&first, &second] {
        let after = store.stats_traffic(query(), Interval::Day).await.unwrap();
        assert_eq!(after.totals.visitors, 1);
        let properties = store
            .stats_event_properties(query(), "Signed Up".into(), 10)
            .await
            .unwrap();
        let values: Vec<&str> = properties.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(values, ["nick-bob-19c2"]);
    }
    assert_eq!(kept_with("nick-bob-19c2"), "1", "kept again, without her");
    first.close();
    second.close();
}

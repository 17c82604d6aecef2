//! One contract, two engines: every case below runs, unchanged, against the embedded SQLite
//! store and against PostgreSQL (a throwaway cluster this test starts and stops), through the
//! `Store` seam only — what the collector and the command line can see.

use std::io::Write;
use std::sync::Arc;

use assent_core::{decode, enrich, IpPolicy, Limits, Received, StoredEvent};
use assent_postgres::{PostgresOptions, PostgresStore, DAY_MS};
use assent_store::audit::AuditAction;
use assent_store::deletion::{DeletionJob, DeletionRequest};
use assent_store::retention::{NothingExpired, RetentionRule};
use assent_store::{
    AppendReport, ChunkEncoding, NewChunk, SqliteStore, Store, StoreOptions, Stored,
};

/// Opens a fresh, empty store of one engine.
trait Engine {
    fn fresh(&self, case: &str) -> Fresh;
}

/// A store and what it keeps on disk (removed when dropped).
struct Fresh {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

struct Sqlite;

impl Engine for Sqlite {
    fn fresh(&self, _: &str) -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
        Fresh {
            store: Arc::new(store),
            _dir: dir,
        }
    }
}

struct Postgres(assent_testbed::Postgres);

impl Engine for Postgres {
    fn fresh(&self, case: &str) -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let url = self.0.new_database(case);
        let store =
            PostgresStore::open(PostgresOptions::new(url, dir.path().join("keys"))).unwrap();
        Fresh {
            store: Arc::new(store),
            _dir: dir,
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Events as the collector makes them from a request body.
fn batch(parts: &[String]) -> Vec<StoredEvent> {
    let body = format!(r#"{{"batch":[{}]}}"#, parts.join(","));
    let decoded = decode::batch(body.as_bytes(), &Limits::default()).unwrap();
    let (events, rejected) = enrich::batch(decoded, &Received::now(None), IpPolicy::Truncate);
    assert!(rejected.is_empty(), "{rejected:?}");
    events
}

fn track(message_id: &str, anonymous_id: &str, user_id: Option<&str>) -> String {
    let user = user_id.map_or(String::new(), |u| format!(r#","userId":"{u}""#));
    format!(
        r#"{{"type":"track","event":"Viewed","messageId":"{message_id}","anonymousId":"{anonymous_id}"{user},
            "timestamp":"2026-11-30T10:00:00.000Z","properties":{{"sku":"G-32"}},
            "context":{{"consent":{{"id":"c-{anonymous_id}","state":{{"analytics":"granted"}}}}}}}}"#
    )
}

fn consent(message_id: &str, anonymous_id: &str) -> String {
    format!(
        r#"{{"type":"consent","messageId":"{message_id}","anonymousId":"{anonymous_id}",
            "context":{{"consent":{{"id":"c-{anonymous_id}","state":{{"analytics":"granted"}},"source":"banner"}}}}}}"#
    )
}

/// The same events, received `days` later (negative: earlier).
fn received_later(events: Vec<StoredEvent>, days: i64) -> Vec<StoredEvent> {
    events
        .into_iter()
        .map(|mut e| {
            e.received_at_ms += days * DAY_MS;
            e
        })
        .collect()
}

async fn append(store: &Arc<dyn Store>, events: Vec<StoredEvent>) -> AppendReport {
    store.append("shop".into(), events).unwrap().await.unwrap()
}

/// The export of a subject, parsed (written on a blocking thread, as the collector does).
async fn export(store: &Arc<dyn Store>, id: &str) -> serde_json::Value {
    let store = store.clone();
    let id = id.to_string();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        store.write_export("shop", &id, 0, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    })
    .await
    .unwrap()
}

fn count(export: &serde_json::Value, section: &str) -> usize {
    export[section].as_array().map_or(0, Vec::len)
}

async fn forget(store: &Arc<dyn Store>, id: &str) -> DeletionJob {
    let job = format!("job-{id}");
    store
        .accept_deletion(DeletionRequest {
            job_id: job.clone(),
            project: "shop".into(),
            id: id.into(),
            actor: "dpo".into(),
        })
        .await
        .unwrap();
    store.run_deletion(job).await.unwrap().expect("the job ran")
}

async fn a_retry_is_stored_once_even_on_another_day(engine: &dyn Engine) {
    let fresh = engine.fresh("retries");
    let store = &fresh.store;
    let first = batch(&[
        track("m1", "a1", None),
        track("m2", "a1", None),
        track("m3", "a2", None),
    ]);
    let report = append(store, first.clone()).await;
    assert_eq!((report.inserted, report.duplicates), (3, 0));
    let report = append(store, first.clone()).await;
    assert_eq!(
        (report.inserted, report.duplicates),
        (0, 3),
        "a retried batch adds nothing"
    );
    // The same events, retried after midnight: received on the next day.
    let report = append(store, received_later(first, 1)).await;
    assert_eq!(
        report.duplicates, 3,
        "found on the day the first copy is on"
    );
    assert_eq!(count(&export(store, "a1").await, "events"), 2);
    store.probe().unwrap().await.unwrap();
    store.close();
}

async fn a_deleted_subject_is_gone_through_its_identity_graph_and_stays_gone(engine: &dyn Engine) {
    let fresh = engine.fresh("deletion");
    let store = &fresh.store;
    append(
        store,
        batch(&[
            track("m1", "anon-1", None),
            track("m2", "anon-1", None),
            track("m3", "anon-1", Some("ada@example.org")),
            track("m4", "anon-9", Some("ada@example.org")),
            track("m5", "someone-else", None),
        ]),
    )
    .await;
    let before = export(store, "ada@example.org").await;
    assert_eq!(
        count(&before, "events"),
        4,
        "the anonymous visits before the login too"
    );

    let job = forget(store, "ada@example.org").await;
    assert!(job.finished());
    assert_eq!(job.counts["events"], 4);
    assert_eq!(job.counts["identity_links"], 2);
    assert_eq!(job.counts["suppressed_ids"], 3);
    let after = export(store, "anon-1").await;
    assert_eq!(
        (count(&after, "events"), count(&after, "identityLinks")),
        (0, 0)
    );
    assert_eq!(count(&export(store, "someone-else").await, "events"), 1);

    let late = append(store, batch(&[track("m6", "anon-9", None)])).await;
    assert_eq!(
        (late.inserted, late.suppressed),
        (0, 1),
        "its later events are dropped"
    );
    let status = store
        .deletion_job("shop".into(), job.job.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, job);
    assert!(store.unfinished_deletions().await.unwrap().is_empty());
    let audit = store.audit("shop".into(), 10).await.unwrap();
    assert_eq!(audit[0].action, AuditAction::Deletion);
    let ids = ["ada@example.org".into(), "anon-1".into(), "anon-9".into()];
    assert_eq!(audit[0].subject_hash, Some(store.subject_hash(&ids)));
    store.close();
}

async fn the_consent_ledger_chains_every_choice_and_keeps_proof_after_a_deletion(
    engine: &dyn Engine,
) {
    let fresh = engine.fresh("ledger");
    let store = &fresh.store;
    append(
        store,
        batch(&[consent("c1", "anon-1"), consent("c2", "anon-2")]),
    )
    .await;
    append(
        store,
        batch(&[consent("c1", "anon-1"), consent("c3", "anon-3")]),
    )
    .await;
    assert_eq!(
        store.verify_ledger().await.unwrap(),
        3,
        "a retried choice is recorded once"
    );
    let history = store
        .consent_history("shop".into(), "anon-1".into())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    let entry: serde_json::Value = serde_json::from_str(&history[0]).unwrap();
    assert_eq!(entry["anonymousId"], "anon-1");
    assert_eq!(entry["states"]["analytics"], "granted");

    let job = forget(store, "anon-1").await;
    assert_eq!(job.counts["consent"], 1);
    assert_eq!(
        store.verify_ledger().await.unwrap(),
        3,
        "the chain still holds"
    );
    let others = store
        .consent_history("shop".into(), "anon-2".into())
        .await
        .unwrap();
    assert_eq!(others.len(), 1, "others' proof is untouched");
    store.close();
}

async fn retention_removes_what_is_past_its_period(engine: &dyn Engine) {
    let fresh = engine.fresh("retention");
    let store = &fresh.store;
    let old = batch(&[track("old1", "a1", None), track("old2", "a2", None)]);
    append(store, received_later(old, -40)).await;
    append(store, batch(&[track("new1", "a1", None)])).await;
    let rules = vec![RetentionRule {
        project: "shop".into(),
        events_days: Some(30),
        consent_days: None,
        replays_days: Some(30),
        identity_links_days: None,
    }];
    let preview = store
        .retention_preview(rules.clone(), now_ms())
        .await
        .unwrap();
    assert_eq!(preview.projects["shop"]["events"], 2);
    let report = store
        .run_retention(rules.clone(), now_ms(), "cli".into(), NothingExpired::Audit)
        .await
        .unwrap();
    assert_eq!(report.projects["shop"]["events"], 2);
    assert_eq!(count(&export(store, "a1").await, "events"), 1);
    let visitors = store.visitors_per_day(60).await.unwrap();
    assert_eq!(visitors.iter().map(|d| d.events).sum::<u64>(), 1);
    let again = store.retention_preview(rules, now_ms()).await.unwrap();
    assert_eq!(
        again.projects.get("shop").and_then(|c| c.get("events")),
        None
    );
    let audit = store.audit("shop".into(), 1).await.unwrap();
    assert_eq!(audit[0].action, AuditAction::Retention);
    store.close();
}

fn chunk(session_id: i64, seq: i64, anonymous_id: &str) -> NewChunk {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(br#"{"events":[{"type":2,"timestamp":1}]}"#)
        .unwrap();
    NewChunk {
        project: "shop".into(),
        session_id,
        seq,
        anonymous_id: Some(anonymous_id.into()),
        user_id: None,
        first_timestamp: session_id + seq,
        last_timestamp: session_id + seq + 10,
        received_at: now_ms(),
        encoding: ChunkEncoding::Gzip,
        data: gzip.finish().unwrap(),
        inflated_bytes: 40,
    }
}

async fn replays_are_stored_once_played_back_exported_and_deleted(engine: &dyn Engine) {
    let fresh = engine.fresh("replays");
    let store = &fresh.store;
    let stored = |c| store.insert_replay_chunk(c);
    assert_eq!(stored(chunk(7, 0, "anon-1")).await.unwrap(), Stored::New);
    assert_eq!(stored(chunk(7, 1, "anon-1")).await.unwrap(), Stored::New);
    assert_eq!(
        stored(chunk(7, 1, "anon-1")).await.unwrap(),
        Stored::Duplicate
    );
    let sessions = store.replay_sessions("shop".into(), 10).await.unwrap();
    assert_eq!((sessions.len(), sessions[0].chunks), (1, 2));
    assert_eq!(
        store.replay_chunk_seqs("shop".into(), 7).await.unwrap(),
        [0, 1]
    );
    assert_eq!(
        store.replay_subject_ids("shop".into(), 7).await.unwrap(),
        ["anon-1"]
    );
    let reader = store.clone();
    let played = tokio::task::spawn_blocking(move || reader.replay_chunk("shop", 7, 1))
        .await
        .unwrap()
        .unwrap()
        .expect("the chunk is there");
    assert_eq!(played.seq, 1);
    let exported = export(store, "anon-1").await;
    assert_eq!(count(&exported, "replays"), 2);
    assert_eq!(exported["replays"][0]["chunk"]["events"][0]["type"], 2);

    let job = forget(store, "anon-1").await;
    assert_eq!(job.counts["replays"], 2);
    assert!(store
        .replay_sessions("shop".into(), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        stored(chunk(7, 2, "anon-1")).await.unwrap(),
        Stored::Suppressed
    );
    store.close();
}

fn page(message_id: &str, anonymous_id: &str, path: &str, minute: u32) -> String {
    page_at(
        message_id,
        anonymous_id,
        path,
        now_ms() - 3_600_000 + minute as i64 * 60_000,
    )
}

fn page_at(message_id: &str, anonymous_id: &str, path: &str, at_ms: i64) -> String {
    format!(
        r#"{{"type":"page","name":"{path}","messageId":"{message_id}","anonymousId":"{anonymous_id}",
            "timestamp":"{}","properties":{{"path":"{path}","url":"https://shop.example{path}"}},
            "context":{{"consent":{{"id":"c-{anonymous_id}","state":{{"analytics":"granted"}}}}}}}}"#,
        jiff::Timestamp::from_millisecond(at_ms).unwrap()
    )
}

async fn the_dashboard_counts_alike_and_forgets_a_deleted_subject(engine: &dyn Engine) {
    use assent_store::stats::{Dimension, FunnelStep, Interval, StatsQuery};
    let fresh = engine.fresh("stats");
    let store = &fresh.store;
    // Two visitors: a1 views two pages and buys, a2 views one page (a bounce).
    let mut purchase = track("m4", "a1", None);
    purchase = purchase.replace(
        "2026-11-30T10:00:00.000Z",
        &jiff::Timestamp::from_millisecond(now_ms() - 3_600_000 + 3 * 60_000)
            .unwrap()
            .to_string(),
    );
    append(
        store,
        batch(&[
            page("m1", "a1", "/", 0),
            page("m2", "a1", "/shoes", 1),
            page("m3", "a2", "/", 2),
            purchase,
            consent("m5", "a1"),
        ]),
    )
    .await;
    let today = now_ms() - now_ms().rem_euclid(DAY_MS);
    let query = || StatsQuery::new("shop", today - DAY_MS, today + DAY_MS);

    let traffic = store.stats_traffic(query(), Interval::Day).await.unwrap();
    let t = traffic.totals;
    assert_eq!(
        (t.visitors, t.visits, t.pageviews, t.events, t.bounces),
        (2, 2, 3, 1, 1),
        "{t:?}"
    );
    assert_eq!(traffic.series.len(), 2);
    let pages = store.stats_top(query(), Dimension::Page, 10).await.unwrap();
    let views: Vec<(&str, u64)> = pages
        .rows
        .iter()
        .map(|r| (r.value.as_str(), r.pageviews))
        .collect();
    assert_eq!(views, [("/", 2), ("/shoes", 1)]);
    let funnel = store
        .stats_funnel(
            query(),
            vec![
                FunnelStep::Page("/".into()),
                FunnelStep::Event("Viewed".into()),
            ],
        )
        .await
        .unwrap();
    let reached: Vec<u64> = funnel.steps.iter().map(|s| s.visits).collect();
    assert_eq!(reached, [2, 1]);
    let skus = store
        .stats_event_properties(query(), "Viewed".into(), 10)
        .await
        .unwrap();
    assert_eq!(skus.len(), 1, "{skus:?}");
    assert_eq!(
        (
            skus[0].property.as_str(),
            skus[0].value.as_str(),
            skus[0].events
        ),
        ("sku", "G-32", 1)
    );
    let consent = store.stats_consent(query(), Interval::Day).await.unwrap();
    assert_eq!(consent.choices.total, 1, "{consent:?}");

    // Once a1 is deleted, no answer counts it, and its later events are counted as refused.
    forget(store, "a1").await;
    append(store, batch(&[page("m6", "a1", "/again", 9)])).await;
    let t = store
        .stats_traffic(query(), Interval::Day)
        .await
        .unwrap()
        .totals;
    assert_eq!((t.visitors, t.pageviews, t.events), (1, 1, 0), "{t:?}");
    let pages = store.stats_top(query(), Dimension::Page, 10).await.unwrap();
    assert!(pages.rows.iter().all(|r| r.value != "/shoes"), "{pages:?}");
    let privacy = store.stats_privacy(query(), Interval::Day).await.unwrap();
    let p = privacy.totals;
    assert_eq!(
        (p.deletions, p.events_deleted, p.suppressed),
        (1, 4, 1),
        "{p:?}"
    );
    assert_eq!(privacy.oldest_events_ms, Some(today));

    // A day no longer received into is digested once and kept; a deletion still reaches it.
    let then = now_ms() - 3 * DAY_MS;
    let old_visit = batch(&[
        page_at("m7", "a3", "/old", then),
        page_at("m8", "a3", "/older", then + 60_000),
    ]);
    append(store, received_later(old_visit, -3)).await;
    let longer = || StatsQuery::new("shop", today - 5 * DAY_MS, today + DAY_MS);
    let before = store
        .stats_traffic(longer(), Interval::Day)
        .await
        .unwrap()
        .totals;
    assert_eq!((before.visitors, before.pageviews), (2, 3), "{before:?}");
    let again = store.stats_traffic(longer(), Interval::Day).await.unwrap();
    assert_eq!(again.totals, before, "the kept digest answers alike");
    forget(store, "a3").await;
    let after = store
        .stats_traffic(longer(), Interval::Day)
        .await
        .unwrap()
        .totals;
    assert_eq!((after.visitors, after.pageviews), (1, 1), "{after:?}");
    let pages = store
        .stats_top(longer(), Dimension::Page, 10)
        .await
        .unwrap();
    assert!(pages.rows.iter().all(|r| r.value != "/old"), "{pages:?}");
    store.close();
}

async fn the_contract(engine: &dyn Engine) {
    a_retry_is_stored_once_even_on_another_day(engine).await;
    a_deleted_subject_is_gone_through_its_identity_graph_and_stays_gone(engine).await;
    the_consent_ledger_chains_every_choice_and_keeps_proof_after_a_deletion(engine).await;
    retention_removes_what_is_past_its_period(engine).await;
    replays_are_stored_once_played_back_exported_and_deleted(engine).await;
    the_dashboard_counts_alike_and_forgets_a_deleted_subject(engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_store_contract() {
    the_contract(&Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_store_contract() {
    let cluster = Postgres(assent_testbed::Postgres::start());
    the_contract(&cluster).await;
}

//! Session replays over real SQLite files: stored once, and under the same privacy operations
//! as events — a subject deletion, an export and a retention run of the events store reach
//! `replays.db` too.

use std::io::Write;

use assent_store::deletion::DeletionRequest;
use assent_store::retention::{retention_preview, NothingExpired, RetentionRule};
use assent_store::{export, ChunkEncoding, NewChunk, SqliteStore, StoreOptions, Stored};
use flate2::write::GzEncoder;
use flate2::Compression;

fn gzip(text: &str) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn chunk(
    project: &str,
    session_id: i64,
    seq: i64,
    anonymous_id: &str,
    received_at: i64,
) -> NewChunk {
    NewChunk {
        project: project.into(),
        session_id,
        seq,
        anonymous_id: Some(anonymous_id.into()),
        user_id: None,
        first_timestamp: session_id + seq,
        last_timestamp: session_id + seq + 10,
        received_at,
        encoding: ChunkEncoding::Gzip,
        data: gzip(&format!(
            r#"{{"sessionId":{session_id},"seq":{seq},"events":[{{"type":2,"timestamp":1}}]}}"#
        )),
        inflated_bytes: 100,
    }
}

fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir, StoreOptions::default()).unwrap()
}

fn forget(project: &str, id: &str) -> DeletionRequest {
    DeletionRequest {
        job_id: format!("job-{id}"),
        project: project.into(),
        id: id.into(),
        actor: "test".into(),
    }
}

/// Every byte of a SQLite file and its WAL and shared-memory files.
fn file_bytes(dir: &std::path::Path, file: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(b) = std::fs::read(dir.join(format!("{file}{suffix}"))) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_retried_chunk_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let events = open(dir.path());
    let store = events.replays();
    assert_eq!(
        store.insert(&chunk("web", 1000, 0, "a1", 5)).unwrap(),
        Stored::New
    );
    assert_eq!(
        store.insert(&chunk("web", 1000, 0, "a1", 6)).unwrap(),
        Stored::Duplicate
    );
    assert_eq!(
        store.insert(&chunk("web", 1000, 1, "a1", 7)).unwrap(),
        Stored::New
    );
    // Another project's session with the same id is another replay.
    assert_eq!(
        store.insert(&chunk("other", 1000, 0, "a1", 7)).unwrap(),
        Stored::New
    );
    let sessions = store.sessions("web", 10).unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!((sessions[0].session_id, sessions[0].chunks), (1000, 2));
    assert_eq!(store.chunk_seqs("web", 1000).unwrap(), vec![0, 1]);
    assert_eq!(store.chunk("web", 1000, 1).unwrap().unwrap().seq, 1);
    assert!(dir.path().join("replays.db").exists());
}

#[tokio::test]
async fn deleting_a_subject_removes_their_chunks_leaves_no_trace_and_refuses_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let events = open(dir.path());
    let store = events.replays();
    store
        .insert(&chunk("web", 1, 0, "anon-replay-7f3a", 5))
        .unwrap();
    store
        .insert(&chunk("web", 1, 1, "anon-replay-7f3a", 5))
        .unwrap();
    store
        .insert(&chunk("web", 2, 0, "anon-replay-other", 5))
        .unwrap();
    let mut identified = chunk("web", 3, 0, "anon-replay-b", 5);
    identified.user_id = Some("user-replay-9".into());
    store.insert(&identified).unwrap();
    store
        .insert(&chunk("other", 1, 0, "anon-replay-7f3a", 5))
        .unwrap();

    let job = events
        .delete_subject(forget("web", "anon-replay-7f3a"))
        .await
        .unwrap();
    assert_eq!(job.counts["replays"], 2);
    let job = events
        .delete_subject(forget("web", "user-replay-9"))
        .await
        .unwrap();
    assert_eq!(job.counts["replays"], 1);

    let left: Vec<i64> = store
        .sessions("web", 10)
        .unwrap()
        .iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(left, vec![2]);
    // Other projects keep their data; deletion and suppression are per project.
    assert_eq!(store.sessions("other", 10).unwrap().len(), 1);
    // A tracker that still holds the subject's chunks cannot bring them back.
    assert_eq!(
        store
            .insert(&chunk("web", 1, 2, "anon-replay-7f3a", 200))
            .unwrap(),
        Stored::Suppressed
    );
    assert_eq!(
        store
            .insert(&chunk("other", 1, 1, "anon-replay-7f3a", 200))
            .unwrap(),
        Stored::New
    );
    assert!(store.chunk_seqs("web", 1).unwrap().is_empty());
    // The suppression list holds keyed hashes: the plain ids of the project are nowhere in
    // the files (the other project's copy of the anonymous id is, legitimately).
    let bytes = file_bytes(dir.path(), "replays.db");
    assert!(!contains(&bytes, "user-replay-9"));
    assert!(!contains(&bytes, "anon-replay-b"));
}

#[tokio::test]
async fn an_export_carries_the_subjects_replays_inflated() {
    let dir = tempfile::tempdir().unwrap();
    let events = open(dir.path());
    let store = events.replays();
    store.insert(&chunk("web", 1, 0, "a1", 5)).unwrap();
    store.insert(&chunk("web", 1, 1, "a1", 6)).unwrap();
    store.insert(&chunk("web", 2, 0, "a2", 5)).unwrap();
    let mut out = Vec::new();
    let (_, counts) =
        export::export_subject(&events.reader().unwrap(), "web", "a1", 0, &mut out).unwrap();
    assert_eq!(counts["replays"], 2);
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let replays = doc["replays"].as_array().unwrap();
    assert_eq!(replays.len(), 2);
    assert_eq!(replays[1]["seq"], 1);
    assert_eq!(replays[1]["anonymousId"], "a1");
    assert_eq!(replays[1]["chunk"]["events"][0]["type"], 2);
}

#[tokio::test]
async fn retention_deletes_old_chunks_and_gives_the_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let events = open(dir.path());
    let store = events.replays();
    // Incompressible-ish chunks so the file really grows.
    for seq in 0..200 {
        let mut c = chunk("web", 1, seq, "a1", 1_000);
        c.data = (0..8_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ seq as u8)
            .collect();
        store.insert(&c).unwrap();
    }
    let day = 24 * 60 * 60 * 1000;
    store.insert(&chunk("web", 2, 0, "a2", 20 * day)).unwrap();
    store.insert(&chunk("other", 1, 0, "a1", 1_000)).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("replays.db")).unwrap();
    let pages = |db: &rusqlite::Connection| -> i64 {
        db.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap()
    };
    let before = pages(&db);
    let rules = vec![RetentionRule {
        project: "web".into(),
        events_days: None,
        consent_days: None,
        replays_days: Some(30),
        identity_links_days: None,
    }];
    let now = 31 * day;

    let preview = retention_preview(&events.reader().unwrap(), &rules, now).unwrap();
    assert_eq!(
        preview.projects["web"]["replays"], 200,
        "the dry run counts"
    );
    assert_eq!(
        store.sessions("web", 10).unwrap().len(),
        2,
        "and deletes nothing"
    );

    let report = events
        .run_retention(rules, now, "test", NothingExpired::Audit)
        .await
        .unwrap();
    assert_eq!(report.projects["web"]["replays"], 200);
    assert_eq!(store.sessions("web", 10).unwrap().len(), 1);
    assert_eq!(
        store.sessions("other", 10).unwrap().len(),
        1,
        "retention is per project"
    );
    let freelist: i64 = db
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    assert_eq!(freelist, 0, "incremental vacuum returned the freed pages");
    assert!(
        pages(&db) < before / 4,
        "file shrank from {before} pages to {}",
        pages(&db)
    );
}

/// What a session's chunks inflate to is capped together: past it, chunks are refused, however
/// small they are compressed.
#[test]
fn a_session_stops_taking_chunks_at_its_inflated_cap() {
    let dir = tempfile::tempdir().unwrap();
    let events = open(dir.path());
    let store = events.replays();
    let big = |seq| NewChunk {
        inflated_bytes: 8 * 1024 * 1024,
        ..chunk("web", 1, seq, "a1", 5)
    };
    let cap = assent_store::replays::MAX_INFLATED_SESSION / (8 * 1024 * 1024);
    for seq in 0..cap as i64 {
        assert_eq!(store.insert(&big(seq)).unwrap(), Stored::New, "chunk {seq}");
    }
    assert_eq!(store.insert(&big(cap as i64)).unwrap(), Stored::SessionFull);
    // A retry of a stored chunk is still a duplicate, not a refusal.
    assert_eq!(store.insert(&big(0)).unwrap(), Stored::Duplicate);
    // Other sessions are not affected.
    assert_eq!(
        store.insert(&chunk("web", 2, 0, "a1", 5)).unwrap(),
        Stored::New
    );
}

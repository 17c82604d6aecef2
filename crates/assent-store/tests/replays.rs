//! The replay store over a real SQLite file: what the privacy operations will call.

use std::io::Write;

use assent_store::{ChunkEncoding, NewChunk, ReplayStore, Stored};
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
    }
}

#[test]
fn a_retried_chunk_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = ReplayStore::open(dir.path()).unwrap();
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
    let chunks = store.chunks("web", 1000).unwrap();
    assert_eq!(chunks.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![0, 1]);
    assert!(dir.path().join("replays.db").exists());
}

#[test]
fn deleting_a_subject_removes_their_chunks_and_refuses_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = ReplayStore::open(dir.path()).unwrap();
    store.insert(&chunk("web", 1, 0, "a1", 5)).unwrap();
    store.insert(&chunk("web", 1, 1, "a1", 5)).unwrap();
    store.insert(&chunk("web", 2, 0, "a2", 5)).unwrap();
    let mut identified = chunk("web", 3, 0, "a3", 5);
    identified.user_id = Some("user-9".into());
    store.insert(&identified).unwrap();
    store.insert(&chunk("other", 1, 0, "a1", 5)).unwrap();

    assert_eq!(
        store.delete_subject("web", &["a1", "user-9"], 100).unwrap(),
        3
    );
    let left: Vec<i64> = store
        .sessions("web", 10)
        .unwrap()
        .iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(left, vec![2]);
    // Other projects keep their data; suppression is per project.
    assert_eq!(store.sessions("other", 10).unwrap().len(), 1);
    assert!(store.is_suppressed("web", &["a1"]).unwrap());
    assert!(!store.is_suppressed("other", &["a1"]).unwrap());
    // A tracker that still holds the subject's chunks cannot bring them back.
    assert_eq!(
        store.insert(&chunk("web", 1, 2, "a1", 200)).unwrap(),
        Stored::Suppressed
    );
    assert_eq!(store.chunks("web", 1).unwrap().len(), 0);
}

#[test]
fn export_streams_one_inflated_line_per_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let store = ReplayStore::open(dir.path()).unwrap();
    store.insert(&chunk("web", 1, 0, "a1", 5)).unwrap();
    store.insert(&chunk("web", 1, 1, "a1", 6)).unwrap();
    store.insert(&chunk("web", 2, 0, "a2", 5)).unwrap();
    let mut out = Vec::new();
    assert_eq!(store.export_subject("web", &["a1"], &mut out).unwrap(), 2);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["kind"], "replay_chunk");
    assert_eq!(lines[1]["seq"], 1);
    assert_eq!(lines[1]["anonymousId"], "a1");
    assert_eq!(lines[1]["chunk"]["events"][0]["type"], 2);
}

#[test]
fn retention_deletes_old_chunks_and_gives_the_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = ReplayStore::open(dir.path()).unwrap();
    // Incompressible-ish chunks so the file really grows.
    for seq in 0..200 {
        let mut c = chunk("web", 1, seq, "a1", 1_000);
        c.data = (0..8_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ seq as u8)
            .collect();
        store.insert(&c).unwrap();
    }
    store.insert(&chunk("web", 2, 0, "a2", 9_000)).unwrap();
    store.insert(&chunk("other", 1, 0, "a1", 1_000)).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("replays.db")).unwrap();
    let pages = |db: &rusqlite::Connection| -> i64 {
        db.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap()
    };
    let before = pages(&db);

    assert_eq!(store.expire_before("web", 5_000).unwrap(), 200);
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

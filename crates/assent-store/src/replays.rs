//! Session-replay chunks, in their own SQLite file (`replays.db`) beside `events.db`.
//!
//! A separate file keeps replays off the events writer's group-commit path (chunks are large
//! and rare, events small and many) and lets replays have their own retention and vacuuming.
//! Chunks are stored compressed, exactly as the browser sent them; `(project, session, seq)`
//! is unique, so a retried upload stores nothing twice.
//!
//! Replays fall under the same privacy operations as events, in the same transaction: for a
//! subject deletion, a retention run and an export, the store ATTACHes this file to the
//! events connection as schema [`ATTACHED_AS`], and the kinds below ([`delete_subject`],
//! [`sweep`], [`export_subject`]) work on it there. A deleted subject's identifiers are also
//! written here, keyed-hashed like the events' suppression list, so [`ReplayStore::insert`]
//! refuses their later chunks atomically with the deletion.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::value::RawValue;

use crate::chunk_encoding::ChunkEncoding;
use crate::export::{ExportError, Items};
use crate::retention::{sweep_by_received, Expired, RetentionRule, Sweep};
use crate::subject_hash::SubjectHasher;
use crate::subjects::Subject;
use crate::StoreError;

/// The schema name under which `replays.db` is attached for privacy operations.
pub(crate) const ATTACHED_AS: &str = "replays";

/// The most one stored chunk may inflate to when it is read back (export, playback). The
/// collector refuses bigger chunks at upload, so this only guards against a damaged file.
pub const MAX_INFLATED_CHUNK: usize = 16 * 1024 * 1024;

/// The most the chunks of one session may inflate to, all together. A few kilobytes of gzip
/// can inflate to megabytes, so without a cap on the inflated size a small upload could make
/// every playback of the session send (and every reader hold) gigabytes.
pub const MAX_INFLATED_SESSION: u64 = 64 * 1024 * 1024;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS replay_chunks (
    id INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    session_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    anonymous_id TEXT,
    user_id TEXT,
    first_timestamp INTEGER NOT NULL,
    last_timestamp INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    encoding TEXT NOT NULL,
    data BLOB NOT NULL,
    inflated_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project, session_id, seq)
);
CREATE INDEX IF NOT EXISTS replay_chunks_anonymous ON replay_chunks (project, anonymous_id);
CREATE INDEX IF NOT EXISTS replay_chunks_user ON replay_chunks (project, user_id);
CREATE INDEX IF NOT EXISTS replay_chunks_received ON replay_chunks (project, received_at);
CREATE TABLE IF NOT EXISTS replay_suppressed (
    project TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (project, id_hash)
) WITHOUT ROWID;
";

/// A chunk as the collector accepted it.
#[derive(Debug, Clone)]
pub struct NewChunk {
    pub project: String,
    pub session_id: i64,
    pub seq: i64,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub first_timestamp: i64,
    pub last_timestamp: i64,
    pub received_at: i64,
    pub encoding: ChunkEncoding,
    /// The compressed bytes, as received.
    pub data: Vec<u8>,
    /// What `data` inflates to, counted against [`MAX_INFLATED_SESSION`].
    pub inflated_bytes: u64,
}

/// What became of an uploaded chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// `(project, session, seq)` was already stored: a retry.
    Duplicate,
    /// The chunk belongs to a deleted subject and was not stored.
    Suppressed,
    /// The session's chunks would inflate to more than [`MAX_INFLATED_SESSION`]; not stored.
    SessionFull,
}

/// One recorded session, for the playback list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaySession {
    pub session_id: i64,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub chunks: i64,
    pub bytes: i64,
    pub first_timestamp: i64,
    pub last_timestamp: i64,
}

/// One stored chunk, still compressed.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub seq: i64,
    pub encoding: ChunkEncoding,
    pub data: Vec<u8>,
}

pub struct ReplayStore {
    conn: Mutex<Connection>,
    /// The events store's keyed hash: the suppression lists of both files agree.
    hasher: SubjectHasher,
}

fn commit_error(e: rusqlite::Error) -> StoreError {
    StoreError::Commit(e.to_string())
}

impl ReplayStore {
    pub const FILE: &'static str = "replays.db";

    /// Opens (or creates) `dir/replays.db`; the events store does it when it opens
    /// ([`crate::SqliteStore::replays`]).
    pub(crate) fn open(dir: &Path, hasher: SubjectHasher) -> Result<ReplayStore, StoreError> {
        let path = dir.join(Self::FILE);
        let open_error = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        let conn = (|| {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            // Must precede the first table: deleted replays then give their pages back to the
            // file system on `incremental_vacuum`, without rewriting the whole file.
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // An acknowledged chunk is on disk: the browser drops it once answered.
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "secure_delete", "ON")?;
            conn.execute_batch(TABLES)?;
            add_inflated_bytes(&conn)?;
            Ok::<_, rusqlite::Error>(conn)
        })()
        .map_err(|e| open_error(e.to_string()))?;
        Ok(ReplayStore {
            conn: Mutex::new(conn),
            hasher,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back), so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a chunk once; a retry or a chunk of a suppressed subject stores nothing.
    pub fn insert(&self, chunk: &NewChunk) -> Result<Stored, StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE: the suppression check and the insert must see the same state. A deferred
        // read could not become a write if a deletion committed in between (SQLITE_BUSY).
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(commit_error)?;
        let ids: Vec<&str> = [&chunk.anonymous_id, &chunk.user_id]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if self
            .suppressed(&tx, &chunk.project, &ids)
            .map_err(commit_error)?
        {
            return Ok(Stored::Suppressed);
        }
        let (already, session_bytes): (bool, i64) = tx
            .query_row(
                "SELECT coalesce(max(seq = ?3), 0), coalesce(sum(inflated_bytes), 0)
                 FROM replay_chunks WHERE project = ?1 AND session_id = ?2",
                params![chunk.project, chunk.session_id, chunk.seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(commit_error)?;
        if already {
            return Ok(Stored::Duplicate);
        }
        if session_bytes as u64 + chunk.inflated_bytes > MAX_INFLATED_SESSION {
            return Ok(Stored::SessionFull);
        }
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO replay_chunks (project, session_id, seq, anonymous_id, user_id,
                    first_timestamp, last_timestamp, received_at, encoding, data, inflated_bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    chunk.project,
                    chunk.session_id,
                    chunk.seq,
                    chunk.anonymous_id,
                    chunk.user_id,
                    chunk.first_timestamp,
                    chunk.last_timestamp,
                    chunk.received_at,
                    chunk.encoding.name(),
                    chunk.data,
                    chunk.inflated_bytes as i64,
                ],
            )
            .map_err(commit_error)?;
        tx.commit().map_err(commit_error)?;
        Ok(if inserted == 1 {
            Stored::New
        } else {
            Stored::Duplicate
        })
    }

    /// The project's recorded sessions, newest first.
    pub fn sessions(&self, project: &str, limit: usize) -> Result<Vec<ReplaySession>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT session_id, max(anonymous_id), max(user_id), count(*), sum(length(data)),
                        min(first_timestamp), max(last_timestamp)
                 FROM replay_chunks WHERE project = ?1
                 GROUP BY session_id ORDER BY min(first_timestamp) DESC LIMIT ?2",
            )
            .map_err(commit_error)?;
        let rows = stmt
            .query_map(params![project, limit as i64], |r| {
                Ok(ReplaySession {
                    session_id: r.get(0)?,
                    anonymous_id: r.get(1)?,
                    user_id: r.get(2)?,
                    chunks: r.get(3)?,
                    bytes: r.get(4)?,
                    first_timestamp: r.get(5)?,
                    last_timestamp: r.get(6)?,
                })
            })
            .map_err(commit_error)?;
        rows.collect::<Result<_, _>>().map_err(commit_error)
    }

    /// The sequence numbers of one session's chunks, in order (empty for no such session).
    pub fn chunk_seqs(&self, project: &str, session_id: i64) -> Result<Vec<i64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq FROM replay_chunks WHERE project = ?1 AND session_id = ?2 ORDER BY seq",
            )
            .map_err(commit_error)?;
        let rows = stmt
            .query_map(params![project, session_id], |r| r.get(0))
            .map_err(commit_error)?;
        rows.collect::<Result<_, _>>().map_err(commit_error)
    }

    /// One stored chunk, still compressed: a session is read a chunk at a time, so a reader
    /// holds one chunk, never a whole session.
    pub fn chunk(
        &self,
        project: &str,
        session_id: i64,
        seq: i64,
    ) -> Result<Option<StoredChunk>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, encoding, data FROM replay_chunks
                 WHERE project = ?1 AND session_id = ?2 AND seq = ?3",
            )
            .map_err(commit_error)?;
        stmt.query_row(params![project, session_id, seq], |r| {
            let name: String = r.get(1)?;
            Ok(StoredChunk {
                seq: r.get(0)?,
                // Only the collector writes this column, with `ChunkEncoding::name`.
                encoding: ChunkEncoding::from_name(&name).unwrap_or(ChunkEncoding::Gzip),
                data: r.get(2)?,
            })
        })
        .optional()
        .map_err(commit_error)
    }

    /// The identifiers a session was recorded under (for the audit trail's subject hash).
    pub fn subject_ids(&self, project: &str, session_id: i64) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut query = conn
            .prepare_cached(
                "SELECT anonymous_id FROM replay_chunks WHERE project = ?1 AND session_id = ?2
                    AND anonymous_id IS NOT NULL
                 UNION SELECT user_id FROM replay_chunks WHERE project = ?1 AND session_id = ?2
                    AND user_id IS NOT NULL",
            )
            .map_err(commit_error)?;
        let ids = query
            .query_map(params![project, session_id], |r| r.get(0))
            .map_err(commit_error)?;
        ids.collect::<Result<_, _>>().map_err(commit_error)
    }

    /// Whether any of `ids` belongs to a deleted (suppressed) subject.
    fn suppressed(&self, conn: &Connection, project: &str, ids: &[&str]) -> rusqlite::Result<bool> {
        let mut query = conn.prepare_cached(
            "SELECT 1 FROM replay_suppressed WHERE project = ?1 AND id_hash = ?2",
        )?;
        for id in ids {
            let hash = self.hasher.hash(id);
            if query
                .query_row(params![project, hash], |_| Ok(()))
                .optional()?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Adds the `inflated_bytes` column to a `replays.db` made before it existed. Chunks stored
/// before count as 0 towards their session's cap.
fn add_inflated_bytes(conn: &Connection) -> rusqlite::Result<()> {
    let has_it: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('replay_chunks') WHERE name = 'inflated_bytes'",
        [],
        |r| r.get(0),
    )?;
    if !has_it {
        conn.execute_batch(
            "ALTER TABLE replay_chunks ADD COLUMN inflated_bytes INTEGER NOT NULL DEFAULT 0",
        )?;
    }
    Ok(())
}

/// Attaches `dir/replays.db` as [`ATTACHED_AS`] (outside any transaction), with deleted rows
/// overwritten by zeros. False when there is no such file: the store never had replays.
pub(crate) fn attach(conn: &Connection, dir: &Path) -> rusqlite::Result<bool> {
    let path = dir.join(ReplayStore::FILE);
    if !path.exists() {
        return Ok(false);
    }
    conn.execute(
        &format!("ATTACH DATABASE ?1 AS {ATTACHED_AS}"),
        [path.to_string_lossy()],
    )?;
    conn.pragma_update(Some(ATTACHED_AS), "secure_delete", "ON")?;
    Ok(true)
}

pub(crate) fn detach(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(&format!("DETACH DATABASE {ATTACHED_AS}"), [])
        .map(drop)
}

/// Whether `replays.db` is attached on this connection.
pub(crate) fn is_attached(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM pragma_database_list WHERE name = ?1",
        [ATTACHED_AS],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Puts a subject's identifiers (hashed) into the replay suppression list, in the transaction
/// that accepts its deletion: from then on, its chunks are refused.
pub(crate) fn suppress_subject(
    conn: &Connection,
    s: &Subject,
    hasher: &SubjectHasher,
) -> rusqlite::Result<()> {
    if !is_attached(conn)? {
        return Ok(());
    }
    let mut suppress = conn.prepare_cached(&format!(
        "INSERT OR IGNORE INTO {ATTACHED_AS}.replay_suppressed (project, id_hash, since)
         VALUES (?1, ?2, ?3)"
    ))?;
    let now_ms = crate::now_ms();
    for id in &s.ids {
        suppress.execute(params![s.project, hasher.hash(id), now_ms])?;
    }
    Ok(())
}

/// Deletion kind `replays`: up to `limit` chunks recorded under one of the subject's
/// identifiers.
pub(crate) fn delete_subject(
    conn: &Connection,
    s: &Subject,
    limit: usize,
) -> rusqlite::Result<u64> {
    if !is_attached(conn)? {
        return Ok(0);
    }
    let deleted = conn.execute(
        &format!(
            "DELETE FROM {ATTACHED_AS}.replay_chunks WHERE id IN (
                SELECT id FROM {ATTACHED_AS}.replay_chunks WHERE project = ?2 AND (
                    anonymous_id IN (SELECT value FROM json_each(?1))
                    OR user_id IN (SELECT value FROM json_each(?1)))
                LIMIT ?3)"
        ),
        params![s.ids_json(), s.project, limit as i64],
    )?;
    Ok(deleted as u64)
}

/// Export section `replays`: one item per chunk of the subject, inflated, in session order:
/// `{"sessionId","seq","anonymousId","userId","firstTimestamp","lastTimestamp","receivedAt",
/// "chunk":{…as uploaded…}}`. Rows are streamed; one chunk is in memory at a time.
pub(crate) fn export_subject(
    conn: &Connection,
    s: &Subject,
    items: &mut Items,
) -> Result<(), ExportError> {
    if !is_attached(conn)? {
        return Ok(());
    }
    let mut query = conn.prepare_cached(&format!(
        "SELECT session_id, seq, anonymous_id, user_id, first_timestamp, last_timestamp,
                received_at, encoding, data
         FROM {ATTACHED_AS}.replay_chunks WHERE project = ?2 AND (
             anonymous_id IN (SELECT value FROM json_each(?1))
             OR user_id IN (SELECT value FROM json_each(?1)))
         ORDER BY session_id, seq"
    ))?;
    let mut rows = query.query(params![s.ids_json(), s.project])?;
    while let Some(r) = rows.next()? {
        let mut head = serde_json::Map::new();
        for (key, column) in [("sessionId", 0), ("seq", 1)] {
            head.insert(key.into(), r.get::<_, i64>(column)?.into());
        }
        for (key, column) in [("anonymousId", 2), ("userId", 3)] {
            head.insert(key.into(), r.get::<_, Option<String>>(column)?.into());
        }
        for (key, column) in [
            ("firstTimestamp", 4),
            ("lastTimestamp", 5),
            ("receivedAt", 6),
        ] {
            head.insert(key.into(), r.get::<_, i64>(column)?.into());
        }
        let encoding: String = r.get(7)?;
        let encoding = ChunkEncoding::from_name(&encoding).unwrap_or(ChunkEncoding::Gzip);
        let data = r.get_ref(8)?.as_blob().map_err(rusqlite::Error::from)?;
        let head = serde_json::Value::Object(head).to_string();
        let head = head.strip_suffix('}').unwrap_or(&head);
        // The chunk goes out as the text it inflates to, never parsed into a tree: real rrweb
        // snapshots nest deeper than a tree parser allows. A chunk that cannot be read (a
        // damaged file) is reported in its place rather than ending the export.
        let item = match readable_chunk(encoding, data) {
            Ok(text) => format!("{head},\"chunk\":{text}}}"),
            Err(reason) => format!(
                "{head},\"unreadableChunk\":{}}}",
                serde_json::Value::String(reason)
            ),
        };
        items.push_json(&item)?;
    }
    Ok(())
}

/// A stored chunk's JSON text, checked to be JSON (at any depth).
pub fn readable_chunk(encoding: ChunkEncoding, data: &[u8]) -> Result<String, String> {
    let inflated = encoding
        .inflate(data, MAX_INFLATED_CHUNK)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8(inflated).map_err(|e| e.to_string())?;
    RawValue::from_string(text)
        .map(|raw| String::from(Box::<str>::from(raw)))
        .map_err(|e| e.to_string())
}

/// Retention kind `replays`: chunks received more than `replays_days` ago.
pub(crate) fn sweep(
    conn: &Connection,
    rules: &[RetentionRule],
    now_ms: i64,
    sweep: Sweep,
) -> rusqlite::Result<Expired> {
    if !is_attached(conn)? {
        return Ok(Expired::new());
    }
    let table = format!("{ATTACHED_AS}.replay_chunks");
    sweep_by_received(conn, &table, |r| r.replays_days, rules, now_ms, sweep)
}

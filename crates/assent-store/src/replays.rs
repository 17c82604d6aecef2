//! Session-replay chunks, in their own SQLite file (`replays.db`) beside `events.db`.
//!
//! A separate file keeps replays off the events writer's group-commit path (chunks are large
//! and rare, events small and many) and lets replays have their own retention and vacuuming.
//! Chunks are stored compressed, exactly as the browser sent them; `(project, session, seq)`
//! is unique, so a retried upload stores nothing twice.
//!
//! The privacy operations call the plain functions at the end: [`ReplayStore::delete_subject`]
//! (which also suppresses the subject, so a tracker still holding their chunks cannot bring
//! them back), [`ReplayStore::export_subject`], [`ReplayStore::expire_before`] and
//! [`ReplayStore::is_suppressed`].

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::value::RawValue;

use crate::chunk_encoding::ChunkEncoding;
use crate::StoreError;

/// The most one stored chunk may inflate to when it is read back (export, playback). The
/// collector refuses bigger chunks at upload, so this only guards against a damaged file.
pub const MAX_INFLATED_CHUNK: usize = 16 * 1024 * 1024;

const SCHEMA: &str = "
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
    UNIQUE (project, session_id, seq)
);
CREATE INDEX IF NOT EXISTS replay_chunks_anonymous ON replay_chunks (project, anonymous_id);
CREATE INDEX IF NOT EXISTS replay_chunks_user ON replay_chunks (project, user_id);
CREATE INDEX IF NOT EXISTS replay_chunks_received ON replay_chunks (project, received_at);
CREATE TABLE IF NOT EXISTS replay_suppressed (
    project TEXT NOT NULL,
    subject TEXT NOT NULL,
    suppressed_at INTEGER NOT NULL,
    PRIMARY KEY (project, subject)
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
}

/// What became of an uploaded chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// `(project, session, seq)` was already stored: a retry.
    Duplicate,
    /// The chunk belongs to a deleted subject and was not stored.
    Suppressed,
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
}

fn commit_error(e: rusqlite::Error) -> StoreError {
    StoreError::Commit(e.to_string())
}

/// `?,?,?` for `n` ids.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

impl ReplayStore {
    pub const FILE: &'static str = "replays.db";

    /// Opens (or creates) `dir/replays.db`.
    pub fn open(dir: &Path) -> Result<ReplayStore, StoreError> {
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
            conn.execute_batch(SCHEMA)?;
            Ok::<_, rusqlite::Error>(conn)
        })()
        .map_err(|e| open_error(e.to_string()))?;
        Ok(ReplayStore {
            conn: Mutex::new(conn),
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
        let tx = conn.transaction().map_err(commit_error)?;
        let ids: Vec<&str> = [&chunk.anonymous_id, &chunk.user_id]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if suppressed(&tx, &chunk.project, &ids).map_err(commit_error)? {
            return Ok(Stored::Suppressed);
        }
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO replay_chunks (project, session_id, seq, anonymous_id, user_id,
                    first_timestamp, last_timestamp, received_at, encoding, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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

    /// The chunks of one session in order, still compressed.
    pub fn chunks(&self, project: &str, session_id: i64) -> Result<Vec<StoredChunk>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, encoding, data FROM replay_chunks
                 WHERE project = ?1 AND session_id = ?2 ORDER BY seq",
            )
            .map_err(commit_error)?;
        let rows = stmt
            .query_map(params![project, session_id], |r| {
                let name: String = r.get(1)?;
                Ok(StoredChunk {
                    seq: r.get(0)?,
                    // Only the collector writes this column, with `ChunkEncoding::name`.
                    encoding: ChunkEncoding::from_name(&name).unwrap_or(ChunkEncoding::Gzip),
                    data: r.get(2)?,
                })
            })
            .map_err(commit_error)?;
        rows.collect::<Result<_, _>>().map_err(commit_error)
    }

    /// Deletes every chunk recorded under any of `ids` (anonymousId or userId) and suppresses
    /// those ids, in one transaction. Returns the number of chunks deleted.
    pub fn delete_subject(
        &self,
        project: &str,
        ids: &[&str],
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(commit_error)?;
        let marks = placeholders(ids.len());
        let sql = format!(
            "DELETE FROM replay_chunks WHERE project = ? AND (anonymous_id IN ({marks}) OR user_id IN ({marks}))"
        );
        let args = std::iter::once(project)
            .chain(ids.iter().copied())
            .chain(ids.iter().copied());
        let deleted = tx
            .execute(&sql, params_from_iter(args))
            .map_err(commit_error)?;
        for id in ids {
            tx.execute(
                "INSERT OR IGNORE INTO replay_suppressed (project, subject, suppressed_at) VALUES (?1, ?2, ?3)",
                params![project, id, now_ms],
            )
            .map_err(commit_error)?;
        }
        tx.commit().map_err(commit_error)?;
        vacuum(&conn).map_err(commit_error)?;
        Ok(deleted)
    }

    /// Whether any of `ids` belongs to a deleted (suppressed) subject.
    pub fn is_suppressed(&self, project: &str, ids: &[&str]) -> Result<bool, StoreError> {
        suppressed(&self.conn(), project, ids).map_err(commit_error)
    }

    /// Writes every chunk of the subject as one JSON line each, inflated:
    /// `{"kind":"replay_chunk","sessionId":…,"seq":…,"anonymousId":…,"userId":…,
    /// "firstTimestamp":…,"lastTimestamp":…,"receivedAt":…,"chunk":{…as uploaded…}}`.
    /// Rows are streamed from SQLite to `out`; returns how many were written.
    pub fn export_subject(
        &self,
        project: &str,
        ids: &[&str],
        out: &mut dyn Write,
    ) -> Result<usize, ExportError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let conn = self.conn();
        let marks = placeholders(ids.len());
        let sql = format!(
            "SELECT session_id, seq, anonymous_id, user_id, first_timestamp, last_timestamp, received_at, encoding, data
             FROM replay_chunks WHERE project = ? AND (anonymous_id IN ({marks}) OR user_id IN ({marks}))
             ORDER BY session_id, seq"
        );
        let mut stmt = conn.prepare(&sql).map_err(commit_error)?;
        let args = std::iter::once(project)
            .chain(ids.iter().copied())
            .chain(ids.iter().copied());
        let mut rows = stmt.query(params_from_iter(args)).map_err(commit_error)?;
        let mut written = 0;
        while let Some(r) = rows.next().map_err(commit_error)? {
            let encoding: String = r.get(7).map_err(commit_error)?;
            let data: Vec<u8> = r.get(8).map_err(commit_error)?;
            let encoding = ChunkEncoding::from_name(&encoding).unwrap_or(ChunkEncoding::Gzip);
            let inflated = encoding
                .inflate(&data, MAX_INFLATED_CHUNK)
                .map_err(|e| ExportError::Damaged(e.to_string()))?;
            let text =
                String::from_utf8(inflated).map_err(|e| ExportError::Damaged(e.to_string()))?;
            let chunk =
                RawValue::from_string(text).map_err(|e| ExportError::Damaged(e.to_string()))?;
            let line = serde_json::json!({
                "kind": "replay_chunk",
                "sessionId": r.get::<_, i64>(0).map_err(commit_error)?,
                "seq": r.get::<_, i64>(1).map_err(commit_error)?,
                "anonymousId": r.get::<_, Option<String>>(2).map_err(commit_error)?,
                "userId": r.get::<_, Option<String>>(3).map_err(commit_error)?,
                "firstTimestamp": r.get::<_, i64>(4).map_err(commit_error)?,
                "lastTimestamp": r.get::<_, i64>(5).map_err(commit_error)?,
                "receivedAt": r.get::<_, i64>(6).map_err(commit_error)?,
                "chunk": chunk,
            });
            serde_json::to_writer(&mut *out, &line)
                .map_err(|e| ExportError::Write(e.to_string()))?;
            out.write_all(b"\n")
                .map_err(|e| ExportError::Write(e.to_string()))?;
            written += 1;
        }
        Ok(written)
    }

    /// Retention: deletes the project's chunks received before `cutoff_ms`, then returns the
    /// freed pages to the file system. Returns the number of chunks deleted.
    pub fn expire_before(&self, project: &str, cutoff_ms: i64) -> Result<usize, StoreError> {
        let conn = self.conn();
        let deleted = conn
            .execute(
                "DELETE FROM replay_chunks WHERE project = ?1 AND received_at < ?2",
                params![project, cutoff_ms],
            )
            .map_err(commit_error)?;
        if deleted > 0 {
            vacuum(&conn).map_err(commit_error)?;
        }
        Ok(deleted)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored replay chunk cannot be read: {0}")]
    Damaged(String),
    #[error("could not write the export: {0}")]
    Write(String),
}

fn suppressed(conn: &Connection, project: &str, ids: &[&str]) -> rusqlite::Result<bool> {
    if ids.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "SELECT 1 FROM replay_suppressed WHERE project = ? AND subject IN ({}) LIMIT 1",
        placeholders(ids.len())
    );
    let args = std::iter::once(project).chain(ids.iter().copied());
    Ok(conn
        .query_row(&sql, params_from_iter(args), |_| Ok(()))
        .optional()?
        .is_some())
}

fn vacuum(conn: &Connection) -> rusqlite::Result<()> {
    // `incremental_vacuum` returns a row per freed page; stepping through them does the work.
    let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

//! Where acknowledged events live, and the promise that makes an acknowledgement mean something.
//!
//! The collector answers `200` only after the events of a request are committed to disk. Doing
//! that one request at a time would cost one disk flush per request; instead a single writer
//! thread takes every request that is waiting, commits them all in one transaction (*group
//! commit*), and only then acknowledges each. Under load a flush is shared by thousands of
//! events; when idle, a lone event is committed at once.
//!
//! `(project, messageId)` is unique, so a client that retries a batch whose answer it never saw
//! adds nothing: the retry is counted as duplicates and acknowledged.
//!
//! [`Store`] is what the server needs from any store; [`SqliteStore`] is the embedded default.
//!
//! Privacy operations live beside it and run on the same writer thread, so they
//! never race ingest: [`deletion`] (a connected subject, then its identifiers suppressed),
//! [`export`] (streamed), [`retention`] and the [`audit`] trail. [`subjects`] resolves a
//! subject through the identity graph that every append keeps up to date.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use assent_core::{decode, enrich, IpPolicy, Limits, Received};
//! use assent_store::{SqliteStore, Store, StoreOptions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
//! let body = br#"{"batch":[{"type":"track","event":"Opened","messageId":"m1"}]}"#;
//! let (events, _) = enrich::batch(
//!     decode::batch(body, &Limits::default()).unwrap(),
//!     &Received::now(None),
//!     IpPolicy::Truncate,
//! );
//! let first = store.append("demo".into(), events.clone()).unwrap().await.unwrap();
//! let retry = store.append("demo".into(), events).unwrap().await.unwrap();
//! assert_eq!((first.inserted, retry.duplicates), (1, 1));
//! store.close();
//! # }
//! ```

/// `events_json`'s query: each event whole, Segment-shaped, as exports return it (NULL columns
/// are left out). Every partition defines the view with it, as the schema before partitions did.
macro_rules! events_json_select {
    () => {
        "SELECT id, project, json_patch(payload, json_object(
    'messageId', message_id,
    'type', type,
    'event', CASE WHEN type = 'track' THEN event END,
    'name', CASE WHEN type IN ('page', 'screen') THEN event END,
    'anonymousId', anonymous_id,
    'userId', user_id,
    'groupId', group_id,
    'sessionId', session_id,
    'sequence', sequence,
    'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', timestamp / 1000.0, 'unixepoch'),
    'sentAt', strftime('%Y-%m-%dT%H:%M:%fZ', sent_at / 1000.0, 'unixepoch'),
    'receivedAt', strftime('%Y-%m-%dT%H:%M:%fZ', received_at / 1000.0, 'unixepoch'),
    'ip', ip,
    'visitorHash', visitor_hash)) AS event
FROM events;"
    };
}

mod ack;
mod audience;
pub mod audit;
mod checkpointer;
pub mod chunk_encoding;
mod dedupe;
pub mod deletion;
pub mod export;
mod identity;
mod indexer;
pub mod keyring;
mod ledger;
mod legacy_events;
pub mod partition;
pub mod replays;
pub mod retention;
pub mod schema;
mod sqlite;
mod sqlite_seam;
pub mod stats;
mod store;
mod subject_hash;
pub mod subjects;
mod suppression;
mod syncer;
mod wal_limit;
mod writer;

use std::time::Duration;

use thiserror::Error;

pub use ack::Ack;
pub use chunk_encoding::{inflate_chunk, ChunkEncoding, InflateError};
pub use ledger::{verify_ledger, LedgerError};
pub use replays::{NewChunk, ReplaySession, ReplayStore, Stored, StoredChunk};
pub use sqlite::{CommitHook, Durability, SqliteStore, StoreOptions};
pub use store::{Store, StoreFuture, VisitorDay};
pub use subject_hash::SubjectHasher;

/// Milliseconds since 1970, by the system clock.
pub(crate) fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_millis() as i64
}

/// The result of one append, once durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendReport {
    pub inserted: usize,
    /// Events whose `messageId` was already stored for the project: retries, not new data.
    pub duplicates: usize,
    /// Events of a deleted subject (suppression list): acknowledged, never stored.
    pub suppressed: usize,
}

/// One group commit, for metrics.
#[derive(Debug, Clone, Copy)]
pub struct CommitStats {
    pub requests: usize,
    pub events: usize,
    pub duration: Duration,
}

#[derive(Debug, Clone, Error)]
pub enum StoreError {
    #[error("the write queue is full ({capacity} requests waiting); retry shortly")]
    QueueFull { capacity: usize },
    #[error("the store is shutting down")]
    Closed,
    #[error("the store could not commit: {0}")]
    Commit(String),
    #[error("cannot open the store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the store cannot be read right now: {0}")]
    Read(String),
}

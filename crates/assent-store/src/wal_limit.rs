//! Keeps the WAL from growing without end under sustained load.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::checkpointer::CheckpointTurn;

/// Starts the WAL over from its beginning once it has grown past its limit.
///
/// SQLite rewinds the WAL only when a write begins after a checkpoint has copied all of it.
/// With commits back to back that moment never comes, and the WAL grew by gigabytes a minute
/// in the ingest benchmark: disk taken, and every page lookup slower. So between two commits,
/// when the WAL is past its limit, the writer runs a `RESTART` checkpoint itself: the
/// [`Checkpointer`](crate::checkpointer::Checkpointer) has copied most of it already, and the rest takes milliseconds.
pub(crate) struct WalLimit {
    limit_bytes: u64,
    /// The writer's usual busy timeout, restored after the checkpoint.
    busy_timeout: Duration,
    next_try: Instant,
    turn: CheckpointTurn,
}

impl WalLimit {
    /// The longest the restart waits for readers; ingest waits meanwhile.
    const READER_WAIT: Duration = Duration::from_millis(100);
    /// When a reader (a long export) still needs old frames, the next try waits this long,
    /// so ingest is not held back at every commit while it reads.
    const BACKOFF: Duration = Duration::from_secs(2);

    pub fn new(limit_bytes: u64, busy_timeout: Duration, turn: CheckpointTurn) -> WalLimit {
        WalLimit {
            limit_bytes,
            busy_timeout,
            next_try: Instant::now(),
            turn,
        }
    }

    /// Call with no transaction open on `conn`; `schemas` are its attached files by schema
    /// name, with their WAL. Costs one `stat` per file per commit when under the limit.
    pub fn enforce(&mut self, conn: &Connection, schemas: &[(String, PathBuf)]) {
        if Instant::now() < self.next_try {
            return;
        }
        for (schema, wal) in schemas {
            let over = std::fs::metadata(wal).is_ok_and(|m| m.len() > self.limit_bytes);
            if over {
                self.restart(conn, schema);
            }
        }
    }

    fn restart(&mut self, conn: &Connection, schema: &str) {
        // Waits for a passive checkpoint to finish: what it copies, the restart need not.
        let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        let _ = conn.busy_timeout(Self::READER_WAIT);
        let busy = conn.query_row(
            &format!("PRAGMA {schema}.wal_checkpoint(RESTART)"),
            [],
            |r| r.get::<_, i64>(0),
        );
        let _ = conn.busy_timeout(self.busy_timeout);
        match busy {
            Ok(0) => {}
            Ok(_) => self.next_try = Instant::now() + Self::BACKOFF,
            Err(e) => {
                tracing::warn!(error = %e, "restarting the WAL failed; will retry");
                self.next_try = Instant::now() + Self::BACKOFF;
            }
        }
    }
}

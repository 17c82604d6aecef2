//! Copies committed pages from the WAL back into the main file, off the writer's path.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// Copies committed pages from the WAL into the main file, off the writer's path.
///
/// `PASSIVE` checkpoints never block the writer. Under sustained load they never let the WAL
/// start over either (the writer appends while they copy): [`WalLimit`] does that.
///
/// The two take turns through [`CheckpointTurn`]: SQLite runs one checkpoint at a time, and a
/// restart that found a passive checkpoint running would give up as if a reader held it back.
pub(crate) type CheckpointTurn = Arc<Mutex<()>>;

pub(crate) struct Checkpointer {
    stop: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl Checkpointer {
    const EVERY: Duration = Duration::from_millis(200);

    pub fn start(path: &Path, turn: CheckpointTurn) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("assent-checkpoint".into())
            .spawn(move || {
                let checkpoint = |mode: &str| {
                    let _turn = turn.lock().unwrap_or_else(|e| e.into_inner());
                    let sql = format!("PRAGMA wal_checkpoint({mode})");
                    if let Err(e) = conn.query_row(&sql, [], |_| Ok(())) {
                        tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                    }
                };
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(Self::EVERY) {
                    checkpoint("PASSIVE");
                }
                // The writer has stopped: leave a compact main file and an empty WAL.
                checkpoint("TRUNCATE");
            })
            .expect("a thread can be spawned");
        Ok(Checkpointer {
            stop: Mutex::new(Some((stop, handle))),
        })
    }

    pub fn stop(&self) {
        if let Some((stop, handle)) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            drop(stop);
            let _ = handle.join();
        }
    }
}

/// Starts the WAL over from its beginning once it has grown past its limit.
///
/// SQLite rewinds the WAL only when a write begins after a checkpoint has copied all of it.
/// With commits back to back that moment never comes, and the WAL grew by gigabytes a minute
/// in the ingest benchmark: disk taken, and every page lookup slower. So between two commits,
/// when the WAL is past its limit, the writer runs a `RESTART` checkpoint itself: the
/// [`Checkpointer`] has copied most of it already, and the rest takes milliseconds.
pub(crate) struct WalLimit {
    wal: PathBuf,
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

    pub fn new(
        db: &Path,
        limit_bytes: u64,
        busy_timeout: Duration,
        turn: CheckpointTurn,
    ) -> WalLimit {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        WalLimit {
            wal: PathBuf::from(wal),
            limit_bytes,
            busy_timeout,
            next_try: Instant::now(),
            turn,
        }
    }

    /// Call with no transaction open on `conn`.
    pub fn enforce(&mut self, conn: &Connection) {
        let over = std::fs::metadata(&self.wal).is_ok_and(|m| m.len() > self.limit_bytes);
        if !over || Instant::now() < self.next_try {
            return;
        }
        // Waits for a passive checkpoint to finish: what it copies, the restart need not.
        let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        let _ = conn.busy_timeout(Self::READER_WAIT);
        let busy = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
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

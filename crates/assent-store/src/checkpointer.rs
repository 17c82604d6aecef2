//! Copies committed pages from the WAL back into the main file, off the writer's path.

use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// Held by whoever runs a checkpoint: the [`Checkpointer`] and the writer's
/// [`WalLimit`](crate::wal_limit::WalLimit) take turns. SQLite runs one checkpoint at a time, and
/// a restart that found a passive checkpoint running would give up as if a reader held it back.
pub(crate) type CheckpointTurn = Arc<Mutex<()>>;

/// Copies committed pages from the WAL into the main file, off the writer's path.
///
/// `PASSIVE` checkpoints never block the writer. Under sustained load they never let the WAL
/// start over either (the writer appends while they copy): `WalLimit` does that.
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

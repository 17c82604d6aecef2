//! Copies committed pages from the WAL back into the main file, off the writer's path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::writer::ActiveFiles;

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

    /// Checkpoints every file in `files` (the main file and the partitions the writer has
    /// attached; the writer keeps the list), each on a connection of its own.
    pub fn start(files: ActiveFiles, turn: CheckpointTurn) -> rusqlite::Result<Checkpointer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("assent-checkpoint".into())
            .spawn(move || {
                let mut conns: HashMap<PathBuf, Connection> = HashMap::new();
                let checkpoint = |conns: &mut HashMap<PathBuf, Connection>, mode: &str| {
                    let active: Vec<PathBuf> =
                        files.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    // A partition the writer let go is checkpointed whole one last time.
                    let gone: Vec<PathBuf> = conns
                        .keys()
                        .filter(|p| !active.contains(p))
                        .cloned()
                        .collect();
                    for path in gone {
                        if let Some(conn) = conns.remove(&path) {
                            run(&turn, &conn, "TRUNCATE");
                        }
                    }
                    for path in active {
                        if !conns.contains_key(&path) {
                            match open(&path) {
                                Ok(conn) => drop(conns.insert(path.clone(), conn)),
                                Err(e) => {
                                    tracing::warn!(error = %e, path = %path.display(), "cannot open a file to checkpoint it");
                                    continue;
                                }
                            }
                        }
                        run(&turn, &conns[&path], mode);
                    }
                };
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(Self::EVERY) {
                    checkpoint(&mut conns, "PASSIVE");
                }
                // The writer has stopped: leave compact files and empty WALs.
                checkpoint(&mut conns, "TRUNCATE");
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

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

fn run(turn: &CheckpointTurn, conn: &Connection, mode: &str) {
    let _turn = turn.lock().unwrap_or_else(|e| e.into_inner());
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    if let Err(e) = conn.query_row(&sql, [], |_| Ok(())) {
        tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
    }
}

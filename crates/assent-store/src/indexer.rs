//! Builds the subject indexes of partitions that are no longer written to.
//!
//! A partition receives events for its day (and, around midnight, a little after): maintained
//! per event, indexes by `anonymousId` and `userId` would cost a random insert each. Built once
//! the day is over, they cost one sorted pass, and from then on export and deletion find a
//! subject in the partition with a lookup instead of reading it through.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::partition::{self, PartitionDay};

pub(crate) struct Indexer {
    stop: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl Indexer {
    const EVERY: Duration = Duration::from_secs(60);

    pub fn start(dir: &Path) -> Indexer {
        let dir: PathBuf = dir.to_path_buf();
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("assent-indexer".into())
            .spawn(move || loop {
                index_closed(&dir, crate::now_ms());
                match stopped.recv_timeout(Self::EVERY) {
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            })
            .expect("a thread can be spawned");
        Indexer {
            stop: Mutex::new(Some((stop, handle))),
        }
    }

    pub fn stop(&self) {
        if let Some((stop, handle)) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            drop(stop);
            let _ = handle.join();
        }
    }
}

/// Indexes every partition older than yesterday that has no subject indexes yet; returns how
/// many it indexed. A partition busy with other work is left for the next round.
pub(crate) fn index_closed(dir: &Path, now_ms: i64) -> usize {
    let yesterday = PartitionDay::of_ms(now_ms).0 - 1;
    let mut indexed = 0;
    for day in partition::list(dir).into_iter().filter(|d| d.0 < yesterday) {
        let outcome = partition::open(dir, day, false).and_then(|conn| {
            if partition::has_subject_indexes(&conn, "main")? {
                return Ok(false);
            }
            conn.busy_timeout(Duration::from_millis(100))?;
            conn.execute_batch(partition::SUBJECT_INDEXES)?;
            Ok(true)
        });
        match outcome {
            Ok(true) => indexed += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::debug!(error = %e, partition = %day.date(), "will index this partition later")
            }
        }
    }
    indexed
}

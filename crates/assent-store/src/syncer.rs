//! Makes commits durable without making the writer wait for the disk.
//!
//! SQLite's own `synchronous = FULL` flushes the WAL inside every COMMIT, so the writer
//! idles for a whole disk flush per group and nothing else is written meanwhile. Instead the
//! writer commits with `synchronous = NORMAL` (the WAL pages are in the OS, safe from a crash
//! of the process) and hands the answers to this thread, which flushes the WAL file and only
//! then sends them. While it waits on the disk, the writer commits the next groups, and one
//! flush then covers all of them. An acknowledgement still means "on disk".

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::{AppendReport, StoreError};

/// An answer for a client, held until its commit may be announced.
pub(crate) enum Answer {
    Append(
        oneshot::Sender<Result<AppendReport, StoreError>>,
        Result<AppendReport, StoreError>,
    ),
    Probe(
        oneshot::Sender<Result<(), StoreError>>,
        Result<(), StoreError>,
    ),
}

impl Answer {
    fn send(self) {
        // A client that hung up no longer needs its answer; its data is committed regardless.
        match self {
            Answer::Append(ack, answer) => drop(ack.send(answer)),
            Answer::Probe(ack, answer) => drop(ack.send(answer)),
        }
    }

    fn fail(self, error: StoreError) {
        match self {
            Answer::Append(ack, _) => drop(ack.send(Err(error))),
            Answer::Probe(ack, _) => drop(ack.send(Err(error))),
        }
    }
}

/// Where answers go once a group is committed.
pub(crate) enum Delivery {
    /// `Durability::Normal`: at once; durable against a crash of the process, not of the OS.
    Immediate,
    /// `Durability::Full`: after the WAL is flushed to the disk.
    AfterSync(Syncer),
}

impl Delivery {
    /// Sends `answers` once the WAL files in `wals` (those the commit wrote) are flushed.
    pub fn deliver(&self, answers: Vec<Answer>, wals: Vec<PathBuf>) {
        match self {
            Delivery::Immediate => answers.into_iter().for_each(Answer::send),
            Delivery::AfterSync(syncer) => syncer.send(answers, wals),
        }
    }
}

/// Answers waiting for the WAL files their commit wrote.
type Waiting = (Vec<Answer>, Vec<PathBuf>);

pub(crate) struct Syncer {
    answers: Option<mpsc::Sender<Waiting>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    pub fn start() -> Syncer {
        let (answers, waiting) = mpsc::channel::<Waiting>();
        let thread = std::thread::Builder::new()
            .name("assent-sync".into())
            .spawn(move || {
                let mut files: HashMap<PathBuf, Option<File>> = HashMap::new();
                while let Ok((mut answers, wals)) = waiting.recv() {
                    let mut wals: BTreeSet<PathBuf> = wals.into_iter().collect();
                    // Everything committed so far is covered by one flush of each file.
                    while let Ok((more, more_wals)) = waiting.try_recv() {
                        answers.extend(more);
                        wals.extend(more_wals);
                    }
                    if answers.is_empty() {
                        continue;
                    }
                    // A partition that left the writer may be reopened later with a new WAL.
                    files.retain(|path, _| wals.contains(path));
                    let flushed = wals.iter().try_for_each(|wal| {
                        flush(wal, files.entry(wal.clone()).or_default())
                    });
                    match flushed {
                        Ok(()) => answers.into_iter().for_each(Answer::send),
                        Err(e) => {
                            tracing::error!(error = %e, "flushing the WAL failed; clients are told to retry");
                            let error = StoreError::Commit(format!("flushing to disk failed: {e}"));
                            answers.into_iter().for_each(|a| a.fail(error.clone()));
                        }
                    }
                }
            })
            .expect("a thread can be spawned");
        Syncer {
            answers: Some(answers),
            thread: Some(thread),
        }
    }

    fn send(&self, answers: Vec<Answer>, wals: Vec<PathBuf>) {
        if let Some(channel) = &self.answers {
            // The thread only ends after this sender is dropped, so the send cannot fail.
            let _ = channel.send((answers, wals));
        }
    }
}

impl Drop for Syncer {
    /// Flushes and answers everything still waiting before returning.
    fn drop(&mut self) {
        drop(self.answers.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `fsync` flushes the file's data whichever descriptor it is called on, so our own handle to
/// the WAL covers the pages SQLite wrote through its own. The WAL keeps its inode while any
/// connection is open (SQLite rewinds or truncates it, never replaces it).
///
/// No WAL at all means the last connection closed (at shutdown) and SQLite deleted it, which
/// it does only after copying it into the main file and flushing that: nothing is left to flush.
/// A handle whose file was deleted and made again (a partition detached, then attached again)
/// is opened anew.
fn flush(wal: &PathBuf, file: &mut Option<File>) -> std::io::Result<()> {
    if let Some(open) = file.as_ref() {
        use std::os::unix::fs::MetadataExt;
        let same = match (open.metadata(), std::fs::metadata(wal)) {
            (Ok(held), Ok(now)) => held.ino() == now.ino() && held.dev() == now.dev(),
            _ => false,
        };
        if !same {
            *file = None;
        }
    }
    if file.is_none() {
        match File::options().write(true).open(wal) {
            Ok(opened) => *file = Some(opened),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    file.as_ref().expect("opened above").sync_data()
}

#[cfg(test)]
mod tests {
    use super::flush;

    #[test]
    fn a_wal_that_sqlite_already_folded_into_the_main_file_needs_no_flush() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("events.db-wal");
        let mut file = None;
        assert!(flush(&wal, &mut file).is_ok(), "no WAL: nothing to flush");
        assert!(
            file.is_none(),
            "and nothing is held open for a WAL made later"
        );
        std::fs::write(&wal, b"frames").unwrap();
        flush(&wal, &mut file).unwrap();
        assert!(file.is_some(), "a WAL that exists is opened and flushed");
    }
}

//! Makes commits durable without making the writer wait for the disk.
//!
//! SQLite's own `synchronous = FULL` flushes the WAL inside every COMMIT, so the writer
//! idles for a whole disk flush per group and nothing else is written meanwhile. Instead the
//! writer commits with `synchronous = NORMAL` (the WAL pages are in the OS, safe from a crash
//! of the process) and hands the answers to this thread, which flushes the WAL file and only
//! then sends them. While it waits on the disk, the writer commits the next groups, and one
//! flush then covers all of them. An acknowledgement still means "on disk".

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
    pub fn deliver(&self, answers: Vec<Answer>) {
        match self {
            Delivery::Immediate => answers.into_iter().for_each(Answer::send),
            Delivery::AfterSync(syncer) => syncer.send(answers),
        }
    }
}

pub(crate) struct Syncer {
    answers: Option<mpsc::Sender<Vec<Answer>>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    pub fn start(wal: PathBuf) -> Syncer {
        let (answers, waiting) = mpsc::channel::<Vec<Answer>>();
        let thread = std::thread::Builder::new()
            .name("assent-sync".into())
            .spawn(move || {
                let mut file: Option<File> = None;
                while let Ok(mut answers) = waiting.recv() {
                    // Everything committed so far is covered by one flush.
                    while let Ok(more) = waiting.try_recv() {
                        answers.extend(more);
                    }
                    if answers.is_empty() {
                        continue;
                    }
                    match flush(&wal, &mut file) {
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

    fn send(&self, answers: Vec<Answer>) {
        if let Some(channel) = &self.answers {
            // The thread only ends after this sender is dropped, so the send cannot fail.
            let _ = channel.send(answers);
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
fn flush(wal: &PathBuf, file: &mut Option<File>) -> std::io::Result<()> {
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

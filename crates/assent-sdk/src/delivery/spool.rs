//! The on-disk spool: every accepted event is written to a file before the call returns, and
//! a file is deleted once every event in it is settled. A process that is killed leaves its
//! files behind, and the next one sends them. Events the collector had already stored are
//! sent again with the same `messageId`, and the collector stores each event once.
//!
//! Files are `events-<n>.jsonl`, one event per line, at most `segment_events` events each;
//! `lock` keeps a second process off the directory while one uses it.

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::queue::Anonymity;
use crate::Error;

pub(crate) struct Spool {
    dir: PathBuf,
    /// Held for the spool's life; the lock goes with the file.
    _lock: File,
    current: File,
    current_no: u64,
    current_events: usize,
    segment_events: usize,
    /// Unsettled events by file number.
    unsettled: BTreeMap<u64, usize>,
    line: Vec<u8>,
}

/// An event an earlier process left in the spool.
pub(crate) struct Replayed {
    pub json: Vec<u8>,
    pub anonymity: Anonymity,
    pub segment: u64,
}

/// What was found in the spool at start.
pub(crate) struct Found {
    pub events: Vec<Replayed>,
    /// Lines that were not whole events (a write cut short), skipped.
    pub unreadable: usize,
}

fn file_name(no: u64) -> String {
    format!("events-{no:020}.jsonl")
}

fn file_no(name: &str) -> Option<u64> {
    name.strip_prefix("events-")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

fn spool_error(dir: &Path, problem: impl std::fmt::Display) -> Error {
    Error::Spool {
        path: dir.to_path_buf(),
        problem: problem.to_string(),
    }
}

impl Spool {
    /// Opens (or creates) the spool in `dir` and reads what an earlier process left.
    pub fn open(dir: &Path, segment_events: usize) -> Result<(Spool, Found), Error> {
        fs::create_dir_all(dir).map_err(|e| spool_error(dir, e))?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .map_err(|e| spool_error(dir, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(spool_error(dir, "another process is using this spool"))
            }
            Err(TryLockError::Error(e)) => return Err(spool_error(dir, e)),
        }
        let mut numbers: Vec<u64> = fs::read_dir(dir)
            .map_err(|e| spool_error(dir, e))?
            .filter_map(|entry| file_no(entry.ok()?.file_name().to_str()?))
            .collect();
        numbers.sort_unstable();

        let mut found = Found {
            events: Vec::new(),
            unreadable: 0,
        };
        let mut unsettled = BTreeMap::new();
        for &no in &numbers {
            let path = dir.join(file_name(no));
            let text = fs::read(&path).map_err(|e| spool_error(dir, e))?;
            let before = found.events.len();
            for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                match anonymity_of(line) {
                    Some(anonymity) => found.events.push(Replayed {
                        json: line.to_vec(),
                        anonymity,
                        segment: no,
                    }),
                    None => found.unreadable += 1,
                }
            }
            let count = found.events.len() - before;
            if count == 0 {
                fs::remove_file(&path).map_err(|e| spool_error(dir, e))?;
            } else {
                unsettled.insert(no, count);
            }
        }
        let current_no = numbers.last().map_or(0, |n| n + 1);
        let current = new_segment(dir, current_no).map_err(|e| spool_error(dir, e))?;
        unsettled.insert(current_no, 0);
        let spool = Spool {
            dir: dir.to_path_buf(),
            _lock: lock,
            current,
            current_no,
            current_events: 0,
            segment_events,
            unsettled,
            line: Vec::with_capacity(1024),
        };
        Ok((spool, found))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one event; returns the number of the file that holds it. One `write` per event:
    /// once it returns, the event is in the kernel's hands and survives the process.
    pub fn append(&mut self, json: &[u8]) -> io::Result<u64> {
        if self.current_events >= self.segment_events {
            self.rotate()?;
        }
        self.line.clear();
        self.line.extend_from_slice(json);
        self.line.push(b'\n');
        if let Err(e) = self.current.write_all(&self.line) {
            // The file may now end in half a line: the next event starts a new file, and the
            // half line is skipped when the spool is read again.
            self.current_events = self.segment_events;
            return Err(e);
        }
        self.current_events += 1;
        *self.unsettled.entry(self.current_no).or_default() += 1;
        Ok(self.current_no)
    }

    fn rotate(&mut self) -> io::Result<()> {
        let next = self.current_no + 1;
        self.current = new_segment(&self.dir, next)?;
        let previous = std::mem::replace(&mut self.current_no, next);
        self.current_events = 0;
        self.unsettled.insert(next, 0);
        self.remove_if_settled(previous);
        Ok(())
    }

    /// `events` of file `segment` left the queue for good.
    pub fn settle(&mut self, segment: u64, events: usize) {
        if let Some(count) = self.unsettled.get_mut(&segment) {
            *count = count.saturating_sub(events);
        }
        if segment != self.current_no {
            self.remove_if_settled(segment);
        }
    }

    /// Removes every file whose events are all settled, the one being written included.
    pub fn remove_settled(&mut self) {
        let settled: Vec<u64> = self
            .unsettled
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(no, _)| *no)
            .collect();
        for no in settled {
            self.remove_if_settled(no);
        }
    }

    fn remove_if_settled(&mut self, no: u64) {
        if self.unsettled.get(&no) == Some(&0) {
            // A file that cannot be removed now is read again at the next start; its events
            // then go a second time, and the collector drops the repeats.
            if fs::remove_file(self.dir.join(file_name(no))).is_ok() {
                self.unsettled.remove(&no);
            }
        }
    }
}

fn new_segment(dir: &Path, no: u64) -> io::Result<File> {
    File::options()
        .create_new(true)
        .append(true)
        .open(dir.join(file_name(no)))
}

/// The anonymity a spooled event is sent with, if the line is a whole event.
fn anonymity_of(line: &[u8]) -> Option<Anonymity> {
    #[derive(Deserialize)]
    struct Line {
        #[serde(rename = "messageId")]
        _message_id: String,
        context: Option<Context>,
    }
    #[derive(Deserialize)]
    struct Context {
        anonymous: Option<serde_json::Value>,
    }
    let line: Line = serde_json::from_slice(line).ok()?;
    let level = line.context.and_then(|c| c.anonymous);
    Some(match level.as_ref().and_then(|v| v.as_str()) {
        Some("full") => Anonymity::Full,
        Some("session") => Anonymity::Session,
        Some("server") => Anonymity::Server,
        _ => Anonymity::Identified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("events-"))
            .collect();
        names.sort();
        names
    }

    fn event(n: usize, anonymous: &str) -> Vec<u8> {
        format!(r#"{{"type":"track","messageId":"m{n}","context":{{"anonymous":{anonymous}}}}}"#)
            .into_bytes()
    }

    #[test]
    fn what_was_not_settled_is_found_again_and_settled_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let (mut spool, found) = Spool::open(dir.path(), 2).unwrap();
        assert!(found.events.is_empty());
        let segments: Vec<u64> = (0..5)
            .map(|n| spool.append(&event(n, "false")).unwrap())
            .collect();
        assert_eq!(segments, [0, 0, 1, 1, 2]);
        spool.settle(0, 2);
        assert_eq!(
            files(dir.path()).len(),
            2,
            "a full, settled file is removed"
        );
        spool.settle(1, 1);
        drop(spool); // as if the process died

        let (_spool, found) = Spool::open(dir.path(), 2).unwrap();
        let ids: Vec<String> = found
            .events
            .iter()
            .map(|e| String::from_utf8(e.json.clone()).unwrap())
            .collect();
        assert_eq!(
            ids.len(),
            3,
            "the whole of file 1 comes back, and file 2: {ids:?}"
        );
        assert!(ids[0].contains("m2") && ids[2].contains("m4"));
    }

    #[test]
    fn a_line_cut_short_is_skipped_and_the_anonymity_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = event(1, "\"server\"");
        text.push(b'\n');
        text.extend_from_slice(br#"{"type":"track","messageId":"m2","con"#);
        fs::write(dir.path().join(file_name(7)), text).unwrap();
        let (mut spool, found) = Spool::open(dir.path(), 10).unwrap();
        assert_eq!(found.events.len(), 1);
        assert_eq!(found.events[0].anonymity, Anonymity::Server);
        assert_eq!(found.unreadable, 1);
        assert_eq!(
            spool.append(&event(3, "false")).unwrap(),
            8,
            "new events go to a new file"
        );
    }

    #[test]
    fn a_second_process_cannot_use_the_same_spool() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Spool::open(dir.path(), 10).unwrap();
        let second = Spool::open(dir.path(), 10);
        assert!(
            matches!(second, Err(Error::Spool { ref problem, .. }) if problem.contains("another process"))
        );
    }

    #[test]
    fn when_everything_is_settled_no_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let (mut spool, _) = Spool::open(dir.path(), 10).unwrap();
        let no = spool.append(&event(1, "false")).unwrap();
        spool.settle(no, 1);
        spool.remove_settled();
        assert!(files(dir.path()).is_empty());
    }
}

//! The dedupe window: within it, a retried event is never stored twice.
//!
//! A retry is the same event sent again: same `messageId`, same client `timestamp` (every
//! tracker, ours and the peers', resends an event unchanged; only `sentAt` moves). So the key
//! of an event is `(timestamp, messageId, project)`, unique in each partition. Keyed by time
//! first, new events are appended at the end of the index, however random their ids, and a
//! retry finds its first copy with one lookup.
//!
//! A retry may arrive days after its first copy, in a later partition. Each partition records
//! the hours of client timestamps it holds, so a new event is looked up only in the partitions
//! of the window that hold its hour: usually none but the current one, whose unique index does
//! the work. Beyond the window (`[store] dedupe_window`, 7 days by default) partitions are not
//! looked in: a retry that late may be stored again (with the same `messageId`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use crate::partition::{self, PartitionDay, HOUR_MS};

/// The key a partition's unique index holds for an event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key<'a> {
    /// The client's own timestamp, or 0 when it sent none.
    pub ts: i64,
    pub message_id: &'a str,
    pub project: &'a str,
}

impl Key<'_> {
    fn hour(&self) -> i64 {
        self.ts.div_euclid(HOUR_MS)
    }
}

pub(crate) struct DedupeWindow {
    data_dir: PathBuf,
    window_ms: i64,
    /// The hours of client timestamps each partition of the window holds.
    hours: BTreeMap<PartitionDay, HashSet<i64>>,
    /// Hours written by the transaction in progress, kept apart until it commits.
    pending: Vec<(PartitionDay, i64)>,
    /// Read-only connections to partitions of the window that the writer has not attached.
    readers: HashMap<PartitionDay, Connection>,
}

impl DedupeWindow {
    /// Reads the hours of every partition of the window that ends at `now_ms`.
    pub fn load(data_dir: &Path, window_ms: i64, now_ms: i64) -> rusqlite::Result<DedupeWindow> {
        let mut window = DedupeWindow {
            data_dir: data_dir.to_path_buf(),
            window_ms,
            hours: BTreeMap::new(),
            pending: Vec::new(),
            readers: HashMap::new(),
        };
        let first = window.first_day(now_ms);
        for day in partition::list(data_dir) {
            if day >= first {
                let conn = partition::open(data_dir, day, true)?;
                let hours = partition::hours(&conn, "main")?;
                window.hours.insert(day, hours.into_iter().collect());
            }
        }
        Ok(window)
    }

    /// The oldest partition a retry received at `now_ms` is looked for in.
    fn first_day(&self, now_ms: i64) -> PartitionDay {
        PartitionDay::of_ms(now_ms - self.window_ms)
    }

    /// Whether the event is stored already in a partition of the window other than `own`
    /// (whose own unique index answers for it). `attached` says whether the writer's
    /// connection `tx` has a partition attached; others are read through connections of
    /// their own.
    pub fn stored_elsewhere(
        &mut self,
        tx: &Connection,
        attached: impl Fn(PartitionDay) -> bool,
        own: PartitionDay,
        key: Key,
    ) -> rusqlite::Result<bool> {
        let hour = key.hour();
        let candidates: Vec<PartitionDay> = self
            .hours
            .iter()
            .filter(|(day, hours)| **day != own && hours.contains(&hour))
            .map(|(day, _)| *day)
            .chain(
                self.pending
                    .iter()
                    .filter(|(day, h)| *day != own && *h == hour)
                    .map(|(day, _)| *day),
            )
            .collect();
        for day in candidates {
            let found = if attached(day) {
                lookup(tx, &day.schema(), key)?
            } else {
                lookup(self.reader(day)?, "main", key)?
            };
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Records that `day` now holds an event of `key`'s hour; true when it did not before
    /// (the caller writes the hour to the partition in the same transaction).
    pub fn note(&mut self, day: PartitionDay, key: Key) -> bool {
        let hour = key.hour();
        let known = self.hours.get(&day).is_some_and(|h| h.contains(&hour))
            || self.pending.contains(&(day, hour));
        if !known {
            self.pending.push((day, hour));
        }
        !known
    }

    pub fn commit_pending(&mut self) {
        for (day, hour) in self.pending.drain(..) {
            self.hours.entry(day).or_default().insert(hour);
        }
    }

    pub fn discard_pending(&mut self) {
        self.pending.clear();
    }

    /// Forgets partitions that left the window, and one that is about to be deleted.
    pub fn forget_before(&mut self, now_ms: i64) {
        let first = self.first_day(now_ms);
        self.hours.retain(|day, _| *day >= first);
        self.readers.retain(|day, _| *day >= first);
    }

    pub fn forget(&mut self, day: PartitionDay) {
        self.hours.remove(&day);
        self.readers.remove(&day);
    }

    /// Makes sure a new partition is known (it has no hours yet).
    pub fn add_partition(&mut self, day: PartitionDay) {
        self.hours.entry(day).or_default();
    }

    fn reader(&mut self, day: PartitionDay) -> rusqlite::Result<&Connection> {
        if !self.readers.contains_key(&day) {
            let conn = partition::open(&self.data_dir, day, true)?;
            self.readers.insert(day, conn);
        }
        Ok(&self.readers[&day])
    }
}

fn lookup(conn: &Connection, schema: &str, key: Key) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT 1 FROM {schema}.events WHERE dedupe_ts = ?1 AND message_id = ?2 AND project = ?3"
    ))?
    .query_row(params![key.ts, key.message_id, key.project], |_| Ok(()))
    .optional()
    .map(|found| found.is_some())
}

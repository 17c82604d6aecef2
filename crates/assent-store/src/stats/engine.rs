//! Where digests come from: closed partitions keep theirs (built once, off the writer, like
//! the subject indexes), the partitions still written to (today and yesterday) are read as
//! they grow, and everything is kept in memory once read.
//!
//! A closed partition's digest is stamped with the partition's newest event id and event
//! count; a deletion or a retention run changes the count, and the digest is built again.
//! The audit trail records every such run, so its newest entry tells when to look.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};

use super::build::{self, DayDigest};
use super::record::{EventRecord, Reader, Strings};
use crate::partition::{self, PartitionDay};

/// Bumped whenever the digest's layout or meaning changes: older ones are built again.
pub(crate) const FORMAT: i64 = 1;

/// How often a live day's digest is rebuilt at most, once it holds this many events.
const LIVE_REBUILD_EVERY: Duration = Duration::from_secs(2);
const LIVE_SMALL: usize = 20_000;

struct ClosedDay {
    stamp: String,
    digest: Arc<DayDigest>,
    /// Checked against its partition since the audit trail last moved.
    verified: bool,
}

pub(crate) struct StatsEngine {
    dir: PathBuf,
    main: PathBuf,
    closed: Mutex<HashMap<PartitionDay, ClosedDay>>,
    live: Mutex<HashMap<PartitionDay, Arc<Mutex<LiveDay>>>>,
    /// Builds of closed days, one at a time.
    building: Mutex<()>,
    /// Events stored and suppressed per closed day and project (the privacy panel's).
    counts: Mutex<HashMap<(PartitionDay, String), (u64, u64)>>,
    audit_mark: AtomicI64,
    builder: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl StatsEngine {
    pub fn new(dir: &Path, main: &Path) -> Arc<StatsEngine> {
        Arc::new(StatsEngine {
            dir: dir.to_path_buf(),
            main: main.to_path_buf(),
            closed: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            building: Mutex::new(()),
            counts: Mutex::new(HashMap::new()),
            audit_mark: AtomicI64::new(-1),
            builder: Mutex::new(None),
        })
    }

    /// Builds the digests of closed partitions in the background, now and every minute.
    pub fn start_builder(self: &Arc<StatsEngine>) {
        let engine = Arc::downgrade(self);
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("assent-stats".into())
            .spawn(move || loop {
                match engine.upgrade() {
                    Some(engine) => {
                        if let Err(e) = engine.build_closed(crate::now_ms()) {
                            tracing::debug!(error = %e, "statistics of closed days will be built later");
                        }
                    }
                    None => break,
                }
                match stopped.recv_timeout(Duration::from_secs(60)) {
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            })
            .expect("a thread can be spawned");
        *self.builder.lock().unwrap_or_else(|e| e.into_inner()) = Some((stop, handle));
    }

    pub fn stop(&self) {
        let builder = self
            .builder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((stop, handle)) = builder {
            drop(stop);
            let _ = handle.join();
        }
    }

    /// The digests of every partition that may hold visits starting in `[from_ms, to_ms)`
    /// (a day either side: late events land in the next day's partition).
    pub fn digests(
        &self,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> rusqlite::Result<Vec<Arc<DayDigest>>> {
        self.notice_privacy_work()?;
        let days = super::portable::days_of(from_ms, to_ms);
        partition::list(&self.dir)
            .into_iter()
            .filter(|d| days.contains(&d.0))
            .map(|day| {
                if closed(day, now_ms) {
                    self.closed_digest(day)
                } else {
                    self.live_digest(day)
                }
            })
            .collect()
    }

    /// Builds (and keeps in their partitions) the digests of closed days that have none, or
    /// an outdated one; returns how many it built or checked.
    pub fn build_closed(&self, now_ms: i64) -> rusqlite::Result<usize> {
        let mut done = 0;
        for day in partition::list(&self.dir)
            .into_iter()
            .filter(|d| closed(*d, now_ms))
        {
            let known = self
                .closed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&day)
                .is_some_and(|c| c.verified);
            if !known {
                self.closed_digest(day)?;
                done += 1;
            }
        }
        // Days that closed since they were read live are now read from their partition.
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|day, _| !closed(*day, now_ms));
        Ok(done)
    }

    /// When the audit trail has moved (a deletion, a retention run), closed digests are
    /// checked against their partitions again before use.
    pub fn notice_privacy_work(&self) -> rusqlite::Result<()> {
        let conn =
            Connection::open_with_flags(&self.main, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mark: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM audit_log", [], |r| {
            r.get(0)
        })?;
        if self.audit_mark.swap(mark, Ordering::Relaxed) != mark {
            for day in self
                .closed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values_mut()
            {
                day.verified = false;
            }
            self.counts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Events stored and suppressed in a day's partition for a project; kept for closed
    /// days, which only deletions and retention change (and the audit trail then moves).
    pub fn project_counts(&self, day: PartitionDay, project: &str) -> rusqlite::Result<(u64, u64)> {
        let key = (day, project.to_string());
        if let Some(counts) = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(*counts);
        }
        let conn = partition::open(&self.dir, day, true)?;
        let counts = super::privacy::project_counts(&conn, project)?;
        if closed(day, crate::now_ms()) {
            self.counts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, counts);
        }
        Ok(counts)
    }

    fn closed_digest(&self, day: PartitionDay) -> rusqlite::Result<Arc<DayDigest>> {
        if let Some(c) = self
            .closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&day)
        {
            if c.verified {
                return Ok(c.digest.clone());
            }
        }
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let conn = partition::open(&self.dir, day, false)
            .or_else(|_| partition::open(&self.dir, day, true))?;
        let stamp = stamp(&conn)?;
        {
            let mut closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = closed.get_mut(&day) {
                if c.stamp == stamp {
                    c.verified = true;
                    return Ok(c.digest.clone());
                }
            }
        }
        let digest = match stored_digest(&conn, &stamp)? {
            Some(digest) => digest,
            None => {
                let digest = build_digest(&conn, day)?;
                // Kept for next time if the partition can be written; used now either way.
                if let Err(e) = store_digest(&conn, &stamp, &digest) {
                    tracing::warn!(error = %e, partition = %day.date(), "could not keep a day's statistics in its partition");
                }
                digest
            }
        };
        let digest = Arc::new(digest);
        self.closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                day,
                ClosedDay {
                    stamp,
                    digest: digest.clone(),
                    verified: true,
                },
            );
        Ok(digest)
    }

    fn live_digest(&self, day: PartitionDay) -> rusqlite::Result<Arc<DayDigest>> {
        let live = self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(day)
            .or_insert_with(|| Arc::new(Mutex::new(LiveDay::new(day))))
            .clone();
        let mut live = live.lock().unwrap_or_else(|e| e.into_inner());
        live.refresh(&self.dir)?;
        Ok(live.digest.clone())
    }
}

/// A partition no longer written to: older than yesterday (as for the subject indexes).
fn closed(day: PartitionDay, now_ms: i64) -> bool {
    day.0 < PartitionDay::of_ms(now_ms).0 - 1
}

/// The newest event id and the event count of a partition (counts kept by the writer,
/// lowered by deletions and retention).
fn stamp_numbers(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(
        "SELECT (SELECT coalesce(max(id), 0) FROM events),
                (SELECT coalesce(sum(events), 0) FROM projects)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

fn stamp(conn: &Connection) -> rusqlite::Result<String> {
    let (id, count) = stamp_numbers(conn)?;
    Ok(format!("{id}:{count}"))
}

fn build_digest(conn: &Connection, day: PartitionDay) -> rusqlite::Result<DayDigest> {
    let mut strings = Strings::new();
    let mut records: Vec<EventRecord> = Vec::new();
    Reader::new().read_after(conn, 0, &mut strings, &mut records)?;
    Ok(build::digest(day.0, strings, &records))
}

fn stored_digest(conn: &Connection, stamp: &str) -> rusqlite::Result<Option<DayDigest>> {
    if !table_exists(conn)? {
        return Ok(None);
    }
    let data: Option<Vec<u8>> = conn
        .query_row(
            "SELECT data FROM stats_digest WHERE format = ?1 AND stamp = ?2",
            params![FORMAT, stamp],
            |r| r.get(0),
        )
        .optional()?;
    Ok(data.and_then(|bytes| {
        let mut digest: DayDigest = postcard::from_bytes(&bytes).ok()?;
        digest.strings.reindex();
        Some(digest)
    }))
}

fn table_exists(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'stats_digest'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Keeps a digest in its partition. The old one's pages are overwritten (it may hold
/// property values of events deleted since).
fn store_digest(conn: &Connection, stamp: &str, digest: &DayDigest) -> rusqlite::Result<()> {
    let bytes = postcard::to_stdvec(digest).map_err(|e| partition::failure(e.to_string()))?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS stats_digest (
            format INTEGER PRIMARY KEY,
            stamp  TEXT NOT NULL,
            data   BLOB NOT NULL
        );",
    )?;
    conn.execute(
        "INSERT OR REPLACE INTO stats_digest (format, stamp, data) VALUES (?1, ?2, ?3)",
        params![FORMAT, stamp, bytes],
    )?;
    Ok(())
}

/// A partition still written to, read as it grows.
struct LiveDay {
    day: PartitionDay,
    conn: Option<Connection>,
    reader: Reader,
    strings: Strings,
    records: Vec<EventRecord>,
    last_id: i64,
    digest: Arc<DayDigest>,
    built_at: Option<Instant>,
    stale: bool,
}

impl LiveDay {
    fn new(day: PartitionDay) -> LiveDay {
        let strings = Strings::new();
        LiveDay {
            day,
            conn: None,
            reader: Reader::new(),
            digest: Arc::new(build::digest(day.0, strings.clone(), &[])),
            strings,
            records: Vec::new(),
            last_id: 0,
            built_at: None,
            stale: false,
        }
    }

    fn refresh(&mut self, dir: &Path) -> rusqlite::Result<()> {
        if self.conn.is_none() {
            self.conn = Some(partition::open(dir, self.day, true)?);
        }
        let conn = self.conn.as_ref().expect("opened above");
        // One snapshot: the count and the rows read must be of the same moment.
        let snapshot = conn.unchecked_transaction()?;
        let (max_id, count) = stamp_numbers(conn)?;
        if max_id > self.last_id {
            self.reader
                .read_after(conn, self.last_id, &mut self.strings, &mut self.records)?;
            self.last_id = self.records.last().map_or(0, |r| r.id);
            self.stale = true;
        }
        if count != self.records.len() as i64 {
            // Events were deleted (or the count moved under us): read the day again.
            self.reader = Reader::new();
            self.strings = Strings::new();
            self.records.clear();
            self.reader
                .read_after(conn, 0, &mut self.strings, &mut self.records)?;
            self.last_id = self.records.last().map_or(0, |r| r.id);
            self.stale = true;
        }
        snapshot.finish()?;
        let due = self.records.len() < LIVE_SMALL
            || self
                .built_at
                .is_none_or(|at| at.elapsed() >= LIVE_REBUILD_EVERY);
        if self.stale && due {
            self.digest = Arc::new(build::digest(
                self.day.0,
                self.strings.clone(),
                &self.records,
            ));
            self.built_at = Some(Instant::now());
            self.stale = false;
        }
        Ok(())
    }
}

impl std::fmt::Debug for StatsEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StatsEngine({})", self.dir.display())
    }
}

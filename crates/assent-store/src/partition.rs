//! Events in time partitions: one SQLite file per UTC day of receipt,
//! `data_dir/events/YYYY-MM-DD.db`.
//!
//! One table for every event ever stored grows indexes that no longer fit in memory, and then
//! each insert of a random key (a UUID `messageId`, a random `anonymousId`) costs a page read
//! and a page write. A partition holds one day: its only index on the write path is the dedupe
//! key, which starts with the client's own timestamp, so new keys land at the end of it as
//! ordered keys do (see `dedupe.rs`). The indexes by subject, which export and deletion need,
//! are built in one pass when the day is over (`indexer.rs`), not one random insert per event.
//! Retention deletes a whole file.
//!
//! Each partition also lists the hours of client timestamps it holds (`hours`) and how many
//! events of each project it has (`projects`), written in the same transaction as the events:
//! the dedupe window and retention read them instead of the events.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// The folder of the partitions, inside the data directory.
pub const DIR: &str = "events";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
pub(crate) const HOUR_MS: i64 = 60 * 60 * 1000;

/// The day a partition holds: days since 1970-01-01, UTC, of the time events were received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionDay(pub i64);

impl PartitionDay {
    pub fn of_ms(ms: i64) -> PartitionDay {
        PartitionDay(ms.div_euclid(DAY_MS))
    }

    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }

    /// `2026-11-30`.
    pub fn date(self) -> String {
        jiff::Timestamp::from_millisecond(self.start_ms())
            .map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_else(|_| format!("day-{}", self.0))
    }

    /// The file's name: `2026-11-30.db`.
    pub fn file_name(self) -> String {
        format!("{}.db", self.date())
    }

    /// The day a partition file is named for.
    pub fn parse_file_name(name: &str) -> Option<PartitionDay> {
        let date: jiff::civil::Date = name.strip_suffix(".db")?.parse().ok()?;
        let start = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
        Some(PartitionDay::of_ms(start.as_millisecond()))
    }

    /// The schema name it is attached under: `p20261130`.
    pub fn schema(self) -> String {
        format!("p{}", self.date().replace('-', ""))
    }

    pub fn path(self, data_dir: &Path) -> PathBuf {
        data_dir.join(DIR).join(self.file_name())
    }
}

/// A partition's tables. `dedupe_ts` is the client's own timestamp (0 when it sent none);
/// `events_json` shows each event whole, as exports return it.
const SCHEMA: &str = concat!(
    "
CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY,
    project      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    dedupe_ts    INTEGER NOT NULL,
    type         TEXT NOT NULL,
    event        TEXT,
    anonymous_id TEXT,
    user_id      TEXT,
    group_id     TEXT,
    session_id   INTEGER,
    sequence     INTEGER,
    timestamp    INTEGER NOT NULL,
    sent_at      INTEGER,
    received_at  INTEGER NOT NULL,
    ip           TEXT,
    visitor_hash TEXT,
    payload      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_dedupe ON events (dedupe_ts, message_id, project);
CREATE TABLE IF NOT EXISTS hours (hour INTEGER PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deletions (job TEXT PRIMARY KEY, events INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projects (
    project    TEXT PRIMARY KEY,
    events     INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS events_json AS ",
    events_json_select!()
);

/// Built once a partition is no longer written to (`indexer.rs`).
pub(crate) const SUBJECT_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS events_by_anonymous_id ON events (anonymous_id, project)
    WHERE anonymous_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_user ON events (user_id, project) WHERE user_id IS NOT NULL;
";

/// Creates the partition file of `day` if it does not exist yet (the store does it when it
/// first writes to a day; tools that fill partitions in bulk call it too). Done on a
/// connection of its own, before the file is attached: the file's settings must precede its
/// first table.
pub fn create(data_dir: &Path, day: PartitionDay) -> rusqlite::Result<PathBuf> {
    let path = day.path(data_dir);
    if path.exists() {
        return Ok(path);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| failure(e.to_string()))?;
    }
    // Built under a temporary name and renamed, so a crash never leaves half a partition.
    let building = path.with_extension("db-new");
    let _ = std::fs::remove_file(&building);
    {
        let conn = Connection::open(&building)?;
        // Rows of deleted subjects are overwritten; the pages they free are reused by the
        // same day's later rows, or go with the file when it expires.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    std::fs::rename(&building, &path).map_err(|e| failure(e.to_string()))?;
    Ok(path)
}

/// Attaches a partition under its schema name, its deleted rows overwritten with zeros.
pub(crate) fn attach(
    conn: &Connection,
    data_dir: &Path,
    day: PartitionDay,
) -> rusqlite::Result<()> {
    let path = create(data_dir, day)?;
    conn.execute(
        &format!("ATTACH DATABASE ?1 AS {}", day.schema()),
        [path.to_string_lossy()],
    )?;
    conn.pragma_update(Some(&day.schema()), "secure_delete", "ON")?;
    conn.pragma_update(Some(&day.schema()), "synchronous", "NORMAL")?;
    // Partitions made before deletions counted their steps in them.
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {}.deletions (job TEXT PRIMARY KEY, events INTEGER NOT NULL) WITHOUT ROWID;",
        day.schema()
    ))?;
    // And before events of deleted subjects were counted (the dashboard's privacy panel).
    if !has_column(conn, &format!("{}.projects", day.schema()), "suppressed")? {
        conn.execute_batch(&format!(
            "ALTER TABLE {}.projects ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;",
            day.schema()
        ))?;
    }
    Ok(())
}

/// Whether `table` (optionally `schema.table`) has a column.
pub(crate) fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let (schema, table) = table.split_once('.').unwrap_or(("main", table));
    let mut query = conn.prepare(&format!("PRAGMA {schema}.table_info({table})"))?;
    let names = query.query_map([], |r| r.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) fn detach(conn: &Connection, day: PartitionDay) -> rusqlite::Result<()> {
    conn.execute(&format!("DETACH DATABASE {}", day.schema()), [])
        .map(drop)
}

/// The partitions in a data directory, oldest first.
pub fn list(data_dir: &Path) -> Vec<PartitionDay> {
    let Ok(entries) = std::fs::read_dir(data_dir.join(DIR)) else {
        return Vec::new();
    };
    let mut days: Vec<PartitionDay> = entries
        .filter_map(|e| PartitionDay::parse_file_name(&e.ok()?.file_name().to_string_lossy()))
        .collect();
    days.sort();
    days
}

/// Opens one partition on its own connection (export, retention, the dedupe window's probes).
pub(crate) fn open(
    data_dir: &Path,
    day: PartitionDay,
    read_only: bool,
) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let conn = Connection::open_with_flags(
        day.path(data_dir),
        flags | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Whether a partition (main schema of `conn`, or `schema`) has its subject indexes yet.
pub(crate) fn has_subject_indexes(conn: &Connection, schema: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        &format!(
            "SELECT count(*) FROM {schema}.sqlite_master WHERE type = 'index' AND name = 'events_by_user'"
        ),
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// The hours of client timestamps a partition holds.
pub(crate) fn hours(conn: &Connection, schema: &str) -> rusqlite::Result<Vec<i64>> {
    let mut query = conn.prepare(&format!("SELECT hour FROM {schema}.hours"))?;
    let hours = query.query_map([], |r| r.get(0))?;
    hours.collect()
}

/// Attaches every partition to a connection on `events.db`, and makes temporary views
/// `events` and `events_json` over all of them, for tools and tests that read the store with
/// SQL: `SELECT count(*) FROM events` then counts every stored event. Ids are made unique
/// across partitions. SQLite attaches at most ten files per connection: this covers the newest
/// nine partitions.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assent_store::SqliteStore::open(dir.path(), Default::default()).unwrap().close();
/// let conn = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
/// assent_store::partition::attach_all(&conn, dir.path()).unwrap();
/// let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
/// assert_eq!(n, 0);
/// ```
pub fn attach_all(conn: &Connection, data_dir: &Path) -> rusqlite::Result<()> {
    let days = list(data_dir);
    let days = &days[days.len().saturating_sub(9)..];
    let mut events = Vec::new();
    let mut whole = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let schema = format!("all{i}");
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS {schema}"),
            [day.path(data_dir).to_string_lossy()],
        )?;
        let id = format!("id + {} * 1099511627776 AS id", i + 1);
        events.push(format!(
            "SELECT {id}, project, message_id, dedupe_ts, type, event, anonymous_id, user_id,
                    group_id, session_id, sequence, timestamp, sent_at, received_at, ip,
                    visitor_hash, payload FROM {schema}.events"
        ));
        whole.push(format!(
            "SELECT {id}, project, event FROM {schema}.events_json"
        ));
    }
    let empty_events = "SELECT NULL AS id, NULL AS project, NULL AS message_id, NULL AS dedupe_ts,
        NULL AS type, NULL AS event, NULL AS anonymous_id, NULL AS user_id, NULL AS group_id,
        NULL AS session_id, NULL AS sequence, NULL AS timestamp, NULL AS sent_at,
        NULL AS received_at, NULL AS ip, NULL AS visitor_hash, NULL AS payload WHERE 0";
    let empty_whole = "SELECT NULL AS id, NULL AS project, NULL AS event WHERE 0";
    let union = |parts: Vec<String>, empty: &str| {
        if parts.is_empty() {
            empty.to_string()
        } else {
            parts.join(" UNION ALL ")
        }
    };
    conn.execute_batch(&format!(
        "CREATE TEMP VIEW events AS {};
         CREATE TEMP VIEW events_json AS {};",
        union(events, empty_events),
        union(whole, empty_whole)
    ))
}

/// Where removed partitions wait for their files to be deleted.
const EXPIRED: &str = "expired";

/// Takes a partition out of the store at once: its files (the database, and any WAL or
/// shared-memory file beside it) are moved into `events/expired/`, where nothing reads, and
/// deleted there on a thread of their own. Freeing a file of gigabytes can take the file
/// system most of a second; the writer does not wait for it.
pub(crate) fn remove(data_dir: &Path, day: PartitionDay) -> std::io::Result<()> {
    let path = day.path(data_dir);
    let expired = data_dir.join(DIR).join(EXPIRED);
    std::fs::create_dir_all(&expired)?;
    for suffix in ["-wal", "-shm", ""] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        let to = expired.join(format!("{}{suffix}", day.file_name()));
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    std::thread::Builder::new()
        .name("assent-expired".into())
        .spawn(move || delete_expired_files(&expired))?;
    Ok(())
}

/// Deletes what `remove` moved aside (also at open, for what a crash left there).
pub(crate) fn delete_expired_files(expired: &Path) {
    for entry in std::fs::read_dir(expired).into_iter().flatten().flatten() {
        if let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::warn!(error = %e, file = %entry.path().display(), "could not delete an expired partition's file");
        }
    }
}

/// The folder of removed partitions' files, inside the data directory.
pub(crate) fn expired_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(DIR).join(EXPIRED)
}

/// An error of ours where SQLite's kind of error is expected.
pub(crate) fn failure(message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_names_its_file_and_is_read_back_from_it() {
        let day = PartitionDay::of_ms(1_796_083_200_000 + 5_000);
        assert_eq!(day.file_name(), "2026-12-01.db");
        assert_eq!(day.schema(), "p20261201");
        assert_eq!(PartitionDay::parse_file_name("2026-12-01.db"), Some(day));
        assert_eq!(PartitionDay::parse_file_name("notes.db"), None);
        assert_eq!(PartitionDay::of_ms(day.start_ms()), day);
        assert_eq!(PartitionDay::of_ms(day.start_ms() - 1).0, day.0 - 1);
    }
}

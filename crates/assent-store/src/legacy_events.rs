//! Stores written before partitions kept every event in one `events` table of `events.db`.
//! When such a store is opened, its events are copied into the partition files a day at a
//! time, and the old table is dropped. A copy interrupted by a crash is resumed at the next
//! open: each row is written at most once (the partitions' unique keys), and the old table is
//! dropped only once every day is copied.

use std::path::Path;

use rusqlite::Connection;

use crate::partition::{self, PartitionDay, HOUR_MS};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Copies the old table's events into partitions and drops it; returns how many were copied.
pub(crate) fn migrate(conn: &mut Connection, data_dir: &Path) -> rusqlite::Result<u64> {
    let exists: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(0);
    }
    let days: Vec<i64> = conn
        .prepare("SELECT DISTINCT received_at / ?1 FROM events ORDER BY 1")?
        .query_map([DAY_MS], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    tracing::info!(
        days = days.len(),
        "copying the events of an older store into daily partitions"
    );
    let mut copied = 0;
    for day in days {
        let day = PartitionDay(day);
        partition::attach(conn, data_dir, day)?;
        let schema = day.schema();
        let tx = conn.transaction()?;
        // The client's own timestamp, to the millisecond, as a retry would carry it.
        copied += tx.execute(
            &format!(
                "INSERT OR IGNORE INTO {schema}.events
                    (project, message_id, dedupe_ts, type, event, anonymous_id, user_id, group_id,
                     session_id, sequence, timestamp, sent_at, received_at, ip, visitor_hash, payload)
                 SELECT project, message_id,
                    coalesce(CAST(round(unixepoch(json_extract(payload, '$.originalTimestamp'), 'subsec') * 1000) AS INTEGER), 0),
                    type, event, anonymous_id, user_id, group_id, session_id, sequence, timestamp,
                    sent_at, received_at, ip, visitor_hash, payload
                 FROM main.events WHERE received_at >= ?1 AND received_at < ?2 ORDER BY id"
            ),
            [day.start_ms(), day.start_ms() + DAY_MS],
        )? as u64;
        tx.execute(
            &format!(
                "INSERT OR IGNORE INTO {schema}.hours (hour)
                 SELECT DISTINCT CASE WHEN dedupe_ts >= 0 THEN dedupe_ts / ?1
                                      ELSE (dedupe_ts - ?1 + 1) / ?1 END
                 FROM {schema}.events"
            ),
            [HOUR_MS],
        )?;
        tx.execute(
            &format!(
                "INSERT OR REPLACE INTO {schema}.projects (project, events)
                 SELECT project, count(*) FROM {schema}.events GROUP BY project"
            ),
            [],
        )?;
        tx.commit()?;
        partition::detach(conn, day)?;
    }
    // Every row now lives in a partition. The old pages are not overwritten one by one (that
    // would write the whole table again); the file is rebuilt without them instead.
    conn.pragma_update(None, "secure_delete", "OFF")?;
    conn.execute_batch("DROP VIEW IF EXISTS events_json; DROP TABLE events;")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.execute_batch("VACUUM")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    tracing::info!(
        events = copied,
        "the older store's events are in daily partitions now"
    );
    Ok(copied)
}

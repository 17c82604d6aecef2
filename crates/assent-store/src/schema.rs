//! The SQLite schema, as an ordered list of migrations tracked by `PRAGMA user_version`.

use rusqlite::Connection;

/// Each entry moves the schema one version forward. Never edit a released entry; append.
const MIGRATIONS: &[&str] = &[
    // v1: events. `event` holds the track event name or the page/screen name. Index keys start
    // with the selective column and end with the project: a lookup still uses them, and each
    // comparison on insert usually ends at the first column. Subject indexes are partial:
    // events without that identifier do not pay for them.
    "CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        project      TEXT NOT NULL,
        message_id   TEXT NOT NULL,
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
        payload      TEXT NOT NULL
    );
    CREATE UNIQUE INDEX events_by_message ON events (message_id, project);
    CREATE INDEX events_by_user ON events (user_id, project) WHERE user_id IS NOT NULL;
    CREATE INDEX events_by_anonymous_id ON events (anonymous_id, project) WHERE anonymous_id IS NOT NULL;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // v2: the consent ledger. Append-only: its content cannot be updated through SQLite (the
    // trigger) and any edit made around it breaks the hash chain (`assent consent verify`).
    // The plain identifiers may be erased (subject deletion); the chain covers their digests.
    "CREATE TABLE consent_ledger (
        id            INTEGER PRIMARY KEY,
        project       TEXT NOT NULL,
        consent_id    TEXT NOT NULL,
        anonymous_id  TEXT,
        user_id       TEXT,
        entry         TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        hash          TEXT NOT NULL
    );
    CREATE INDEX consent_ledger_by_consent_id ON consent_ledger (consent_id);
    CREATE INDEX consent_ledger_by_anonymous_id ON consent_ledger (anonymous_id) WHERE anonymous_id IS NOT NULL;
    CREATE INDEX consent_ledger_by_user ON consent_ledger (user_id) WHERE user_id IS NOT NULL;
    CREATE TRIGGER consent_ledger_is_append_only
        BEFORE UPDATE OF id, project, consent_id, entry, previous_hash, hash ON consent_ledger
        BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;",
    // v3: cookieless unique visitors. Each day's random salt lives here for 48 hours, then is
    // deleted (until v5 moved them out of the store). And `events_json`: each event whole, Segment-shaped, as
    // exports return it (NULL columns are left out).
    concat!(
        "ALTER TABLE events ADD COLUMN visitor_hash TEXT;
    CREATE TABLE visitor_salts (day INTEGER PRIMARY KEY, salt BLOB NOT NULL);
    DROP VIEW IF EXISTS events_json;
    CREATE VIEW events_json AS ",
        events_json_select!()
    ),
    // v4: privacy operations. The identity graph links identifiers seen together
    // (identify, alias, any event carrying both); a subject is a connected set of them.
    // Suppressed identifiers and audit subjects are keyed HMACs (subject_hash.rs), never plain.
    // `events_by_received` lets retention find expired events without scanning the table.
    "CREATE TABLE identity_links (
        project      TEXT NOT NULL,
        anonymous_id TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        first_seen   INTEGER NOT NULL,
        PRIMARY KEY (anonymous_id, user_id, project)
    ) WITHOUT ROWID;
    CREATE INDEX identity_links_by_user ON identity_links (user_id, project);
    CREATE TABLE suppressed_ids (
        id_hash TEXT NOT NULL,
        project TEXT NOT NULL,
        since   INTEGER NOT NULL,
        PRIMARY KEY (id_hash, project)
    ) WITHOUT ROWID;
    CREATE TABLE deletion_jobs (
        id           TEXT PRIMARY KEY,
        project      TEXT NOT NULL,
        subject_hash TEXT NOT NULL,
        started_at   INTEGER NOT NULL,
        finished_at  INTEGER NOT NULL,
        counts       TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id           INTEGER PRIMARY KEY,
        at           INTEGER NOT NULL,
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL,
        project      TEXT NOT NULL,
        subject_hash TEXT,
        counts       TEXT NOT NULL
    );
    CREATE INDEX audit_log_by_project ON audit_log (project, id);
    CREATE INDEX events_by_received ON events (received_at, project);",
    // v5: the visitor salts leave the store. A salt beside the hashes lets whoever copies the
    // file test guessed IP addresses against them; salts now live in the collector's memory
    // only. `secure_delete` is on, so the dropped pages are overwritten with zeros.
    "DROP TABLE IF EXISTS visitor_salts;",
    // v6: identity links expire. They pair an anonymousId with a userId (often an e-mail
    // address), so they get a retention period like events; `last_seen` is moved forward (at
    // most daily) while a pair keeps being seen, so a link lives as long as its events do.
    "ALTER TABLE identity_links ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
    UPDATE identity_links SET last_seen = first_seen;
    CREATE INDEX identity_links_by_last_seen ON identity_links (last_seen, project);",
    // v7: deletions survive a restart. A job is written here when it is accepted (in the same
    // transaction that suppresses the subject), works in bounded steps that update `counts`,
    // and moves to `deletion_jobs` when it finishes. `subject_ids` holds the identifiers being
    // deleted only while the job runs.
    "CREATE TABLE deletions_running (
        id          TEXT PRIMARY KEY,
        project     TEXT NOT NULL,
        subject_ids TEXT NOT NULL,
        actor       TEXT NOT NULL,
        started_at  INTEGER NOT NULL,
        counts      TEXT NOT NULL,
        cursor      TEXT,
        last_error  TEXT
    );",
    // v8: events move to partition files (partition.rs); the old table is copied there and
    // dropped when the store is first opened (legacy_events.rs). A consent event's ledger entry
    // is found by its messageId, so a retry after a crash adds a missing one, never a second.
    "CREATE INDEX consent_ledger_by_message ON consent_ledger (project, json_extract(entry, '$.message_id'));",
];

/// Stores this many pages or smaller are converted to incremental vacuum at open (a full
/// VACUUM, a moment for 40 MB); bigger ones are left as they are, with a warning.
const CONVERT_AT_OPEN_MAX_PAGES: i64 = 10_000;

/// Makes the file `auto_vacuum = INCREMENTAL`, which lets retention and deletion give disk
/// space back (`PRAGMA incremental_vacuum`) without a full VACUUM that would block ingest.
///
/// It must be set before the first table *and before WAL mode*: stores made before this was
/// known (WAL first) have `NONE`; small ones are converted here with one VACUUM.
pub fn ensure_incremental_vacuum(conn: &Connection) -> rusqlite::Result<()> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode == 2 {
        return Ok(());
    }
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    if pages == 0 {
        return Ok(());
    }
    if pages <= CONVERT_AT_OPEN_MAX_PAGES {
        conn.execute_batch("VACUUM")
    } else {
        tracing::warn!(
            pages,
            "this store cannot give deleted space back to the disk (auto_vacuum is off); stop the \
             collector and run `sqlite3 events.db 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM'` once"
        );
        Ok(())
    }
}

/// Moves a store's schema forward to `target` (at most the latest version) and returns the
/// version it had. Upgrade tests use it to build a store exactly as an older release left it.
pub fn migrate_up_to(conn: &mut Connection, target: i64) -> rusqlite::Result<i64> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (i, sql) in (0i64..)
        .zip(MIGRATIONS)
        .skip(version.max(0) as usize)
        .take_while(|(i, _)| *i < target)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(version)
}

/// The first version whose migration erases data that must leave no copy behind.
const ERASING_VERSION: i64 = 5;

pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version = migrate_up_to(conn, MIGRATIONS.len() as i64)?;
    if version > 0 && version < ERASING_VERSION {
        // The erased pages' old contents are still in the main file until the WAL is copied
        // back over them; do it now rather than at some later checkpoint.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(())
}

//! Appending to the consent ledger inside the writer's transaction, and checking it.

use std::collections::HashMap;

use assent_core::ledger::{self, BrokenLink, Entry, Recorded, GENESIS};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::keyring::{Keyring, LedgerKey};

/// Where the chain starts: GENESIS, or the last hash retention removed (kept in `meta`).
fn anchor(conn: &Connection) -> rusqlite::Result<String> {
    let recorded: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'ledger_anchor'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(recorded.unwrap_or_else(|| GENESIS.to_string()))
}

/// The hash the next entry links to.
pub(crate) fn tip(conn: &Connection) -> rusqlite::Result<String> {
    let last: Option<String> = conn
        .query_row(
            "SELECT hash FROM consent_ledger ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    match last {
        Some(hash) => Ok(hash),
        None => anchor(conn),
    }
}

/// Whether the ledger has the entry of the consent event `message_id` of `project`.
pub(crate) fn has_entry(
    tx: &Transaction,
    project: &str,
    message_id: &str,
) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "SELECT 1 FROM consent_ledger WHERE project = ?1 AND json_extract(entry, '$.message_id') = ?2",
    )?
    .query_row(params![project, message_id], |_| Ok(()))
    .optional()
    .map(|found| found.is_some())
}

/// Appends `entry` after `tip`, its digests keyed with `key`, and moves `tip` forward.
pub(crate) fn append(
    tx: &Transaction,
    project: &str,
    entry: &Entry,
    key: &LedgerKey,
    anonymous_id: Option<&str>,
    user_id: Option<&str>,
    tip: &mut String,
) -> rusqlite::Result<()> {
    let entry = Entry {
        anonymous_id_digest: anonymous_id.map(|id| key.digest(id)),
        user_id_digest: user_id.map(|id| key.digest(id)),
        digest_key: Some(key.id.clone()),
        ..entry.clone()
    };
    let hash = entry.hash(project, tip);
    let json = serde_json::to_string(&entry).expect("an entry serialises");
    tx.prepare_cached(
        "INSERT INTO consent_ledger (project, consent_id, anonymous_id, user_id, entry, previous_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![project, entry.consent_id, anonymous_id, user_id, json, tip.as_str(), hash])?;
    *tip = hash;
    Ok(())
}

/// The ledger keys of each project, read once from the keyring and made on first use.
pub(crate) struct LedgerKeys {
    keyring: Keyring,
    current: HashMap<String, LedgerKey>,
}

impl LedgerKeys {
    pub fn new(keyring: Keyring) -> LedgerKeys {
        LedgerKeys {
            keyring,
            current: HashMap::new(),
        }
    }

    /// The key new entries of `project` are digested with. A rotation made while the store
    /// is open takes effect when it is next opened.
    pub fn current(&mut self, project: &str) -> rusqlite::Result<&LedgerKey> {
        if !self.current.contains_key(project) {
            let key = self
                .keyring
                .current_ledger_key(project)
                .map_err(|e| failure(e.to_string()))?;
            self.current.insert(project.to_string(), key);
        }
        Ok(&self.current[project])
    }
}

/// An error of ours (a key file, a damaged entry) where SQLite's kind of error is expected.
fn failure(message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(message),
    )
}

/// Keys the digests of entries written before the ledger was keyed (plain SHA-256, which
/// anyone holding the file could test guessed identifiers against), and links the chain again
/// over the new content. Done once, at open, and only over a chain that verifies: a broken
/// chain is left as found, as evidence. Returns how many entries were keyed.
pub(crate) fn key_legacy_entries(
    conn: &mut Connection,
    keys: &mut LedgerKeys,
) -> rusqlite::Result<usize> {
    let legacy: i64 = conn.query_row(
        "SELECT count(*) FROM consent_ledger WHERE json_extract(entry, '$.digest_key') IS NULL
            AND (json_extract(entry, '$.anonymous_id_digest') IS NOT NULL
                 OR json_extract(entry, '$.user_id_digest') IS NOT NULL)",
        [],
        |r| r.get(0),
    )?;
    if legacy == 0 {
        return Ok(0);
    }
    if let Err(e) = verify_ledger(conn) {
        tracing::warn!(error = %e, "the consent ledger does not verify; its unkeyed digests are left as they are");
        return Ok(0);
    }
    let tx = conn.transaction()?;
    let anchor = anchor(&tx)?;
    let rows: Vec<(i64, String, String)> = tx
        .prepare("SELECT id, project, entry FROM consent_ledger ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    // The chain is append-only for everyone else; this one rewrite lifts the trigger.
    tx.execute_batch("DROP TRIGGER consent_ledger_is_append_only")?;
    let mut previous = anchor;
    let mut keyed = 0;
    for (id, project, json) in rows {
        let mut entry: Entry = serde_json::from_str(&json).map_err(|e| failure(e.to_string()))?;
        if entry.digest_key.is_none() {
            let key = keys.current(&project)?;
            entry.anonymous_id_digest = entry.anonymous_id_digest.map(|d| key.digest_of_sha256(&d));
            entry.user_id_digest = entry.user_id_digest.map(|d| key.digest_of_sha256(&d));
            entry.digest_key = Some(key.id.clone());
            keyed += 1;
        }
        let hash = entry.hash(&project, &previous);
        tx.execute(
            "UPDATE consent_ledger SET entry = ?1, previous_hash = ?2, hash = ?3 WHERE id = ?4",
            params![
                serde_json::to_string(&entry).expect("an entry serialises"),
                previous,
                hash,
                id
            ],
        )?;
        previous = hash;
    }
    tx.execute_batch(
        "CREATE TRIGGER consent_ledger_is_append_only
            BEFORE UPDATE OF id, project, consent_id, entry, previous_hash, hash ON consent_ledger
            BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;",
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('ledger_keyed_at', strftime('%s','now'))",
        [],
    )?;
    tx.commit()?;
    // The unkeyed digests must not linger in old pages.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(keyed)
}

/// What `verify_ledger` found.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Broken(#[from] BrokenLink),
    #[error("entry {id} is not a readable ledger entry: {reason}")]
    Unreadable { id: i64, reason: String },
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> LedgerError {
        LedgerError::Store(e.into())
    }
}

/// Walks the whole chain in order and reports the first link that does not hold.
///
/// Returns the number of entries that verified.
pub fn verify_ledger(conn: &Connection) -> Result<usize, LedgerError> {
    let anchor = anchor(conn)?;
    let mut query = conn.prepare(
        "SELECT id, project, entry, previous_hash, hash FROM consent_ledger ORDER BY id",
    )?;
    let rows = query
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut entries = Vec::with_capacity(rows.len());
    for (id, _, json, _, _) in &rows {
        let entry: Entry = serde_json::from_str(json).map_err(|e| LedgerError::Unreadable {
            id: *id,
            reason: e.to_string(),
        })?;
        entries.push(entry);
    }
    let recorded = rows
        .iter()
        .zip(&entries)
        .map(|((id, project, _, previous, hash), entry)| Recorded {
            id: *id,
            project,
            entry,
            previous,
            hash,
        });
    Ok(ledger::verify(&anchor, recorded)?)
}

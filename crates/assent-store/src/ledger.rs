//! Appending to the consent ledger inside the writer's transaction, and checking it.

use assent_core::ledger::{self, BrokenLink, Entry, Recorded, GENESIS};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

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

/// Appends `entry` after `tip` and moves `tip` forward.
pub(crate) fn append(
    tx: &Transaction,
    project: &str,
    entry: &Entry,
    anonymous_id: Option<&str>,
    user_id: Option<&str>,
    tip: &mut String,
) -> rusqlite::Result<()> {
    let hash = entry.hash(project, tip);
    let json = serde_json::to_string(entry).expect("an entry serialises");
    tx.prepare_cached(
        "INSERT INTO consent_ledger (project, consent_id, anonymous_id, user_id, entry, previous_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![project, entry.consent_id, anonymous_id, user_id, json, tip.as_str(), hash])?;
    *tip = hash;
    Ok(())
}

/// What `verify_ledger` found.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Broken(#[from] BrokenLink),
    #[error("entry {id} is not a readable ledger entry: {reason}")]
    Unreadable { id: i64, reason: String },
    #[error("cannot read the ledger: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

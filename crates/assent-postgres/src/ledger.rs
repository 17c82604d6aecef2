//! The consent ledger on PostgreSQL: one hash chain per project. A project's appends are
//! serialised by the row lock on its tip (`ledger_chains`), held until the commit, so
//! collectors and sinks on any number of machines extend the same chain one after the other.

use assent_core::ledger::{self, Entry, Recorded, GENESIS};
use assent_core::StoredEvent;
use assent_store::keyring::LedgerKey;
use assent_store::{LedgerError, StoreError};
use tokio_postgres::GenericClient;

use crate::commit_error;
use crate::text::pg_opt;

/// Locks a project's chain until the transaction ends; returns its tip (made at GENESIS for a
/// project's first entry).
pub(crate) async fn lock_tip(tx: &impl GenericClient, project: &str) -> Result<String, StoreError> {
    tx.execute(
        "INSERT INTO ledger_chains (project, anchor, tip) VALUES ($1, $2, $2) ON CONFLICT DO NOTHING",
        &[&project, &GENESIS],
    )
    .await
    .map_err(commit_error)?;
    let row = tx
        .query_one(
            "SELECT tip FROM ledger_chains WHERE project = $1 FOR UPDATE",
            &[&project],
        )
        .await
        .map_err(commit_error)?;
    Ok(row.get(0))
}

/// Appends one entry after `tip`, its digests keyed with `key`; returns the new tip.
pub(crate) async fn append(
    tx: &impl GenericClient,
    project: &str,
    entry: &Entry,
    key: &LedgerKey,
    e: &StoredEvent,
    message_id: &str,
    tip: &str,
) -> Result<String, StoreError> {
    let entry = Entry {
        anonymous_id_digest: e.anonymous_id.as_deref().map(|id| key.digest(id)),
        user_id_digest: e.user_id.as_deref().map(|id| key.digest(id)),
        digest_key: Some(key.id.clone()),
        ..entry.clone()
    };
    let hash = entry.hash(project, tip);
    let json = serde_json::to_string(&entry).expect("an entry serialises");
    let consent_id = crate::text::pg(&entry.consent_id);
    tx.execute(
        "INSERT INTO consent_ledger (project, consent_id, message_id, anonymous_id, user_id, entry,
            previous_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &project,
            &consent_id.as_ref(),
            &message_id,
            &pg_opt(&e.anonymous_id).as_deref(),
            &pg_opt(&e.user_id).as_deref(),
            &crate::text::pg(&json).as_ref(),
            &tip,
            &hash,
        ],
    )
    .await
    .map_err(commit_error)?;
    Ok(hash)
}

/// Walks every project's chain from its anchor, in order; returns how many entries verified.
pub(crate) async fn verify(client: &impl GenericClient) -> Result<usize, LedgerError> {
    let chains = client
        .query(
            "SELECT project, anchor FROM ledger_chains ORDER BY project",
            &[],
        )
        .await
        .map_err(|e| LedgerError::Store(crate::read_error(e)))?;
    let mut verified = 0;
    for chain in chains {
        let project: String = chain.get(0);
        let anchor: String = chain.get(1);
        let rows = client
            .query(
                "SELECT id, entry, previous_hash, hash FROM consent_ledger
                 WHERE project = $1 ORDER BY id",
                &[&project],
            )
            .await
            .map_err(|e| LedgerError::Store(crate::read_error(e)))?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let json: &str = row.get(1);
            let entry: Entry = serde_json::from_str(json).map_err(|e| LedgerError::Unreadable {
                id: row.get(0),
                reason: e.to_string(),
            })?;
            entries.push(entry);
        }
        let recorded = rows.iter().zip(&entries).map(|(row, entry)| Recorded {
            id: row.get(0),
            project: &project,
            entry,
            previous: row.get(2),
            hash: row.get(3),
        });
        verified += ledger::verify(&anchor, recorded)?;
    }
    Ok(verified)
}

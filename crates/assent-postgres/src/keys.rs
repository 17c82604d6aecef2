//! The secret keys every process of a deployment must share, and the check that they do.
//!
//! As with the embedded store, the keys are files in a keys directory, never rows of the
//! database (a copy of the database must not be able to test a guessed identifier). Every
//! collector and sink writes keyed hashes (the suppression list, the ledger's digests), so
//! they must all hold the same keys: the database keeps a fingerprint of each key (the key's
//! HMAC of a fixed text, which tells nothing of the key), and a process whose key does not
//! match is refused, with what to copy where, before it writes anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use assent_store::keyring::{Keyring, LedgerKey};
use assent_store::SubjectHasher;
use tokio_postgres::GenericClient;

/// What is hashed to make a fingerprint.
const FINGERPRINT_TEXT: &str = "assent key fingerprint";

pub(crate) struct Keys {
    keyring: Keyring,
    dir: PathBuf,
    /// The ledger key of each project new entries are digested with, once checked.
    ledger: Mutex<HashMap<String, LedgerKey>>,
}

impl Keys {
    /// Checks (or, on a new database, records) the subject key's fingerprint and those of the
    /// ledger keys this machine has.
    pub async fn check(
        client: &impl GenericClient,
        keyring: Keyring,
        hasher: &SubjectHasher,
        dir: &Path,
    ) -> Result<Keys, String> {
        let fingerprint = hasher.hash(FINGERPRINT_TEXT);
        agree(client, "subjects", "subjects", &fingerprint, dir).await?;
        let ledger_keys = keyring.ledger_keys().map_err(|e| e.to_string())?;
        for (project, keys) in &ledger_keys {
            for key in keys {
                agree(
                    client,
                    &format!("ledger:{project}"),
                    &key.id,
                    &key.digest(FINGERPRINT_TEXT),
                    dir,
                )
                .await?;
            }
        }
        Ok(Keys {
            keyring,
            dir: dir.to_path_buf(),
            ledger: Mutex::new(HashMap::new()),
        })
    }

    /// The key new ledger entries of `project` are digested with: made on first use, and
    /// checked against (or recorded as) the one every other process uses, inside the
    /// transaction that first uses it.
    pub async fn ledger_key(
        &self,
        client: &impl GenericClient,
        project: &str,
    ) -> Result<LedgerKey, String> {
        if let Some(key) = self
            .ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(project)
        {
            return Ok(key.clone());
        }
        let key = self
            .keyring
            .current_ledger_key(project)
            .map_err(|e| format!("the ledger key of {project}: {e}"))?;
        agree(
            client,
            &format!("ledger:{project}"),
            &key.id,
            &key.digest(FINGERPRINT_TEXT),
            &self.dir,
        )
        .await?;
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(project.to_string(), key.clone());
        Ok(key)
    }
}

/// Records a key's fingerprint if none is recorded for it, else compares.
async fn agree(
    client: &impl GenericClient,
    purpose: &str,
    key_id: &str,
    fingerprint: &str,
    dir: &Path,
) -> Result<(), String> {
    let recorded: String = client
        .query_one(
            "WITH new AS (
                INSERT INTO key_fingerprints (purpose, key_id, fingerprint) VALUES ($1, $2, $3)
                ON CONFLICT DO NOTHING RETURNING fingerprint)
             SELECT fingerprint FROM new
             UNION ALL SELECT fingerprint FROM key_fingerprints WHERE purpose = $1 AND key_id = $2
             LIMIT 1",
            &[&purpose, &key_id, &fingerprint],
        )
        .await
        .map_err(|e| crate::describe(&e))?
        .get(0);
    if recorded == fingerprint {
        Ok(())
    } else {
        Err(format!(
            "the key {purpose}/{key_id} in {} is not the one the other collectors and sinks \
             use: copy the keys directory of a machine already running (the same files on \
             every machine), then start again",
            dir.display()
        ))
    }
}

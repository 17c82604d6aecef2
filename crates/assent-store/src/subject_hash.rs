//! Keyed hashes of subject identifiers, for the suppression list and the audit trail.
//!
//! A plain SHA-256 of a user id can be reversed by hashing every plausible id (e-mail
//! addresses, numeric ids) and comparing. An HMAC keyed by a random secret cannot, without
//! the secret; and the secret is kept in the keys directory, not in the database
//! ([`crate::keyring`]), so a copy of the database cannot confirm whom it deleted. The key is
//! made once, when the store is first opened; a store that kept it in its `meta` table hands
//! it over to the keyring, and the database copy is erased.

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension};
use sha2::Sha256;

use crate::keyring::{from_hex, hex as to_hex, Keyring};

/// The `meta` key under which the secret is kept (hex).
const META_KEY: &str = "subject_hash_key";

/// Hashes identifiers with the store's own secret.
#[derive(Clone)]
pub struct SubjectHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for SubjectHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectHasher(..)")
    }
}

impl SubjectHasher {
    /// Reads the store's secret from the keyring, creating it on first use (or adopting the
    /// one an older store kept in its database, which is then erased there).
    pub(crate) fn load_or_create(
        conn: &Connection,
        keyring: &Keyring,
    ) -> Result<SubjectHasher, String> {
        let in_database: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| e.to_string())?;
        let key = keyring
            .subject_key(in_database.as_deref().and_then(from_hex))
            .map_err(|e| {
                format!(
                    "cannot keep the subject key in {}: {e}",
                    keyring.dir().display()
                )
            })?;
        if in_database.is_some() {
            conn.execute("DELETE FROM meta WHERE key = ?1", [META_KEY])
                .and_then(|_| conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())))
                .map_err(|e| e.to_string())?;
        }
        Ok(SubjectHasher { key })
    }

    /// The hasher of a keyring's subject key (made on first use), for engines that keep no
    /// older key in a database.
    pub fn from_keyring(keyring: &Keyring) -> std::io::Result<SubjectHasher> {
        Ok(SubjectHasher {
            key: keyring.subject_key(None)?,
        })
    }

    /// HMAC-SHA-256 of one identifier, as 64 hex digits.
    pub fn hash(&self, id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        to_hex(&mac.finalize().into_bytes())
    }

    /// One hash for a whole subject (its sorted identifiers), for the audit trail and jobs.
    pub fn hash_subject(&self, ids: &[String]) -> String {
        let mut sorted: Vec<&str> = ids.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        self.hash(&sorted.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_kept_and_moved_out_of_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Keyring::open(dir.path()).unwrap();
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        let old = "07".repeat(32);
        conn.execute("INSERT INTO meta VALUES (?1, ?2)", [META_KEY, &old])
            .unwrap();
        let first = SubjectHasher::load_or_create(&conn, &keyring).unwrap();
        assert_eq!(first.key, [7; 32], "an older store's key is adopted");
        let left: i64 = conn
            .query_row("SELECT count(*) FROM meta", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "and erased from the database");
        let again = SubjectHasher::load_or_create(&conn, &keyring).unwrap();
        assert_eq!(first.hash("user-1"), again.hash("user-1"));
        assert_ne!(first.hash("user-1"), first.hash("user-2"));
        assert_eq!(first.hash("user-1").len(), 64);
        assert_eq!(
            first.hash_subject(&["b".into(), "a".into()]),
            first.hash_subject(&["a".into(), "b".into()])
        );
    }
}

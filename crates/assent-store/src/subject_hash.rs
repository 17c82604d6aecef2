//! Keyed hashes of subject identifiers, for the suppression list and the audit trail.
//!
//! A plain SHA-256 of a user id can be reversed by hashing every plausible id (e-mail
//! addresses, numeric ids) and comparing. An HMAC keyed by a random secret that lives only
//! in the store file cannot: whoever wants to test a guess needs the store itself, which
//! holds the data anyway. The key is made once, when the store is first opened.

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension};
use sha2::Sha256;

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
    /// Reads the store's secret, creating it on first use.
    pub(crate) fn load_or_create(conn: &Connection) -> rusqlite::Result<SubjectHasher> {
        let existing: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
                r.get(0)
            })
            .optional()?;
        let key = match existing.as_deref().and_then(from_hex) {
            Some(key) => key,
            None => {
                let mut fresh = [0u8; 32];
                getrandom::fill(&mut fresh).expect("the OS provides randomness");
                // OR IGNORE: a second process opening a new store at the same moment keeps
                // the first key; both then read it back.
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                    [META_KEY, &to_hex(&fresh)],
                )?;
                let stored: String =
                    conn.query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
                        r.get(0)
                    })?;
                from_hex(&stored).unwrap_or(fresh)
            }
        };
        Ok(SubjectHasher { key })
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

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_and_kept() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        let first = SubjectHasher::load_or_create(&conn).unwrap();
        let again = SubjectHasher::load_or_create(&conn).unwrap();
        assert_eq!(first.hash("user-1"), again.hash("user-1"));
        assert_ne!(first.hash("user-1"), first.hash("user-2"));
        assert_eq!(first.hash("user-1").len(), 64);
        assert_eq!(
            first.hash_subject(&["b".into(), "a".into()]),
            first.hash_subject(&["a".into(), "b".into()])
        );
    }
}

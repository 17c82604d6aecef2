//! The store's secret keys, kept in files of their own, apart from the databases.
//!
//! Two things in the store are keyed hashes of identifiers: the suppression list and audit
//! trail (which subjects were deleted or exported), and the consent ledger's digests (which
//! subject made a recorded choice). A keyed hash can only be tested against a guessed e-mail
//! address by whoever holds the key; kept inside the database, the key would travel with every
//! copy of it. So the keys live in `keys_dir` (by default `data_dir/keys`; set it elsewhere to
//! keep the keys out of backups of the databases), one file per purpose, readable by the
//! owner only:
//!
//! - `subjects.key`: the suppression list's and audit trail's key (hex, one line);
//! - `ledger.keys`: the consent ledger's keys, one line per key, `<project> <key id> <hex>`,
//!   oldest first. The newest key of a project digests its new entries; each entry names the
//!   key it was digested with, so older keys still match older entries. Rotating adds a line
//!   ([`Keyring::rotate_ledger_key`]); deleting an old line forgets, for good, whom the entries
//!   digested with it belong to, while the chain still verifies.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A ledger key: its id (named in each entry it digested) and its secret.
#[derive(Clone)]
pub struct LedgerKey {
    pub id: String,
    secret: [u8; 32],
}

impl std::fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LedgerKey({})", self.id)
    }
}

impl LedgerKey {
    /// The keyed digest of an identifier: HMAC-SHA-256 over the identifier's SHA-256 (so the
    /// unkeyed digests of older entries can be keyed in place, without the identifiers).
    pub fn digest(&self, id: &str) -> String {
        self.digest_of_sha256(&format!("{:x}", Sha256::digest(id.as_bytes())))
    }

    /// The keyed digest from an identifier's SHA-256 (hex), as older entries kept it.
    pub fn digest_of_sha256(&self, sha256_hex: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(sha256_hex.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// The key files of one store.
#[derive(Debug, Clone)]
pub struct Keyring {
    dir: PathBuf,
}

const SUBJECTS_FILE: &str = "subjects.key";
const LEDGER_FILE: &str = "ledger.keys";

impl Keyring {
    /// Opens (creating, owner-only) the keys directory.
    pub fn open(dir: &Path) -> std::io::Result<Keyring> {
        std::fs::create_dir_all(dir)?;
        restrict(dir, 0o700)?;
        Ok(Keyring {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The suppression list's key: read, or adopted from `existing` (a store made before the
    /// key left the database), or made.
    pub fn subject_key(&self, existing: Option<[u8; 32]>) -> std::io::Result<[u8; 32]> {
        let path = self.dir.join(SUBJECTS_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Some(key) = from_hex(text.trim()) {
                return Ok(key);
            }
        }
        let key = existing.unwrap_or_else(random_key);
        write_new(&path, &format!("{}\n", hex(&key)))?;
        Ok(key)
    }

    /// Every ledger key, by project, oldest first.
    pub fn ledger_keys(&self) -> std::io::Result<BTreeMap<String, Vec<LedgerKey>>> {
        let text = match std::fs::read_to_string(self.dir.join(LEDGER_FILE)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut keys: BTreeMap<String, Vec<LedgerKey>> = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let parsed = (|| {
                let project = parts.next()?;
                let id = parts.next()?;
                let secret = from_hex(parts.next()?)?;
                Some((project.to_string(), id.to_string(), secret))
            })();
            let Some((project, id, secret)) = parsed else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} line {}: expected `<project> <key id> <64 hex digits>`",
                        self.dir.join(LEDGER_FILE).display(),
                        n + 1
                    ),
                ));
            };
            keys.entry(project)
                .or_default()
                .push(LedgerKey { id, secret });
        }
        Ok(keys)
    }

    /// The key new entries of `project` are digested with, made on first use.
    pub fn current_ledger_key(&self, project: &str) -> std::io::Result<LedgerKey> {
        match self
            .ledger_keys()?
            .remove(project)
            .and_then(|mut v| v.pop())
        {
            Some(key) => Ok(key),
            None => self.rotate_ledger_key(project),
        }
    }

    /// Adds a new ledger key for `project`; it digests every entry from now on.
    pub fn rotate_ledger_key(&self, project: &str) -> std::io::Result<LedgerKey> {
        if project.is_empty() || project.chars().any(char::is_whitespace) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{project:?} cannot name a ledger key (empty, or has spaces)"),
            ));
        }
        let taken = self
            .ledger_keys()?
            .get(project)
            .map_or(0, |keys| keys.len());
        let key = LedgerKey {
            id: format!("k{}", taken + 1),
            secret: random_key(),
        };
        let path = self.dir.join(LEDGER_FILE);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        restrict(&path, 0o600)?;
        writeln!(file, "{project} {} {}", key.id, hex(&key.secret))?;
        file.sync_all()?;
        Ok(key)
    }
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the OS provides randomness");
    key
}

/// Writes a file that must not exist yet, owner-only, flushed.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(path)?;
    restrict(path, 0o600)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn from_hex(text: &str) -> Option<[u8; 32]> {
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
    fn keys_are_made_once_kept_and_rotated_per_project() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::open(&dir.path().join("keys")).unwrap();
        let first = ring.current_ledger_key("shop").unwrap();
        assert_eq!(first.id, "k1");
        let again = Keyring::open(ring.dir()).unwrap();
        assert_eq!(
            again
                .current_ledger_key("shop")
                .unwrap()
                .digest("ada@example.org"),
            first.digest("ada@example.org")
        );
        let second = ring.rotate_ledger_key("shop").unwrap();
        assert_eq!(second.id, "k2");
        assert_ne!(second.digest("ada"), first.digest("ada"));
        assert_eq!(ring.current_ledger_key("shop").unwrap().id, "k2");
        assert_eq!(ring.current_ledger_key("blog").unwrap().id, "k1");
        assert_eq!(ring.ledger_keys().unwrap()["shop"].len(), 2);

        let subject = ring.subject_key(Some([7; 32])).unwrap();
        assert_eq!(subject, [7; 32], "an existing key is adopted");
        assert_eq!(ring.subject_key(None).unwrap(), subject, "and then kept");
    }

    #[test]
    fn an_unkeyed_digest_is_keyed_like_the_identifier() {
        let dir = tempfile::tempdir().unwrap();
        let key = Keyring::open(dir.path())
            .unwrap()
            .current_ledger_key("shop")
            .unwrap();
        let legacy = format!("{:x}", Sha256::digest(b"ada@example.org"));
        assert_eq!(key.digest_of_sha256(&legacy), key.digest("ada@example.org"));
    }
}

//! The consent ledger's hash chain: proof that recorded choices were not edited afterwards.
//!
//! Each entry stores the SHA-256 of its own content together with the previous entry's hash,
//! so changing, removing or reordering any entry breaks every link after it. [`verify`] walks
//! a chain and names the first entry that does not fit.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash the first entry of a chain links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One recorded consent choice: who, what, when, under which policy revision, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub project: String,
    pub consent_id: String,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    /// Category → state, as JSON with sorted keys (e.g. `{"analytics":"granted"}`).
    pub states: String,
    pub revision: Option<String>,
    pub source: Option<String>,
    /// When the choice was made, in milliseconds since 1970.
    pub at_ms: i64,
    /// The event that recorded it.
    pub message_id: String,
}

impl Entry {
    /// The hash of this entry when it follows an entry whose hash is `previous`.
    ///
    /// ```
    /// use assent_core::ledger::{Entry, GENESIS};
    /// let entry = Entry { project: "shop".into(), consent_id: "c1".into(), anonymous_id: None,
    ///     user_id: None, states: r#"{"analytics":"denied"}"#.into(), revision: Some("3".into()),
    ///     source: Some("banner".into()), at_ms: 1_763_800_000_000, message_id: "m1".into() };
    /// let first = entry.hash(GENESIS);
    /// assert_eq!(first.len(), 64);
    /// let mut edited = entry.clone();
    /// edited.states = r#"{"analytics":"granted"}"#.into();
    /// assert_ne!(edited.hash(GENESIS), first);
    /// ```
    pub fn hash(&self, previous: &str) -> String {
        let content = serde_json::to_string(self).expect("an entry serialises");
        let mut h = Sha256::new();
        h.update(previous.as_bytes());
        h.update(b"\n");
        h.update(content.as_bytes());
        format!("{:x}", h.finalize())
    }
}

/// A link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {position} (id {id}) does not match its recorded hash: it, or the one before it, was changed after being written")]
pub struct BrokenLink {
    /// 0-based position in the chain.
    pub position: usize,
    /// The entry's id in the store.
    pub id: i64,
}

/// Checks a chain given as `(id, entry, previous hash as recorded, hash as recorded)` in order.
pub fn verify<'a>(
    chain: impl IntoIterator<Item = (i64, &'a Entry, &'a str, &'a str)>,
) -> Result<usize, BrokenLink> {
    let mut expected_previous = GENESIS.to_string();
    let mut count = 0;
    for (position, (id, entry, previous, hash)) in chain.into_iter().enumerate() {
        if previous != expected_previous || entry.hash(previous) != hash {
            return Err(BrokenLink { position, id });
        }
        expected_previous = hash.to_string();
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i64) -> Entry {
        Entry {
            project: "shop".into(),
            consent_id: format!("c{n}"),
            anonymous_id: Some("a1".into()),
            user_id: None,
            states: r#"{"analytics":"granted"}"#.into(),
            revision: None,
            source: Some("banner".into()),
            at_ms: n,
            message_id: format!("m{n}"),
        }
    }

    /// A chain as the store would record it: (id, entry, previous, hash).
    fn chain(n: i64) -> Vec<(i64, Entry, String, String)> {
        let mut previous = GENESIS.to_string();
        (0..n)
            .map(|i| {
                let e = entry(i);
                let hash = e.hash(&previous);
                let link = (i + 100, e, previous.clone(), hash.clone());
                previous = hash;
                link
            })
            .collect()
    }

    fn check(chain: &[(i64, Entry, String, String)]) -> Result<usize, BrokenLink> {
        verify(
            chain
                .iter()
                .map(|(id, e, p, h)| (*id, e, p.as_str(), h.as_str())),
        )
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(check(&chain(5)), Ok(5));
        assert_eq!(check(&[]), Ok(0));
    }

    #[test]
    fn an_edited_entry_is_the_first_broken_link() {
        let mut c = chain(5);
        c[2].1.states = r#"{"analytics":"denied"}"#.into();
        assert_eq!(
            check(&c),
            Err(BrokenLink {
                position: 2,
                id: 102
            })
        );
    }

    #[test]
    fn a_removed_entry_breaks_the_next_link() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            check(&c),
            Err(BrokenLink {
                position: 1,
                id: 102
            })
        );
    }
}

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
///
/// The subject appears only as keyed digests: the plain identifiers are kept beside the entry,
/// where a deletion can erase them without breaking the chain, while the entry stays as proof
/// that *someone* chose this — and whoever presents the identifiers again can be matched to it
/// by the holder of the key. The key is not in the ledger's file: the file alone confirms no
/// guess. The store fills the digests in (it holds the keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Entry {
    pub consent_id: String,
    /// Keyed digest of the anonymousId, if the event had one.
    pub anonymous_id_digest: Option<String>,
    /// Keyed digest of the userId, if the event had one.
    pub user_id_digest: Option<String>,
    /// Category → state, as JSON with sorted keys (e.g. `{"analytics":"granted"}`).
    pub states: String,
    pub revision: Option<String>,
    pub source: Option<String>,
    /// When the choice was made (skew-corrected), in milliseconds since 1970.
    pub at_ms: i64,
    /// The event that recorded it.
    pub message_id: String,
    /// The key the digests were made with (entries of older stores, unkeyed, have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_key: Option<String>,
}

impl Entry {
    /// The hash of this entry of `project` when it follows an entry whose hash is `previous`.
    ///
    /// ```
    /// use assent_core::ledger::{Entry, GENESIS};
    /// let entry = Entry { consent_id: "c1".into(), anonymous_id_digest: None,
    ///     user_id_digest: None, states: r#"{"analytics":"denied"}"#.into(), revision: Some("3".into()),
    ///     source: Some("banner".into()), at_ms: 1_763_800_000_000, message_id: "m1".into(),
    ///     digest_key: None };
    /// let first = entry.hash("shop", GENESIS);
    /// assert_eq!(first.len(), 64);
    /// let mut edited = entry.clone();
    /// edited.states = r#"{"analytics":"granted"}"#.into();
    /// assert_ne!(edited.hash("shop", GENESIS), first);
    /// ```
    pub fn hash(&self, project: &str, previous: &str) -> String {
        let content = serde_json::to_string(self).expect("an entry serialises");
        let mut h = Sha256::new();
        for part in [previous, project, &content] {
            h.update(part.as_bytes());
            h.update(b"\n");
        }
        format!("{:x}", h.finalize())
    }

    /// The ledger entry a consent event records, if it carries a consent id in
    /// `context.consent` (`{"id", "state", "revision", "source"}`); its digests are left for
    /// the store to fill in with its key.
    pub fn of_consent_event(
        context: Option<&serde_json::value::RawValue>,
        at_ms: i64,
        message_id: &str,
    ) -> Option<Entry> {
        #[derive(serde::Deserialize)]
        struct Context {
            consent: Option<Consent>,
        }
        #[derive(serde::Deserialize)]
        struct Consent {
            id: Option<String>,
            state: Option<serde_json::Map<String, serde_json::Value>>,
            revision: Option<serde_json::Value>,
            source: Option<String>,
        }
        let consent = serde_json::from_str::<Context>(context?.get())
            .ok()?
            .consent?;
        let text = |v: serde_json::Value| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        Some(Entry {
            consent_id: consent.id?,
            anonymous_id_digest: None,
            user_id_digest: None,
            states: serde_json::to_string(&consent.state.unwrap_or_default())
                .expect("a map serialises"),
            revision: consent.revision.map(text),
            source: consent.source,
            at_ms,
            message_id: message_id.to_string(),
            digest_key: None,
        })
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

/// One entry as the store recorded it.
pub struct Recorded<'a> {
    pub id: i64,
    pub project: &'a str,
    pub entry: &'a Entry,
    pub previous: &'a str,
    pub hash: &'a str,
}

/// Checks a chain in order, starting from `anchor` (the hash the first entry links to:
/// [`GENESIS`], or the last hash that retention removed). Returns how many entries it checked.
pub fn verify<'a>(
    anchor: &str,
    chain: impl IntoIterator<Item = Recorded<'a>>,
) -> Result<usize, BrokenLink> {
    let mut expected_previous = anchor.to_string();
    let mut count = 0;
    for (position, r) in chain.into_iter().enumerate() {
        if r.previous != expected_previous || r.entry.hash(r.project, r.previous) != r.hash {
            return Err(BrokenLink { position, id: r.id });
        }
        expected_previous = r.hash.to_string();
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i64) -> Entry {
        Entry {
            consent_id: format!("c{n}"),
            anonymous_id_digest: Some("a1-digest".into()),
            user_id_digest: None,
            states: r#"{"analytics":"granted"}"#.into(),
            revision: None,
            source: Some("banner".into()),
            at_ms: n,
            message_id: format!("m{n}"),
            digest_key: None,
        }
    }

    /// A chain as the store would record it: (id, entry, previous, hash).
    fn chain(n: i64) -> Vec<(i64, Entry, String, String)> {
        let mut previous = GENESIS.to_string();
        (0..n)
            .map(|i| {
                let e = entry(i);
                let hash = e.hash("shop", &previous);
                let link = (i + 100, e, previous.clone(), hash.clone());
                previous = hash;
                link
            })
            .collect()
    }

    fn check(chain: &[(i64, Entry, String, String)]) -> Result<usize, BrokenLink> {
        let recorded = chain.iter().map(|(id, entry, previous, hash)| Recorded {
            id: *id,
            project: "shop",
            entry,
            previous,
            hash,
        });
        verify(GENESIS, recorded)
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

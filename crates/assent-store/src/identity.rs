//! The identity graph: which identifiers were seen together, so that a subject is found whole.
//!
//! A visitor browses under an `anonymousId`, logs in (`identify` with both ids), maybe is
//! merged (`alias`, `previousId` → `userId`). Deleting or exporting "user 42" must include
//! what was sent under the anonymous id before the login. Links are written in the same
//! transaction as the event that revealed them, so the graph is never behind the events.
//!
//! Every event of a logged-in visitor carries both ids, so the same link is seen again and
//! again; a cache of the links recorded today keeps all but the first of a day off the disk.

use std::collections::HashMap;

use assent_core::StoredEvent;
use rusqlite::{params, Transaction};

/// How stale `last_seen` may get before an event seeing the link again moves it forward: one
/// write per link a day at most, rather than one per event.
const LAST_SEEN_PRECISION_MS: i64 = 24 * 60 * 60 * 1000;

/// Links kept in the cache at most; past it, the cache starts over (a link then costs one
/// lookup again).
const CACHED_LINKS: usize = 200_000;

/// `(project, other id, user id)` → the day (in `LAST_SEEN_PRECISION_MS`) it was last written.
#[derive(Default)]
pub(crate) struct LinkCache {
    recorded: HashMap<(String, String, String), i64>,
    pending: Vec<((String, String, String), i64)>,
}

impl LinkCache {
    /// Records the links an event reveals: its `anonymousId` with its `userId`, and for
    /// `alias` its `previousId` with its `userId`.
    pub fn record(
        &mut self,
        tx: &Transaction,
        project: &str,
        e: &StoredEvent,
    ) -> rusqlite::Result<()> {
        let day = e.received_at_ms.div_euclid(LAST_SEEN_PRECISION_MS);
        for (other, user_id) in e.identity_links() {
            let link = (project.to_string(), other.to_string(), user_id.to_string());
            if self.recorded.get(&link) == Some(&day) {
                continue;
            }
            tx.prepare_cached(
                "INSERT INTO identity_links (project, anonymous_id, user_id, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT DO UPDATE SET last_seen = excluded.last_seen
                 WHERE excluded.last_seen > identity_links.last_seen + ?5",
            )?
            .execute(params![
                project,
                other,
                user_id,
                e.received_at_ms,
                LAST_SEEN_PRECISION_MS
            ])?;
            self.pending.push((link, day));
        }
        Ok(())
    }

    pub fn commit_pending(&mut self) {
        if self.recorded.len() + self.pending.len() > CACHED_LINKS {
            self.recorded.clear();
        }
        self.recorded.extend(self.pending.drain(..));
    }

    pub fn discard_pending(&mut self) {
        self.pending.clear();
    }
}

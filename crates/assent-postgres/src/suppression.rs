//! The suppression list, as every process sees it: keyed hashes of deleted subjects'
//! identifiers, read from the database inside each group commit.
//!
//! A deletion inserts its identifiers holding a lock that conflicts with the one every group
//! commit takes (`SHARE` on `suppressed_ids`): it waits for the commits in flight, and the
//! commits after it see its rows. So across any number of collectors and sinks, an event
//! committed after a deletion was accepted is checked against it — the delay is zero — and one
//! committed before is found by the deletion's steps.
//!
//! Each process keeps the hashes it has read and asks only for rows added since (`seq`): one
//! index lookup per commit that nearly always finds nothing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use assent_core::StoredEvent;
use assent_store::SubjectHasher;
use tokio_postgres::GenericClient;

pub(crate) struct SuppressionCache {
    hasher: SubjectHasher,
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    /// The highest `seq` read.
    seq: i64,
    /// Shared with the snapshots of transactions in flight; copied only when it grows.
    by_project: HashMap<String, Arc<HashSet<String>>>,
}

/// The list as of one transaction.
pub(crate) struct Snapshot<'a> {
    hasher: &'a SubjectHasher,
    by_project: HashMap<String, Arc<HashSet<String>>>,
}

impl SuppressionCache {
    pub fn new(hasher: SubjectHasher) -> SuppressionCache {
        SuppressionCache {
            hasher,
            known: Mutex::new(Known::default()),
        }
    }

    /// Takes the lock that orders this transaction with deletions, reads what is new, and
    /// returns the list for the projects asked about.
    pub async fn lock_and_read(
        &self,
        tx: &impl GenericClient,
        projects: &[&str],
    ) -> Result<Snapshot<'_>, tokio_postgres::Error> {
        tx.batch_execute("LOCK TABLE suppressed_ids IN SHARE MODE")
            .await?;
        let since = self.known.lock().unwrap_or_else(|e| e.into_inner()).seq;
        let rows = tx
            .query(
                "SELECT seq, project, id_hash FROM suppressed_ids WHERE seq > $1 ORDER BY seq",
                &[&since],
            )
            .await?;
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows {
            let seq: i64 = row.get(0);
            Arc::make_mut(known.by_project.entry(row.get(1)).or_default()).insert(row.get(2));
            known.seq = known.seq.max(seq);
        }
        let by_project = projects
            .iter()
            .filter_map(|p| Some((p.to_string(), known.by_project.get(*p)?.clone())))
            .collect();
        Ok(Snapshot {
            hasher: &self.hasher,
            by_project,
        })
    }
}

impl Snapshot<'_> {
    /// Whether an event carries an identifier of a deleted subject of its project. Free when
    /// the project never deleted anyone: nothing is hashed then.
    pub fn covers(&self, project: &str, e: &StoredEvent) -> bool {
        let Some(hashes) = self.by_project.get(project) else {
            return false;
        };
        [&e.anonymous_id, &e.user_id, &e.previous_id]
            .into_iter()
            .flatten()
            .any(|id| hashes.contains(&self.hasher.hash(&crate::text::pg(id))))
    }

    pub fn covers_ids(&self, project: &str, ids: &[&str]) -> bool {
        let Some(hashes) = self.by_project.get(project) else {
            return false;
        };
        ids.iter()
            .any(|id| hashes.contains(&self.hasher.hash(&crate::text::pg(id))))
    }
}

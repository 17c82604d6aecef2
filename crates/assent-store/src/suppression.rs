//! The suppression list: identifiers of deleted subjects, whose later events are dropped.
//!
//! Deleting a subject while its browser keeps sending would quietly bring the data back
//! (PostHog #20221). The list holds keyed hashes ([`SubjectHasher`]), never the identifiers,
//! and is checked by the writer itself, so an event queued after a deletion is dropped even
//! if it passed the HTTP layer before the deletion ran.

use std::collections::{HashMap, HashSet};

use assent_core::StoredEvent;
use rusqlite::{params, Connection, Transaction};

use crate::subject_hash::SubjectHasher;

pub(crate) struct Suppression {
    hasher: SubjectHasher,
    by_project: HashMap<String, HashSet<String>>,
    /// Added by work whose transaction is not committed yet.
    pending: Vec<(String, String)>,
}

impl Suppression {
    pub fn load(conn: &Connection, hasher: SubjectHasher) -> rusqlite::Result<Suppression> {
        let mut suppression = Suppression {
            hasher,
            by_project: HashMap::new(),
            pending: Vec::new(),
        };
        suppression.reload(conn)?;
        Ok(suppression)
    }

    pub fn reload(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut by_project: HashMap<String, HashSet<String>> = HashMap::new();
        let mut query = conn.prepare("SELECT project, id_hash FROM suppressed_ids")?;
        let rows = query.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (project, hash) = row?;
            by_project.entry(project).or_default().insert(hash);
        }
        self.by_project = by_project;
        Ok(())
    }

    /// Whether an event carries an identifier of a deleted subject of its project. Free when
    /// the project never deleted anyone: nothing is hashed then.
    pub fn covers(&self, project: &str, e: &StoredEvent) -> bool {
        let Some(hashes) = self.by_project.get(project) else {
            return false;
        };
        [&e.anonymous_id, &e.user_id, &e.previous_id]
            .into_iter()
            .flatten()
            .any(|id| hashes.contains(&self.hasher.hash(id)))
    }

    /// Adds identifiers in `tx`; they take effect in memory once it commits.
    pub fn add(
        &mut self,
        tx: &Transaction,
        project: &str,
        ids: &[String],
        now_ms: i64,
    ) -> rusqlite::Result<usize> {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO suppressed_ids (id_hash, project, since) VALUES (?1, ?2, ?3)",
        )?;
        let mut added = 0;
        for id in ids {
            let hash = self.hasher.hash(id);
            added += insert.execute(params![hash, project, now_ms])?;
            self.pending.push((project.to_string(), hash));
        }
        Ok(added)
    }

    pub fn commit_pending(&mut self) {
        for (project, hash) in self.pending.drain(..) {
            self.by_project.entry(project).or_default().insert(hash);
        }
    }

    pub fn discard_pending(&mut self) {
        self.pending.clear();
    }

    pub fn hasher(&self) -> &SubjectHasher {
        &self.hasher
    }
}

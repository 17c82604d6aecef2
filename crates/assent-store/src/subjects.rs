//! A subject: every identifier connected to the one asked for, through the identity graph.

use std::collections::BTreeSet;

use rusqlite::Connection;
use serde::Serialize;

/// The longest an identifier may be (as at ingest).
pub const MAX_ID_LEN: usize = 256;

/// The connected set of identifiers of one person in one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub project: String,
    /// Sorted; always contains the identifier that was asked for.
    pub ids: Vec<String>,
}

impl Subject {
    /// The identifiers as a JSON array, for `json_each(?)` in queries: one statement covers
    /// the whole set and each `IN (SELECT value FROM json_each(?))` is an index lookup per id.
    pub(crate) fn ids_json(&self) -> String {
        serde_json::to_string(&self.ids).expect("strings serialise")
    }
}

/// Walks the identity graph from `id` (an anonymousId or a userId) through indexed lookups.
///
/// A subject that was never seen is just `{id}`: callers answer it exactly like a known one,
/// so nothing tells whether the store knows somebody.
pub fn resolve(conn: &Connection, project: &str, id: &str) -> rusqlite::Result<Subject> {
    let mut seen = BTreeSet::from([id.to_string()]);
    let mut frontier = vec![id.to_string()];
    let mut by_anonymous = conn.prepare_cached(
        "SELECT user_id FROM identity_links WHERE anonymous_id = ?1 AND project = ?2",
    )?;
    let mut by_user = conn.prepare_cached(
        "SELECT anonymous_id FROM identity_links WHERE user_id = ?1 AND project = ?2",
    )?;
    while let Some(next) = frontier.pop() {
        for query in [&mut by_anonymous, &mut by_user] {
            let linked = query
                .query_map([next.as_str(), project], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            for other in linked {
                if seen.insert(other.clone()) {
                    frontier.push(other);
                }
            }
        }
    }
    Ok(Subject {
        project: project.to_string(),
        ids: seen.into_iter().collect(),
    })
}

//! Replays have their own retention: chunks received more than [`DEFAULT_DAYS`] ago are
//! deleted (and their pages returned to the file system) at start-up and every hour.
//!
//! Hook point: the privacy-operations work adds `[projects.retention] replays_days` (default
//! 30) and the `assent retention` command; at merge, `days_for` reads that setting instead of
//! the default, and `assent retention` calls [`sweep`] too.

use std::sync::Arc;
use std::time::Duration;

use assent_store::ReplayStore;

/// Days a replay chunk is kept when the project says nothing.
pub const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const EVERY: Duration = Duration::from_secs(60 * 60);

/// How long the project keeps replays.
fn days_for(_project: &str) -> i64 {
    DEFAULT_DAYS
}

/// Deletes every project's expired chunks; returns how many were deleted.
pub fn sweep(store: &ReplayStore, projects: &[String], now_ms: i64) -> usize {
    let mut deleted = 0;
    for project in projects {
        let cutoff = now_ms - days_for(project) * DAY_MS;
        match store.expire_before(project, cutoff) {
            Ok(n) => deleted += n,
            Err(e) => tracing::warn!(project, error = %e, "replay retention failed; will retry"),
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "replay chunks past retention deleted");
    }
    deleted
}

/// Runs [`sweep`] now and then every hour, until the returned task is aborted.
pub fn start(store: Arc<ReplayStore>, projects: Vec<String>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            let store = store.clone();
            let projects = projects.clone();
            let _ = tokio::task::spawn_blocking(move || sweep(&store, &projects, crate::now_ms()))
                .await;
        }
    })
}

#[cfg(test)]
mod tests {
    use assent_store::{ChunkEncoding, NewChunk};

    use super::*;

    fn chunk(project: &str, seq: i64, received_at: i64) -> NewChunk {
        NewChunk {
            project: project.into(),
            session_id: 1,
            seq,
            anonymous_id: Some("a".into()),
            user_id: None,
            first_timestamp: 1,
            last_timestamp: 2,
            received_at,
            encoding: ChunkEncoding::Gzip,
            data: vec![0x1f, 0x8b, 0x08],
        }
    }

    #[test]
    fn chunks_older_than_30_days_go_in_every_project() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReplayStore::open(dir.path()).unwrap();
        let now = 100 * DAY_MS;
        store.insert(&chunk("web", 0, now - 31 * DAY_MS)).unwrap();
        store.insert(&chunk("web", 1, now - 29 * DAY_MS)).unwrap();
        store.insert(&chunk("shop", 0, now - 40 * DAY_MS)).unwrap();
        let deleted = sweep(&store, &["web".into(), "shop".into()], now);
        assert_eq!(deleted, 2);
        assert_eq!(store.chunks("web", 1).unwrap().len(), 1);
        assert_eq!(store.chunks("shop", 1).unwrap().len(), 0);
    }
}

//! The one place a store is chosen from the configuration: the embedded SQLite files, or the
//! shared PostgreSQL database (`[store] backend`). The collector and every command open their
//! store here, and see only the [`Store`] seam afterwards.

use std::sync::Arc;

use assent_postgres::{PostgresOptions, PostgresStore};
use assent_store::{CommitHook, SqliteStore, Store, StoreError, StoreOptions};

use crate::config::{Settings, StoreBackend};

/// What a process opens its store for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `assent serve`: it answers the dashboard, whose statistics are kept ready.
    Collector,
    /// A command or a sink.
    Other,
}

/// Opens the configuration's store. `on_commit` is called after each group commit.
pub fn open(
    settings: &Settings,
    on_commit: Option<CommitHook>,
    purpose: Purpose,
) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &settings.store_backend {
        StoreBackend::Sqlite => Arc::new(open_sqlite(settings, on_commit)?),
        StoreBackend::Postgres { url } => {
            Arc::new(open_postgres(settings, url, on_commit, purpose)?)
        }
    })
}

/// The embedded SQLite store of a configuration (whichever its backend), as itself.
pub fn open_sqlite(
    settings: &Settings,
    on_commit: Option<CommitHook>,
) -> Result<SqliteStore, StoreError> {
    SqliteStore::open(
        &settings.data_dir,
        StoreOptions {
            durability: settings.durability,
            queue_capacity: settings.queue_capacity,
            on_commit,
            busy_timeout: std::time::Duration::from_millis(settings.busy_timeout_ms),
            keys_dir: Some(settings.keys_dir()),
            dedupe_window: settings.dedupe_window,
            ..StoreOptions::default()
        },
    )
}

/// The shared PostgreSQL store of a configuration whose backend it is (sinks write to it).
pub fn open_postgres(
    settings: &Settings,
    url: &str,
    on_commit: Option<CommitHook>,
    purpose: Purpose,
) -> Result<PostgresStore, StoreError> {
    PostgresStore::open(PostgresOptions {
        durability: settings.durability,
        queue_capacity: settings.queue_capacity,
        on_commit,
        dedupe_window: settings.dedupe_window,
        warm_statistics: purpose == Purpose::Collector,
        ..PostgresOptions::new(url, settings.keys_dir())
    })
}

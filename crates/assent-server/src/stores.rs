//! The one place a store is chosen from the configuration: the embedded SQLite files, or the
//! shared PostgreSQL database (`[store] backend`). The collector and every command open their
//! store here, and see only the [`Store`] seam afterwards.

use std::sync::Arc;

use assent_postgres::{PostgresOptions, PostgresStore};
use assent_store::{CommitHook, SqliteStore, Store, StoreError, StoreOptions};

use crate::config::{Settings, StoreBackend};

/// Opens the configuration's store. `on_commit` is called after each group commit.
pub fn open(
    settings: &Settings,
    on_commit: Option<CommitHook>,
) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &settings.store_backend {
        StoreBackend::Sqlite => Arc::new(SqliteStore::open(
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
        )?),
        StoreBackend::Postgres { url } => Arc::new(open_postgres(settings, url, on_commit)?),
    })
}

/// The shared PostgreSQL store of a configuration whose backend it is (sinks write to it).
pub fn open_postgres(
    settings: &Settings,
    url: &str,
    on_commit: Option<CommitHook>,
) -> Result<PostgresStore, StoreError> {
    PostgresStore::open(PostgresOptions {
        durability: settings.durability,
        queue_capacity: settings.queue_capacity,
        on_commit,
        dedupe_window: settings.dedupe_window,
        ..PostgresOptions::new(url, settings.keys_dir())
    })
}

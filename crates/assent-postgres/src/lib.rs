//! Assent's shared store: the [`Store`](assent_store::Store) seam over PostgreSQL, for
//! deployments with more than one collector (and `assent sink` workers draining an ingest log).
//!
//! Everything the embedded SQLite store keeps is here, in one database that every process
//! shares: events in daily partitions (declarative partitioning; retention drops a day's
//! table), the identity graph, the suppression list, the consent ledger (one hash chain per
//! project, serialised by a row lock), deletion jobs, the audit trail, session replays. What
//! is *not* here: the secret keys (a keys directory on each machine, as with SQLite, checked
//! against fingerprints kept in the database) and the visitor salts (never in a database).
//!
//! The store runs its own small tokio runtime, so it works the same from the collector, from
//! a sink and from a one-shot CLI command; its futures can be awaited from any runtime.
//!
//! ```no_run
//! use std::sync::Arc;
//! use assent_postgres::{PostgresOptions, PostgresStore};
//! use assent_store::Store;
//!
//! let store: Arc<dyn Store> = Arc::new(
//!     PostgresStore::open(PostgresOptions::new("postgres://assent@127.0.0.1/assent", "keys".into()))
//!         .unwrap(),
//! );
//! store.close();
//! ```

mod append;
mod background;

mod deletion;
mod export;
mod keys;
mod ledger;
mod partitions;
mod replays;
mod retention;
mod schema;
mod seam;
mod stats;
mod suppression;
mod text;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_core::StoredEvent;
use assent_store::keyring::Keyring;
use assent_store::{AppendReport, CommitHook, Durability, StoreError, SubjectHasher};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;

pub use append::DAY_MS;
pub use background::BackgroundRuntime;

/// How a [`PostgresStore`] connects and commits.
pub struct PostgresOptions {
    /// `postgres://user:password@host:port/database` or `host=… user=… dbname=…`.
    pub url: String,
    /// `Full`: a commit waits for PostgreSQL's WAL flush (`synchronous_commit = on`).
    /// `Normal`: it does not (`off`): acknowledged events survive a crash of a collector, not
    /// of the database server.
    pub durability: Durability,
    /// Requests that may wait for a commit before new ones are refused with a retry hint.
    pub queue_capacity: usize,
    /// The most events one transaction takes.
    pub max_group_events: usize,
    /// Group commits run at once (each on its own connection): one builds while another
    /// waits for its flush.
    pub writers: usize,
    /// Connections for everything else (privacy operations, reads).
    pub pool_size: usize,
    /// Called after every commit (for metrics).
    pub on_commit: Option<CommitHook>,
    /// Where the secret keys are (the same files on every machine).
    pub keys_dir: PathBuf,
    /// How long a retried event is recognised as a duplicate, at least.
    pub dedupe_window: Duration,
    /// Reads the dashboard's digests of the last 90 days in the background, at start and
    /// every ten minutes, so that the first question after a start does not wait for them
    /// (a collector serving the dashboard; not a sink or a command).
    pub warm_statistics: bool,
}

impl PostgresOptions {
    pub fn new(url: impl Into<String>, keys_dir: PathBuf) -> PostgresOptions {
        PostgresOptions {
            url: url.into(),
            durability: Durability::Full,
            queue_capacity: 4096,
            max_group_events: 20_000,
            writers: 2,
            pool_size: 4,
            on_commit: None,
            keys_dir,
            dedupe_window: Duration::from_secs(7 * 24 * 60 * 60),
            warm_statistics: false,
        }
    }
}

/// What every task of the store shares.
pub(crate) struct Shared {
    pub pool: Pool,
    pub hasher: SubjectHasher,
    pub keys: keys::Keys,
    pub suppression: suppression::SuppressionCache,
    pub partitions: partitions::Partitions,
    pub links: Mutex<append::Recorded>,
    pub dedupe_window_ms: i64,
    pub synchronous_commit: bool,
    pub on_commit: Option<Mutex<CommitHook>>,
    pub stats: stats::StatsCache,
}

/// A connection of the pool, used as a plain `tokio_postgres::Client`; it goes back to the
/// pool when dropped.
pub(crate) struct Conn(deadpool_postgres::Object);

impl std::ops::Deref for Conn {
    type Target = tokio_postgres::Client;
    fn deref(&self) -> &tokio_postgres::Client {
        &self.0
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut tokio_postgres::Client {
        &mut self.0
    }
}

impl Shared {
    /// A connection from the pool; failing to get one is a commit failure (retry later).
    pub async fn client(&self) -> Result<Conn, StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map(Conn)
            .map_err(|e| StoreError::Commit(format!("cannot reach PostgreSQL: {e}")))?;
        if !self.synchronous_commit {
            client
                .batch_execute("SET synchronous_commit = off")
                .await
                .map_err(commit_error)?;
        }
        Ok(client)
    }
}

pub(crate) fn commit_error(e: tokio_postgres::Error) -> StoreError {
    StoreError::Commit(describe(&e))
}

pub(crate) fn read_error(e: tokio_postgres::Error) -> StoreError {
    StoreError::Read(describe(&e))
}

/// The server's message when there is one (tokio-postgres's own says only "db error").
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// One append waiting for a group commit.
pub(crate) enum Job {
    Append {
        project: Arc<str>,
        events: Vec<StoredEvent>,
        ack: tokio::sync::oneshot::Sender<Result<AppendReport, StoreError>>,
    },
    Probe {
        ack: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
    },
}

/// The PostgreSQL store. See the crate's documentation.
pub struct PostgresStore {
    runtime: Mutex<BackgroundRuntime>,
    handle: tokio::runtime::Handle,
    pub(crate) shared: Arc<Shared>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writers_done: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    pub(crate) waiting_events: Arc<AtomicUsize>,
    capacity: usize,
}

impl PostgresStore {
    /// Connects, brings the schema up to date, checks that this machine's keys are the ones
    /// every other process uses, makes today's and tomorrow's partitions, and starts the
    /// group-commit writers.
    pub fn open(options: PostgresOptions) -> Result<PostgresStore, StoreError> {
        let open_error = |reason: String| StoreError::Open {
            path: redacted(&options.url),
            reason,
        };
        let runtime =
            BackgroundRuntime::new("assent-postgres", 2).map_err(|e| open_error(e.to_string()))?;
        let pg: tokio_postgres::Config = options
            .url
            .parse()
            .map_err(|e: tokio_postgres::Error| open_error(e.to_string()))?;
        let mut pg = pg;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        pg.application_name("assent");
        let manager = Manager::from_config(
            pg,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1) + options.writers.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| open_error(e.to_string()))?;
        let keyring = Keyring::open(&options.keys_dir).map_err(|e| StoreError::Open {
            path: options.keys_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let hasher = SubjectHasher::from_keyring(&keyring).map_err(|e| StoreError::Open {
            path: options.keys_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let shared = runtime.block_on(async {
            let mut client = pool
                .get()
                .await
                .map(Conn)
                .map_err(|e| open_error(format!("cannot connect: {e}")))?;
            schema::migrate(&mut client)
                .await
                .map_err(|e| open_error(format!("updating the schema: {}", describe(&e))))?;
            let keys = keys::Keys::check(&*client, keyring, &hasher, &options.keys_dir)
                .await
                .map_err(open_error)?;
            let partitions = partitions::Partitions::load(&*client)
                .await
                .map_err(|e| open_error(describe(&e)))?;
            drop(client);
            Ok::<_, StoreError>(Shared {
                pool: pool.clone(),
                hasher: hasher.clone(),
                keys,
                suppression: suppression::SuppressionCache::new(hasher.clone()),
                partitions,
                links: Mutex::new(append::Recorded::default()),
                dedupe_window_ms: options.dedupe_window.as_millis() as i64,
                synchronous_commit: options.durability == Durability::Full,
                on_commit: options.on_commit.map(Mutex::new),
                stats: Default::default(),
            })
        })?;
        let shared = Arc::new(shared);
        let today = append::day_of(now_ms());
        runtime
            .block_on(shared.partitions.ensure(&shared, &[today, today + 1]))
            .map_err(|e| open_error(e.to_string()))?;
        let (jobs, queue) = mpsc::channel(options.queue_capacity.max(1));
        let waiting_events = Arc::new(AtomicUsize::new(0));
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        for _ in 0..options.writers.max(1) {
            let writer = writer::Writer {
                shared: shared.clone(),
                queue: queue.clone(),
                waiting_events: waiting_events.clone(),
                max_group_events: options.max_group_events.max(1),
            };
            let done = done_tx.clone();
            runtime.handle().spawn(async move {
                writer.run().await;
                let _ = done.send(());
            });
        }
        drop(done_tx);
        runtime
            .handle()
            .spawn(partitions::keep_ahead(shared.clone()));
        if options.warm_statistics {
            runtime.handle().spawn(stats::keep_warm(shared.clone()));
        }
        Ok(PostgresStore {
            handle: runtime.handle(),
            runtime: Mutex::new(runtime),
            shared,
            jobs: Mutex::new(Some(jobs)),
            writers_done: Mutex::new(Some(done_rx)),
            waiting_events,
            capacity: options.queue_capacity.max(1),
        })
    }

    /// Runs `work` on the store's runtime and returns a future any runtime can await.
    pub(crate) fn spawn<T, F>(&self, work: F) -> assent_store::StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let task = self.handle.spawn(work);
        Box::pin(async move {
            task.await
                .map_err(|e| StoreError::Commit(format!("a store task stopped: {e}")))?
        })
    }

    /// Runs `work` on the store's runtime and waits for it on this (blocking) thread.
    pub(crate) fn block<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        self.handle.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv().unwrap_or(Err(StoreError::Closed))
    }

    /// Writes groups of events (one per request or message) in one transaction, now, without
    /// the group-commit queue: a sink's whole batch commits or none of it does.
    pub async fn append_batch(
        &self,
        groups: Arc<Vec<(Arc<str>, Vec<StoredEvent>)>>,
    ) -> Result<Vec<AppendReport>, StoreError> {
        let shared = self.shared.clone();
        self.spawn(async move { append::write_groups(&shared, &groups, false).await })
            .await
    }

    pub(crate) fn submit(&self, job: Job) -> Result<(), StoreError> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(jobs) = jobs.as_ref() else {
            return Err(StoreError::Closed);
        };
        jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::QueueFull {
                capacity: self.capacity,
            },
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })
    }

    /// Commits everything queued, then stops. Safe to call more than once, from anywhere.
    pub fn close(&self) {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(jobs);
        let done = self
            .writers_done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(done) = done {
            // Each writer sends once when the queue is drained and closed.
            while done.recv().is_ok() {}
        }
        self.runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shut_down();
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:…{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url
            .split_whitespace()
            .filter(|part| !part.starts_with("password="))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_left_out_of_messages() {
        assert_eq!(
            super::redacted("postgres://assent:s3cret@db:5432/assent"),
            "postgres://assent:…@db:5432/assent"
        );
        assert_eq!(
            super::redacted("host=db user=assent password=s3cret dbname=assent"),
            "host=db user=assent dbname=assent"
        );
    }
}

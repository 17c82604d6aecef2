//! The embedded store: one SQLite file in WAL mode, one writer thread doing group commit.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};

use crate::checkpointer::{CheckpointTurn, Checkpointer};
use crate::dedupe::DedupeWindow;
use crate::identity::LinkCache;
use crate::indexer::Indexer;
use crate::keyring::Keyring;
use crate::ledger::{self, LedgerKeys};
use crate::replays::{self, ReplayStore};
use crate::subject_hash::SubjectHasher;
use crate::suppression::Suppression;
use crate::syncer::{Delivery, Syncer};
use crate::wal_limit::WalLimit;
use crate::writer::{wal_of, ActiveFiles, Job, Maintenance, Writer, WriterState};
use crate::{legacy_events, schema, Ack, CommitStats, StoreError};

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Flush the WAL on every commit: acknowledged events survive a power cut.
    #[default]
    Full,
    /// Leave the flush to the OS: acknowledged events survive a crash of the collector
    /// (`kill -9`) but not of the machine. Faster on slow disks.
    Normal,
}

/// Called after every commit, on the writer thread.
pub type CommitHook = Box<dyn Fn(&CommitStats) + Send>;

pub struct StoreOptions {
    pub durability: Durability,
    /// Requests that may wait for the writer before new ones are refused with a retry hint.
    pub queue_capacity: usize,
    /// The most events one transaction takes; bounds the latency of a single commit.
    pub max_group_events: usize,
    /// Called after every commit (for metrics); runs on the writer thread, so keep it cheap.
    pub on_commit: Option<CommitHook>,
    /// How long a commit waits for a lock held by another process before it fails (and the
    /// clients are told to retry).
    pub busy_timeout: Duration,
    /// The WAL size past which the writer stops for a moment, between commits, to start the
    /// WAL over (see wal_limit.rs); also what a WAL that starts over is truncated to.
    pub wal_limit_bytes: u64,
    /// Where the store's secret keys are kept (see keyring.rs); `None` is `dir/keys`.
    pub keys_dir: Option<PathBuf>,
    /// How long a retried event is recognised as a duplicate, at least (see dedupe.rs).
    pub dedupe_window: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::Full,
            queue_capacity: 4096,
            max_group_events: 50_000,
            on_commit: None,
            busy_timeout: Duration::from_secs(5),
            wal_limit_bytes: 256 * 1024 * 1024,
            keys_dir: None,
            dedupe_window: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

pub struct SqliteStore {
    path: PathBuf,
    dir: PathBuf,
    hasher: SubjectHasher,
    replays: Arc<ReplayStore>,
    jobs: SyncSender<Job>,
    capacity: usize,
    pub(crate) waiting_events: Arc<AtomicUsize>,
    writer: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Checkpointer,
    indexer: Indexer,
    stats: Arc<crate::stats::StatsEngine>,
}

impl SqliteStore {
    /// The file the store keeps its events in, inside a data directory.
    pub const FILE: &'static str = "events.db";

    /// Opens (creating if needed) `dir/events.db` and starts the writer.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<SqliteStore, StoreError> {
        let path = dir.join(Self::FILE);
        let open_error = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        let mut conn = open_writer(&path, &options).map_err(|e| open_error(e.to_string()))?;
        let keys_dir = options.keys_dir.clone().unwrap_or_else(|| dir.join("keys"));
        let keyring = Keyring::open(&keys_dir).map_err(|e| StoreError::Open {
            path: keys_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut ledger_keys = LedgerKeys::new(keyring.clone());
        let keyed = ledger::key_legacy_entries(&mut conn, &mut ledger_keys)
            .map_err(|e| open_error(format!("keying the consent ledger: {e}")))?;
        if keyed > 0 {
            tracing::info!(
                entries = keyed,
                "the consent ledger's digests are now keyed"
            );
        }
        // Files of partitions that retention removed just before a crash.
        crate::partition::delete_expired_files(&crate::partition::expired_dir(dir));
        legacy_events::migrate(&mut conn, dir)
            .map_err(|e| open_error(format!("moving events into partitions: {e}")))?;
        let dedupe = DedupeWindow::load(
            dir,
            options.dedupe_window.as_millis() as i64,
            crate::now_ms(),
        )
        .map_err(|e| open_error(format!("reading the dedupe window: {e}")))?;
        let (jobs, queue) = mpsc::sync_channel(options.queue_capacity);
        let waiting_events = Arc::new(AtomicUsize::new(0));
        let main_wal = wal_of(&path);
        let delivery = match options.durability {
            Durability::Full => Delivery::AfterSync(Syncer::start()),
            Durability::Normal => Delivery::Immediate,
        };
        let ledger_tip = ledger::tip(&conn).map_err(|e| open_error(e.to_string()))?;
        let hasher = SubjectHasher::load_or_create(&conn, &keyring).map_err(open_error)?;
        let suppression =
            Suppression::load(&conn, hasher.clone()).map_err(|e| open_error(e.to_string()))?;
        // Opened (and created) with the events, so privacy operations can always attach it.
        let replays = Arc::new(ReplayStore::open(dir, hasher.clone())?);
        let active_files: ActiveFiles = Arc::new(Mutex::new(vec![path.clone()]));
        let checkpoint_turn = CheckpointTurn::default();
        let state = WriterState::new(
            conn,
            dir,
            suppression,
            dedupe,
            active_files.clone(),
            main_wal,
        )
        .map_err(|e| open_error(e.to_string()))?;
        let writer = Writer {
            state,
            delivery,
            wal_limit: WalLimit::new(
                options.wal_limit_bytes,
                options.busy_timeout,
                checkpoint_turn.clone(),
            ),
            ledger_tip,
            ledger_keys,
            links: LinkCache::default(),
            queue,
            waiting_events: waiting_events.clone(),
            max_group_events: options.max_group_events,
            on_commit: options.on_commit,
        };
        let handle = std::thread::Builder::new()
            .name("assent-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| open_error(e.to_string()))?;
        let checkpointer = Checkpointer::start(active_files, checkpoint_turn)
            .map_err(|e| open_error(e.to_string()))?;
        let indexer = Indexer::start(dir);
        let stats = crate::stats::StatsEngine::new(dir, &path);
        stats.start_builder();
        Ok(SqliteStore {
            path,
            dir: dir.to_path_buf(),
            hasher,
            replays,
            jobs,
            capacity: options.queue_capacity,
            waiting_events,
            writer: Mutex::new(Some(handle)),
            checkpointer,
            indexer,
            stats,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Builds the subject indexes of the partitions no longer written to now, rather than at
    /// the indexer's next round; returns how many it built.
    pub fn index_closed_partitions(&self) -> usize {
        crate::indexer::index_closed(&self.dir, crate::now_ms())
    }

    /// Builds the dashboard's digests of the partitions no longer written to now, rather
    /// than in the background; returns how many it built or checked.
    pub fn build_closed_statistics(&self) -> Result<usize, StoreError> {
        self.stats
            .build_closed(crate::now_ms())
            .map_err(|e| StoreError::Read(e.to_string()))
    }

    pub(crate) fn stats_engine(&self) -> Arc<crate::stats::StatsEngine> {
        self.stats.clone()
    }

    /// The data directory: `events.db`, the partitions in `events/`, `replays.db`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The session-replay chunks kept beside the events (`replays.db`).
    pub fn replays(&self) -> Arc<ReplayStore> {
        self.replays.clone()
    }

    /// The store's keyed hash of subject identifiers (suppression list, audit trail).
    pub fn subject_hasher(&self) -> &SubjectHasher {
        &self.hasher
    }

    /// Runs `work` on the writer thread in its own `BEGIN IMMEDIATE` transaction, between
    /// appends; the answer comes once it is committed (or failed). `replays.db` is attached
    /// for the work, so replays are deleted and expired in the same transaction as events.
    pub(crate) fn maintain<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction, &mut Suppression) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<Ack<T>, StoreError> {
        let (ack, answer) = Ack::channel();
        let job: Maintenance = Box::new(move |state: &mut WriterState| {
            let outcome = state
                .with_replays(|state| state.in_transaction(work))
                .map_err(|e| StoreError::Commit(e.to_string()));
            if let Err(e) = &outcome {
                tracing::error!(error = %e, "maintenance work failed and was rolled back");
            }
            let _ = ack.send(outcome);
        });
        // A blocking send: privacy work must not be refused because ingest is busy.
        self.jobs
            .send(Job::Maintenance(job))
            .map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }

    /// Like [`SqliteStore::maintain`], with the partition of `day` attached to the writer's
    /// connection for the work (under `day.schema()`), and detached again afterwards unless
    /// ingest is using it. A partition that no longer exists is not made: `work` is not run.
    pub(crate) fn maintain_partition<T: Send + 'static>(
        &self,
        day: crate::partition::PartitionDay,
        work: impl FnOnce(&Transaction, &mut Suppression) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<Ack<Option<T>>, StoreError> {
        self.with_partition(day, |state| {
            state.with_replays(|state| state.in_transaction(work))
        })
    }

    /// Like [`SqliteStore::maintain_partition`], in two transactions committed one after the
    /// other: `in_partition` changes only the partition of `day`, then `in_main` changes only
    /// the main file, given what the first returned. SQLite commits the files of one
    /// transaction one by one, in an order of its own; two transactions make the order ours, so
    /// a crash between them leaves the partition's work done and the main file's not (never the
    /// other way round).
    pub(crate) fn maintain_partition_first<T: Send + 'static, U: Send + 'static>(
        &self,
        day: crate::partition::PartitionDay,
        in_partition: impl FnOnce(&Transaction) -> rusqlite::Result<T> + Send + 'static,
        in_main: impl FnOnce(&Transaction, T) -> rusqlite::Result<U> + Send + 'static,
    ) -> Result<Ack<Option<U>>, StoreError> {
        self.with_partition(day, |state| {
            state
                .in_transaction(|tx, _| in_partition(tx))
                .and_then(|done| state.in_transaction(|tx, _| in_main(tx, done)))
        })
    }

    /// Runs `work` on the writer with the partition of `day` attached (see
    /// [`SqliteStore::maintain_partition`]); its failure is logged and answered.
    fn with_partition<T: Send + 'static>(
        &self,
        day: crate::partition::PartitionDay,
        work: impl FnOnce(&mut WriterState) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<Ack<Option<T>>, StoreError> {
        let (ack, answer) = Ack::channel();
        let job: Maintenance = Box::new(move |state: &mut WriterState| {
            let outcome = (|| {
                if !day.path(&state.dir).exists() {
                    return Ok(None);
                }
                let was_attached = state.attached.contains(&day);
                state.attach(day)?;
                let result = work(state);
                if !was_attached {
                    state.detach(day)?;
                }
                result.map(Some)
            })()
            .map_err(|e| StoreError::Commit(e.to_string()));
            if let Err(e) = &outcome {
                tracing::error!(error = %e, "maintenance work failed and was rolled back");
            }
            let _ = ack.send(outcome);
        });
        self.jobs
            .send(Job::Maintenance(job))
            .map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }

    /// Runs `work` on the writer thread with the whole writer state, outside any transaction
    /// (retention deletes partition files here, detached first).
    pub(crate) fn with_writer<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut WriterState) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<Ack<T>, StoreError> {
        let (ack, answer) = Ack::channel();
        let job: Maintenance = Box::new(move |state: &mut WriterState| {
            let _ = ack.send(work(state).map_err(|e| StoreError::Commit(e.to_string())));
        });
        self.jobs
            .send(Job::Maintenance(job))
            .map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }

    /// A read-only connection, for queries that must not hold up the writer.
    /// `replays.db` is attached (read-only too), so an export reads both in one snapshot.
    pub fn reader(&self) -> rusqlite::Result<Connection> {
        read_connection(&self.path, &self.dir)
    }

    /// Commits everything already queued, then stops the writer. Appends after this fail with
    /// [`StoreError::Closed`]. Safe to call more than once.
    pub fn close(&self) {
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            // A blocking send: the close must queue behind every acknowledged-to-be append.
            let _ = self.jobs.send(Job::Close);
            let _ = handle.join();
            self.checkpointer.stop();
            self.indexer.stop();
            self.stats.stop();
        }
    }

    pub(crate) fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::QueueFull {
                capacity: self.capacity,
            },
            TrySendError::Disconnected(_) => StoreError::Closed,
        })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn open_writer(path: &Path, options: &StoreOptions) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(options.busy_timeout)?;
    schema::ensure_incremental_vacuum(&conn)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL even for `Durability::Full`: the flush that makes a commit power-safe is done by
    // the syncer thread, off the writer's path (see syncer.rs).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // The main file holds the identity graph, the ledger and the privacy records: ingest
    // reads it now and then (links it has not seen today) and writes it rarely.
    conn.pragma_update(None, "cache_size", -2_000)?;
    // Checkpoints (copying the WAL back into the main file) run on their own thread: done by
    // the writer they would stall every commit behind them.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", options.wal_limit_bytes as i64)?;
    // Deleted rows (subject deletion, retention) are overwritten with zeros, not just unlinked.
    conn.pragma_update(None, "secure_delete", "ON")?;
    schema::migrate(&mut conn)?;
    Ok(conn)
}

/// A read-only connection to `events.db` at `path`, with `replays.db` of `dir` attached.
pub(crate) fn read_connection(path: &Path, dir: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    replays::attach(&conn, dir)?;
    Ok(conn)
}

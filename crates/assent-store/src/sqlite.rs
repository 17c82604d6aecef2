//! The embedded store: one SQLite file in WAL mode, one writer thread doing group commit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assent_core::StoredEvent;
use rusqlite::{params, Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::checkpointer::{CheckpointTurn, Checkpointer};
use crate::identity;
use crate::keyring::Keyring;
use crate::ledger::{self, LedgerKeys};
use crate::replays::{self, ReplayStore};
use crate::subject_hash::SubjectHasher;
use crate::suppression::Suppression;
use crate::syncer::{Answer, Delivery, Syncer};
use crate::wal_limit::WalLimit;
use crate::{schema, Ack, AppendReport, CommitStats, Store, StoreError};

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
        }
    }
}

enum Job {
    Append {
        project: Arc<str>,
        events: Vec<StoredEvent>,
        ack: oneshot::Sender<Result<AppendReport, StoreError>>,
    },
    Probe {
        ack: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Privacy work (deletion, retention, audit) run alone, in queue order with appends, so
    /// an append queued after a deletion is checked against the new suppression list.
    Maintenance(Maintenance),
    /// Everything queued before this is committed; then the writer exits.
    Close,
}

/// A unit of maintenance work; it runs its own transaction and answers its own caller.
pub(crate) type Maintenance = Box<dyn FnOnce(&mut WriterState) + Send>;

pub struct SqliteStore {
    path: PathBuf,
    hasher: SubjectHasher,
    replays: Arc<ReplayStore>,
    jobs: SyncSender<Job>,
    capacity: usize,
    waiting_events: Arc<AtomicUsize>,
    writer: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Checkpointer,
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
        let (jobs, queue) = mpsc::sync_channel(options.queue_capacity);
        let waiting_events = Arc::new(AtomicUsize::new(0));
        let wal = dir.join(format!("{}-wal", Self::FILE));
        let delivery = match options.durability {
            Durability::Full => Delivery::AfterSync(Syncer::start(wal.clone())),
            Durability::Normal => Delivery::Immediate,
        };
        let ledger_tip = ledger::tip(&conn).map_err(|e| open_error(e.to_string()))?;
        let hasher = SubjectHasher::load_or_create(&conn, &keyring).map_err(open_error)?;
        let suppression =
            Suppression::load(&conn, hasher.clone()).map_err(|e| open_error(e.to_string()))?;
        // Opened (and created) with the events, so privacy operations can always attach it.
        let replays = Arc::new(ReplayStore::open(dir, hasher.clone())?);
        let data_version = data_version(&conn).map_err(|e| open_error(e.to_string()))?;
        let checkpoint_turn = CheckpointTurn::default();
        let writer = Writer {
            state: WriterState {
                conn,
                dir: dir.to_path_buf(),
                suppression,
                data_version,
            },
            delivery,
            wal_limit: WalLimit::new(
                wal,
                options.wal_limit_bytes,
                options.busy_timeout,
                checkpoint_turn.clone(),
            ),
            ledger_tip,
            ledger_keys,
            queue,
            waiting_events: waiting_events.clone(),
            max_group_events: options.max_group_events,
            on_commit: options.on_commit,
        };
        let handle = std::thread::Builder::new()
            .name("assent-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| open_error(e.to_string()))?;
        let checkpointer =
            Checkpointer::start(&path, checkpoint_turn).map_err(|e| open_error(e.to_string()))?;
        Ok(SqliteStore {
            path,
            hasher,
            replays,
            jobs,
            capacity: options.queue_capacity,
            waiting_events,
            writer: Mutex::new(Some(handle)),
            checkpointer,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
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

    /// Runs `work` on the writer thread outside any transaction (checkpoints, vacuum), with
    /// `replays.db` attached like [`SqliteStore::maintain`].
    pub(crate) fn on_writer<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<Ack<T>, StoreError> {
        let (ack, answer) = Ack::channel();
        let job: Maintenance = Box::new(move |state: &mut WriterState| {
            let outcome = state.with_replays(|state| work(&state.conn));
            let _ = ack.send(outcome.map_err(|e| StoreError::Commit(e.to_string())));
        });
        self.jobs
            .send(Job::Maintenance(job))
            .map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }

    /// A read-only connection, for queries that must not hold up the writer.
    /// `replays.db` is attached (read-only too), so an export reads both in one snapshot.
    pub fn reader(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        if let Some(dir) = self.path.parent() {
            replays::attach(&conn, dir)?;
        }
        Ok(conn)
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
        }
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::QueueFull {
                capacity: self.capacity,
            },
            TrySendError::Disconnected(_) => StoreError::Closed,
        })
    }
}

impl Store for SqliteStore {
    fn append(
        &self,
        project: Arc<str>,
        events: Vec<StoredEvent>,
    ) -> Result<Ack<AppendReport>, StoreError> {
        let (ack, answer) = Ack::channel();
        let count = events.len();
        self.waiting_events.fetch_add(count, Ordering::Relaxed);
        self.submit(Job::Append {
            project,
            events,
            ack,
        })
        .inspect_err(|_| {
            self.waiting_events.fetch_sub(count, Ordering::Relaxed);
        })?;
        Ok(answer)
    }

    fn probe(&self) -> Result<Ack<()>, StoreError> {
        let (ack, answer) = Ack::channel();
        self.submit(Job::Probe { ack })?;
        Ok(answer)
    }

    fn queue_depth(&self) -> usize {
        self.waiting_events.load(Ordering::Relaxed)
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
    // 64 MB: keeps the indexes hot.
    conn.pragma_update(None, "cache_size", -64_000)?;
    // Checkpoints (copying the WAL back into the main file) run on their own thread: done by
    // the writer they would stall every commit behind them.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", options.wal_limit_bytes as i64)?;
    // Deleted rows (subject deletion, retention) are overwritten with zeros, not just unlinked.
    conn.pragma_update(None, "secure_delete", "ON")?;
    schema::migrate(&mut conn)?;
    Ok(conn)
}

const INSERT_EVENT: &str = "INSERT OR IGNORE INTO events
    (project, message_id, type, event, anonymous_id, user_id, group_id, session_id, sequence,
     timestamp, sent_at, received_at, ip, payload, visitor_hash)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

/// What maintenance work may touch on the writer thread.
pub(crate) struct WriterState {
    pub(crate) conn: Connection,
    /// The data directory, where `replays.db` is found.
    dir: PathBuf,
    pub(crate) suppression: Suppression,
    /// `PRAGMA data_version` when the suppression list was last read: it changes when another
    /// connection (e.g. `assent forget` run while the server runs) commits.
    data_version: i64,
}

impl WriterState {
    /// Runs `work` with `replays.db` attached (when it exists), detached again afterwards:
    /// attached for good, it would be locked by every group commit of events.
    fn with_replays<T>(
        &mut self,
        work: impl FnOnce(&mut Self) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let attached = replays::attach(&self.conn, &self.dir)?;
        let result = work(self);
        if attached {
            if let Err(e) = replays::detach(&self.conn) {
                tracing::warn!(error = %e, "could not detach replays.db from the writer");
            }
        }
        result
    }

    fn in_transaction<T>(
        &mut self,
        work: impl FnOnce(&Transaction, &mut Suppression) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.refresh_suppression();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let result = work(&tx, &mut self.suppression);
        match result {
            Ok(value) => match tx.commit() {
                Ok(()) => {
                    self.suppression.commit_pending();
                    Ok(value)
                }
                Err(e) => {
                    self.suppression.discard_pending();
                    Err(e)
                }
            },
            Err(e) => {
                self.suppression.discard_pending();
                Err(e)
            }
        }
    }

    /// Re-reads the suppression list if another process changed the file.
    fn refresh_suppression(&mut self) {
        let Ok(version) = data_version(&self.conn) else {
            return;
        };
        if version != self.data_version {
            match self.suppression.reload(&self.conn) {
                Ok(()) => self.data_version = version,
                Err(e) => tracing::warn!(error = %e, "could not re-read the suppression list"),
            }
        }
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

struct Writer {
    state: WriterState,
    delivery: Delivery,
    wal_limit: WalLimit,
    /// The consent ledger's last hash, moved forward only when a commit succeeds.
    ledger_tip: String,
    ledger_keys: LedgerKeys,
    queue: Receiver<Job>,
    waiting_events: Arc<AtomicUsize>,
    max_group_events: usize,
    on_commit: Option<CommitHook>,
}

impl Writer {
    fn run(mut self) {
        let mut closing = false;
        while !closing {
            let Ok(first) = self.queue.recv() else { break };
            let first = match first {
                Job::Maintenance(work) => {
                    work(&mut self.state);
                    continue;
                }
                job => job,
            };
            // Take whatever else is already waiting: this is the group in group commit.
            // Maintenance work ends the group and runs right after its commit.
            let mut group = vec![first];
            let mut events = group_events(&group[0]);
            let mut after = None;
            while events < self.max_group_events {
                match self.queue.try_recv() {
                    Ok(Job::Maintenance(work)) => {
                        after = Some(work);
                        break;
                    }
                    Ok(job) => {
                        events += group_events(&job);
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            closing = group.iter().any(|job| matches!(job, Job::Close));
            self.commit(group, events);
            self.wal_limit.enforce(&self.state.conn);
            if let Some(work) = after {
                work(&mut self.state);
            }
        }
        tracing::debug!("store writer stopped");
    }

    fn commit(&mut self, group: Vec<Job>, events: usize) {
        let started = Instant::now();
        let requests = group.len();
        let outcome = self
            .write(&group)
            .map_err(|e| StoreError::Commit(e.to_string()));
        self.waiting_events.fetch_sub(events, Ordering::Relaxed);
        match &outcome {
            Err(e) => {
                tracing::error!(error = %e, events, "commit failed; clients are told to retry")
            }
            Ok(_) => {
                if let Some(on_commit) = &self.on_commit {
                    let duration = started.elapsed();
                    on_commit(&CommitStats {
                        requests,
                        events,
                        duration,
                    });
                }
            }
        }
        // Answer only now, after COMMIT has returned (and, for `Full`, after the flush).
        let mut reports = outcome.iter().flatten().copied();
        let answers = group
            .into_iter()
            .filter_map(|job| match job {
                Job::Append { ack, .. } => {
                    let answer = match &outcome {
                        Ok(_) => Ok(reports.next().expect("one report per append")),
                        Err(e) => Err(e.clone()),
                    };
                    Some(Answer::Append(ack, answer))
                }
                Job::Probe { ack } => Some(Answer::Probe(
                    ack,
                    outcome.as_ref().map(|_| ()).map_err(Clone::clone),
                )),
                Job::Close | Job::Maintenance(_) => None,
            })
            .collect();
        self.delivery.deliver(answers);
    }

    /// One transaction for the whole group; returns a report per append job, in order.
    fn write(&mut self, group: &[Job]) -> rusqlite::Result<Vec<AppendReport>> {
        self.state.refresh_suppression();
        let suppression = &self.state.suppression;
        let tx = Transaction::new_unchecked(&self.state.conn, TransactionBehavior::Immediate)?;
        let mut reports = Vec::with_capacity(group.len());
        let mut tip = self.ledger_tip.clone();
        {
            let mut insert = tx.prepare_cached(INSERT_EVENT)?;
            for job in group {
                match job {
                    Job::Append {
                        project, events, ..
                    } => {
                        let mut report = AppendReport::default();
                        for e in events {
                            if suppression.covers(project, e) {
                                report.suppressed += 1;
                                continue;
                            }
                            let inserted = insert.execute(params![
                                project.as_ref(),
                                e.message_id,
                                e.kind.as_str(),
                                e.name,
                                e.anonymous_id,
                                e.user_id,
                                e.group_id,
                                e.session_id,
                                e.sequence,
                                e.timestamp_ms,
                                e.sent_at_ms,
                                e.received_at_ms,
                                e.ip,
                                e.payload,
                                e.visitor_hash,
                            ])?;
                            if inserted == 1 {
                                report.inserted += 1;
                                identity::record_links(&tx, project, e)?;
                                if let Some(entry) = &e.consent {
                                    let (anonymous_id, user_id) =
                                        (e.anonymous_id.as_deref(), e.user_id.as_deref());
                                    let key = self.ledger_keys.current(project)?;
                                    ledger::append(
                                        &tx,
                                        project,
                                        entry,
                                        key,
                                        anonymous_id,
                                        user_id,
                                        &mut tip,
                                    )?;
                                }
                            } else {
                                report.duplicates += 1;
                            }
                        }
                        reports.push(report);
                    }
                    Job::Probe { .. } => {
                        tx.execute(
                            "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', strftime('%s','now'))",
                            [],
                        )?;
                    }
                    Job::Close | Job::Maintenance(_) => {}
                }
            }
        }
        tx.commit()?;
        self.ledger_tip = tip;
        Ok(reports)
    }
}

fn group_events(job: &Job) -> usize {
    match job {
        Job::Append { events, .. } => events.len(),
        Job::Probe { .. } | Job::Close | Job::Maintenance(_) => 0,
    }
}

//! The single writer: one thread that commits every waiting request in one transaction (group
//! commit), into the day's partition, and runs privacy work between commits.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use assent_core::StoredEvent;
use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::dedupe::{DedupeWindow, Key};
use crate::identity::LinkCache;
use crate::ledger::{self, LedgerKeys};
use crate::partition::{self, PartitionDay};
use crate::replays;
use crate::suppression::Suppression;
use crate::syncer::{Answer, Delivery};
use crate::wal_limit::WalLimit;
use crate::{AppendReport, CommitHook, CommitStats, StoreError};

pub(crate) enum Job {
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

/// The files whose WAL the checkpointer keeps short: the main file and attached partitions.
pub(crate) type ActiveFiles = Arc<Mutex<Vec<PathBuf>>>;

/// What maintenance work may touch on the writer thread.
pub(crate) struct WriterState {
    pub(crate) conn: Connection,
    /// The data directory, where `replays.db` and the partitions are found.
    pub(crate) dir: PathBuf,
    pub(crate) suppression: Suppression,
    /// `PRAGMA data_version` when the suppression list was last read: it changes when another
    /// connection (e.g. `assent forget` run while the server runs) commits.
    data_version: i64,
    pub(crate) dedupe: DedupeWindow,
    /// Partitions attached to `conn`, each under its schema name.
    pub(crate) attached: BTreeSet<PartitionDay>,
    pub(crate) active_files: ActiveFiles,
    /// The main file's WAL, which every sync covers.
    main_wal: PathBuf,
}

impl WriterState {
    pub(crate) fn new(
        conn: Connection,
        dir: &Path,
        suppression: Suppression,
        dedupe: DedupeWindow,
        active_files: ActiveFiles,
        main_wal: PathBuf,
    ) -> rusqlite::Result<WriterState> {
        let data_version = data_version(&conn)?;
        Ok(WriterState {
            conn,
            dir: dir.to_path_buf(),
            suppression,
            data_version,
            dedupe,
            attached: BTreeSet::new(),
            active_files,
            main_wal,
        })
    }

    /// Runs `work` with `replays.db` attached (when it exists), detached again afterwards:
    /// attached for good, it would be locked by every group commit of events.
    pub(crate) fn with_replays<T>(
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

    pub(crate) fn in_transaction<T>(
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

    /// Attaches the partitions of `days` and the day before the newest (events received just
    /// before midnight), creating them if needed, and detaches the others. Outside any
    /// transaction: SQLite attaches only there.
    pub(crate) fn attach_for(&mut self, days: &BTreeSet<PartitionDay>) -> rusqlite::Result<()> {
        let Some(newest) = days.last().copied() else {
            return Ok(());
        };
        let mut keep: BTreeSet<PartitionDay> = days.clone();
        let before = PartitionDay(newest.0 - 1);
        if before.path(&self.dir).exists() {
            keep.insert(before);
        }
        if !self.attached.contains(&newest) {
            // A new day: partitions that left the dedupe window are no longer looked in.
            self.dedupe.forget_before(newest.start_ms());
        }
        let stale: Vec<PartitionDay> = self.attached.difference(&keep).copied().collect();
        for day in stale {
            self.detach(day)?;
        }
        for day in keep {
            self.attach(day)?;
        }
        Ok(())
    }

    /// Attaches one partition (creating it) if it is not yet.
    pub(crate) fn attach(&mut self, day: PartitionDay) -> rusqlite::Result<()> {
        if self.attached.contains(&day) {
            return Ok(());
        }
        partition::attach(&self.conn, &self.dir, day)?;
        // Ingest writes at the end of the partition's table and dedupe index: few pages are
        // hot. A larger cache costs more than it saves, as SQLite walks all of it at commits.
        self.conn
            .pragma_update(Some(&day.schema()), "cache_size", -4_000)?;
        self.attached.insert(day);
        self.dedupe.add_partition(day);
        self.active_files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(day.path(&self.dir));
        Ok(())
    }

    pub(crate) fn detach(&mut self, day: PartitionDay) -> rusqlite::Result<()> {
        if !self.attached.remove(&day) {
            return Ok(());
        }
        let path = day.path(&self.dir);
        self.active_files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| *p != path);
        partition::detach(&self.conn, day)
    }

    /// The WAL files a commit touching `days` must have flushed before its answers go.
    fn wals_of(&self, days: &BTreeSet<PartitionDay>) -> Vec<PathBuf> {
        let mut wals = vec![self.main_wal.clone()];
        wals.extend(days.iter().map(|d| wal_of(&d.path(&self.dir))));
        wals
    }
}

pub(crate) fn wal_of(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-wal", db.display()))
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

pub(crate) struct Writer {
    pub(crate) state: WriterState,
    pub(crate) delivery: Delivery,
    pub(crate) wal_limit: WalLimit,
    /// The consent ledger's last hash, moved forward only when a commit succeeds.
    pub(crate) ledger_tip: String,
    pub(crate) ledger_keys: LedgerKeys,
    pub(crate) links: LinkCache,
    pub(crate) queue: Receiver<Job>,
    pub(crate) waiting_events: Arc<AtomicUsize>,
    pub(crate) max_group_events: usize,
    pub(crate) on_commit: Option<CommitHook>,
}

impl Writer {
    pub(crate) fn run(mut self) {
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
            let schemas: Vec<(String, PathBuf)> =
                std::iter::once(("main".to_string(), self.state.main_wal.clone()))
                    .chain(
                        self.state
                            .attached
                            .iter()
                            .map(|d| (d.schema(), wal_of(&d.path(&self.state.dir)))),
                    )
                    .collect();
            self.wal_limit.enforce(&self.state.conn, &schemas);
            if let Some(work) = after {
                work(&mut self.state);
            }
        }
        tracing::debug!("store writer stopped");
    }

    fn commit(&mut self, group: Vec<Job>, events: usize) {
        let started = Instant::now();
        let requests = group.len();
        let days: BTreeSet<PartitionDay> = group
            .iter()
            .filter_map(|job| match job {
                Job::Append { events, .. } => Some(events),
                _ => None,
            })
            .flatten()
            .map(|e| PartitionDay::of_ms(e.received_at_ms))
            .collect();
        let outcome = self
            .state
            .attach_for(&days)
            .and_then(|()| self.write(&group))
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
        self.delivery.deliver(answers, self.state.wals_of(&days));
    }

    /// One transaction for the whole group; returns a report per append job, in order.
    fn write(&mut self, group: &[Job]) -> rusqlite::Result<Vec<AppendReport>> {
        self.state.refresh_suppression();
        let tx = Transaction::new_unchecked(&self.state.conn, TransactionBehavior::Immediate)?;
        let mut reports = Vec::with_capacity(group.len());
        let mut tip = self.ledger_tip.clone();
        // Events stored and suppressed per partition and project, added to the partition's
        // `projects` once.
        let mut counts: HashMap<(PartitionDay, Arc<str>), (i64, i64)> = HashMap::new();
        let written = (|| {
            // One prepared insert per partition for the whole group.
            let mut inserts = HashMap::new();
            for job in group {
                match job {
                    Job::Append {
                        project, events, ..
                    } => {
                        let mut report = AppendReport::default();
                        for e in events {
                            let day = PartitionDay::of_ms(e.received_at_ms);
                            if self.state.suppression.covers(project, e) {
                                report.suppressed += 1;
                                counts.entry((day, project.clone())).or_default().1 += 1;
                                continue;
                            }
                            let key = Key {
                                ts: e.original_timestamp_ms.unwrap_or(0),
                                message_id: &e.message_id,
                                project,
                            };
                            let attached = &self.state.attached;
                            let elsewhere = self.state.dedupe.stored_elsewhere(
                                &tx,
                                |d| attached.contains(&d),
                                day,
                                key,
                            )?;
                            let inserted = !elsewhere && {
                                let insert = match inserts.entry(day) {
                                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                                    std::collections::hash_map::Entry::Vacant(v) => {
                                        v.insert(tx.prepare_cached(&insert_sql(day))?)
                                    }
                                };
                                insert_into(insert, key, e)?
                            };
                            if inserted {
                                report.inserted += 1;
                                counts.entry((day, project.clone())).or_default().0 += 1;
                                if self.state.dedupe.note(day, key) {
                                    tx.prepare_cached(&format!(
                                        "INSERT OR IGNORE INTO {}.hours (hour) VALUES (?1)",
                                        day.schema()
                                    ))?
                                    .execute([key.ts.div_euclid(partition::HOUR_MS)])?;
                                }
                            } else {
                                report.duplicates += 1;
                            }
                            // Also for a duplicate: a crash between the commits of the main
                            // file and the partition may have kept one half of the first copy.
                            // Both are idempotent.
                            self.links.record(&tx, project, e)?;
                            if let Some(entry) = &e.consent {
                                if !ledger::has_entry(&tx, project, &e.message_id)? {
                                    let key = self.ledger_keys.current(project)?;
                                    ledger::append(
                                        &tx,
                                        project,
                                        entry,
                                        key,
                                        e.anonymous_id.as_deref(),
                                        e.user_id.as_deref(),
                                        &mut tip,
                                    )?;
                                }
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
            drop(inserts);
            for ((day, project), (stored, suppressed)) in &counts {
                tx.prepare_cached(&format!(
                    "INSERT INTO {}.projects (project, events, suppressed) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO UPDATE SET events = events + excluded.events,
                                               suppressed = suppressed + excluded.suppressed",
                    day.schema()
                ))?
                .execute(params![project.as_ref(), stored, suppressed])?;
            }
            Ok(())
        })();
        let committed = written.and_then(|()| tx.commit());
        match committed {
            Ok(()) => {
                self.ledger_tip = tip;
                self.state.dedupe.commit_pending();
                self.links.commit_pending();
                Ok(reports)
            }
            Err(e) => {
                self.state.dedupe.discard_pending();
                self.links.discard_pending();
                Err(e)
            }
        }
    }
}

/// The insert of an event into the partition of `day`.
fn insert_sql(day: PartitionDay) -> String {
    format!(
        "INSERT OR IGNORE INTO {}.events
            (project, message_id, dedupe_ts, type, event, anonymous_id, user_id, group_id,
             session_id, sequence, timestamp, sent_at, received_at, ip, visitor_hash, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        day.schema()
    )
}

/// Stores one event with a partition's insert; false when the partition holds its key already.
fn insert_into(
    insert: &mut rusqlite::CachedStatement,
    key: Key,
    e: &StoredEvent,
) -> rusqlite::Result<bool> {
    let inserted = insert.execute(params![
        key.project,
        key.message_id,
        key.ts,
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
        e.visitor_hash,
        e.payload,
    ])?;
    Ok(inserted == 1)
}

fn group_events(job: &Job) -> usize {
    match job {
        Job::Append { events, .. } => events.len(),
        Job::Probe { .. } | Job::Close | Job::Maintenance(_) => 0,
    }
}

//! Subject deletion (GDPR Art. 17, CCPA "delete"): every event, link and plain identifier of a
//! connected subject, then nothing more from it (the suppression list).
//!
//! A subject may have a million events. Deleting them in one transaction would hold the single
//! writer for as long as that takes, and every ingest request behind it would wait (and, once
//! the queue is full, be refused). So a deletion is a job that works in bounded steps, each its
//! own transaction on the writer, interleaved with ingest:
//!
//! 1. **Accept**: resolve the subject through the identity graph, add its identifiers to the
//!    suppression list and write the job to `deletions_running`, in one transaction. From this
//!    commit on, no event of the subject is stored, and the job survives a crash.
//! 2. **Steps**: events first, a partition at a time (through its subject indexes, or, in a
//!    partition not indexed yet, a window of [`SCAN_ROWS`] rows at a time, so a step's cost is
//!    bounded either way); then each other kind of data ([`DELETION_KINDS`]), at most
//!    [`STEP_ROWS`] rows a step, until a step finds nothing. The counts so far and where the
//!    events steps are (`cursor`) are saved with each step.
//! 3. **Finish**: the job moves to `deletion_jobs` with its counts, the audit trail records it,
//!    the identifiers leave `deletions_running`, and the WAL is checkpointed and truncated so
//!    no copy of a deleted page is left in it.
//!
//! A job interrupted anywhere (`kill -9`, power cut) is found in `deletions_running` when the
//! collector starts ([`SqliteStore::resume_deletions`]) and finished from where it was: each
//! step deletes only what is still there, so repeating one is harmless.
//!
//! Adding a kind of data means adding one entry to [`DELETION_KINDS`]. Session replays, kept
//! in `replays.db`, are deleted by the same steps: maintenance work runs with that file
//! attached to the writer's connection (see `replays.rs`).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::audit::{self, AuditAction, AuditEntry, Counts};
use crate::subject_hash::SubjectHasher;
use crate::subjects::{self, Subject};
use crate::{SqliteStore, StoreError};

/// The most rows one step deletes of one kind: a step holds the writer for tens of
/// milliseconds, not seconds.
pub const STEP_ROWS: usize = 10_000;

/// The most rows one step looks at in a partition without subject indexes (today's).
pub const SCAN_ROWS: i64 = 200_000;

/// One kind of stored data a subject can have.
pub struct DeletionKind {
    /// The name counts are reported under.
    pub name: &'static str,
    /// Deletes (or erases) at most `limit` rows of the subject's data of this kind; returns
    /// the rows touched (fewer than `limit`: nothing is left). The hasher is the suppression
    /// list's, for kinds that keep their own list.
    pub step: fn(&Transaction, &Subject, &SubjectHasher, usize) -> rusqlite::Result<u64>,
}

/// Every kind a deletion covers after the events (which are in partitions), in order.
pub const DELETION_KINDS: &[DeletionKind] = &[
    DeletionKind {
        name: "identity_links",
        step: |tx, s, _, limit| {
            delete_rows_of(
                tx,
                "identity_links",
                "anonymous_id, user_id, project",
                s,
                limit,
            )
        },
    },
    DeletionKind {
        name: "consent",
        step: erase_ledger_ids,
    },
    DeletionKind {
        name: "replays",
        step: |tx, s, _, limit| crate::replays::delete_subject(tx, s, limit),
    },
];

/// Deletes up to `limit` rows of `table` whose `anonymous_id` or `user_id` is one of the
/// subject's (each column through its own index); `key` is the table's row key.
fn delete_rows_of(
    tx: &Transaction,
    table: &str,
    key: &str,
    s: &Subject,
    limit: usize,
) -> rusqlite::Result<u64> {
    let mut n = 0;
    for column in ["anonymous_id", "user_id"] {
        let left = limit - n;
        if left == 0 {
            break;
        }
        n += tx.execute(
            &format!(
                "DELETE FROM {table} WHERE ({key}) IN (
                    SELECT {key} FROM {table}
                    WHERE {column} IN (SELECT value FROM json_each(?1)) AND project = ?2 LIMIT ?3)"
            ),
            params![s.ids_json(), s.project, left as i64],
        )?;
    }
    Ok(n as u64)
}

/// Consent-ledger entries stay, as proof that a choice was made (GDPR Art. 7(1)), but lose
/// their plain identifiers; the chain covers only keyed digests, so it still verifies.
fn erase_ledger_ids(
    tx: &Transaction,
    s: &Subject,
    _: &SubjectHasher,
    limit: usize,
) -> rusqlite::Result<u64> {
    tx.execute(
        "UPDATE consent_ledger SET
            anonymous_id = CASE WHEN anonymous_id IN (SELECT value FROM json_each(?1)) THEN NULL ELSE anonymous_id END,
            user_id = CASE WHEN user_id IN (SELECT value FROM json_each(?1)) THEN NULL ELSE user_id END
         WHERE project = ?2 AND id IN (
            SELECT id FROM consent_ledger WHERE anonymous_id IN (SELECT value FROM json_each(?1))
            UNION SELECT id FROM consent_ledger WHERE user_id IN (SELECT value FROM json_each(?1))
            LIMIT ?3)",
        params![s.ids_json(), s.project, limit as i64],
    )
    .map(|n| n as u64)
}

/// Who asks to delete whom.
#[derive(Debug, Clone)]
pub struct DeletionRequest {
    /// Chosen by the caller, so it can be reported as running before the work is done.
    pub job_id: String,
    pub project: String,
    /// An anonymousId or a userId; the whole connected subject is deleted.
    pub id: String,
    /// Recorded in the audit trail: the admin token's name, or `cli`.
    pub actor: String,
}

/// A deletion job, as `GET /v1/admin/deletions/{job}` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionJob {
    pub job: String,
    pub project: String,
    /// Set once the job has finished.
    pub subject_hash: Option<String>,
    pub started_at_ms: i64,
    /// `None` while the job runs.
    pub finished_at_ms: Option<i64>,
    /// Rows removed or erased per kind (so far, while it runs), and `suppressed_ids` added to
    /// the suppression list.
    pub counts: Counts,
    /// The last step's failure, while it is retried.
    pub last_error: Option<String>,
}

impl DeletionJob {
    pub fn finished(&self) -> bool {
        self.finished_at_ms.is_some()
    }
}

/// A running job as `deletions_running` keeps it.
struct Running {
    subject: Subject,
    actor: String,
    started_at_ms: i64,
    counts: Counts,
    cursor: Cursor,
}

/// Where a job's events steps are: the partition, and in one without subject indexes, the
/// first row not looked at yet.
///
/// The events a step deletes are counted in the partition itself (its `deletions` table), in
/// the same transaction as the deletion: the job's own record is in another file, and after a
/// crash between the two commits a count kept only there would be off by a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Cursor {
    day: Option<i64>,
    row: i64,
    /// Set once every partition is done.
    #[serde(default)]
    done: bool,
    /// Events deleted in the partitions before `day`.
    #[serde(default)]
    before: u64,
}

fn running(conn: &Connection, job: &str) -> rusqlite::Result<Option<Running>> {
    conn.query_row(
        "SELECT project, subject_ids, actor, started_at, counts, cursor FROM deletions_running
         WHERE id = ?1",
        [job],
        |r| {
            Ok(Running {
                subject: Subject {
                    project: r.get(0)?,
                    ids: serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or_default(),
                },
                actor: r.get(2)?,
                started_at_ms: r.get(3)?,
                counts: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
                cursor: r
                    .get::<_, Option<String>>(5)?
                    .and_then(|c| serde_json::from_str(&c).ok())
                    .unwrap_or_default(),
            })
        },
    )
    .optional()
}

fn save_progress(tx: &Transaction, job: &str, running: &Running) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE deletions_running SET counts = ?2, cursor = ?3, last_error = NULL WHERE id = ?1",
        params![
            job,
            serde_json::to_string(&running.counts).expect("counts serialise"),
            serde_json::to_string(&running.cursor).expect("a cursor serialises"),
        ],
    )
    .map(drop)
}

/// What one step did.
enum Step {
    /// More may be left; the partition it worked in, if any.
    Deleted(Option<crate::partition::PartitionDay>),
    /// Every kind is empty: the job was finished in this step.
    Finished(DeletionJob),
    /// No such running job (finished by someone else, e.g. before a restart).
    Gone,
}

impl SqliteStore {
    /// Accepts a deletion: the subject is suppressed and the job persisted before this returns
    /// (so it survives a crash); the deletion itself is then done by
    /// [`SqliteStore::run_deletion`].
    pub async fn accept_deletion(&self, request: DeletionRequest) -> Result<(), StoreError> {
        self.maintain(move |tx, suppression| {
            let subject = subjects::resolve(tx, &request.project, &request.id)?;
            let now = crate::now_ms();
            let added = suppression.add(tx, &subject.project, &subject.ids, now)?;
            crate::replays::suppress_subject(tx, &subject, suppression.hasher())?;
            let counts = Counts::from([("suppressed_ids".to_string(), added as u64)]);
            tx.execute(
                "INSERT INTO deletions_running (id, project, subject_ids, actor, started_at, counts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    request.job_id,
                    subject.project,
                    subject.ids_json(),
                    request.actor,
                    now,
                    serde_json::to_string(&counts).expect("counts serialise"),
                ],
            )?;
            Ok(())
        })?
        .await
    }

    /// Works an accepted job to its end, a bounded step at a time between appends, then
    /// checkpoints and truncates the WAL. A failing step is retried (a full disk may clear);
    /// the failure is shown in the job's status meanwhile.
    pub async fn run_deletion(&self, job_id: String) -> Result<Option<DeletionJob>, StoreError> {
        let mut failures = 0u32;
        // The partitions the subject has events in, found by reading (off the writer): the
        // steps then visit those only, not every day of the year.
        let candidates = self.partitions_with_subject(&job_id).await?;
        let mut touched = std::collections::BTreeSet::new();
        loop {
            let step = self.deletion_step(job_id.clone(), candidates.clone()).await;
            match step {
                Ok(Step::Deleted(day)) => {
                    failures = 0;
                    touched.extend(day);
                }
                Ok(Step::Finished(done)) => {
                    self.compact(touched.into_iter().collect()).await?;
                    return Ok(Some(done));
                }
                Ok(Step::Gone) => return Ok(None),
                Err(StoreError::Closed) => return Err(StoreError::Closed),
                Err(e) => {
                    failures += 1;
                    let job = job_id.clone();
                    let message = e.to_string();
                    let _ = self
                        .maintain(move |tx, _| {
                            tx.execute(
                                "UPDATE deletions_running SET last_error = ?2 WHERE id = ?1",
                                params![job, message],
                            )
                            .map(drop)
                        })?
                        .await;
                    let wait = std::time::Duration::from_millis(200 << failures.min(6));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Accepts and runs a deletion to its end (the CLI's `assent forget`).
    pub async fn delete_subject(
        &self,
        request: DeletionRequest,
    ) -> Result<DeletionJob, StoreError> {
        let job_id = request.job_id.clone();
        self.accept_deletion(request).await?;
        self.run_deletion(job_id.clone())
            .await?
            .ok_or_else(|| StoreError::Commit(format!("deletion job {job_id} vanished")))
    }

    /// The jobs a crash or a stop left unfinished, to be run again with
    /// [`SqliteStore::run_deletion`].
    pub fn unfinished_deletions(&self) -> Result<Vec<String>, StoreError> {
        let read = || -> rusqlite::Result<Vec<String>> {
            let conn = self.reader()?;
            let mut query = conn.prepare("SELECT id FROM deletions_running ORDER BY started_at")?;
            let ids = query.query_map([], |r| r.get(0))?;
            ids.collect()
        };
        read().map_err(|e| StoreError::Commit(e.to_string()))
    }

    /// Copies the WALs (the main file's, `replays.db`'s, those of the partitions ingest holds
    /// and of `touched`) into their files and truncates them, so no earlier copy of a deleted
    /// page is left in one; then gives free pages of the main files back to the file system.
    /// Best effort: a reader holding an old snapshot can delay it.
    pub async fn compact(
        &self,
        touched: Vec<crate::partition::PartitionDay>,
    ) -> Result<(), StoreError> {
        self.with_writer(|state| {
            state.with_replays(|state| {
                let conn = &state.conn;
                let mut vacuumed = vec!["main".to_string()];
                if crate::replays::is_attached(conn)? {
                    vacuumed.push(crate::replays::ATTACHED_AS.to_string());
                }
                for schema in &vacuumed {
                    // The pragma frees one page per step: it must be stepped to its end.
                    let mut vacuum =
                        conn.prepare(&format!("PRAGMA {schema}.incremental_vacuum"))?;
                    let mut steps = vacuum.query([])?;
                    while steps.next()?.is_some() {}
                }
                let attached: Vec<String> = state.attached.iter().map(|d| d.schema()).collect();
                for schema in vacuumed.iter().chain(&attached) {
                    conn.query_row(
                        &format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)"),
                        [],
                        |_| Ok(()),
                    )?;
                }
                // Partitions the writer does not hold may have been written by a deletion.
                for day in touched {
                    // No WAL: closing the partition's last connection folded it in already.
                    let wal = crate::writer::wal_of(&day.path(&state.dir));
                    if !state.attached.contains(&day) && wal.exists() {
                        crate::partition::open(&state.dir, day, false)?.query_row(
                            "PRAGMA wal_checkpoint(TRUNCATE)",
                            [],
                            |_| Ok(()),
                        )?;
                    }
                }
                Ok(())
            })
        })?
        .await
    }
}

impl SqliteStore {
    /// The partitions that may hold events of the job's subject: those whose subject indexes
    /// find one, and those without indexes yet (read through by the steps).
    async fn partitions_with_subject(
        &self,
        job: &str,
    ) -> Result<Vec<crate::partition::PartitionDay>, StoreError> {
        let job = job.to_string();
        let (path, dir) = (self.path().to_path_buf(), self.dir().to_path_buf());
        tokio::task::spawn_blocking(move || {
            let conn = crate::sqlite::read_connection(&path, &dir)?;
            let Some(running) = running(&conn, &job)? else {
                return Ok(Vec::new());
            };
            let s = &running.subject;
            let mut days = Vec::new();
            for day in crate::partition::list(&dir) {
                if running.cursor.day.is_some_and(|c| day.0 < c) {
                    continue;
                }
                let partition = crate::partition::open(&dir, day, true)?;
                let holds = !crate::partition::has_subject_indexes(&partition, "main")?
                    || partition.query_row(
                        "SELECT EXISTS (SELECT 1 FROM events WHERE anonymous_id IN
                                (SELECT value FROM json_each(?1)) AND project = ?2)
                            OR EXISTS (SELECT 1 FROM events WHERE user_id IN
                                (SELECT value FROM json_each(?1)) AND project = ?2)",
                        params![s.ids_json(), s.project],
                        |r| r.get::<_, bool>(0),
                    )?;
                if holds {
                    days.push(day);
                }
            }
            Ok(days)
        })
        .await
        .map_err(|e| StoreError::Commit(e.to_string()))?
    }

    /// One step of a job: events of one partition (or one window of it), or, once the
    /// partitions are done, up to [`STEP_ROWS`] rows of the first other kind that still has
    /// some, or, when none has, the job's end.
    async fn deletion_step(
        &self,
        job: String,
        candidates: Vec<crate::partition::PartitionDay>,
    ) -> Result<Step, StoreError> {
        let cursor = {
            let job = job.clone();
            self.maintain(move |tx, _| Ok(running(tx, &job)?.map(|r| r.cursor)))?
                .await?
        };
        let Some(cursor) = cursor else {
            return Ok(Step::Gone);
        };
        if !cursor.done {
            let next = candidates
                .into_iter()
                .find(|d| cursor.day.is_none_or(|c| d.0 >= c) && d.path(self.dir()).exists());
            let Some(day) = next else {
                return self
                    .maintain(move |tx, _| {
                        let Some(mut running) = running(tx, &job)? else {
                            return Ok(Step::Gone);
                        };
                        running.cursor = Cursor {
                            done: true,
                            ..running.cursor
                        };
                        save_progress(tx, &job, &running).map(|()| Step::Deleted(None))
                    })?
                    .await;
            };
            let subject_job = job.clone();
            let outcome = self
                .maintain_partition_first(
                    day,
                    move |tx| {
                        let Some(running) = running(tx, &subject_job)? else {
                            return Ok(None);
                        };
                        let row = match running.cursor.day {
                            Some(d) if d == day.0 => running.cursor.row,
                            _ => 0,
                        };
                        let (deleted, left) = delete_events_in(tx, day, &running.subject, row)?;
                        let here = count_in_partition(tx, day, &subject_job, deleted)?;
                        Ok(Some((deleted, left, here)))
                    },
                    move |tx, done| {
                        let (Some((deleted, left, here)), Some(mut running)) =
                            (done, running(tx, &job)?)
                        else {
                            return Ok(Step::Gone);
                        };
                        let before = running.cursor.before;
                        running.counts.insert("events".to_string(), before + here);
                        // The partition's deletions are committed by now: the cursor may move
                        // past what a step found no more of.
                        running.cursor = if deleted == STEP_ROWS as u64 {
                            Cursor {
                                day: Some(day.0),
                                ..running.cursor
                            }
                        } else {
                            match left {
                                EventsLeft::None => Cursor {
                                    day: Some(day.0 + 1),
                                    row: 0,
                                    done: false,
                                    before: before + here,
                                },
                                EventsLeft::From(row) => Cursor {
                                    day: Some(day.0),
                                    row,
                                    ..running.cursor
                                },
                            }
                        };
                        save_progress(tx, &job, &running).map(|()| Step::Deleted(Some(day)))
                    },
                )?
                .await?;
            return Ok(outcome.unwrap_or(Step::Deleted(None)));
        }
        self.maintain(move |tx, suppression| other_kinds_step(tx, suppression.hasher(), &job))?
            .await
    }
}

/// Adds a step's deletions to the job's count kept in the partition; returns the partition's
/// whole count for the job.
fn count_in_partition(
    tx: &Transaction,
    day: crate::partition::PartitionDay,
    job: &str,
    deleted: u64,
) -> rusqlite::Result<u64> {
    let schema = day.schema();
    tx.execute(
        &format!(
            "INSERT INTO {schema}.deletions (job, events) VALUES (?1, ?2)
             ON CONFLICT DO UPDATE SET events = events + excluded.events"
        ),
        params![job, deleted as i64],
    )?;
    tx.query_row(
        &format!("SELECT events FROM {schema}.deletions WHERE job = ?1"),
        [job],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

/// Where a subject's events may still be in a partition, once a step found fewer than it may
/// delete where it looked.
enum EventsLeft {
    None,
    /// Rows from this id on have not been looked at yet.
    From(i64),
}

/// Deletes up to [`STEP_ROWS`] of a subject's events in one partition: through its subject
/// indexes, or, without them, among the [`SCAN_ROWS`] rows from `from_row` on.
fn delete_events_in(
    tx: &Transaction,
    day: crate::partition::PartitionDay,
    s: &Subject,
    from_row: i64,
) -> rusqlite::Result<(u64, EventsLeft)> {
    let schema = day.schema();
    let deleted = if crate::partition::has_subject_indexes(tx, &schema)? {
        let n = delete_rows_of(tx, &format!("{schema}.events"), "id", s, STEP_ROWS)?;
        (n, EventsLeft::None)
    } else {
        let until = from_row + SCAN_ROWS;
        let n = tx.execute(
            &format!(
                "DELETE FROM {schema}.events WHERE id IN (
                    SELECT id FROM {schema}.events WHERE id >= ?3 AND id < ?4 AND project = ?2 AND (
                        anonymous_id IN (SELECT value FROM json_each(?1))
                        OR user_id IN (SELECT value FROM json_each(?1)))
                    LIMIT ?5)"
            ),
            params![s.ids_json(), s.project, from_row, until, STEP_ROWS as i64],
        )? as u64;
        let last: Option<i64> =
            tx.query_row(&format!("SELECT max(id) FROM {schema}.events"), [], |r| {
                r.get(0)
            })?;
        let left = if last.is_some_and(|last| last >= until) {
            EventsLeft::From(until)
        } else {
            EventsLeft::None
        };
        (n, left)
    };
    if deleted.0 > 0 {
        tx.execute(
            &format!(
                "UPDATE {schema}.projects SET events = max(events - ?2, 0) WHERE project = ?1"
            ),
            params![s.project, deleted.0 as i64],
        )?;
    }
    Ok(deleted)
}

/// One step over the kinds after the events: up to [`STEP_ROWS`] rows of the first kind that
/// still has some, or, when none has, the job's end.
fn other_kinds_step(tx: &Transaction, hasher: &SubjectHasher, job: &str) -> rusqlite::Result<Step> {
    let Some(mut running) = running(tx, job)? else {
        return Ok(Step::Gone);
    };
    for kind in DELETION_KINDS {
        let n = (kind.step)(tx, &running.subject, hasher, STEP_ROWS)?;
        if n > 0 {
            *running.counts.entry(kind.name.to_string()).or_insert(0) += n;
            save_progress(tx, job, &running)?;
            return Ok(Step::Deleted(None));
        }
    }
    finish(tx, hasher, job, running).map(Step::Finished)
}

fn finish(
    tx: &Transaction,
    hasher: &SubjectHasher,
    job: &str,
    running: Running,
) -> rusqlite::Result<DeletionJob> {
    let mut counts = running.counts;
    counts.entry("events".to_string()).or_insert(0);
    for kind in DELETION_KINDS {
        counts.entry(kind.name.to_string()).or_insert(0);
    }
    let finished_at_ms = crate::now_ms();
    let subject_hash = hasher.hash_subject(&running.subject.ids);
    tx.execute(
        "INSERT INTO deletion_jobs (id, project, subject_hash, started_at, finished_at, counts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            job,
            running.subject.project,
            subject_hash,
            running.started_at_ms,
            finished_at_ms,
            serde_json::to_string(&counts).expect("counts serialise"),
        ],
    )?;
    audit::record(
        tx,
        &AuditEntry {
            at_ms: finished_at_ms,
            actor: running.actor,
            action: AuditAction::Deletion,
            project: running.subject.project.clone(),
            subject_hash: Some(subject_hash.clone()),
            counts: counts.clone(),
        },
    )?;
    // The plain identifiers were kept only for the steps.
    tx.execute("DELETE FROM deletions_running WHERE id = ?1", [job])?;
    Ok(DeletionJob {
        job: job.to_string(),
        project: running.subject.project,
        subject_hash: Some(subject_hash),
        started_at_ms: running.started_at_ms,
        finished_at_ms: Some(finished_at_ms),
        counts,
        last_error: None,
    })
}

/// A deletion job of `project`, running or finished, if there is one by that id.
pub fn deletion_job(
    conn: &Connection,
    project: &str,
    job: &str,
) -> rusqlite::Result<Option<DeletionJob>> {
    let finished = conn
        .query_row(
            "SELECT subject_hash, started_at, finished_at, counts FROM deletion_jobs
             WHERE id = ?1 AND project = ?2",
            params![job, project],
            |r| {
                Ok(DeletionJob {
                    job: job.to_string(),
                    project: project.to_string(),
                    subject_hash: Some(r.get(0)?),
                    started_at_ms: r.get(1)?,
                    finished_at_ms: Some(r.get(2)?),
                    counts: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                    last_error: None,
                })
            },
        )
        .optional()?;
    if finished.is_some() {
        return Ok(finished);
    }
    conn.query_row(
        "SELECT started_at, counts, last_error FROM deletions_running WHERE id = ?1 AND project = ?2",
        params![job, project],
        |r| {
            Ok(DeletionJob {
                job: job.to_string(),
                project: project.to_string(),
                subject_hash: None,
                started_at_ms: r.get(0)?,
                finished_at_ms: None,
                counts: serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or_default(),
                last_error: r.get(2)?,
            })
        },
    )
    .optional()
}

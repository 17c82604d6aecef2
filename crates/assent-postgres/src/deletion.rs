//! Subject deletion on PostgreSQL: the same job as the embedded store's — accepted (subject
//! suppressed, job persisted) in one transaction, then worked in bounded steps, each its own
//! transaction, resumed after a crash by whichever process starts next.
//!
//! Any number of processes may run the same job at once (each collector resumes unfinished
//! jobs when it starts): a step locks the job's row first, so steps never overlap and the
//! job finishes once. Ingest never waits for a step: rows are deleted under MVCC, and only
//! the acceptance takes a lock ingest takes too (see `suppression.rs`), for one short
//! transaction.

use std::collections::BTreeSet;

use assent_store::audit::{AuditAction, AuditEntry, Counts};
use assent_store::deletion::{DeletionJob, DeletionRequest};
use assent_store::subjects::Subject;
use assent_store::StoreError;
use tokio_postgres::GenericClient;

use crate::{commit_error, Shared};

/// The most rows one step deletes of one kind.
pub const STEP_ROWS: i64 = 10_000;

/// Walks the identity graph from `id`; a subject never seen is just `{id}`.
pub(crate) async fn resolve(
    client: &impl GenericClient,
    project: &str,
    id: &str,
) -> Result<Subject, tokio_postgres::Error> {
    let start = crate::text::pg(id).into_owned();
    let mut seen = BTreeSet::from([start.clone()]);
    let mut frontier = vec![start];
    while !frontier.is_empty() {
        let rows = client
            .query(
                "SELECT user_id FROM identity_links WHERE anonymous_id = ANY($1) AND project = $2
                 UNION SELECT anonymous_id FROM identity_links WHERE user_id = ANY($1) AND project = $2",
                &[&frontier, &project],
            )
            .await?;
        frontier = rows
            .iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|other| seen.insert(other.clone()))
            .collect();
    }
    Ok(Subject {
        project: project.to_string(),
        ids: seen.into_iter().collect(),
    })
}

/// Accepts a deletion: the subject's identifiers are suppressed and the job is written, in
/// one transaction that waits for the group commits in flight (see `suppression.rs`).
pub(crate) async fn accept(shared: &Shared, request: DeletionRequest) -> Result<(), StoreError> {
    let mut client = shared.client().await?;
    let tx = client.transaction().await.map_err(commit_error)?;
    let project = crate::text::pg(&request.project).into_owned();
    let subject = resolve(&tx, &project, &request.id)
        .await
        .map_err(commit_error)?;
    tx.batch_execute("LOCK TABLE suppressed_ids IN SHARE ROW EXCLUSIVE MODE")
        .await
        .map_err(commit_error)?;
    let now = crate::now_ms();
    let hashes: Vec<String> = subject
        .ids
        .iter()
        .map(|id| shared.hasher.hash(id))
        .collect();
    let added = tx
        .execute(
            "INSERT INTO suppressed_ids (id_hash, project, since)
             SELECT h, $2, $3 FROM unnest($1::text[]) AS h ON CONFLICT DO NOTHING",
            &[&hashes, &project, &now],
        )
        .await
        .map_err(commit_error)?;
    let counts = Counts::from([("suppressed_ids".to_string(), added)]);
    tx.execute(
        "INSERT INTO deletions_running (id, project, subject_ids, actor, started_at, counts)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &request.job_id,
            &project,
            &serde_json::to_string(&subject.ids).expect("ids serialise"),
            &request.actor,
            &now,
            &serde_json::to_string(&counts).expect("counts serialise"),
        ],
    )
    .await
    .map_err(commit_error)?;
    tx.commit().await.map_err(commit_error)
}

/// What one step did.
enum Step {
    /// Rows were deleted (in these partitions, if any); more may be left.
    Deleted(Option<i32>),
    Finished(DeletionJob),
    /// No such running job (finished, perhaps by another process).
    Gone,
}

/// Works an accepted job to its end; a failing step is retried with a growing pause, its
/// failure shown in the job's status meanwhile.
pub(crate) async fn run(shared: &Shared, job: String) -> Result<Option<DeletionJob>, StoreError> {
    let mut failures = 0u32;
    let mut touched = BTreeSet::new();
    loop {
        match step(shared, &job).await {
            Ok(Step::Deleted(day)) => {
                failures = 0;
                touched.extend(day);
            }
            Ok(Step::Finished(done)) => {
                vacuum(shared, &touched).await;
                return Ok(Some(done));
            }
            Ok(Step::Gone) => return Ok(None),
            Err(e) => {
                failures += 1;
                if failures > 8 {
                    return Err(e);
                }
                if let Ok(client) = shared.client().await {
                    let _ = client
                        .execute(
                            "UPDATE deletions_running SET last_error = $2 WHERE id = $1",
                            &[&job, &e.to_string()],
                        )
                        .await;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200 << failures.min(6))).await;
            }
        }
    }
}

/// Dead rows keep their bytes until vacuumed: the tables a deletion touched are vacuumed
/// (index entries included) once it is done. Best effort: autovacuum gets there anyway.
async fn vacuum(shared: &Shared, days: &BTreeSet<i32>) {
    let Ok(client) = shared.client().await else {
        return;
    };
    let mut tables: Vec<String> = days.iter().map(|d| crate::partitions::table(*d)).collect();
    tables.extend(["identity_links", "consent_ledger", "replay_chunks"].map(String::from));
    for table in tables {
        if let Err(e) = client
            .batch_execute(&format!("VACUUM (INDEX_CLEANUP ON) {table}"))
            .await
        {
            tracing::debug!(error = %crate::describe(&e), table, "vacuum after a deletion");
        }
    }
}

struct Running {
    subject: Subject,
    actor: String,
    started_at_ms: i64,
    counts: Counts,
}

async fn running(tx: &impl GenericClient, job: &str) -> Result<Option<Running>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT project, subject_ids, actor, started_at, counts FROM deletions_running
             WHERE id = $1 FOR UPDATE",
            &[&job],
        )
        .await
        .map_err(commit_error)?;
    Ok(row.map(|r| Running {
        subject: Subject {
            project: r.get(0),
            ids: serde_json::from_str(r.get(1)).unwrap_or_default(),
        },
        actor: r.get(2),
        started_at_ms: r.get(3),
        counts: serde_json::from_str(r.get(4)).unwrap_or_default(),
    }))
}

/// The subject's rows of a table, `$1` its ids and `$2` its project.
const OF_SUBJECT: &str = "project = $2 AND (anonymous_id = ANY($1) OR user_id = ANY($1))";

async fn step(shared: &Shared, job: &str) -> Result<Step, StoreError> {
    let mut client = shared.client().await?;
    let tx = client.transaction().await.map_err(commit_error)?;
    let Some(mut running) = running(&tx, job).await? else {
        return Ok(Step::Gone);
    };
    let ids = &running.subject.ids;
    let project = &running.subject.project;
    let mut deleted: Option<(&str, u64, Option<i32>)> = None;
    for day in crate::partitions::list(&tx).await.map_err(commit_error)? {
        let table = crate::partitions::table(day);
        let n = tx
            .execute(
                &format!(
                    "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
                        SELECT ctid FROM {table} WHERE {OF_SUBJECT} LIMIT $3))"
                ),
                &[ids, project, &STEP_ROWS],
            )
            .await
            .map_err(commit_error)?;
        if n > 0 {
            crate::stats::day_changed(&tx, day, project).await?;
            deleted = Some(("events", n, Some(day)));
            break;
        }
    }
    if deleted.is_none() {
        for (kind, sql) in [
            (
                "identity_links",
                format!(
                    "DELETE FROM identity_links WHERE ctid = ANY(ARRAY(
                        SELECT ctid FROM identity_links WHERE {OF_SUBJECT} LIMIT $3))"
                ),
            ),
            (
                // Entries stay, as proof that a choice was made, without their plain ids; the
                // chain covers only keyed digests, so it still verifies.
                "consent",
                format!(
                    "UPDATE consent_ledger SET
                        anonymous_id = CASE WHEN anonymous_id = ANY($1) THEN NULL ELSE anonymous_id END,
                        user_id = CASE WHEN user_id = ANY($1) THEN NULL ELSE user_id END
                     WHERE id IN (SELECT id FROM consent_ledger WHERE {OF_SUBJECT} LIMIT $3)"
                ),
            ),
            (
                "replays",
                format!(
                    "DELETE FROM replay_chunks WHERE id IN (
                        SELECT id FROM replay_chunks WHERE {OF_SUBJECT} LIMIT $3)"
                ),
            ),
        ] {
            let n = tx
                .execute(&sql, &[ids, project, &STEP_ROWS])
                .await
                .map_err(commit_error)?;
            if n > 0 {
                deleted = Some((kind, n, None));
                break;
            }
        }
    }
    let step = match deleted {
        Some((kind, n, day)) => {
            *running.counts.entry(kind.to_string()).or_insert(0) += n;
            tx.execute(
                "UPDATE deletions_running SET counts = $2, last_error = NULL WHERE id = $1",
                &[
                    &job,
                    &serde_json::to_string(&running.counts).expect("counts serialise"),
                ],
            )
            .await
            .map_err(commit_error)?;
            Step::Deleted(day)
        }
        None => Step::Finished(finish(shared, &tx, job, running).await?),
    };
    tx.commit().await.map_err(commit_error)?;
    Ok(step)
}

async fn finish(
    shared: &Shared,
    tx: &impl GenericClient,
    job: &str,
    running: Running,
) -> Result<DeletionJob, StoreError> {
    let mut counts = running.counts;
    for kind in ["events", "identity_links", "consent", "replays"] {
        counts.entry(kind.to_string()).or_insert(0);
    }
    let finished_at_ms = crate::now_ms();
    let subject_hash = shared.hasher.hash_subject(&running.subject.ids);
    let counts_json = serde_json::to_string(&counts).expect("counts serialise");
    tx.execute(
        "INSERT INTO deletion_jobs (id, project, subject_hash, started_at, finished_at, counts)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &job,
            &running.subject.project,
            &subject_hash,
            &running.started_at_ms,
            &finished_at_ms,
            &counts_json,
        ],
    )
    .await
    .map_err(commit_error)?;
    crate::seam::record_audit_in(
        tx,
        &AuditEntry {
            at_ms: finished_at_ms,
            actor: running.actor,
            action: AuditAction::Deletion,
            project: running.subject.project.clone(),
            subject_hash: Some(subject_hash.clone()),
            counts: counts.clone(),
        },
    )
    .await?;
    // The plain identifiers were kept only for the steps.
    tx.execute("DELETE FROM deletions_running WHERE id = $1", &[&job])
        .await
        .map_err(commit_error)?;
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

/// A job of `project`, running or finished.
pub(crate) async fn job(
    client: &impl GenericClient,
    project: &str,
    job: &str,
) -> Result<Option<DeletionJob>, tokio_postgres::Error> {
    if let Some(r) = client
        .query_opt(
            "SELECT subject_hash, started_at, finished_at, counts FROM deletion_jobs
             WHERE id = $1 AND project = $2",
            &[&job, &project],
        )
        .await?
    {
        return Ok(Some(DeletionJob {
            job: job.to_string(),
            project: project.to_string(),
            subject_hash: Some(r.get(0)),
            started_at_ms: r.get(1),
            finished_at_ms: Some(r.get(2)),
            counts: serde_json::from_str(r.get(3)).unwrap_or_default(),
            last_error: None,
        }));
    }
    Ok(client
        .query_opt(
            "SELECT started_at, counts, last_error FROM deletions_running WHERE id = $1 AND project = $2",
            &[&job, &project],
        )
        .await?
        .map(|r| DeletionJob {
            job: job.to_string(),
            project: project.to_string(),
            subject_hash: None,
            started_at_ms: r.get(0),
            finished_at_ms: None,
            counts: serde_json::from_str(r.get(1)).unwrap_or_default(),
            last_error: r.get(2),
        }))
}

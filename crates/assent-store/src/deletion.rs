//! Subject deletion (GDPR Art. 17, CCPA "delete"): every event, link and plain identifier of a
//! connected subject, in one transaction on the writer, then suppression of its identifiers.
//!
//! Adding a kind of data means adding one entry to [`DELETION_KINDS`]. Session replays, kept
//! in `replays.db`, are deleted in the same transaction: maintenance work runs with that file
//! attached to the writer's connection (see `replays.rs`).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::audit::{self, AuditAction, AuditEntry, Counts};
use crate::subject_hash::SubjectHasher;
use crate::subjects::{self, Subject};
use crate::suppression::Suppression;
use crate::{SqliteStore, StoreError};

/// One kind of stored data a subject can have.
pub struct DeletionKind {
    /// The name counts are reported under.
    pub name: &'static str,
    /// Deletes (or erases) the subject's data of this kind; returns the rows touched. The
    /// hasher is the suppression list's, for kinds that keep their own list.
    pub delete: fn(&Transaction, &Subject, &SubjectHasher) -> rusqlite::Result<u64>,
}

/// Every kind a deletion covers, in order.
pub const DELETION_KINDS: &[DeletionKind] = &[
    DeletionKind {
        name: "events",
        delete: delete_events,
    },
    DeletionKind {
        name: "identity_links",
        delete: delete_links,
    },
    DeletionKind {
        name: "consent",
        delete: erase_ledger_ids,
    },
    DeletionKind {
        name: "replays",
        delete: |tx, s, hasher| crate::replays::delete_subject(tx, s, hasher),
    },
];

/// Events go whole, with their visitor hash, IP and payload.
fn delete_events(tx: &Transaction, s: &Subject, _: &SubjectHasher) -> rusqlite::Result<u64> {
    delete_rows_of(tx, "events", s)
}

fn delete_links(tx: &Transaction, s: &Subject, _: &SubjectHasher) -> rusqlite::Result<u64> {
    delete_rows_of(tx, "identity_links", s)
}

/// Deletes the rows of `table` whose `anonymous_id` or `user_id` is one of the subject's
/// (each column through its own index).
fn delete_rows_of(tx: &Transaction, table: &str, s: &Subject) -> rusqlite::Result<u64> {
    let mut n = 0;
    for column in ["anonymous_id", "user_id"] {
        n += tx.execute(
            &format!(
                "DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?1)) AND project = ?2"
            ),
            params![s.ids_json(), s.project],
        )?;
    }
    Ok(n as u64)
}

/// Consent-ledger entries stay, as proof that a choice was made (GDPR Art. 7(1)), but lose
/// their plain identifiers; the chain covers only digests, so it still verifies.
fn erase_ledger_ids(tx: &Transaction, s: &Subject, _: &SubjectHasher) -> rusqlite::Result<u64> {
    tx.execute(
        "UPDATE consent_ledger SET
            anonymous_id = CASE WHEN anonymous_id IN (SELECT value FROM json_each(?1)) THEN NULL ELSE anonymous_id END,
            user_id = CASE WHEN user_id IN (SELECT value FROM json_each(?1)) THEN NULL ELSE user_id END
         WHERE project = ?2 AND id IN (
            SELECT id FROM consent_ledger WHERE anonymous_id IN (SELECT value FROM json_each(?1))
            UNION SELECT id FROM consent_ledger WHERE user_id IN (SELECT value FROM json_each(?1)))",
        params![s.ids_json(), s.project],
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

/// A finished deletion, as `GET /v1/admin/deletions/{job}` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionJob {
    pub job: String,
    pub project: String,
    pub subject_hash: String,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    /// Rows removed or erased per kind, and `suppressed_ids` added to the suppression list.
    pub counts: Counts,
}

fn delete_in(
    tx: &Transaction,
    suppression: &mut Suppression,
    request: &DeletionRequest,
    started_at_ms: i64,
) -> rusqlite::Result<DeletionJob> {
    let subject = subjects::resolve(tx, &request.project, &request.id)?;
    let mut counts = Counts::new();
    for kind in DELETION_KINDS {
        counts.insert(
            kind.name.to_string(),
            (kind.delete)(tx, &subject, suppression.hasher())?,
        );
    }
    let finished_at_ms = crate::now_ms();
    let added = suppression.add(tx, &subject.project, &subject.ids, finished_at_ms)?;
    counts.insert("suppressed_ids".into(), added as u64);
    let subject_hash = suppression.hasher().hash_subject(&subject.ids);
    let job = DeletionJob {
        job: request.job_id.clone(),
        project: request.project.clone(),
        subject_hash: subject_hash.clone(),
        started_at_ms,
        finished_at_ms,
        counts: counts.clone(),
    };
    tx.execute(
        "INSERT INTO deletion_jobs (id, project, subject_hash, started_at, finished_at, counts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            job.job,
            job.project,
            job.subject_hash,
            job.started_at_ms,
            job.finished_at_ms,
            serde_json::to_string(&job.counts).expect("counts serialise"),
        ],
    )?;
    audit::record(
        tx,
        &AuditEntry {
            at_ms: finished_at_ms,
            actor: request.actor.clone(),
            action: AuditAction::Deletion,
            project: request.project.clone(),
            subject_hash: Some(subject_hash),
            counts,
        },
    )?;
    Ok(job)
}

impl SqliteStore {
    /// Deletes a connected subject on the writer (between appends, never racing them), adds
    /// its identifiers to the suppression list, then checkpoints and truncates the WAL so no
    /// earlier copy of a deleted page is left in it.
    pub async fn delete_subject(
        &self,
        request: DeletionRequest,
    ) -> Result<DeletionJob, StoreError> {
        let started_at_ms = crate::now_ms();
        let job = self
            .maintain(move |tx, suppression| delete_in(tx, suppression, &request, started_at_ms))?
            .await?;
        self.compact().await?;
        Ok(job)
    }

    /// Copies the WAL into the main file and truncates it, then gives free pages back to the
    /// file system. Both are best effort: a reader holding an old snapshot can delay them.
    pub async fn compact(&self) -> Result<(), StoreError> {
        self.on_writer(|conn| {
            let mut schemas = vec!["main"];
            if crate::replays::is_attached(conn)? {
                schemas.push(crate::replays::ATTACHED_AS);
            }
            for schema in schemas {
                // The pragma frees one page per step: it must be stepped to its end.
                let mut vacuum = conn.prepare(&format!("PRAGMA {schema}.incremental_vacuum"))?;
                let mut steps = vacuum.query([])?;
                while steps.next()?.is_some() {}
                drop(steps);
                conn.query_row(
                    &format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)"),
                    [],
                    |_| Ok(()),
                )?;
            }
            Ok(())
        })?
        .await
    }
}

/// A finished deletion job of `project`, if there is one by that id.
pub fn deletion_job(
    conn: &Connection,
    project: &str,
    job: &str,
) -> rusqlite::Result<Option<DeletionJob>> {
    conn.query_row(
        "SELECT subject_hash, started_at, finished_at, counts FROM deletion_jobs
         WHERE id = ?1 AND project = ?2",
        params![job, project],
        |r| {
            Ok(DeletionJob {
                job: job.to_string(),
                project: project.to_string(),
                subject_hash: r.get(0)?,
                started_at_ms: r.get(1)?,
                finished_at_ms: r.get(2)?,
                counts: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
            })
        },
    )
    .optional()
}

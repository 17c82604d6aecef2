//! The PostgreSQL engine behind the [`Store`] seam: each operation runs on the store's own
//! runtime; the blocking ones wait for it on the caller's (blocking) thread.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use assent_core::StoredEvent;
use assent_store::audit::{AuditAction, AuditEntry, Counts};
use assent_store::deletion::{DeletionJob, DeletionRequest};
use assent_store::export::ExportError;
use assent_store::replays::{NewChunk, ReplaySession, Stored, StoredChunk};
use assent_store::retention::{NothingExpired, RetentionReport, RetentionRule};
use assent_store::stats::portable::{self, StatsDay};
use assent_store::stats::{
    ConsentStats, Dimension, Funnel, FunnelStep, Interval, PrivacyActivity, PropertyRow,
    StatsQuery, TopList, Traffic,
};
use assent_store::subjects::Subject;
use assent_store::{Ack, AppendReport, LedgerError, Store, StoreError, StoreFuture, VisitorDay};
use tokio_postgres::GenericClient;

use crate::{commit_error, read_error, Job, PostgresStore};

/// Appends an entry to the audit trail in `client`'s transaction.
pub(crate) async fn record_audit_in(
    client: &impl GenericClient,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO audit_log (at, actor, action, project, subject_hash, counts)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &entry.at_ms,
                &crate::text::pg(&entry.actor).as_ref(),
                &entry.action.as_str(),
                &crate::text::pg(&entry.project).as_ref(),
                &entry.subject_hash,
                &serde_json::to_string(&entry.counts).expect("counts serialise"),
            ],
        )
        .await
        .map(drop)
        .map_err(commit_error)
}

impl PostgresStore {
    /// Computes a statistic from the digests of the query's days.
    fn on_days<T: Send + 'static>(
        &self,
        query: StatsQuery,
        compute: impl FnOnce(&[StatsDay], &StatsQuery) -> T + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let shared = self.shared.clone();
        self.spawn(async move {
            let days = crate::stats::days(&shared, &query).await?;
            Ok(tokio::task::block_in_place(|| compute(&days, &query)))
        })
    }
}

impl Store for PostgresStore {
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

    fn accept_deletion(&self, request: DeletionRequest) -> StoreFuture<'_, ()> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::deletion::accept(&shared, request).await })
    }

    fn run_deletion(&self, job: String) -> StoreFuture<'_, Option<DeletionJob>> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::deletion::run(&shared, job).await })
    }

    fn unfinished_deletions(&self) -> StoreFuture<'_, Vec<String>> {
        let shared = self.shared.clone();
        self.spawn(async move {
            let client = shared.client().await?;
            let rows = client
                .query("SELECT id FROM deletions_running ORDER BY started_at", &[])
                .await
                .map_err(read_error)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn deletion_job(&self, project: String, job: String) -> StoreFuture<'_, Option<DeletionJob>> {
        let shared = self.shared.clone();
        self.spawn(async move {
            let client = shared.client().await?;
            crate::deletion::job(&*client, &project, &job)
                .await
                .map_err(read_error)
        })
    }

    fn write_export(
        &self,
        project: &str,
        id: &str,
        generated_at_ms: i64,
        out: &mut dyn Write,
    ) -> Result<(Subject, Counts), ExportError> {
        // A few pieces in flight: the reader stays just ahead of the writer.
        let (pieces, receiver) = tokio::sync::mpsc::channel(64);
        self.handle.spawn(crate::export::produce(
            self.shared.clone(),
            project.to_string(),
            id.to_string(),
            generated_at_ms,
            pieces,
        ));
        crate::export::write(receiver, out)
    }

    fn consent_history(
        &self,
        project: String,
        id: String,
    ) -> StoreFuture<'_, Vec<String>, ExportError> {
        let shared = self.shared.clone();
        let task = self.handle.spawn(async move {
            let client = shared.client().await?;
            let project = crate::text::pg(&project).into_owned();
            let subject = crate::deletion::resolve(&*client, &project, &id)
                .await
                .map_err(|e| ExportError::Store(read_error(e)))?;
            crate::export::consent_history_of(&*client, &subject).await
        });
        Box::pin(async move {
            task.await
                .map_err(|e| ExportError::Store(StoreError::Read(e.to_string())))?
        })
    }

    fn verify_ledger(&self) -> StoreFuture<'_, usize, LedgerError> {
        let shared = self.shared.clone();
        let task = self.handle.spawn(async move {
            let mut client = shared.client().await?;
            // One snapshot for the whole walk, while appends go on.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(|e| LedgerError::Store(read_error(e)))?;
            crate::ledger::verify(&tx).await
        });
        Box::pin(async move {
            task.await
                .map_err(|e| LedgerError::Store(StoreError::Read(e.to_string())))?
        })
    }

    fn record_audit(&self, entry: AuditEntry) -> StoreFuture<'_, ()> {
        let shared = self.shared.clone();
        self.spawn(async move {
            let client = shared.client().await?;
            record_audit_in(&*client, &entry).await
        })
    }

    fn audit(&self, project: String, limit: u32) -> StoreFuture<'_, Vec<AuditEntry>> {
        let shared = self.shared.clone();
        self.spawn(async move {
            let client = shared.client().await?;
            let rows = client
                .query(
                    "SELECT at, actor, action, subject_hash, counts FROM audit_log
                     WHERE project = $1 ORDER BY id DESC LIMIT $2",
                    &[&project, &i64::from(limit)],
                )
                .await
                .map_err(read_error)?;
            Ok(rows
                .iter()
                .map(|r| AuditEntry {
                    at_ms: r.get(0),
                    actor: r.get(1),
                    action: AuditAction::from_name(r.get(2)),
                    project: project.clone(),
                    subject_hash: r.get(3),
                    counts: serde_json::from_str(r.get(4)).unwrap_or_default(),
                })
                .collect())
        })
    }

    fn subject_hash(&self, ids: &[String]) -> String {
        self.shared.hasher.hash_subject(ids)
    }

    fn run_retention(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
        actor: String,
        nothing_expired: NothingExpired,
    ) -> StoreFuture<'_, RetentionReport> {
        let shared = self.shared.clone();
        self.spawn(async move {
            crate::retention::run(&shared, &rules, now_ms, &actor, nothing_expired).await
        })
    }

    fn retention_preview(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
    ) -> StoreFuture<'_, RetentionReport> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::retention::preview(&shared, &rules, now_ms).await })
    }

    fn visitors_per_day(&self, days: u32) -> StoreFuture<'_, Vec<VisitorDay>> {
        let shared = self.shared.clone();
        self.spawn(async move {
            let client = shared.client().await?;
            let first = crate::append::day_of(crate::now_ms()) - days as i32;
            let rows = client
                .query(
                    "SELECT day, project, count(DISTINCT visitor_hash), count(*) FROM events
                     WHERE day >= $1 GROUP BY day, project ORDER BY day, project",
                    &[&first],
                )
                .await
                .map_err(read_error)?;
            Ok(rows
                .iter()
                .map(|r| VisitorDay {
                    day: crate::partitions::date(r.get(0)),
                    project: r.get(1),
                    visitors: r.get::<_, i64>(2) as u64,
                    events: r.get::<_, i64>(3) as u64,
                })
                .collect())
        })
    }

    fn stats_traffic(&self, query: StatsQuery, interval: Interval) -> StoreFuture<'_, Traffic> {
        self.on_days(query, move |days, q| portable::traffic(days, q, interval))
    }

    fn stats_top(
        &self,
        query: StatsQuery,
        dimension: Dimension,
        limit: usize,
    ) -> StoreFuture<'_, TopList> {
        self.on_days(query, move |days, q| {
            portable::top(days, q, dimension, limit)
        })
    }

    fn stats_event_properties(
        &self,
        query: StatsQuery,
        event: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<PropertyRow>> {
        self.on_days(query, move |days, q| {
            portable::event_properties(days, q, &event, limit)
        })
    }

    fn stats_funnel(&self, query: StatsQuery, steps: Vec<FunnelStep>) -> StoreFuture<'_, Funnel> {
        self.on_days(query, move |days, q| portable::funnel(days, q, &steps))
    }

    fn stats_consent(
        &self,
        query: StatsQuery,
        interval: Interval,
    ) -> StoreFuture<'_, ConsentStats> {
        self.on_days(query, move |days, q| portable::consent(days, q, interval))
    }

    fn stats_privacy(
        &self,
        query: StatsQuery,
        interval: Interval,
    ) -> StoreFuture<'_, PrivacyActivity> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::stats::privacy(&shared, &query, interval).await })
    }

    fn insert_replay_chunk(&self, chunk: NewChunk) -> StoreFuture<'_, Stored> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::replays::insert(&shared, chunk).await })
    }

    fn replay_sessions(
        &self,
        project: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<ReplaySession>> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::replays::sessions(&shared, project, limit).await })
    }

    fn replay_chunk_seqs(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<i64>> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::replays::chunk_seqs(&shared, project, session_id).await })
    }

    fn replay_subject_ids(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<String>> {
        let shared = self.shared.clone();
        self.spawn(async move { crate::replays::subject_ids(&shared, project, session_id).await })
    }

    fn replay_chunk(
        &self,
        project: &str,
        session_id: i64,
        seq: i64,
    ) -> Result<Option<StoredChunk>, StoreError> {
        let shared = self.shared.clone();
        let project = project.to_string();
        self.block(async move { crate::replays::chunk(&shared, project, session_id, seq).await })
    }

    fn close(&self) {
        PostgresStore::close(self)
    }
}

//! The store seam: every operation the collector and the command line ask of a store, by name.
//!
//! Handlers and commands hold an `Arc<dyn Store>` and never see the engine behind it: no SQL,
//! no connection, no file above this line. Operations that wait on the engine return a
//! [`StoreFuture`] and do their blocking work on threads of their own (the writer, tokio's
//! blocking pool), never on the async threads that answer requests. The few marked
//! *blocking* (streamed writes of exports and replays) are meant to be called from a blocking
//! thread, where their output is written as it is read.
//!
//! [`SqliteStore`](crate::SqliteStore) is the embedded engine. Another engine plugs in by
//! implementing this trait; nothing above it changes.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;

use assent_core::StoredEvent;

use crate::audit::{AuditEntry, Counts};
use crate::deletion::{DeletionJob, DeletionRequest};
use crate::export::ExportError;
use crate::ledger::LedgerError;
use crate::replays::{NewChunk, ReplaySession, Stored, StoredChunk};
use crate::retention::{NothingExpired, RetentionReport, RetentionRule};
use crate::stats::{
    ConsentStats, Dimension, Funnel, FunnelStep, Interval, PrivacyActivity, PropertyRow,
    StatsQuery, TopList, Traffic,
};
use crate::subjects::Subject;
use crate::{Ack, AppendReport, StoreError};

/// What an asynchronous store operation returns.
pub type StoreFuture<'a, T, E = StoreError> =
    Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'a>>;

/// Daily unique visitors and events of one project, by the cookieless visitor hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorDay {
    pub project: String,
    /// `2026-11-30` (UTC).
    pub day: String,
    pub visitors: u64,
    pub events: u64,
}

/// What the collector and the command line need from a store.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use assent_store::{SqliteStore, Store, StoreOptions};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path(), StoreOptions::default()).unwrap());
/// store.probe().unwrap().await.unwrap();
/// assert!(store.audit("shop".into(), 10).await.unwrap().is_empty());
/// store.close();
/// # }
/// ```
pub trait Store: Send + Sync + 'static {
    // Ingest.

    /// Queues events for durable commit. The returned [`Ack`] resolves once they are on disk;
    /// an immediate `Err` means the store cannot take them now (the client should retry).
    fn append(
        &self,
        project: Arc<str>,
        events: Vec<StoredEvent>,
    ) -> Result<Ack<AppendReport>, StoreError>;

    /// Proves the store can commit right now, through the same path as events.
    fn probe(&self) -> Result<Ack<()>, StoreError>;

    /// Events accepted but not yet committed.
    fn queue_depth(&self) -> usize;

    // Deletion (GDPR Art. 17, CCPA delete).

    /// Accepts a deletion: the subject is suppressed and the job persisted when this resolves.
    fn accept_deletion(&self, request: DeletionRequest) -> StoreFuture<'_, ()>;

    /// Works an accepted job to its end; `None` if no such job is running.
    fn run_deletion(&self, job: String) -> StoreFuture<'_, Option<DeletionJob>>;

    /// Jobs a crash or a stop left unfinished.
    fn unfinished_deletions(&self) -> StoreFuture<'_, Vec<String>>;

    /// A job of `project`, running or finished.
    fn deletion_job(&self, project: String, job: String) -> StoreFuture<'_, Option<DeletionJob>>;

    // Access (GDPR Art. 15/20, CCPA know) and proof.

    /// *Blocking.* Writes the export of subject `id` to `out` as it is read; returns the
    /// subject and how many items each section had.
    fn write_export(
        &self,
        project: &str,
        id: &str,
        generated_at_ms: i64,
        out: &mut dyn Write,
    ) -> Result<(Subject, Counts), ExportError>;

    /// The subject's consent-ledger entries, oldest first, each as JSON text.
    fn consent_history(
        &self,
        project: String,
        id: String,
    ) -> StoreFuture<'_, Vec<String>, ExportError>;

    /// Walks the consent ledger's hash chain; returns how many entries verified.
    fn verify_ledger(&self) -> StoreFuture<'_, usize, LedgerError>;

    /// Records one privacy operation in the audit trail.
    fn record_audit(&self, entry: AuditEntry) -> StoreFuture<'_, ()>;

    /// The newest `limit` entries of a project's audit trail.
    fn audit(&self, project: String, limit: u32) -> StoreFuture<'_, Vec<AuditEntry>>;

    /// The keyed hash the audit trail shows for a subject (its sorted identifiers).
    fn subject_hash(&self, ids: &[String]) -> String;

    // Retention.

    /// Deletes everything expired under `rules`, and audits it.
    fn run_retention(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
        actor: String,
        nothing_expired: NothingExpired,
    ) -> StoreFuture<'_, RetentionReport>;

    /// What [`Store::run_retention`] would delete now.
    fn retention_preview(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
    ) -> StoreFuture<'_, RetentionReport>;

    // Audience.

    /// Daily unique visitors and events per project, over the last `days` days.
    fn visitors_per_day(&self, days: u32) -> StoreFuture<'_, Vec<VisitorDay>>;

    // Dashboard statistics: what `crate::stats` says is counted, over a query's period and
    // filters. Reads only; answers of a few kilobytes, whatever the period.

    /// Visitors, visits, pageviews, bounces and durations, in all and per `interval`.
    fn stats_traffic(&self, query: StatsQuery, interval: Interval) -> StoreFuture<'_, Traffic>;

    /// The `limit` values of `dimension` with the most visitors.
    fn stats_top(
        &self,
        query: StatsQuery,
        dimension: Dimension,
        limit: usize,
    ) -> StoreFuture<'_, TopList>;

    /// The scalar properties of custom event `event`, by value.
    fn stats_event_properties(
        &self,
        query: StatsQuery,
        event: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<PropertyRow>>;

    /// Consented visits reaching each of 2 to 5 steps in order.
    fn stats_funnel(&self, query: StatsQuery, steps: Vec<FunnelStep>) -> StoreFuture<'_, Funnel>;

    /// Consent choices and visitors' consent states (filters select visits as elsewhere).
    fn stats_consent(&self, query: StatsQuery, interval: Interval)
        -> StoreFuture<'_, ConsentStats>;

    /// Deletions, exports, retention runs and suppressed events (filters do not apply).
    fn stats_privacy(
        &self,
        query: StatsQuery,
        interval: Interval,
    ) -> StoreFuture<'_, PrivacyActivity>;

    // Session replay.

    /// Stores a chunk once; a retry, a chunk of a suppressed subject or one past its session's
    /// cap stores nothing (the answer says which).
    fn insert_replay_chunk(&self, chunk: NewChunk) -> StoreFuture<'_, Stored>;

    /// The project's recorded sessions, newest first.
    fn replay_sessions(&self, project: String, limit: usize)
        -> StoreFuture<'_, Vec<ReplaySession>>;

    /// The sequence numbers of one session's chunks, in order.
    fn replay_chunk_seqs(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<i64>>;

    /// The identifiers a session was recorded under.
    fn replay_subject_ids(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<String>>;

    /// *Blocking.* One stored chunk, still compressed.
    fn replay_chunk(
        &self,
        project: &str,
        session_id: i64,
        seq: i64,
    ) -> Result<Option<StoredChunk>, StoreError>;

    /// Commits everything already queued, then stops. Safe to call more than once.
    fn close(&self);
}

//! The SQLite engine behind the [`Store`] seam: each operation is the store's own, with its
//! blocking reads moved to tokio's blocking pool.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use assent_core::StoredEvent;
use rusqlite::Connection;

use crate::audit::{AuditEntry, Counts};
use crate::deletion::{DeletionJob, DeletionRequest};
use crate::export::ExportError;
use crate::ledger::LedgerError;
use crate::replays::{NewChunk, ReplaySession, Stored, StoredChunk};
use crate::retention::{NothingExpired, RetentionReport, RetentionRule};
use crate::stats::{
    self, ConsentStats, Dimension, Funnel, FunnelStep, Interval, PrivacyActivity, PropertyRow,
    StatsQuery, TopList, Traffic,
};
use crate::store::{Store, StoreFuture, VisitorDay};
use crate::subjects::Subject;
use crate::writer::Job;
use crate::{Ack, AppendReport, SqliteStore, StoreError};

fn read_error(e: rusqlite::Error) -> StoreError {
    StoreError::Read(e.to_string())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        read_error(e)
    }
}

impl SqliteStore {
    /// Runs `read` on a fresh read-only connection, on the blocking pool.
    fn read<T, E>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> StoreFuture<'_, T, E>
    where
        T: Send + 'static,
        E: From<rusqlite::Error> + From<StoreError> + Send + 'static,
    {
        let path = self.path().to_path_buf();
        let dir = self.dir().to_path_buf();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = crate::sqlite::read_connection(&path, &dir)?;
                read(&conn)
            })
            .await
            .map_err(|e| E::from(StoreError::Commit(e.to_string())))?
        })
    }

    /// Computes a statistic from the digests of the query's days, on the blocking pool.
    fn on_digests<T: Send + 'static>(
        &self,
        query: StatsQuery,
        compute: impl FnOnce(&[Arc<stats::DayDigest>], &StatsQuery) -> T + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let engine = self.stats_engine();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let days = engine
                    .digests(query.from_ms, query.to_ms, crate::now_ms())
                    .map_err(read_error)?;
                Ok(compute(&days, &query))
            })
            .await
            .map_err(|e| StoreError::Commit(e.to_string()))?
        })
    }

    /// Runs a blocking call of the replay store on the blocking pool.
    fn on_replays<T: Send + 'static>(
        &self,
        call: impl FnOnce(&crate::ReplayStore) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let replays = self.replays();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || call(&replays))
                .await
                .map_err(|e| StoreError::Commit(e.to_string()))?
        })
    }
}

impl From<StoreError> for rusqlite::Error {
    fn from(e: StoreError) -> rusqlite::Error {
        crate::partition::failure(e.to_string())
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

    fn accept_deletion(&self, request: DeletionRequest) -> StoreFuture<'_, ()> {
        Box::pin(SqliteStore::accept_deletion(self, request))
    }

    fn run_deletion(&self, job: String) -> StoreFuture<'_, Option<DeletionJob>> {
        Box::pin(SqliteStore::run_deletion(self, job))
    }

    fn unfinished_deletions(&self) -> StoreFuture<'_, Vec<String>> {
        self.read(|conn| {
            let mut query = conn.prepare("SELECT id FROM deletions_running ORDER BY started_at")?;
            let ids = query.query_map([], |r| r.get(0))?;
            Ok(ids.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn deletion_job(&self, project: String, job: String) -> StoreFuture<'_, Option<DeletionJob>> {
        self.read(move |conn| {
            crate::deletion::deletion_job(conn, &project, &job).map_err(read_error)
        })
    }

    fn write_export(
        &self,
        project: &str,
        id: &str,
        generated_at_ms: i64,
        out: &mut dyn Write,
    ) -> Result<(Subject, Counts), ExportError> {
        let conn = crate::sqlite::read_connection(self.path(), self.dir())?;
        crate::export::export_subject(&conn, project, id, generated_at_ms, out)
    }

    fn consent_history(
        &self,
        project: String,
        id: String,
    ) -> StoreFuture<'_, Vec<String>, ExportError> {
        self.read(move |conn| crate::export::consent_history(conn, &project, &id))
    }

    fn verify_ledger(&self) -> StoreFuture<'_, usize, LedgerError> {
        self.read(crate::ledger::verify_ledger)
    }

    fn record_audit(&self, entry: AuditEntry) -> StoreFuture<'_, ()> {
        Box::pin(SqliteStore::record_audit(self, entry))
    }

    fn audit(&self, project: String, limit: u32) -> StoreFuture<'_, Vec<AuditEntry>> {
        self.read(move |conn| crate::audit::list_audit(conn, &project, limit).map_err(read_error))
    }

    fn subject_hash(&self, ids: &[String]) -> String {
        self.subject_hasher().hash_subject(ids)
    }

    fn run_retention(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
        actor: String,
        nothing_expired: NothingExpired,
    ) -> StoreFuture<'_, RetentionReport> {
        Box::pin(async move {
            SqliteStore::run_retention(self, rules, now_ms, &actor, nothing_expired).await
        })
    }

    fn retention_preview(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
    ) -> StoreFuture<'_, RetentionReport> {
        self.read(move |conn| {
            crate::retention::retention_preview(conn, &rules, now_ms).map_err(read_error)
        })
    }

    fn visitors_per_day(&self, days: u32) -> StoreFuture<'_, Vec<VisitorDay>> {
        let dir = self.dir().to_path_buf();
        self.read(move |_| {
            crate::audience::visitors_per_day(&dir, days, crate::now_ms()).map_err(read_error)
        })
    }

    fn stats_traffic(&self, query: StatsQuery, interval: Interval) -> StoreFuture<'_, Traffic> {
        self.on_digests(query, move |days, q| stats::traffic(days, q, interval))
    }

    fn stats_top(
        &self,
        query: StatsQuery,
        dimension: Dimension,
        limit: usize,
    ) -> StoreFuture<'_, TopList> {
        self.on_digests(query, move |days, q| stats::top(days, q, dimension, limit))
    }

    fn stats_event_properties(
        &self,
        query: StatsQuery,
        event: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<PropertyRow>> {
        self.on_digests(query, move |days, q| {
            stats::event_properties(days, q, &event, limit)
        })
    }

    fn stats_funnel(&self, query: StatsQuery, steps: Vec<FunnelStep>) -> StoreFuture<'_, Funnel> {
        self.on_digests(query, move |days, q| stats::funnel(days, q, &steps))
    }

    fn stats_consent(
        &self,
        query: StatsQuery,
        interval: Interval,
    ) -> StoreFuture<'_, ConsentStats> {
        self.on_digests(query, move |days, q| stats::consent(days, q, interval))
    }

    fn stats_privacy(
        &self,
        query: StatsQuery,
        interval: Interval,
    ) -> StoreFuture<'_, PrivacyActivity> {
        let engine = self.stats_engine();
        self.read(move |conn| {
            engine.notice_privacy_work().map_err(read_error)?;
            stats::privacy_activity(conn, &engine, &query, interval).map_err(read_error)
        })
    }

    fn insert_replay_chunk(&self, chunk: NewChunk) -> StoreFuture<'_, Stored> {
        self.on_replays(move |replays| replays.insert(&chunk))
    }

    fn replay_sessions(
        &self,
        project: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<ReplaySession>> {
        self.on_replays(move |replays| replays.sessions(&project, limit))
    }

    fn replay_chunk_seqs(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<i64>> {
        self.on_replays(move |replays| replays.chunk_seqs(&project, session_id))
    }

    fn replay_subject_ids(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<String>> {
        self.on_replays(move |replays| replays.subject_ids(&project, session_id))
    }

    fn replay_chunk(
        &self,
        project: &str,
        session_id: i64,
        seq: i64,
    ) -> Result<Option<StoredChunk>, StoreError> {
        self.replays().chunk(project, session_id, seq)
    }

    fn close(&self) {
        SqliteStore::close(self)
    }
}

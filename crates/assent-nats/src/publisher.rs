//! The collector's side of the ingest log: a [`Store`] whose appends are published to
//! JetStream and acknowledged once JetStream has them; every other operation (privacy
//! requests, replays, reads) goes to the shared PostgreSQL store directly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use assent_core::StoredEvent;
use assent_postgres::BackgroundRuntime;
use assent_store::audit::{AuditEntry, Counts};
use assent_store::deletion::{DeletionJob, DeletionRequest};
use assent_store::export::ExportError;
use assent_store::replays::{NewChunk, ReplaySession, Stored, StoredChunk};
use assent_store::retention::{NothingExpired, RetentionReport, RetentionRule};
use assent_store::stats::{
    ConsentStats, Dimension, Funnel, FunnelStep, Interval, PrivacyActivity, PropertyRow,
    StatsQuery, TopList, Traffic,
};
use assent_store::subjects::Subject;
use assent_store::{Ack, AppendReport, LedgerError, Store, StoreError, StoreFuture, VisitorDay};
use async_nats::jetstream::{self, message::PublishMessage};

use crate::{QueueError, QueueOptions};

/// Appends go to JetStream; the rest to `inner` (the PostgreSQL store the sinks fill).
pub struct QueuedStore {
    runtime: Mutex<BackgroundRuntime>,
    handle: tokio::runtime::Handle,
    js: jetstream::Context,
    stream: String,
    subject_prefix: String,
    inner: Arc<dyn Store>,
    in_flight: Arc<AtomicUsize>,
    /// Events that may wait for JetStream's acknowledgement before new ones get `503`.
    capacity: usize,
}

impl QueuedStore {
    /// Connects to NATS and makes the stream if it is not there yet.
    pub fn open(
        options: &QueueOptions,
        inner: Arc<dyn Store>,
        capacity_events: usize,
    ) -> Result<QueuedStore, QueueError> {
        let runtime =
            BackgroundRuntime::new("assent-nats", 1).map_err(|e| QueueError(e.to_string()))?;
        let js = runtime.block_on(async {
            let client = crate::connect(&options.servers, "assent-collector").await?;
            let js = jetstream::new(client);
            crate::ensure_stream(&js, options).await?;
            Ok::<_, QueueError>(js)
        })?;
        Ok(QueuedStore {
            handle: runtime.handle(),
            runtime: Mutex::new(runtime),
            js,
            stream: options.stream.clone(),
            subject_prefix: options.subject_prefix.clone(),
            inner,
            in_flight: Arc::new(AtomicUsize::new(0)),
            capacity: capacity_events,
        })
    }
}

impl Store for QueuedStore {
    fn append(
        &self,
        project: Arc<str>,
        events: Vec<StoredEvent>,
    ) -> Result<Ack<AppendReport>, StoreError> {
        let count = events.len();
        let waiting = self.in_flight.fetch_add(count, Ordering::Relaxed);
        if waiting > self.capacity {
            self.in_flight.fetch_sub(count, Ordering::Relaxed);
            return Err(StoreError::QueueFull {
                capacity: self.capacity,
            });
        }
        let messages = crate::message::encode(&project, events);
        let subject = format!("{}.{project}", self.subject_prefix);
        let js = self.js.clone();
        let in_flight = self.in_flight.clone();
        let (ack, answer) = Ack::channel();
        self.handle.spawn(async move {
            let outcome = publish_all(&js, subject, messages).await;
            in_flight.fetch_sub(count, Ordering::Relaxed);
            let _ = ack.send(outcome);
        });
        Ok(answer)
    }

    fn probe(&self) -> Result<Ack<()>, StoreError> {
        let (ack, answer) = Ack::channel();
        let js = self.js.clone();
        let stream = self.stream.clone();
        self.handle.spawn(async move {
            let outcome = async {
                let mut stream = js.get_stream(&stream).await.map_err(unavailable)?;
                stream.info().await.map_err(unavailable)?;
                Ok(())
            }
            .await;
            let _ = ack.send(outcome);
        });
        Ok(answer)
    }

    fn queue_depth(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn accept_deletion(&self, request: DeletionRequest) -> StoreFuture<'_, ()> {
        self.inner.accept_deletion(request)
    }

    fn run_deletion(&self, job: String) -> StoreFuture<'_, Option<DeletionJob>> {
        self.inner.run_deletion(job)
    }

    fn unfinished_deletions(&self) -> StoreFuture<'_, Vec<String>> {
        self.inner.unfinished_deletions()
    }

    fn deletion_job(&self, project: String, job: String) -> StoreFuture<'_, Option<DeletionJob>> {
        self.inner.deletion_job(project, job)
    }

    fn write_export(
        &self,
        project: &str,
        id: &str,
        generated_at_ms: i64,
        out: &mut dyn std::io::Write,
    ) -> Result<(Subject, Counts), ExportError> {
        self.inner.write_export(project, id, generated_at_ms, out)
    }

    fn consent_history(
        &self,
        project: String,
        id: String,
    ) -> StoreFuture<'_, Vec<String>, ExportError> {
        self.inner.consent_history(project, id)
    }

    fn verify_ledger(&self) -> StoreFuture<'_, usize, LedgerError> {
        self.inner.verify_ledger()
    }

    fn record_audit(&self, entry: AuditEntry) -> StoreFuture<'_, ()> {
        self.inner.record_audit(entry)
    }

    fn audit(&self, project: String, limit: u32) -> StoreFuture<'_, Vec<AuditEntry>> {
        self.inner.audit(project, limit)
    }

    fn subject_hash(&self, ids: &[String]) -> String {
        self.inner.subject_hash(ids)
    }

    fn run_retention(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
        actor: String,
        nothing_expired: NothingExpired,
    ) -> StoreFuture<'_, RetentionReport> {
        self.inner
            .run_retention(rules, now_ms, actor, nothing_expired)
    }

    fn retention_preview(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
    ) -> StoreFuture<'_, RetentionReport> {
        self.inner.retention_preview(rules, now_ms)
    }

    fn visitors_per_day(&self, days: u32) -> StoreFuture<'_, Vec<VisitorDay>> {
        self.inner.visitors_per_day(days)
    }

    fn stats_traffic(&self, query: StatsQuery, interval: Interval) -> StoreFuture<'_, Traffic> {
        self.inner.stats_traffic(query, interval)
    }

    fn stats_top(
        &self,
        query: StatsQuery,
        dimension: Dimension,
        limit: usize,
    ) -> StoreFuture<'_, TopList> {
        self.inner.stats_top(query, dimension, limit)
    }

    fn stats_event_properties(
        &self,
        query: StatsQuery,
        event: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<PropertyRow>> {
        self.inner.stats_event_properties(query, event, limit)
    }

    fn stats_funnel(&self, query: StatsQuery, steps: Vec<FunnelStep>) -> StoreFuture<'_, Funnel> {
        self.inner.stats_funnel(query, steps)
    }

    fn stats_consent(
        &self,
        query: StatsQuery,
        interval: Interval,
    ) -> StoreFuture<'_, ConsentStats> {
        self.inner.stats_consent(query, interval)
    }

    fn stats_privacy(
        &self,
        query: StatsQuery,
        interval: Interval,
    ) -> StoreFuture<'_, PrivacyActivity> {
        self.inner.stats_privacy(query, interval)
    }

    fn insert_replay_chunk(&self, chunk: NewChunk) -> StoreFuture<'_, Stored> {
        self.inner.insert_replay_chunk(chunk)
    }

    fn replay_sessions(
        &self,
        project: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<ReplaySession>> {
        self.inner.replay_sessions(project, limit)
    }

    fn replay_chunk_seqs(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<i64>> {
        self.inner.replay_chunk_seqs(project, session_id)
    }

    fn replay_subject_ids(&self, project: String, session_id: i64) -> StoreFuture<'_, Vec<String>> {
        self.inner.replay_subject_ids(project, session_id)
    }

    fn replay_chunk(
        &self,
        project: &str,
        session_id: i64,
        seq: i64,
    ) -> Result<Option<StoredChunk>, StoreError> {
        self.inner.replay_chunk(project, session_id, seq)
    }

    fn close(&self) {
        self.inner.close();
        self.runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shut_down();
    }
}

impl Drop for QueuedStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Commit(format!("JetStream is not available: {e}"))
}

/// Publishes every message of a request and waits for all of JetStream's acknowledgements.
/// What JetStream recognised as a republish (same `Nats-Msg-Id`) counts as duplicates.
async fn publish_all(
    js: &jetstream::Context,
    subject: String,
    messages: Vec<crate::message::Encoded>,
) -> Result<AppendReport, StoreError> {
    let mut pending = Vec::with_capacity(messages.len());
    for m in messages {
        let publish = PublishMessage::build().payload(m.body).message_id(&m.id);
        let ack = js
            .send_publish(subject.clone(), publish)
            .await
            .map_err(unavailable)?;
        pending.push((ack, m.events));
    }
    let mut report = AppendReport::default();
    for (ack, events) in pending {
        let ack = ack.await.map_err(unavailable)?;
        if ack.duplicate {
            report.duplicates += events;
        } else {
            report.inserted += events;
        }
    }
    Ok(report)
}

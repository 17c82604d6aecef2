//! `assent sink`: drains the ingest log into PostgreSQL.
//!
//! Every sink pulls from one durable consumer, so JetStream shares the messages out between
//! however many run. A sink takes a batch, writes all its events in one transaction, and
//! acknowledges the messages only after the commit. A sink that dies mid-batch (its
//! transaction rolls back) leaves its messages unacknowledged: JetStream gives them to a sink
//! again after `ack_wait`. A sink that dies between the commit and the acks causes the same
//! redelivery, and the store's dedupe key (the same `received_at` day, client timestamp and
//! messageId) stores nothing twice. While PostgreSQL is away the sink keeps its batch, tells
//! JetStream it is still working on it, and retries; collectors go on acknowledging into
//! the stream meanwhile.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use assent_core::StoredEvent;
use assent_postgres::PostgresStore;
use async_nats::jetstream::{self, consumer::pull, AckKind};
use futures_util::StreamExt;

use crate::{QueueError, QueueOptions};

/// How long a pull waits for a full batch before taking what there is.
const PULL_WAIT: Duration = Duration::from_millis(200);

/// Batches one sink commits at once, each in its own transaction.
const BATCHES_IN_FLIGHT: usize = 2;

/// The durable consumer every sink shares, made if needed.
pub async fn consumer(
    js: &jetstream::Context,
    options: &QueueOptions,
) -> Result<jetstream::consumer::Consumer<pull::Config>, QueueError> {
    let stream = crate::ensure_stream(js, options).await?;
    stream
        .get_or_create_consumer(
            &options.consumer,
            pull::Config {
                durable_name: Some(options.consumer.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: options.ack_wait,
                max_ack_pending: (options.batch * 64) as i64,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| {
            QueueError(format!(
                "cannot open the consumer {}: {e}",
                options.consumer
            ))
        })
}

/// Runs a sink until `shutdown` resolves; the batch in hand is committed and acknowledged
/// before it returns.
pub async fn run(
    options: &QueueOptions,
    store: Arc<PostgresStore>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), QueueError> {
    let client = crate::connect(&options.servers, "assent-sink").await?;
    let js = jetstream::new(client);
    let consumer = consumer(&js, options).await?;
    tracing::info!(stream = %options.stream, consumer = %options.consumer, "sink started");
    tokio::pin!(shutdown);
    // Batches being committed: the next batch is pulled and decoded while the last one waits
    // for PostgreSQL's flush.
    let mut committing = tokio::task::JoinSet::new();
    loop {
        let batch = tokio::select! {
            () = &mut shutdown => break,
            batch = take_batch(&consumer, options.batch) => batch,
        };
        let messages = match batch {
            Ok(messages) => messages,
            Err(e) => {
                tracing::warn!(error = %e, "cannot pull from the stream; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        while committing.len() >= BATCHES_IN_FLIGHT {
            committing.join_next().await;
        }
        committing.spawn(store_batch(store.clone(), messages));
    }
    while committing.join_next().await.is_some() {}
    tracing::info!("sink stopped; every batch it took is committed and acknowledged");
    Ok(())
}

async fn take_batch(
    consumer: &jetstream::consumer::Consumer<pull::Config>,
    size: usize,
) -> Result<Vec<jetstream::Message>, QueueError> {
    let mut batch = consumer
        .batch()
        .max_messages(size)
        .expires(PULL_WAIT)
        .messages()
        .await
        .map_err(|e| QueueError(e.to_string()))?;
    let mut messages = Vec::with_capacity(size);
    while let Some(message) = batch.next().await {
        match message {
            Ok(message) => messages.push(message),
            Err(e) => {
                tracing::debug!(error = %e, "a pull ended early");
                break;
            }
        }
    }
    Ok(messages)
}

/// Commits a batch (retrying while PostgreSQL is away), then acknowledges it.
async fn store_batch(store: Arc<PostgresStore>, messages: Vec<jetstream::Message>) {
    let mut groups: Vec<(Arc<str>, Vec<StoredEvent>)> = Vec::with_capacity(messages.len());
    let mut readable = Vec::with_capacity(messages.len());
    for message in messages {
        match crate::message::decode(&message.payload) {
            Ok(m) => {
                groups.push((m.project.into(), m.events));
                readable.push(message);
            }
            Err(e) => {
                // Left in the stream for a sink that can read it; asked for again later.
                tracing::error!(error = %e, subject = %message.subject, "a message cannot be read");
                let _ = message
                    .ack_with(AckKind::Nak(Some(Duration::from_secs(60))))
                    .await;
            }
        }
    }
    let groups = Arc::new(groups);
    let mut failures = 0u32;
    loop {
        match store.append_batch(groups.clone()).await {
            Ok(reports) => {
                let events: usize = reports.iter().map(|r| r.inserted).sum();
                tracing::debug!(messages = readable.len(), events, "batch committed");
                break;
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "cannot commit a batch; keeping it and retrying");
                // Still working on them: JetStream must not hand them to another sink yet.
                for message in &readable {
                    let _ = message.ack_with(AckKind::Progress).await;
                }
                tokio::time::sleep(Duration::from_millis(250 << failures.min(4))).await;
            }
        }
    }
    for message in readable {
        if let Err(e) = message.ack().await {
            // Redelivered later, and deduplicated by the store.
            tracing::warn!(error = %e, "an acknowledgement was not sent");
        }
    }
}

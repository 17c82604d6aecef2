//! Assent's ingest log on NATS JetStream.
//!
//! With a queue configured, collectors hold no data: each request's processed events are
//! published to a JetStream stream (file storage, replicated) and the collector answers `200`
//! only once JetStream has acknowledged them ([`QueuedStore`]). `assent sink` workers pull
//! them in batches, write each batch into PostgreSQL in one transaction and acknowledge the
//! messages only after the commit ([`sink`]). Retries are harmless at both hops: a message's
//! `Nats-Msg-Id` is derived from its events' dedupe keys (JetStream drops a republish within
//! its duplicate window), and the store's dedupe window drops an event stored already.
//!
//! The visitor salts that every collector must share live in a JetStream key-value bucket
//! kept in memory only ([`salts`]).
//!
//! Only JetStream features of NATS server 2.9 are used: streams with work-queue retention,
//! durable pull consumers with explicit acks, `Nats-Msg-Id` deduplication, key-value buckets.

pub mod message;
pub mod publisher;
pub mod salts;
pub mod sink;

use std::time::Duration;

pub use publisher::QueuedStore;

/// Where the ingest log is and how it is shaped (`[queue]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// NATS servers, `nats://host:port`; any one of the cluster will do, more for failover.
    pub servers: Vec<String>,
    /// The stream's name; its subjects are `<subject_prefix>.<project>`.
    pub stream: String,
    pub subject_prefix: String,
    /// Copies of each message (3 in production: one node may be lost).
    pub replicas: usize,
    /// The durable consumer every sink shares.
    pub consumer: String,
    /// How long a sink may hold a message before it is given to another.
    pub ack_wait: Duration,
    /// How long an unconsumed message is kept at most (then it is lost: alert on sink lag).
    pub max_age: Duration,
    /// The most the stream may hold; past it, publishes are refused (`503`, retried).
    pub max_bytes: i64,
    /// Messages a sink takes (and commits) at once.
    pub batch: usize,
    /// How long JetStream remembers a `Nats-Msg-Id`.
    pub duplicate_window: Duration,
}

impl QueueOptions {
    pub fn new(servers: Vec<String>) -> QueueOptions {
        QueueOptions {
            servers,
            stream: "ASSENT_EVENTS".into(),
            subject_prefix: "assent.events".into(),
            replicas: 3,
            consumer: "assent-sinks".into(),
            ack_wait: Duration::from_secs(30),
            max_age: Duration::from_secs(7 * 24 * 60 * 60),
            max_bytes: -1,
            batch: 500,
            duplicate_window: Duration::from_secs(120),
        }
    }
}

/// Why the queue cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct QueueError(pub String);

/// A client of the configured servers that keeps reconnecting, for ever, to any of them.
pub async fn connect(servers: &[String], name: &str) -> Result<async_nats::Client, QueueError> {
    let addresses = servers
        .iter()
        .map(|s| s.parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| QueueError(format!("a NATS server address is not valid: {e}")))?;
    async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(10)))
        .max_reconnects(None)
        .retry_on_initial_connect()
        .connect(addresses)
        .await
        .map_err(|e| {
            QueueError(format!(
                "cannot connect to NATS ({}): {e}",
                servers.join(", ")
            ))
        })
}

/// The stream, made (or updated to these options) if needed.
pub async fn ensure_stream(
    js: &async_nats::jetstream::Context,
    options: &QueueOptions,
) -> Result<async_nats::jetstream::stream::Stream, QueueError> {
    use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
    let config = Config {
        name: options.stream.clone(),
        subjects: vec![format!("{}.>", options.subject_prefix)],
        // A message leaves the stream once a sink acknowledges it: no event stays in the log
        // longer than it takes to store it.
        retention: RetentionPolicy::WorkQueue,
        storage: StorageType::File,
        num_replicas: options.replicas,
        max_age: options.max_age,
        max_bytes: options.max_bytes,
        // Full: refuse new messages (the collector answers 503, the client retries) rather
        // than drop acknowledged ones.
        discard: DiscardPolicy::New,
        duplicate_window: options.duplicate_window,
        ..Default::default()
    };
    // A cluster that is (re)starting has no JetStream leader for a few seconds: wait for one.
    let mut tries = 0;
    loop {
        match js.get_or_create_stream(config.clone()).await {
            Ok(stream) => return Ok(stream),
            Err(e) if tries < 30 => {
                tries += 1;
                tracing::info!(error = %e, "JetStream is not ready yet; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                return Err(QueueError(format!(
                    "cannot open the stream {}: {e}",
                    options.stream
                )))
            }
        }
    }
}

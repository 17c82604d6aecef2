//! Visitor salts shared by every collector, through a JetStream key-value bucket kept in
//! memory only.
//!
//! A `visitor_hash` is a keyed hash of (project, IP, user agent) under the day's salt: every
//! collector must use the same salt, or a visitor whose requests reach two collectors counts
//! twice. And the salt must never sit beside the hashes, nor on any disk: whoever holds both
//! can test guessed addresses against the hashes (see `docs/privacy.md`). So the salts are not
//! in PostgreSQL (the events' database, and its backups) but in a NATS bucket with
//! *memory* storage: replicated across the NATS nodes' memory, never written to their disks,
//! each key deleted by the collectors once its day is over and dropped by the bucket's own
//! age limit in any case. If every NATS node restarts at once the salts are gone, and the day
//! starts a new one: a visitor seen on both sides counts twice that day, as after a restart of
//! a lone collector.
//!
//! Each collector keeps today's and tomorrow's salt in its own memory, refreshed every
//! minute, so a request never waits for NATS and midnight needs no round trip.

use std::sync::Arc;
use std::time::Duration;

use assent_postgres::BackgroundRuntime;
use async_nats::jetstream::{self, kv};
use bytes::Bytes;

use crate::QueueError;

/// The bucket's name.
pub const BUCKET: &str = "assent_visitor_salts";

/// The longest a salt can live in the bucket, whatever happens: its day and the next.
const MAX_AGE: Duration = Duration::from_secs(48 * 60 * 60);

/// How long after midnight yesterday's salt is still served (collectors' clocks differ a
/// little); then it is deleted.
const GRACE_MS: i64 = 10 * 60 * 1000;

/// Where a collector's salts go: called with a day (since 1970, UTC) and its salt.
pub type SaltSink = Arc<dyn Fn(i64, [u8; 16]) + Send + Sync>;

/// Keeps the shared salts flowing into a collector's memory until dropped.
pub struct SaltKeeper {
    _runtime: BackgroundRuntime,
}

/// Connects to the bucket (making it if needed), hands today's and tomorrow's salts to
/// `sink` before returning, and then keeps them current.
pub fn start(
    servers: &[String],
    replicas: usize,
    sink: SaltSink,
) -> Result<SaltKeeper, QueueError> {
    let runtime =
        BackgroundRuntime::new("assent-salts", 1).map_err(|e| QueueError(e.to_string()))?;
    let bucket = runtime.block_on(async {
        let client = crate::connect(servers, "assent-salts").await?;
        let bucket = open_bucket(&jetstream::new(client), replicas).await?;
        refresh(&bucket, &sink).await?;
        Ok::<_, QueueError>(bucket)
    })?;
    runtime.handle().spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Err(e) = refresh(&bucket, &sink).await {
                tracing::warn!(error = %e, "cannot refresh the shared visitor salts");
            }
        }
    });
    Ok(SaltKeeper { _runtime: runtime })
}

async fn open_bucket(js: &jetstream::Context, replicas: usize) -> Result<kv::Store, QueueError> {
    use jetstream::stream::{Config, DiscardPolicy, StorageType};
    if let Ok(bucket) = js.get_key_value(BUCKET).await {
        return Ok(bucket);
    }
    // The bucket's stream is made by hand, as a key-value bucket's stream is shaped: the
    // client's own `create_key_value` first reads account details that NATS 2.9 does not
    // send in the shape it expects.
    js.get_or_create_stream(Config {
        name: format!("KV_{BUCKET}"),
        description: Some("Assent's daily visitor salts (memory only)".into()),
        subjects: vec![format!("$KV.{BUCKET}.>")],
        max_messages_per_subject: 1,
        max_age: MAX_AGE,
        storage: StorageType::Memory,
        num_replicas: replicas.max(1),
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .map_err(|e| QueueError(format!("cannot make the salts bucket {BUCKET}: {e}")))?;
    js.get_key_value(BUCKET)
        .await
        .map_err(|e| QueueError(format!("cannot open the salts bucket {BUCKET}: {e}")))
}

fn key(day: i64) -> String {
    format!("day-{day}")
}

/// Hands today's and tomorrow's salts to `sink` (making them if no collector has yet), and
/// deletes yesterday's once the grace period is over.
async fn refresh(bucket: &kv::Store, sink: &SaltSink) -> Result<(), QueueError> {
    let now = now_ms();
    let today = assent_core::visitor::day_of(now);
    for day in [today, today + 1] {
        sink(day, salt_of(bucket, day).await?);
    }
    if now - today * 24 * 60 * 60 * 1000 > GRACE_MS {
        bucket
            .purge(key(today - 1))
            .await
            .map_err(|e| QueueError(format!("cannot delete yesterday's salt: {e}")))?;
    }
    Ok(())
}

/// The salt of `day`: the one a collector made first, or a new random one.
pub async fn salt_of(bucket: &kv::Store, day: i64) -> Result<[u8; 16], QueueError> {
    let read = |bytes: Bytes| <[u8; 16]>::try_from(bytes.as_ref()).ok();
    if let Some(salt) = bucket
        .get(key(day))
        .await
        .map_err(|e| QueueError(e.to_string()))?
        .and_then(read)
    {
        return Ok(salt);
    }
    let mut fresh = [0u8; 16];
    getrandom::fill(&mut fresh).map_err(|e| QueueError(e.to_string()))?;
    match bucket
        .create(key(day), Bytes::copy_from_slice(&fresh))
        .await
    {
        Ok(_) => Ok(fresh),
        // Another collector made it between our read and our create: theirs is the salt.
        Err(_) => bucket
            .get(key(day))
            .await
            .map_err(|e| QueueError(e.to_string()))?
            .and_then(read)
            .ok_or_else(|| QueueError(format!("the salt of day {day} cannot be read"))),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

//! One message of the ingest log: some of a request's processed events, exactly as the
//! collector would have stored them, with the id JetStream deduplicates it by.

use std::sync::Arc;

use assent_core::StoredEvent;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most a message's body may be: NATS refuses messages over its `max_payload` (1 MiB by
/// default), so a request's events are split into messages of at most this much.
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;

/// The body of a message (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The format's version: a sink refuses (and leaves in the stream) what it cannot read.
    pub v: u32,
    pub project: String,
    pub events: Vec<StoredEvent>,
}

pub const VERSION: u32 = 1;

/// A message ready to publish.
pub struct Encoded {
    /// `Nats-Msg-Id`: the same events (a retried request) give the same id, so JetStream
    /// keeps one copy if both arrive within its duplicate window.
    pub id: String,
    pub body: bytes::Bytes,
    pub events: usize,
}

/// Splits a request's events into messages of at most [`MAX_MESSAGE_BYTES`] (an event alone
/// is never bigger: the collector takes at most 32 KB per event).
pub fn encode(project: &Arc<str>, events: Vec<StoredEvent>) -> Vec<Encoded> {
    let mut out = Vec::new();
    let mut part: Vec<StoredEvent> = Vec::new();
    let mut size = 0;
    for event in events {
        // At most: the payload's quotes each escaped, and the columns around it.
        let bytes = 2 * event.payload.len() + 1024;
        if !part.is_empty() && size + bytes > MAX_MESSAGE_BYTES {
            out.push(one(project, std::mem::take(&mut part)));
            size = 0;
        }
        size += bytes;
        part.push(event);
    }
    if !part.is_empty() {
        out.push(one(project, part));
    }
    out
}

fn one(project: &Arc<str>, events: Vec<StoredEvent>) -> Encoded {
    let mut id = Sha256::new();
    id.update(project.as_bytes());
    for e in &events {
        id.update(b"\n");
        id.update(e.original_timestamp_ms.unwrap_or(0).to_string().as_bytes());
        id.update(b" ");
        id.update(e.message_id.as_bytes());
    }
    let count = events.len();
    let message = Message {
        v: VERSION,
        project: project.to_string(),
        events,
    };
    Encoded {
        id: format!("{:x}", id.finalize()),
        body: serde_json::to_vec(&message)
            .expect("events serialise")
            .into(),
        events: count,
    }
}

/// Reads a message's body.
pub fn decode(body: &[u8]) -> Result<Message, String> {
    let message: Message = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if message.v != VERSION {
        return Err(format!(
            "message format {} (this sink reads {VERSION}): upgrade the sink",
            message.v
        ));
    }
    Ok(message)
}

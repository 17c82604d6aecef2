//! Adds what only the server knows: when an event arrived, when it really happened, where from.

use std::net::IpAddr;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::decode::{Batch, Rejection};
use crate::{Event, EventType, IpPolicy};

/// The facts of one request, shared by every event in it.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub at: Timestamp,
    /// The client's address as seen by the server, before any policy.
    pub ip: Option<IpAddr>,
}

impl Received {
    pub fn now(ip: Option<IpAddr>) -> Received {
        // Millisecond precision, like every other time Assent stores.
        let now = Timestamp::now().as_millisecond();
        Received {
            at: Timestamp::from_millisecond(now).expect("now is a valid time"),
            ip,
        }
    }
}

/// An event as it is stored: indexed columns plus the canonical JSON `payload`.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub message_id: String,
    pub kind: EventType,
    /// The `track` event name, or the `page`/`screen` name.
    pub name: Option<String>,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub session_id: Option<i64>,
    pub sequence: Option<i64>,
    /// Skew-corrected, in milliseconds since 1970.
    pub timestamp_ms: i64,
    pub sent_at_ms: Option<i64>,
    pub received_at_ms: i64,
    pub ip: Option<String>,
    /// JSON of what has no column: `properties`, `traits`, `context`, `previousId` and the
    /// client's own `originalTimestamp`. The `events_json` view joins it back to the columns.
    pub payload: String,
}

/// A rejected event and its position in the request, as the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedRejection {
    pub index: usize,
    pub rejection: Rejection,
}

/// Enriches the accepted events of a batch and lists the rejected ones with their index.
pub fn batch(
    batch: Batch,
    received: &Received,
    ip_policy: IpPolicy,
) -> (Vec<StoredEvent>, Vec<IndexedRejection>) {
    let ip = received
        .ip
        .and_then(|ip| ip_policy.apply(ip))
        .map(|ip| ip.to_string());
    let mut stored = Vec::with_capacity(batch.events.len());
    let mut rejected = Vec::new();
    for (index, decoded) in batch.events.into_iter().enumerate() {
        match decoded {
            Ok(ev) => stored.push(event(ev, received.at, ip.clone())),
            Err(rejection) => rejected.push(IndexedRejection { index, rejection }),
        }
    }
    (stored, rejected)
}

/// Enriches one event whose address is its own rather than its request's: Amplitude and
/// Snowplow events may each say where they came from ([`ClientIp`](crate::decode::ClientIp)).
/// `ip` is the address before the project's policy, which is applied here.
///
/// ```
/// use assent_core::{decode, enrich, EventType, IpPolicy, Limits, Received};
/// let batch = decode::single(br#"{"name":"Home"}"#, EventType::Page, &Limits::default()).unwrap();
/// let ev = batch.events.into_iter().next().unwrap().unwrap();
/// let at = Received::now(None).at;
/// let stored = enrich::one(ev, at, Some("203.0.113.77".parse().unwrap()), IpPolicy::Truncate);
/// assert_eq!(stored.ip.as_deref(), Some("203.0.113.0"));
/// ```
pub fn one(
    ev: Event,
    received_at: Timestamp,
    ip: Option<IpAddr>,
    ip_policy: IpPolicy,
) -> StoredEvent {
    let ip = ip
        .and_then(|ip| ip_policy.apply(ip))
        .map(|ip| ip.to_string());
    event(ev, received_at, ip)
}

/// The time an event happened by the server's clock: the client's own clock is trusted only
/// for the interval between the event and its sending, so a phone set to 1970 still lands
/// on the right day (`receivedAt - (sentAt - timestamp)`, as Segment computes it).
///
/// ```
/// use assent_core::enrich::corrected_timestamp;
/// // The client's clock is an hour behind; the event happened 5 s before it was sent.
/// assert_eq!(corrected_timestamp(Some(1_000), Some(6_000), 3_606_000), 3_601_000);
/// assert_eq!(corrected_timestamp(None, Some(6_000), 3_606_000), 3_606_000);
/// assert_eq!(corrected_timestamp(Some(1_000), None, 3_606_000), 1_000);
/// ```
pub fn corrected_timestamp(
    timestamp_ms: Option<i64>,
    sent_at_ms: Option<i64>,
    received_ms: i64,
) -> i64 {
    match (timestamp_ms, sent_at_ms) {
        (Some(ts), Some(sent)) => received_ms.saturating_sub(sent.saturating_sub(ts)),
        (Some(ts), None) => ts,
        (None, _) => received_ms,
    }
}

fn event(ev: Event, received_at: Timestamp, ip: Option<String>) -> StoredEvent {
    let received_at_ms = received_at.as_millisecond();
    let original_ms = ev.timestamp.map(|t| t.as_millisecond());
    let sent_at_ms = ev.sent_at.map(|t| t.as_millisecond());
    let timestamp_ms = corrected_timestamp(original_ms, sent_at_ms, received_at_ms);
    // A client that sent no messageId cannot retry safely; the server's own id at least keeps
    // the stored event addressable.
    let message_id = if ev.message_id.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        ev.message_id
    };
    let payload = serde_json::to_string(&Payload {
        properties: ev.properties.as_deref(),
        traits: ev.traits.as_deref(),
        context: ev.context.as_deref(),
        previous_id: ev.previous_id.as_deref(),
        original_timestamp: ev.timestamp,
    })
    .expect("serialising strings, numbers and already-valid JSON cannot fail");
    StoredEvent {
        message_id,
        kind: ev.kind,
        name: ev.event.or(ev.name),
        anonymous_id: ev.anonymous_id,
        user_id: ev.user_id,
        group_id: ev.group_id,
        session_id: ev.session_id,
        sequence: ev.sequence,
        timestamp_ms,
        sent_at_ms,
        received_at_ms,
        ip,
        payload,
    }
}

/// The parts of an event that have no column of their own. Nothing is stored twice: an
/// identifier lives in its column only, so removing it there removes it everywhere.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    traits: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_timestamp: Option<Timestamp>,
}

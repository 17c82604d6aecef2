//! One request's events through decode's result → policy → enrich: the function ingest calls.

use crate::decode::{Batch, ClientIp};
use crate::enrich::{self, IndexedRejection, Received, StoredEvent};
use crate::policy::{self, Action, Policy, Signals};
use crate::Event;

/// What a request's events became.
#[derive(Debug, Default)]
pub struct Processed {
    /// To be stored.
    pub events: Vec<StoredEvent>,
    /// Refused by decode, with their index in the request.
    pub rejected: Vec<IndexedRejection>,
    /// Accepted, then not stored because the policy says so (the client must not retry them).
    pub discarded: usize,
    /// Of the events to be stored, how many carry no identifier at all (no anonymousId,
    /// userId, groupId or sessionId): sent without one, or their consent did not allow it.
    pub without_identifiers: usize,
    /// Everything the policy did, for metrics.
    pub actions: Vec<Action>,
    /// The text the events share (address, visitor hash), made once.
    text: enrich::RequestText,
}

/// Holds every decoded event of `batch` against `policy` and enriches what may be stored.
///
/// ```
/// use assent_core::{decode, pipeline, policy::{Policy, Signals}, Limits, Received};
/// let body = br#"{"batch":[{"type":"page","anonymousId":"a1"},{"type":"alias"}]}"#;
/// let batch = decode::batch(body, &Limits::default()).unwrap();
/// let done = pipeline::process(batch, &Received::now(None), &Signals::default(), &Policy::default());
/// assert_eq!((done.events.len(), done.rejected[0].index), (1, 1));
/// assert_eq!(done.events[0].anonymous_id, None, "no consent snapshot: no identifier kept");
/// assert_eq!(done.without_identifiers, 1);
/// ```
pub fn process(batch: Batch, received: &Received, signals: &Signals, policy: &Policy) -> Processed {
    let mut out = Processed {
        events: Vec::with_capacity(batch.events.len()),
        ..Processed::default()
    };
    for (index, decoded) in batch.events.into_iter().enumerate() {
        match decoded {
            Err(rejection) => out.rejected.push(IndexedRejection { index, rejection }),
            Ok(event) => out.admit(event, received, signals, policy),
        }
    }
    out
}

/// Like [`process`], for formats whose events each say which address they came from
/// (Amplitude, Snowplow), with the rejections their decoder already made.
pub fn process_addressed(
    events: impl IntoIterator<Item = (Event, ClientIp)>,
    rejected: Vec<IndexedRejection>,
    received: &Received,
    signals: &Signals,
    policy: &Policy,
) -> Processed {
    let mut out = Processed {
        rejected,
        ..Processed::default()
    };
    for (event, ip) in events {
        let ip = ip.resolve(received.ip);
        let own = Received {
            // The country was looked up for the request's address: it is not this one's.
            country: received.country.filter(|_| ip == received.ip),
            ip,
            ..*received
        };
        out.admit(event, &own, signals, policy);
    }
    out
}

impl Processed {
    fn admit(&mut self, mut event: Event, received: &Received, signals: &Signals, policy: &Policy) {
        let verdict = policy::apply(&mut event, signals, policy);
        self.actions.extend_from_slice(&verdict.actions);
        if verdict.dropped() {
            self.discarded += 1;
        } else {
            let stored = enrich::one_of_request(event, received, verdict.ip, &mut self.text);
            let identified = stored.anonymous_id.is_some()
                || stored.user_id.is_some()
                || stored.group_id.is_some()
                || stored.session_id.is_some();
            self.without_identifiers += usize::from(!identified);
            self.events.push(stored);
        }
    }
}

//! Counters a caller can read to see what the client did with their events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What the client did so far. Events are counted once each, by what finally became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Waiting to be sent.
    pub queued: usize,
    /// In requests being sent (or waiting to be retried).
    pub in_flight: usize,
    /// Acknowledged by the collector (duplicates included).
    pub delivered: u64,
    /// Of `delivered`, how many the collector already had (a retry after a lost answer).
    pub duplicates: u64,
    /// Refused by the collector, alone (a rejection in a batch answer) or with their request
    /// (a `4xx` other than 408 and 429). See `last_error`.
    pub rejected: u64,
    /// Dropped to make room in a full queue ([`WhenFull::DropOldest`](crate::WhenFull)).
    pub dropped_overflow: u64,
    /// Not sent at all: the visitor's consent does not allow it.
    pub withheld: u64,
    /// Sent without identifiers: the visitor's consent does not allow them.
    pub anonymised: u64,
    /// Requests sent again after a failure.
    pub retries: u64,
    /// Events an earlier process left in the spool, queued again at start.
    pub replayed: u64,
    /// The last failure of a request, for logs.
    pub last_error: Option<String>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub delivered: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    pub dropped_overflow: AtomicU64,
    pub withheld: AtomicU64,
    pub anonymised: AtomicU64,
    pub retries: AtomicU64,
    pub replayed: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn failed(&self, error: String) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(error);
        }
    }

    pub fn snapshot(&self, queued: usize, in_flight: usize) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            queued,
            in_flight,
            delivered: get(&self.delivered),
            duplicates: get(&self.duplicates),
            rejected: get(&self.rejected),
            dropped_overflow: get(&self.dropped_overflow),
            withheld: get(&self.withheld),
            anonymised: get(&self.anonymised),
            retries: get(&self.retries),
            replayed: get(&self.replayed),
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}

//! The events waiting to be sent and the batches being sent: what a flush waits for.
//!
//! Every event gets a sequence number when it is queued. An event is *settled* once it has
//! left the queue for good (acknowledged, refused by the collector, or dropped to make room);
//! a flush waits until every event numbered before it is settled.

use std::collections::VecDeque;
use std::time::Instant;

use crate::event::AnonymousLevel;

/// The anonymity a request is sent with. Events of different anonymity never share a request:
/// anonymous and identified events must not, and the `server` level is asked for per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anonymity {
    Identified = 0,
    Full = 1,
    Session = 2,
    Server = 3,
}

impl Anonymity {
    pub fn of(level: Option<AnonymousLevel>) -> Anonymity {
        match level {
            None => Anonymity::Identified,
            Some(AnonymousLevel::Full) => Anonymity::Full,
            Some(AnonymousLevel::Session) => Anonymity::Session,
            Some(AnonymousLevel::Server) => Anonymity::Server,
        }
    }

    /// Whether the request asks the collector to keep no address (`X-Assent-Anonymous`).
    pub fn anonymous_request(self) -> bool {
        self == Anonymity::Server
    }
}

/// One event, as JSON, and where the spool keeps it.
#[derive(Debug)]
pub(crate) struct Item {
    pub seq: u64,
    pub json: Vec<u8>,
    pub anonymity: Anonymity,
    /// The spool file holding it, when there is a spool.
    pub segment: Option<u64>,
}

/// Events that go in one request.
#[derive(Debug)]
pub(crate) struct Batch {
    pub id: u64,
    pub anonymity: Anonymity,
    pub items: Vec<Item>,
}

/// Bytes an event takes in the collector's count of a batch: its JSON and a comma.
fn batch_bytes(item: &Item) -> usize {
    item.json.len() + 1
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    /// Waiting events, one line per anonymity, each in sequence order.
    pending: [VecDeque<Item>; 4],
    pending_events: usize,
    pending_bytes: usize,
    /// Batches being sent: (batch id, lowest sequence number, events).
    in_flight: Vec<(u64, u64, usize)>,
    next_seq: u64,
    next_batch: u64,
    /// When the oldest waiting event must go even if its batch is not full.
    due_at: Option<Instant>,
}

impl Queue {
    pub fn pending_events(&self) -> usize {
        self.pending_events
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    pub fn in_flight_events(&self) -> usize {
        self.in_flight.iter().map(|b| b.2).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pending_events == 0 && self.in_flight.is_empty()
    }

    pub fn due_at(&self) -> Option<Instant> {
        self.due_at
    }

    /// The number the next queued event gets: a flush started now waits for every one below.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Queues an event; `due` is when it must go at the latest if it is the only one waiting.
    pub fn push(
        &mut self,
        json: Vec<u8>,
        anonymity: Anonymity,
        segment: Option<u64>,
        due: Instant,
    ) {
        let item = Item {
            seq: self.next_seq,
            json,
            anonymity,
            segment,
        };
        self.next_seq += 1;
        self.pending_bytes += batch_bytes(&item);
        self.pending_events += 1;
        self.due_at.get_or_insert(due);
        self.pending[anonymity as usize].push_back(item);
    }

    /// The line whose first waiting event is the oldest.
    fn oldest_line(&self) -> Option<usize> {
        (0..self.pending.len())
            .filter_map(|i| self.pending[i].front().map(|item| (item.seq, i)))
            .min()
            .map(|(_, i)| i)
    }

    fn forget(&mut self, item: &Item) {
        self.pending_events -= 1;
        self.pending_bytes -= batch_bytes(item);
        if self.pending_events == 0 {
            self.due_at = None;
        }
    }

    /// Removes the oldest waiting event, to make room.
    pub fn drop_oldest(&mut self) -> Option<Item> {
        let item = self.pending[self.oldest_line()?].pop_front()?;
        self.forget(&item);
        Some(item)
    }

    /// The oldest waiting event and the following ones of the same anonymity, up to the
    /// limits (one event always goes, whatever its size), now counted as in flight.
    pub fn take_batch(&mut self, max_events: usize, max_bytes: usize) -> Option<Batch> {
        let line = self.oldest_line()?;
        let mut items = Vec::new();
        let mut bytes = 1; // the brackets of the array
        while let Some(next) = self.pending[line].front() {
            let size = batch_bytes(next);
            if items.len() >= max_events || (!items.is_empty() && bytes + size > max_bytes) {
                break;
            }
            bytes += size;
            let Some(item) = self.pending[line].pop_front() else {
                break;
            };
            self.forget(&item);
            items.push(item);
        }
        let lowest = items.first()?.seq;
        let id = self.next_batch;
        self.next_batch += 1;
        self.in_flight.push((id, lowest, items.len()));
        let anonymity = items[0].anonymity;
        Some(Batch {
            id,
            anonymity,
            items,
        })
    }

    /// A batch left for good (acknowledged or refused).
    pub fn settle(&mut self, batch: u64) {
        self.in_flight.retain(|(id, _, _)| *id != batch);
    }

    /// Whether every event numbered below `seq` is settled.
    pub fn settled_below(&self, seq: u64) -> bool {
        let waiting = self
            .pending
            .iter()
            .filter_map(|line| line.front().map(|i| i.seq));
        let sending = self.in_flight.iter().map(|b| b.1);
        waiting.chain(sending).all(|lowest| lowest >= seq)
    }

    /// Whether the oldest waiting event is numbered below `seq` (a flush wants it sent now).
    pub fn waiting_below(&self, seq: u64) -> bool {
        self.pending
            .iter()
            .filter_map(|line| line.front())
            .any(|item| item.seq < seq)
    }

    /// Events not settled yet.
    pub fn unsettled(&self) -> usize {
        self.pending_events + self.in_flight_events()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(anonymities: &[Anonymity]) -> Queue {
        let mut q = Queue::default();
        for (n, a) in anonymities.iter().enumerate() {
            q.push(
                format!("{{\"n\":{n}}}").into_bytes(),
                *a,
                None,
                Instant::now(),
            );
        }
        q
    }

    #[test]
    fn a_batch_takes_the_oldest_event_and_later_ones_of_the_same_anonymity() {
        use Anonymity::*;
        let mut q = queue(&[Server, Identified, Server, Identified, Server]);
        let first = q.take_batch(10, 10_000).unwrap();
        assert_eq!(first.anonymity, Server);
        assert_eq!(
            first.items.iter().map(|i| i.seq).collect::<Vec<_>>(),
            [0, 2, 4]
        );
        let second = q.take_batch(10, 10_000).unwrap();
        assert_eq!(
            second.items.iter().map(|i| i.seq).collect::<Vec<_>>(),
            [1, 3]
        );
        assert!(q.take_batch(10, 10_000).is_none());
    }

    #[test]
    fn batches_respect_the_count_and_the_bytes_but_an_event_always_goes() {
        let mut q = queue(&[Anonymity::Identified; 5]);
        assert_eq!(q.take_batch(2, 10_000).unwrap().items.len(), 2);
        // Each event is 7 bytes of JSON plus a comma; the array adds one.
        assert_eq!(q.take_batch(10, 17).unwrap().items.len(), 2);
        assert_eq!(q.take_batch(10, 1).unwrap().items.len(), 1);
        assert_eq!(q.pending_events(), 0);
    }

    #[test]
    fn a_flush_waits_for_events_in_flight_and_waiting_but_not_later_ones() {
        let mut q = queue(&[Anonymity::Identified; 3]);
        let target = q.next_seq();
        let batch = q.take_batch(2, 10_000).unwrap();
        q.push(b"{}".to_vec(), Anonymity::Identified, None, Instant::now());
        assert!(!q.settled_below(target));
        q.settle(batch.id);
        assert!(!q.settled_below(target), "the third event still waits");
        assert!(q.waiting_below(target));
        let rest = q.take_batch(1, 10_000).unwrap();
        q.settle(rest.id);
        assert!(
            q.settled_below(target),
            "the event queued after the flush does not count"
        );
        assert!(!q.waiting_below(target));
    }

    #[test]
    fn dropping_the_oldest_takes_it_from_whichever_line_it_is_in() {
        use Anonymity::*;
        let mut q = queue(&[Identified, Server, Identified]);
        assert_eq!(q.drop_oldest().unwrap().seq, 0);
        assert_eq!(q.drop_oldest().unwrap().seq, 1);
        assert_eq!(q.pending_events(), 1);
        assert!(q.due_at().is_some());
        q.drop_oldest();
        assert!(q.due_at().is_none() && q.is_empty());
    }
}

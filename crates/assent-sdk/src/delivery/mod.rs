//! Getting queued events to the collector: the queue the calls fill, the task that cuts it
//! into batches, the requests that carry them, and the spool that outlives the process.

mod backoff;
mod queue;
mod send;
mod spool;

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

pub(crate) use queue::Anonymity;
use queue::{Batch, Queue};
use spool::Spool;

use crate::options::{Options, WhenFull};
use crate::stats::{Counters, Stats};
use crate::Error;

/// What the delivery needs to know, fixed when the client is made.
pub(crate) struct Config {
    pub url: String,
    pub write_key: String,
    pub http: reqwest::Client,
    pub options: Options,
}

#[derive(Default)]
struct State {
    queue: Queue,
    /// Events numbered below this are to be sent now, batch full or not (a flush).
    flush_below: u64,
    /// The collector asked every request to wait until then (`Retry-After`).
    paused_until: Option<Instant>,
    /// Places in the queue promised to calls that are writing to the spool
    /// ([`WhenFull::Wait`]).
    reserved: usize,
    closing: bool,
    /// Stop sending, even with events left (a shutdown that ran out of time).
    stop: bool,
}

/// The state the calls, the batching task and the requests share.
pub(crate) struct Shared {
    pub config: Config,
    state: Mutex<State>,
    /// Also in `state`; read without the lock on every call.
    closing: AtomicBool,
    /// Wakes the batching task: events to send, a request done, a flush, a shutdown.
    wake: Notify,
    /// Wakes flushes and calls waiting for room: batches taken, events settled, the client
    /// closing.
    progress: Notify,
    pub counters: Counters,
    spool: Option<Mutex<Spool>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; if something ever did, the data is still
    // consistent enough to deliver, which beats losing the queue.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Opens the spool, if any, and queues what an earlier process left in it.
    pub fn new(config: Config) -> Result<Shared, Error> {
        let options = &config.options;
        let mut state = State::default();
        let counters = Counters::default();
        let spool = match &options.spool {
            None => None,
            Some(dir) => {
                let (spool, found) = Spool::open(dir, options.spool_segment_events)?;
                let due = Instant::now();
                for event in found.events {
                    state
                        .queue
                        .push(event.json, event.anonymity, Some(event.segment), due);
                    Counters::add(&counters.replayed, 1);
                }
                if found.unreadable > 0 {
                    counters.failed(format!(
                        "{} unreadable lines in the spool were skipped (writes cut short)",
                        found.unreadable
                    ));
                }
                Some(Mutex::new(spool))
            }
        };
        Ok(Shared {
            config,
            state: Mutex::new(state),
            closing: AtomicBool::new(false),
            wake: Notify::new(),
            progress: Notify::new(),
            counters,
            spool,
        })
    }

    /// Queues an event, waiting for room under [`WhenFull::Wait`].
    pub async fn enqueue(&self, json: Vec<u8>, anonymity: Anonymity) -> Result<(), Error> {
        // A caller that tracks in a tight loop would otherwise never yield its thread to the
        // delivery task, which is what empties the queue: take part in tokio's cooperative
        // budget, as its own channels do.
        tokio::task::consume_budget().await;
        let reserved = self.config.options.when_full == WhenFull::Wait;
        if reserved {
            loop {
                let mut room = pin!(self.progress.notified());
                room.as_mut().enable();
                if self.try_reserve()? {
                    break;
                }
                room.await;
            }
        }
        self.push(json, anonymity, reserved)
    }

    /// Queues an event now, or says why not.
    pub fn try_enqueue(&self, json: Vec<u8>, anonymity: Anonymity) -> Result<(), Error> {
        let reserved = self.config.options.when_full == WhenFull::Wait;
        if reserved && !self.try_reserve()? {
            return Err(Error::QueueFull {
                capacity: self.config.options.queue_capacity,
            });
        }
        self.push(json, anonymity, reserved)
    }

    fn try_reserve(&self) -> Result<bool, Error> {
        let mut s = lock(&self.state);
        if s.closing {
            return Err(Error::Closed);
        }
        if s.queue.pending_events() + s.reserved >= self.config.options.queue_capacity {
            return Ok(false);
        }
        s.reserved += 1;
        Ok(true)
    }

    fn push(&self, json: Vec<u8>, anonymity: Anonymity, reserved: bool) -> Result<(), Error> {
        let unreserve = || {
            if reserved {
                lock(&self.state).reserved -= 1;
                self.progress.notify_waiters();
            }
        };
        if self.closing.load(Ordering::Acquire) {
            unreserve();
            return Err(Error::Closed);
        }
        let segment = match &self.spool {
            None => None,
            Some(spool) => {
                let mut spool = lock(spool);
                match spool.append(&json) {
                    Ok(no) => Some(no),
                    Err(e) => {
                        let path = spool.dir().to_path_buf();
                        drop(spool);
                        unreserve();
                        return Err(Error::Spool {
                            path,
                            problem: format!("cannot write the event: {e}"),
                        });
                    }
                }
            }
        };
        let options = &self.config.options;
        let mut s = lock(&self.state);
        if reserved {
            s.reserved -= 1;
        }
        if s.closing {
            // Closed while the event was being written: a shutdown already counted what it
            // waits for, so this one is refused and counted settled in the spool (only a crash
            // before its file is removed would still send it).
            drop(s);
            self.progress.notify_waiters();
            self.settle_spool(segment.map(|no| (no, 1)));
            return Err(Error::Closed);
        }
        let dropped = if !reserved && s.queue.pending_events() >= options.queue_capacity {
            s.queue.drop_oldest()
        } else {
            None
        };
        let due = match s.queue.due_at() {
            Some(due) => due,
            None => Instant::now() + options.flush_interval,
        };
        let first = s.queue.pending_events() == 0;
        s.queue.push(json, anonymity, segment, due);
        let full = s.queue.pending_events() >= options.batch_size
            || s.queue.pending_bytes() >= options.max_batch_bytes;
        drop(s);
        if let Some(old) = dropped {
            Counters::add(&self.counters.dropped_overflow, 1);
            self.settle_spool(old.segment.into_iter().map(|no| (no, 1)));
        }
        if first || full {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Events of these spool files (number, events) left the queue for good.
    fn settle_spool(&self, segments: impl IntoIterator<Item = (u64, usize)>) {
        if let Some(spool) = &self.spool {
            let mut spool = lock(spool);
            for (no, events) in segments {
                spool.settle(no, events);
            }
        }
    }

    /// A batch left for good: acknowledged, or refused by the collector.
    fn settle(&self, batch: &Batch) {
        lock(&self.state).queue.settle(batch.id);
        let mut runs: Vec<(u64, usize)> = Vec::new();
        for segment in batch.items.iter().filter_map(|i| i.segment) {
            match runs.last_mut() {
                Some((no, n)) if *no == segment => *n += 1,
                _ => runs.push((segment, 1)),
            }
        }
        self.settle_spool(runs);
        self.progress.notify_waiters();
        self.wake.notify_one();
    }

    /// No request before `until` (the collector's `Retry-After`).
    fn pause_until(&self, until: Instant) {
        let mut s = lock(&self.state);
        s.paused_until = Some(s.paused_until.map_or(until, |t| t.max(until)));
    }

    fn paused_until(&self) -> Option<Instant> {
        lock(&self.state).paused_until
    }

    /// Sends everything queued before the call; resolves once it is all settled.
    pub async fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let target = {
            let mut s = lock(&self.state);
            let target = s.queue.next_seq();
            s.flush_below = s.flush_below.max(target);
            target
        };
        self.wake.notify_one();
        let settled = async {
            loop {
                let mut progress = pin!(self.progress.notified());
                progress.as_mut().enable();
                if lock(&self.state).queue.settled_below(target) {
                    return;
                }
                progress.await;
            }
        };
        match tokio::time::timeout(timeout, settled).await {
            Ok(()) => Ok(()),
            Err(_) => Err(Error::Timeout {
                undelivered: lock(&self.state).queue.unsettled(),
            }),
        }
    }

    /// Takes no more events; what is queued still goes.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        lock(&self.state).closing = true;
        self.progress.notify_waiters();
        self.wake.notify_one();
    }

    /// Stops sending for good, whatever is left (it stays in the spool, if there is one).
    pub fn stop(&self) {
        lock(&self.state).stop = true;
        self.wake.notify_one();
    }

    /// After a shutdown that delivered everything: no spool file is left behind.
    pub fn clean_spool(&self) {
        if let Some(spool) = &self.spool {
            lock(spool).remove_settled();
        }
    }

    pub fn stats(&self) -> Stats {
        let s = lock(&self.state);
        let (queued, in_flight) = (s.queue.pending_events(), s.queue.in_flight_events());
        drop(s);
        self.counters.snapshot(queued, in_flight)
    }
}

/// The batching task: cuts the queue into batches when they are full, old enough or flushed,
/// and keeps up to `max_in_flight` requests going. Ends once the client is closed and
/// everything is settled, or at once when stopped (requests in flight are abandoned).
pub(crate) async fn run(shared: Arc<Shared>) {
    let options = &shared.config.options;
    let mut sending = JoinSet::new();
    loop {
        while sending.try_join_next().is_some() {}
        let now = Instant::now();
        let mut batches = Vec::new();
        let wake_at = {
            let mut s = lock(&shared.state);
            if s.stop || (s.closing && s.queue.is_empty()) {
                break;
            }
            let paused = s.paused_until.filter(|t| *t > now);
            if paused.is_none() {
                while sending.len() + batches.len() < options.max_in_flight && due(&s, now, options)
                {
                    match s
                        .queue
                        .take_batch(options.batch_size, options.max_batch_bytes)
                    {
                        Some(batch) => batches.push(batch),
                        None => break,
                    }
                }
            }
            let free = sending.len() + batches.len() < options.max_in_flight;
            // With every request slot taken, only a finished request can change anything.
            paused.or(s.queue.due_at().filter(|_| free))
        };
        if !batches.is_empty() {
            // Taking batches made room in the queue: calls waiting for it may go on.
            shared.progress.notify_waiters();
        }
        for batch in batches {
            sending.spawn(send::deliver(shared.clone(), batch));
        }
        let woken = shared.wake.notified();
        match wake_at {
            Some(at) => {
                let _ = tokio::time::timeout_at(at.into(), woken).await;
            }
            None => woken.await,
        }
    }
}

/// Whether waiting events should go now.
fn due(s: &State, now: Instant, options: &Options) -> bool {
    let q = &s.queue;
    q.pending_events() > 0
        && (q.pending_events() >= options.batch_size
            || q.pending_bytes() >= options.max_batch_bytes
            || q.due_at().is_some_and(|at| at <= now)
            || s.closing
            || q.waiting_below(s.flush_below))
}

//! The client's options, each with the default a server-side user of Segment would expect.

use std::path::PathBuf;
use std::time::Duration;

use crate::event::MAX_EVENT_BYTES;
use crate::policy::ConsentPolicy;
use crate::Error;

/// The collector's limit for the `batch` array of one request.
const COLLECTOR_BATCH_BYTES: usize = 500 * 1024;
/// The longest any wait may be set to; longer is a mistake (and would overflow a clock).
const LONGEST_WAIT: Duration = Duration::from_secs(86_400);

/// What a call does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Make room by dropping the oldest waiting event; counted in
    /// [`Stats::dropped_overflow`](crate::Stats::dropped_overflow). A call never waits.
    #[default]
    DropOldest,
    /// `send().await` waits for room; `try_send()` returns [`Error::QueueFull`].
    Wait,
}

/// How the client batches, queues, retries and keeps events.
///
/// ```
/// use std::time::Duration;
/// use assent_sdk::{Options, WhenFull};
/// let options = Options::default()
///     .batch_size(100)
///     .flush_interval(Duration::from_millis(200))
///     .queue_capacity(50_000)
///     .when_full(WhenFull::Wait)
///     .spool("/var/lib/myapp/assent-spool");
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) policy: ConsentPolicy,
    pub(crate) batch_size: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) when_full: WhenFull,
    pub(crate) max_in_flight: usize,
    pub(crate) retry_base: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) spool: Option<PathBuf>,
    pub(crate) spool_segment_events: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: ConsentPolicy::default(),
            batch_size: 500,
            max_batch_bytes: 450_000,
            flush_interval: Duration::from_secs(1),
            queue_capacity: 10_000,
            when_full: WhenFull::DropOldest,
            max_in_flight: 8,
            retry_base: Duration::from_millis(200),
            retry_max: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            spool: None,
            spool_segment_events: 1_000,
        }
    }
}

impl Options {
    /// The project's consent settings (mode, required categories, fallbacks, signals).
    pub fn consent_policy(mut self, policy: ConsentPolicy) -> Options {
        self.policy = policy;
        self
    }

    /// Events per request (default 500).
    pub fn batch_size(mut self, events: usize) -> Options {
        self.batch_size = events;
        self
    }

    /// Bytes of events per request (default 450 000; the collector takes up to 500 KiB).
    pub fn max_batch_bytes(mut self, bytes: usize) -> Options {
        self.max_batch_bytes = bytes;
        self
    }

    /// How long an event waits for its batch to fill before it is sent anyway (default 1 s).
    pub fn flush_interval(mut self, interval: Duration) -> Options {
        self.flush_interval = interval;
        self
    }

    /// Events waiting to be sent, not counting the batches being sent (default 10 000).
    pub fn queue_capacity(mut self, events: usize) -> Options {
        self.queue_capacity = events;
        self
    }

    /// What a call does when the queue is full (default [`WhenFull::DropOldest`]).
    pub fn when_full(mut self, policy: WhenFull) -> Options {
        self.when_full = policy;
        self
    }

    /// Requests sent at the same time (default 8).
    pub fn max_in_flight(mut self, requests: usize) -> Options {
        self.max_in_flight = requests;
        self
    }

    /// Retries wait a random time up to `base · 2^attempt`, at most `max` (full jitter;
    /// defaults 200 ms and 30 s). A collector's `Retry-After` is honoured, up to `max`.
    pub fn retry(mut self, base: Duration, max: Duration) -> Options {
        self.retry_base = base;
        self.retry_max = max;
        self
    }

    /// How long one request may take before it counts as failed and is retried (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Options {
        self.request_timeout = timeout;
        self
    }

    /// Keep every accepted event in files under `dir` until the collector acknowledged it,
    /// and send what an earlier process left there. Survives a crash of the process (each
    /// event is written before the call returns), not of the machine.
    pub fn spool(mut self, dir: impl Into<PathBuf>) -> Options {
        self.spool = Some(dir.into());
        self
    }

    /// Events per spool file (default 1 000): after a crash, at most the unacknowledged
    /// files are sent again, and the collector stores each event once.
    pub fn spool_segment_events(mut self, events: usize) -> Options {
        self.spool_segment_events = events;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let at_least = |option, value: usize, min: usize| {
            if value < min {
                Err(Error::option(
                    option,
                    format!("must be at least {min} (got {value})"),
                ))
            } else {
                Ok(())
            }
        };
        at_least("batch_size", self.batch_size, 1)?;
        at_least("queue_capacity", self.queue_capacity, 1)?;
        at_least("max_in_flight", self.max_in_flight, 1)?;
        at_least("spool_segment_events", self.spool_segment_events, 1)?;
        at_least("max_batch_bytes", self.max_batch_bytes, MAX_EVENT_BYTES + 2)?;
        if self.max_batch_bytes > COLLECTOR_BATCH_BYTES {
            return Err(Error::option(
                "max_batch_bytes",
                format!(
                    "must be at most {COLLECTOR_BATCH_BYTES}, the collector's limit (got {})",
                    self.max_batch_bytes
                ),
            ));
        }
        if self.retry_base.is_zero() || self.retry_max < self.retry_base {
            return Err(Error::option(
                "retry",
                "needs a base above zero and a maximum at least as long",
            ));
        }
        if self.request_timeout.is_zero() {
            return Err(Error::option("request_timeout", "must be above zero"));
        }
        for (option, wait) in [
            ("flush_interval", self.flush_interval),
            ("retry", self.retry_max),
            ("request_timeout", self.request_timeout),
        ] {
            if wait > LONGEST_WAIT {
                return Err(Error::option(option, "must be at most a day"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_bad_values_name_their_option() {
        assert_eq!(Options::default().validate(), Ok(()));
        let err = Options::default().batch_size(0).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "option `batch_size` must be at least 1 (got 0)"
        );
        let err = Options::default()
            .max_batch_bytes(600_000)
            .validate()
            .unwrap_err();
        assert!(err
            .to_string()
            .starts_with("option `max_batch_bytes` must be at most 512000"));
        let err = Options::default()
            .retry(Duration::from_secs(2), Duration::from_secs(1))
            .validate()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Option {
                option: "retry",
                ..
            }
        ));
    }
}

//! Every way a call can fail, as values a caller can act on.

use std::path::PathBuf;

/// What went wrong. Policy decisions are not errors: an event the visitor's consent does not
/// allow is reported in the [`Receipt`](crate::Receipt), not here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// [`Client::new`](crate::Client::new) was given an endpoint it cannot send to.
    #[error("the endpoint {endpoint:?} cannot be used: {problem}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The write key is empty or cannot go in an HTTP header.
    #[error("the write key {problem}")]
    WriteKey {
        /// What is wrong with it.
        problem: &'static str,
    },
    /// An option is out of its range.
    #[error("option `{option}` {problem}")]
    Option {
        /// The option's name.
        option: &'static str,
        /// What is wrong with its value.
        problem: String,
    },
    /// A field of the call is missing or wrong; nothing was queued.
    #[error("`{field}` {problem}")]
    Field {
        /// The field's name on the wire (`userId`, `properties`, …).
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The event is larger than the collector accepts; nothing was queued.
    #[error(
        "the event is {size} bytes, over the collector's limit of {limit} bytes for one event"
    )]
    TooLarge {
        /// The event's size as JSON.
        size: usize,
        /// The collector's limit.
        limit: usize,
    },
    /// `try_send` found the queue full under [`WhenFull::Wait`](crate::WhenFull::Wait).
    #[error(
        "the queue is full ({capacity} events); wait with `send().await` or raise `queue_capacity`"
    )]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The client was shut down; nothing more is accepted.
    #[error("the client is shut down")]
    Closed,
    /// The client must be created inside a tokio runtime: its delivery runs there.
    #[error("no tokio runtime: create the client from within one")]
    NoRuntime,
    /// The on-disk spool could not be opened or written; the event was not accepted.
    #[error("the spool at {path:?}: {problem}")]
    Spool {
        /// The spool's directory.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// `flush` or `shutdown` ran out of time with events still undelivered (with a spool,
    /// they stay on disk and go on the next start).
    #[error("{undelivered} events were still undelivered when the timeout passed")]
    Timeout {
        /// Events still waiting or being sent.
        undelivered: usize,
    },
}

impl Error {
    pub(crate) fn field(field: &'static str, problem: impl Into<String>) -> Error {
        Error::Field {
            field,
            problem: problem.into(),
        }
    }

    pub(crate) fn option(option: &'static str, problem: impl Into<String>) -> Error {
        Error::Option {
            option,
            problem: problem.into(),
        }
    }
}

//! The heart of the Assent collector, with no I/O in it.
//!
//! Every event that reaches Assent, whatever tracker sent it, is turned into one canonical
//! [`Event`] and then flows through stages that each have one job, like Vector's
//! sources → transforms → sinks:
//!
//! 1. [`decode`]: bytes from the wire become events, or a precise [`Rejection`] naming the field
//!    that is wrong. One bad event never sinks its batch.
//! 2. [`enrich`]: the server's own facts are added: when it was received, the skew-corrected
//!    time, and the client address after the project's [`IpPolicy`].
//!
//! Because these are plain functions of their input, they are tested exhaustively here and the
//! server is left with the I/O at the edges: HTTP in, durable store out.
//!
//! ```
//! use assent_core::{decode, enrich, Limits, IpPolicy, Received};
//!
//! let body = br#"{"batch":[{"type":"track","event":"Signed Up","messageId":"m-1"}]}"#;
//! let batch = decode::batch(body, &Limits::default()).unwrap();
//! let received = Received::now(Some("203.0.113.77".parse().unwrap()));
//! let (stored, rejected) = enrich::batch(batch, &received, IpPolicy::Truncate);
//! assert!(rejected.is_empty());
//! assert_eq!(stored[0].ip.as_deref(), Some("203.0.113.0"));
//! ```

pub mod client_address;
pub mod decode;
pub mod enrich;
mod event;
mod ip;
pub mod ledger;
mod limits;
pub mod pipeline;
pub mod policy;
pub mod visitor;

pub use decode::{BodyError, Rejection};
pub use enrich::{Received, StoredEvent};
pub use event::{Event, EventType};
pub use ip::IpPolicy;
pub use limits::Limits;

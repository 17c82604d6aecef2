//! Server-side tracking for [Assent](https://github.com/): Segment-Spec events sent from a Rust
//! backend to an Assent collector, with each visitor's consent applied before a byte leaves
//! the process — the same rules as the browser tracker and the collector.
//!
//! - [`Client`]: `track`, `page`, `screen`, `identify`, `group`, `alias` and `consent` calls,
//!   each a [`Call`] builder; batching, a bounded queue, retries, `flush` and `shutdown`, and an
//!   optional on-disk spool that outlives a crash of the process.
//! - [`Consent`]: what the visitor agreed to. Without one, nothing identified is sent; under
//!   it, the project's [`ConsentPolicy`] decides what goes (see [`Verdict`]).
//! - [`VisitorReader`]: the visitor's consent and ids from the cookies the browser tracker
//!   wrote, and (features `tower`, `axum`) a layer and an extractor doing it per request.
//!
//! ```no_run
//! use std::time::Duration;
//! use assent_sdk::{Client, ConsentPolicy, Options, Signals};
//!
//! # async fn run(cookie_header: &str) -> Result<(), assent_sdk::Error> {
//! let client = Client::new("http://127.0.0.1:8080", "pk_demo", Options::default())?;
//! let visitor = client.visitor_reader().read(cookie_header, Signals::default());
//! // Sent with the visitor's ids if their consent allows it, without them otherwise.
//! let receipt = client
//!     .track("Order Completed")
//!     .visitor(&visitor)
//!     .property("total", 42.5)
//!     .send()
//!     .await?;
//! println!("{:?}", receipt.verdict);
//! client.shutdown(Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod calls;
mod client;
mod consent;
mod delivery;
mod error;
mod event;
mod message_id;
mod options;
#[cfg(feature = "tower")]
mod per_request;
mod policy;
mod stats;
mod tracker_cookies;
mod visitor;

pub use calls::{Call, Receipt};
pub use client::Client;
pub use consent::{CategoryState, Consent, ConsentMode, Revision, Signals};
pub use error::Error;
pub use event::{AnonymousLevel, EventType};
pub use options::{Options, WhenFull};
#[cfg(feature = "axum")]
pub use per_request::MissingVisitorLayer;
#[cfg(feature = "tower")]
pub use per_request::{VisitorLayer, VisitorService};
pub use policy::{ConsentPolicy, DntRule, Expiry, Fallback, GpcRule, Reason, Verdict};
pub use stats::Stats;
pub use uuid::Uuid;
pub use visitor::{Session, Visitor, VisitorReader};

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

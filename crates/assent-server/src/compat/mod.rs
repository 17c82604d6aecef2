//! Drop-in compatibility: the paths, bodies and answers of the trackers sites already run
//! (Segment's analytics.js, Amplitude's browser SDK, Snowplow's browser tracker), so pointing
//! an existing tracker at Assent is the whole migration.
//!
//! Each format has its own pure decoder in `assent_core::decode`; the handlers here only
//! choose the project, call the decoder, and hand the canonical events to the same
//! enrich-and-commit end as native ingest ([`crate::ingest::commit`]), so dedup by
//! `messageId`, the IP policy and anonymous handling are the same for every format.

mod amplitude;
mod segment;
mod snowplow;

use assent_core::decode::ClientIp;
use assent_core::{enrich, Event, IpPolicy, Received, StoredEvent};
use axum::Router;

use crate::App;

/// Adds every compatibility route to the ingest router, under its CORS and body limit.
pub(crate) fn routes(router: Router<App>) -> Router<App> {
    snowplow::routes(amplitude::routes(segment::routes(router)))
}

/// Enriches events that each say which address they came from. `received.ip` is `None` for
/// an anonymous request, which then stores no address at all.
fn enrich_addressed(
    events: impl IntoIterator<Item = (Event, ClientIp)>,
    received: &Received,
    policy: IpPolicy,
) -> Vec<StoredEvent> {
    events
        .into_iter()
        .map(|(event, ip)| enrich::one(event, received.at, ip.resolve(received.ip), policy))
        .collect()
}

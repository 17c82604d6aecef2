//! Drop-in compatibility: the paths, bodies and answers of the trackers sites already run
//! (Segment's analytics.js, Amplitude's browser SDK, Snowplow's browser tracker), so pointing
//! an existing tracker at Assent is the whole migration.
//!
//! Each format has its own pure decoder in `assent_core::decode`; the handlers here only
//! choose the project, call the decoder, and hand the canonical events to the same
//! policy → enrich → commit end as native ingest ([`crate::ingest::commit`]), so the consent
//! policy, dedup by `messageId`, the IP policy and anonymous handling are the same for every
//! format.

mod amplitude;
mod segment;
mod snowplow;

use axum::Router;

use crate::App;

/// Adds every compatibility route to the ingest router, under its CORS and body limit.
pub(crate) fn routes(router: Router<App>) -> Router<App> {
    snowplow::routes(amplitude::routes(segment::routes(router)))
}

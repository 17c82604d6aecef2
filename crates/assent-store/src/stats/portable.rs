//! The statistics for an engine other than the embedded one. It reads each day's rows into a
//! [`DayBuilder`], keeps the [`StatsDay`] that comes out, and answers from the days of a period
//! with the functions here, which are the ones the embedded store uses: every engine counts
//! visitors, visits and consent alike because there is one definition of each.
//!
//! ```
//! use assent_store::stats::portable::{self, DayBuilder, StatsRow};
//! use assent_store::stats::{Interval, StatsQuery};
//!
//! let mut day = DayBuilder::new(0);
//! day.push(&StatsRow {
//!     id: 1,
//!     project: "shop",
//!     kind: "page",
//!     name: Some("Home"),
//!     anonymous_id: Some("a1"),
//!     user_id: None,
//!     group_id: None,
//!     session_id: None,
//!     timestamp_ms: 60_000,
//!     visitor_hash: None,
//!     payload: "{}",
//! });
//! let days = [day.finish()];
//! let traffic = portable::traffic(&days, &StatsQuery::new("shop", 0, 86_400_000), Interval::Day);
//! assert_eq!((traffic.totals.visitors, traffic.totals.pageviews), (1, 1));
//! ```

use std::ops::RangeInclusive;
use std::sync::Arc;

use super::build::{self, DayDigest};
use super::record::{EventRecord, Reader, Strings};
use super::{
    ConsentStats, Dimension, Funnel, FunnelStep, Interval, PropertyRow, StatsQuery, TopList,
    Traffic,
};

pub use super::privacy::activity_of as privacy_activity;
pub use super::record::StatsRow;

/// One day's events, digested. Cheap to clone; answers computed from it are kept in it, so
/// keep the day itself while its rows do not change.
#[derive(Clone)]
pub struct StatsDay(Arc<DayDigest>);

impl StatsDay {
    /// The day, in days since 1970 (UTC).
    pub fn day(&self) -> i64 {
        self.0.day
    }
}

impl StatsDay {
    /// The version of the digest's layout and meaning: a kept digest of another format is
    /// built again from its rows.
    pub const FORMAT: i64 = super::engine::FORMAT;

    /// The digest as bytes, to keep beside the day's rows ([`StatsDay::FORMAT`] with them).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(&*self.0).expect("a digest serialises")
    }

    /// A digest kept with [`StatsDay::to_bytes`] (of the current format); `None` if the bytes
    /// are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<StatsDay> {
        let mut digest: DayDigest = postcard::from_bytes(bytes).ok()?;
        digest.strings.reindex();
        Some(StatsDay(Arc::new(digest)))
    }
}

impl std::fmt::Debug for StatsDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsDay")
            .field("day", &self.0.day)
            .finish()
    }
}

/// Takes a day's rows, in the order they were stored, and makes its [`StatsDay`].
pub struct DayBuilder {
    day: i64,
    reader: Reader,
    strings: Strings,
    records: Vec<EventRecord>,
}

impl DayBuilder {
    /// A builder for `day`: days since 1970, the day the rows were received.
    pub fn new(day: i64) -> DayBuilder {
        DayBuilder {
            day,
            reader: Reader::new(),
            strings: Strings::new(),
            records: Vec::new(),
        }
    }

    pub fn push(&mut self, row: &StatsRow) {
        let record = self.reader.record(row, &mut self.strings);
        self.records.push(record);
    }

    pub fn finish(self) -> StatsDay {
        StatsDay(Arc::new(build::digest(
            self.day,
            self.strings,
            &self.records,
        )))
    }
}

/// The days (since 1970) whose rows may hold visits of the period `[from_ms, to_ms)`: a day
/// either side of it, since rows are kept by the day they were received, and late events
/// arrive the next day.
pub fn days_of(from_ms: i64, to_ms: i64) -> RangeInclusive<i64> {
    let day = |ms| crate::partition::PartitionDay::of_ms(ms).0;
    day(from_ms) - 1..=day(to_ms - 1) + 1
}

fn digests(days: &[StatsDay]) -> Vec<Arc<DayDigest>> {
    days.iter().map(|d| d.0.clone()).collect()
}

/// As [`Store::stats_traffic`](crate::Store::stats_traffic).
pub fn traffic(days: &[StatsDay], query: &StatsQuery, interval: Interval) -> Traffic {
    super::traffic(&digests(days), query, interval)
}

/// As [`Store::stats_top`](crate::Store::stats_top).
pub fn top(days: &[StatsDay], query: &StatsQuery, dimension: Dimension, limit: usize) -> TopList {
    super::top(&digests(days), query, dimension, limit)
}

/// As [`Store::stats_event_properties`](crate::Store::stats_event_properties).
pub fn event_properties(
    days: &[StatsDay],
    query: &StatsQuery,
    event: &str,
    limit: usize,
) -> Vec<PropertyRow> {
    super::event_properties(&digests(days), query, event, limit)
}

/// As [`Store::stats_funnel`](crate::Store::stats_funnel).
pub fn funnel(days: &[StatsDay], query: &StatsQuery, steps: &[FunnelStep]) -> Funnel {
    super::funnel(&digests(days), query, steps)
}

/// As [`Store::stats_consent`](crate::Store::stats_consent).
pub fn consent(days: &[StatsDay], query: &StatsQuery, interval: Interval) -> ConsentStats {
    super::consent(&digests(days), query, interval)
}

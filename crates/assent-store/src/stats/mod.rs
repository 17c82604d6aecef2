//! The dashboard's statistics: what the `/v1/stats` API and the dashboard show, as named
//! operations of the [`Store`](crate::Store) seam with plain types in and out.
//!
//! ## What is counted
//!
//! - **Visitors**: for each UTC day, the distinct visitors of that day, added up over the days
//!   of the period (a visitor seen on three days counts three times). A visitor is the event's
//!   stable id where consent allowed one (`anonymousId`, else `userId`), otherwise the day's
//!   cookieless visitor hash (counted as the stable id it was seen with that day, when there is
//!   exactly one). Events with neither (anonymous requests) count as pageviews and events but
//!   never as visitors or visits.
//! - **Visits**: a visitor's events with no gap over 30 minutes; attributed to the hour their
//!   first event happened (skew-corrected `timestamp`), with everything in them.
//! - **Bounce**: a visit with fewer than two pageviews and custom events together.
//! - **Funnels**: visits that carry a stable id (their visitor consented to `analytics`, so
//!   their pages can be linked), counted at each step they reached in order.
//! - **Consent**: choices are `consent` events; a visitor's state in a category is the latest
//!   consent snapshot their events carried that day.
//!
//! Every operation takes a [`StatsQuery`]: a project, a half-open period in milliseconds and
//! filters that select visits ([`Filter`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use assent_store::stats::{Interval, StatsQuery};
//! use assent_store::{SqliteStore, Store};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = SqliteStore::open(dir.path(), Default::default()).unwrap();
//! let query = StatsQuery::new("shop", 0, 86_400_000);
//! let traffic = store.stats_traffic(query, Interval::Day).await.unwrap();
//! assert_eq!((traffic.totals.visitors, traffic.series.len()), (0, 1));
//! store.close();
//! # }
//! ```

mod build;
mod consent;
pub(crate) mod engine;
mod funnel;
mod memo;
pub mod portable;
mod privacy;
mod record;
mod scan;
mod sources;
mod top;
mod traffic;

use std::sync::Arc;

use serde::Serialize;

pub use privacy::{PrivacyActivity, PrivacyPoint};

/// The visits an answer covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub project: String,
    /// Start of the period, milliseconds since 1970 (included).
    pub from_ms: i64,
    /// End of the period (excluded).
    pub to_ms: i64,
    /// All must hold (AND).
    pub filters: Vec<Filter>,
}

impl StatsQuery {
    pub fn new(project: impl Into<String>, from_ms: i64, to_ms: i64) -> StatsQuery {
        StatsQuery {
            project: project.into(),
            from_ms,
            to_ms,
            filters: Vec::new(),
        }
    }

    /// The same query over the period of the same length just before this one.
    pub fn previous(&self) -> StatsQuery {
        let length = self.to_ms - self.from_ms;
        StatsQuery {
            from_ms: self.from_ms - length,
            to_ms: self.from_ms,
            ..self.clone()
        }
    }
}

/// Something a visit has, by which lists are made and visits are filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// A page viewed (`page` events' path). As a filter: visits that viewed it, and only its
    /// views are counted.
    Page,
    EntryPage,
    ExitPage,
    /// Where the visit came from: `utm_source`, else the referrer's site by name, else
    /// `Direct / none`.
    Source,
    /// The referring page (host and path), `(none)` without one.
    Referrer,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    Browser,
    Os,
    /// `Desktop`, `Mobile`, `Tablet`, `Bot`, `Other`.
    Device,
    /// ISO 3166-1 alpha-2, from the operator's country database; `(unknown)` without one.
    Country,
    /// A custom (`track`) event's name. As a filter: visits that sent it, and only it is
    /// counted among events.
    Event,
}

impl Dimension {
    pub const ALL: [Dimension; 13] = [
        Dimension::Page,
        Dimension::EntryPage,
        Dimension::ExitPage,
        Dimension::Source,
        Dimension::Referrer,
        Dimension::UtmSource,
        Dimension::UtmMedium,
        Dimension::UtmCampaign,
        Dimension::Browser,
        Dimension::Os,
        Dimension::Device,
        Dimension::Country,
        Dimension::Event,
    ];

    /// The name the API uses (`entry_page`).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Page => "page",
            Dimension::EntryPage => "entry_page",
            Dimension::ExitPage => "exit_page",
            Dimension::Source => "source",
            Dimension::Referrer => "referrer",
            Dimension::UtmSource => "utm_source",
            Dimension::UtmMedium => "utm_medium",
            Dimension::UtmCampaign => "utm_campaign",
            Dimension::Browser => "browser",
            Dimension::Os => "os",
            Dimension::Device => "device",
            Dimension::Country => "country",
            Dimension::Event => "event",
        }
    }

    pub fn parse(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// Keeps the visits whose `dimension` is `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub dimension: Dimension,
    pub value: String,
}

/// The width of a time series' buckets (UTC; weeks start on Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Hour,
    Day,
    Week,
}

impl Interval {
    /// The start of the bucket `ms` falls in.
    pub fn bucket_start(self, ms: i64) -> i64 {
        const HOUR: i64 = 3_600_000;
        const DAY: i64 = 24 * HOUR;
        match self {
            Interval::Hour => ms.div_euclid(HOUR) * HOUR,
            Interval::Day => ms.div_euclid(DAY) * DAY,
            // 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
            Interval::Week => ((ms.div_euclid(DAY) + 3).div_euclid(7) * 7 - 3) * DAY,
        }
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next(self, start: i64) -> i64 {
        const HOUR: i64 = 3_600_000;
        match self {
            Interval::Hour => start + HOUR,
            Interval::Day => start + 24 * HOUR,
            Interval::Week => start + 7 * 24 * HOUR,
        }
    }
}

/// Traffic figures of a period or a bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    /// Custom (`track`) events.
    pub events: u64,
    pub bounces: u64,
    /// Summed over visits; divide by `visits` for the mean.
    pub duration_ms: u64,
}

impl Totals {
    pub fn views_per_visit(&self) -> f64 {
        ratio(self.pageviews, self.visits)
    }

    pub fn bounce_rate(&self) -> f64 {
        ratio(self.bounces, self.visits)
    }

    pub fn mean_duration_ms(&self) -> f64 {
        ratio(self.duration_ms, self.visits)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// One bucket of a time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point<T> {
    pub start_ms: i64,
    #[serde(flatten)]
    pub value: T,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Traffic {
    pub totals: Totals,
    /// Every bucket of the period, empty ones included.
    pub series: Vec<Point<Totals>>,
}

/// One row of a top list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopRow {
    pub value: String,
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    pub events: u64,
    pub bounces: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopList {
    pub dimension: Dimension,
    /// The first `limit` rows, most visitors first.
    pub rows: Vec<TopRow>,
    /// How many rows there are in all.
    pub total_rows: usize,
}

/// One property value of a custom event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyRow {
    pub property: String,
    pub value: String,
    pub visitors: u64,
    pub events: u64,
}

/// A funnel step: a page viewed or a custom event sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum FunnelStep {
    Page(String),
    Event(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelStepCount {
    pub step: FunnelStep,
    /// Consented visits that reached this step after all the steps before it.
    pub visits: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    pub steps: Vec<FunnelStepCount>,
    /// Visits with a stable id in the period (the funnel's population).
    pub consented_visits: u64,
    /// All visits in the period, for the share of the traffic a funnel can see.
    pub visits: u64,
}

/// How many visitors were in each state of one consent category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryStates {
    pub category: String,
    pub granted: u64,
    pub denied: u64,
    /// Pending, or the visitor had not decided yet.
    pub not_answered: u64,
    /// No consent snapshot on their events (a tracker that sends none).
    pub unknown: u64,
}

/// Consent choices (`consent` events) by what they chose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    pub total: u64,
    /// Every category granted (GPC's forced denial of `marketing` aside).
    pub accept_all: u64,
    /// Every category but `necessary` denied.
    pub reject_all: u64,
    pub custom: u64,
    /// `optOut()`: a withdrawal of everything.
    pub opt_outs: u64,
    pub opt_ins: u64,
}

/// Choices of one category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryChoices {
    pub category: String,
    pub granted: u64,
    pub denied: u64,
}

/// Choices under one policy revision (or from one source).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChoiceGroup {
    pub name: String,
    #[serde(flatten)]
    pub choices: Choices,
}

/// A consent time-series bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentPoint {
    pub choices: Choices,
    /// Visitors by their `analytics` state.
    pub granted: u64,
    pub denied: u64,
    pub not_answered: u64,
    pub unknown: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentStats {
    /// Visitors (as in traffic) the shares below are of.
    pub visitors: u64,
    /// Per category (but `necessary`), visitors by their latest state of the day.
    pub categories: Vec<CategoryStates>,
    pub choices: Choices,
    pub choices_by_category: Vec<CategoryChoices>,
    pub by_source: Vec<ChoiceGroup>,
    pub by_revision: Vec<ChoiceGroup>,
    /// Visitors with at least one request carrying `Sec-GPC: 1` / `DNT: 1`.
    pub gpc_visitors: u64,
    pub dnt_visitors: u64,
    /// Choices made with GPC on.
    pub gpc_choices: u64,
    /// Every stored event of the period (consent events included), and those stored with no
    /// identifier at all (no anonymousId, userId, groupId or sessionId).
    pub events: u64,
    pub events_without_identifiers: u64,
    pub series: Vec<Point<ConsentPoint>>,
}

pub(crate) use build::DayDigest;
pub(crate) use engine::StatsEngine;
pub(crate) use privacy::activity as privacy_activity;

// Each statistic is the sum of its answers over the days of the period (see `memo.rs`).

pub(crate) fn traffic(days: &[Arc<DayDigest>], query: &StatsQuery, interval: Interval) -> Traffic {
    let empty = Traffic {
        totals: Totals::default(),
        series: traffic::empty_series(query, interval),
    };
    memo::per_day(
        days,
        query,
        &format!("traffic|{interval:?}"),
        empty,
        |d, q| traffic::scan(d, q, interval),
    )
}

pub(crate) fn top(
    days: &[Arc<DayDigest>],
    query: &StatsQuery,
    dimension: Dimension,
    limit: usize,
) -> TopList {
    let empty = TopList {
        dimension,
        rows: Vec::new(),
        total_rows: 0,
    };
    let all = memo::per_day(days, query, &format!("top|{dimension:?}"), empty, |d, q| {
        top::scan(d, q, dimension, usize::MAX)
    });
    top::finish(all, limit)
}

pub(crate) fn event_properties(
    days: &[Arc<DayDigest>],
    query: &StatsQuery,
    event: &str,
    limit: usize,
) -> Vec<PropertyRow> {
    let all = memo::per_day(
        days,
        query,
        &format!("properties|{event}"),
        memo::Properties(Vec::new()),
        |d, q| memo::Properties(top::scan_properties(d, q, event, usize::MAX)),
    );
    top::finish_properties(all.0, limit)
}

pub(crate) fn funnel(days: &[Arc<DayDigest>], query: &StatsQuery, steps: &[FunnelStep]) -> Funnel {
    let empty = Funnel {
        steps: steps
            .iter()
            .map(|step| FunnelStepCount {
                step: step.clone(),
                visits: 0,
            })
            .collect(),
        consented_visits: 0,
        visits: 0,
    };
    memo::per_day(days, query, &format!("funnel|{steps:?}"), empty, |d, q| {
        funnel::scan(d, q, steps)
    })
}

pub(crate) fn consent(
    days: &[Arc<DayDigest>],
    query: &StatsQuery,
    interval: Interval,
) -> ConsentStats {
    let empty = ConsentStats {
        series: traffic::empty_series(query, interval),
        ..ConsentStats::default()
    };
    let mut stats = memo::per_day(
        days,
        query,
        &format!("consent|{interval:?}"),
        empty,
        |d, q| consent::scan(d, q, interval),
    );
    stats.categories.sort_by(|a, b| a.category.cmp(&b.category));
    stats
        .choices_by_category
        .sort_by(|a, b| a.category.cmp(&b.category));
    for groups in [&mut stats.by_source, &mut stats.by_revision] {
        groups.sort_by(|a, b| {
            b.choices
                .total
                .cmp(&a.choices.total)
                .then(a.name.cmp(&b.name))
        });
    }
    stats
}

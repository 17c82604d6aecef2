//! Visitors, visits, pageviews, bounces and time spent, over the period and per bucket.

use std::collections::HashMap;
use std::sync::Arc;

use super::build::{DayDigest, BOUNCE, TRAFFIC};
use super::scan::{DayScan, DistinctVisitors};
use super::{Interval, Point, StatsQuery, Totals, Traffic};

/// The buckets of a period, empty ones included, and where each starts.
pub(crate) fn buckets(query: &StatsQuery, interval: Interval) -> (Vec<i64>, HashMap<i64, usize>) {
    let mut starts = Vec::new();
    let mut at = interval.bucket_start(query.from_ms);
    // A period of years by the hour would be millions of buckets: the API caps its periods.
    while at < query.to_ms && starts.len() < 100_000 {
        starts.push(at);
        at = interval.next(at);
    }
    let index = starts.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    (starts, index)
}

/// The period's buckets with their values, in order.
pub(crate) fn points<T>(starts: Vec<i64>, values: Vec<T>) -> Vec<Point<T>> {
    starts
        .into_iter()
        .zip(values)
        .map(|(start_ms, value)| Point { start_ms, value })
        .collect()
}

/// Every bucket of the period, empty.
pub(crate) fn empty_series<T: Default>(query: &StatsQuery, interval: Interval) -> Vec<Point<T>> {
    let (starts, _) = buckets(query, interval);
    let values = starts.iter().map(|_| T::default()).collect();
    points(starts, values)
}

pub(crate) fn scan(days: &[Arc<DayDigest>], query: &StatsQuery, interval: Interval) -> Traffic {
    let (starts, index) = buckets(query, interval);
    let mut series: Vec<Totals> = vec![Totals::default(); starts.len()];
    let mut totals = Totals::default();
    for digest in days {
        let Some(scan) = DayScan::new(digest, query) else {
            continue;
        };
        let mut day_visitors = DistinctVisitors::new(1);
        let mut bucket_visitors = DistinctVisitors::new(starts.len());
        for (_, v) in scan.visits() {
            let b = index[&interval.bucket_start(v.start_ms)];
            let (mut pageviews, mut events) = (0, 0);
            for step in scan.counted_steps(v) {
                if step.page {
                    pageviews += 1;
                } else {
                    events += 1;
                }
            }
            let add = |t: &mut Totals| {
                t.pageviews += pageviews;
                t.events += events;
                if v.has(TRAFFIC) {
                    t.visits += 1;
                    t.bounces += u64::from(v.has(BOUNCE));
                    t.duration_ms += u64::from(v.duration_ms);
                }
            };
            add(&mut totals);
            add(&mut series[b]);
            if v.has(TRAFFIC) {
                totals.visitors += u64::from(day_visitors.first(0, v.visitor));
                series[b].visitors += u64::from(bucket_visitors.first(b, v.visitor));
            }
        }
    }
    Traffic {
        totals,
        series: points(starts, series),
    }
}

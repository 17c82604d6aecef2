//! Top lists: the values of one dimension, most visitors first, and the properties of a
//! custom event.

use std::collections::HashMap;
use std::sync::Arc;

use super::build::{visit_dimension, DayDigest, BOUNCE, TRAFFIC};
use super::record::Sym;
use super::scan::{DayScan, DistinctVisitors};
use super::{Dimension, PropertyRow, StatsQuery, TopList, TopRow};

#[derive(Default, Clone, Copy)]
struct Counts {
    visitors: u64,
    visits: u64,
    pageviews: u64,
    events: u64,
    bounces: u64,
    duration_ms: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.visitors += other.visitors;
        self.visits += other.visits;
        self.pageviews += other.pageviews;
        self.events += other.events;
        self.bounces += other.bounces;
        self.duration_ms += other.duration_ms;
    }

    fn is_empty(&self) -> bool {
        self.visitors + self.visits + self.pageviews + self.events == 0
    }
}

pub(crate) fn top(
    days: &[Arc<DayDigest>],
    query: &StatsQuery,
    dimension: Dimension,
    limit: usize,
) -> TopList {
    let mut merged: HashMap<String, Counts> = HashMap::new();
    for digest in days {
        let Some(scan) = DayScan::new(digest, query) else {
            continue;
        };
        let mut counts = vec![Counts::default(); scan.strings_len()];
        let mut visitors = DistinctVisitors::new(scan.strings_len());
        let mut visits_seen = vec![usize::MAX; scan.strings_len()];
        match visit_dimension(dimension) {
            Some(index) => {
                for (_, v) in scan.visits() {
                    let key = v.dims[index] as usize;
                    let c = &mut counts[key];
                    for step in scan.counted_steps(v) {
                        if step.page {
                            c.pageviews += 1;
                        } else {
                            c.events += 1;
                        }
                    }
                    if v.has(TRAFFIC) {
                        c.visits += 1;
                        c.bounces += u64::from(v.has(BOUNCE));
                        c.duration_ms += u64::from(v.duration_ms);
                        c.visitors += u64::from(visitors.first(key, v.visitor));
                    }
                }
            }
            None => {
                let pages = dimension == Dimension::Page;
                for (i, v) in scan.visits() {
                    for step in scan.counted_steps(v).filter(|s| s.page == pages) {
                        let key = step.name as usize;
                        let c = &mut counts[key];
                        if pages {
                            c.pageviews += 1;
                        } else {
                            c.events += 1;
                        }
                        if v.has(TRAFFIC) {
                            c.visitors += u64::from(visitors.first(key, v.visitor));
                            if visits_seen[key] != i {
                                visits_seen[key] = i;
                                c.visits += 1;
                            }
                        }
                    }
                }
            }
        }
        for (sym, c) in counts.iter().enumerate() {
            if !c.is_empty() {
                merged
                    .entry(scan.text(sym as Sym).to_string())
                    .or_default()
                    .add(c);
            }
        }
    }
    let mut rows: Vec<TopRow> = merged
        .into_iter()
        .map(|(value, c)| TopRow {
            value,
            visitors: c.visitors,
            visits: c.visits,
            pageviews: c.pageviews,
            events: c.events,
            bounces: c.bounces,
            duration_ms: c.duration_ms,
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.visitors, b.pageviews + b.events, b.visits)
            .cmp(&(a.visitors, a.pageviews + a.events, a.visits))
            .then_with(|| a.value.cmp(&b.value))
    });
    let total_rows = rows.len();
    rows.truncate(limit);
    TopList {
        dimension,
        rows,
        total_rows,
    }
}

/// The scalar properties of custom event `event`, by value.
pub(crate) fn event_properties(
    days: &[Arc<DayDigest>],
    query: &StatsQuery,
    event: &str,
    limit: usize,
) -> Vec<PropertyRow> {
    let mut merged: HashMap<(String, String), (u64, u64)> = HashMap::new();
    for digest in days {
        let Some(scan) = DayScan::new(digest, query) else {
            continue;
        };
        let Some(name) = digest.strings.find(event) else {
            continue;
        };
        let mut day: HashMap<(Sym, Sym), (u64, u32)> = HashMap::new();
        let mut visitors: HashMap<(Sym, Sym), u64> = HashMap::new();
        for (_, v) in scan.visits() {
            for step in scan.steps(v).iter().filter(|s| !s.page && s.name == name) {
                for pair in scan.properties(step) {
                    let entry = day.entry(*pair).or_insert((0, u32::MAX - 1));
                    entry.0 += 1;
                    if v.has(TRAFFIC) && entry.1 != v.visitor {
                        entry.1 = v.visitor;
                        *visitors.entry(*pair).or_default() += 1;
                    }
                }
            }
        }
        for (pair, (events, _)) in day {
            let key = (scan.text(pair.0).to_string(), scan.text(pair.1).to_string());
            let m = merged.entry(key).or_default();
            m.0 += visitors.get(&pair).copied().unwrap_or(0);
            m.1 += events;
        }
    }
    let mut rows: Vec<PropertyRow> = merged
        .into_iter()
        .map(|((property, value), (visitors, events))| PropertyRow {
            property,
            value,
            visitors,
            events,
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.visitors, b.events)
            .cmp(&(a.visitors, a.events))
            .then_with(|| (&a.property, &a.value).cmp(&(&b.property, &b.value)))
    });
    rows.truncate(limit);
    rows
}

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

pub(crate) fn scan(
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
    let rows: Vec<TopRow> = merged
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
    finish(
        TopList {
            dimension,
            total_rows: rows.len(),
            rows,
        },
        limit,
    )
}

/// Most visitors first (then most pageviews and events, then by value), cut at `limit`.
pub(crate) fn finish(mut list: TopList, limit: usize) -> TopList {
    list.rows.sort_by(|a, b| {
        (b.visitors, b.pageviews + b.events, b.visits)
            .cmp(&(a.visitors, a.pageviews + a.events, a.visits))
            .then_with(|| a.value.cmp(&b.value))
    });
    list.total_rows = list.rows.len();
    list.rows.truncate(limit);
    list
}

#[derive(Default, Clone, Copy)]
struct PropertyCount {
    events: u64,
    visitors: u64,
    last_visitor: Option<u32>,
}

/// The scalar properties of custom event `event`, by value.
pub(crate) fn scan_properties(
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
        // Per property: its values' counts, indexed by the value's symbol (a day has few
        // properties, and every value is in the day's table of strings).
        let mut day: HashMap<Sym, Vec<PropertyCount>> = HashMap::new();
        let strings = scan.strings_len();
        for (_, v) in scan.visits() {
            for step in scan.steps(v).iter().filter(|s| !s.page && s.name == name) {
                for (key, value) in scan.properties(step) {
                    let values = day
                        .entry(*key)
                        .or_insert_with(|| vec![PropertyCount::default(); strings]);
                    let c = &mut values[*value as usize];
                    c.events += 1;
                    if v.has(TRAFFIC) && c.last_visitor != Some(v.visitor) {
                        c.last_visitor = Some(v.visitor);
                        c.visitors += 1;
                    }
                }
            }
        }
        for (key, values) in day {
            for (value, c) in values.iter().enumerate().filter(|(_, c)| c.events > 0) {
                let m = merged
                    .entry((
                        scan.text(key).to_string(),
                        scan.text(value as Sym).to_string(),
                    ))
                    .or_default();
                m.0 += c.visitors;
                m.1 += c.events;
            }
        }
    }
    let rows: Vec<PropertyRow> = merged
        .into_iter()
        .map(|((property, value), (visitors, events))| PropertyRow {
            property,
            value,
            visitors,
            events,
        })
        .collect();
    finish_properties(rows, limit)
}

/// Most visitors first, then most events, cut at `limit`.
pub(crate) fn finish_properties(mut rows: Vec<PropertyRow>, limit: usize) -> Vec<PropertyRow> {
    rows.sort_by(|a, b| {
        (b.visitors, b.events)
            .cmp(&(a.visitors, a.events))
            .then_with(|| (&a.property, &a.value).cmp(&(&b.property, &b.value)))
    });
    rows.truncate(limit);
    rows
}

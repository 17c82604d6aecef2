//! Consent analytics: visitors by their latest state in each category, choices by what they
//! chose, where from and under which policy revision, privacy signals, and how much is stored
//! without identifiers.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::build::{DayDigest, StoredChoice, Visit, DNT, GPC, NO_VISITOR, TRAFFIC};
use super::record::{Outcome, DENIED, GRANTED, NOT_ANSWERED};
use super::scan::DayScan;
use super::traffic::buckets;
use super::{
    CategoryChoices, CategoryStates, ChoiceGroup, Choices, ConsentPoint, ConsentStats, Interval,
    StatsQuery,
};

impl Choices {
    fn add(&mut self, outcome: Outcome) {
        self.total += 1;
        match outcome {
            Outcome::AcceptAll => self.accept_all += 1,
            Outcome::RejectAll => self.reject_all += 1,
            Outcome::Custom => self.custom += 1,
            Outcome::OptOut => self.opt_outs += 1,
            Outcome::OptIn => self.opt_ins += 1,
        }
    }
}

/// The categories every visitor is counted in, whatever their snapshots name.
const BUILT_IN: [&str; 4] = ["analytics", "functional", "marketing", "replay"];

#[derive(Default)]
struct Tally {
    categories: BTreeMap<String, CategoryStates>,
    choices: Choices,
    by_category: BTreeMap<String, CategoryChoices>,
    by_source: BTreeMap<String, Choices>,
    by_revision: BTreeMap<String, Choices>,
}

pub(crate) fn scan(
    days: &[Arc<DayDigest>],
    query: &StatsQuery,
    interval: Interval,
) -> ConsentStats {
    let (starts, index) = buckets(query, interval);
    let mut series = vec![ConsentPoint::default(); starts.len()];
    let mut stats = ConsentStats::default();
    let mut tally = Tally::default();
    for digest in days {
        let Some(scan) = DayScan::new(digest, query) else {
            continue;
        };
        // The day's categories: the built-in ones and any other its snapshots name. Every
        // visitor of the day is counted in each (as unknown if need be).
        let mut names: Vec<String> = BUILT_IN.iter().map(|c| c.to_string()).collect();
        for states in &scan.day.snapshots {
            for (c, _) in states {
                let name = scan.text(*c);
                if name != "necessary" && !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        for name in &names {
            tally
                .categories
                .entry(name.clone())
                .or_insert_with(|| CategoryStates {
                    category: name.clone(),
                    ..CategoryStates::default()
                });
        }
        // Each snapshot's state in each category, worked out once for the day.
        let analytics = names.iter().position(|n| n == "analytics");
        let snapshot_states: Vec<Vec<Option<u8>>> = scan
            .day
            .snapshots
            .iter()
            .map(|states| {
                names
                    .iter()
                    .map(|n| {
                        states
                            .iter()
                            .find(|(c, _)| scan.text(*c) == n)
                            .map(|(_, s)| *s)
                    })
                    .collect()
            })
            .collect();
        let visits: Vec<&Visit> = scan.visits().map(|(_, v)| v).collect();
        for v in &visits {
            stats.events += u64::from(v.events);
            stats.events_without_identifiers += u64::from(v.without_identifiers);
            let choices = &scan.day.choices[v.choices.0 as usize..v.choices.1 as usize];
            for c in choices {
                count_choice(&scan, c, &mut tally);
                if c.gpc {
                    stats.gpc_choices += 1;
                }
                if let Some(&b) = index.get(&interval.bucket_start(c.ts)) {
                    series[b].choices.add(c.outcome);
                }
            }
        }
        // Visitors: their visits are next to each other; the latest visit with a snapshot
        // gives their state of the day.
        let mut group_start = 0;
        while group_start < visits.len() {
            let visitor = visits[group_start].visitor;
            let mut end = group_start + 1;
            while end < visits.len() && visits[end].visitor == visitor && visitor != NO_VISITOR {
                end += 1;
            }
            let group = &visits[group_start..end];
            group_start = end;
            if visitor == NO_VISITOR || !group.iter().any(|v| v.has(TRAFFIC)) {
                continue;
            }
            stats.visitors += 1;
            stats.gpc_visitors += u64::from(group.iter().any(|v| v.has(GPC)));
            stats.dnt_visitors += u64::from(group.iter().any(|v| v.has(DNT)));
            let last = group
                .iter()
                .rev()
                .find(|v| v.snapshot != 0)
                .unwrap_or(&group[group.len() - 1]);
            let states = &snapshot_states[last.snapshot as usize];
            for (state, name) in states.iter().zip(&names) {
                let counts = tally.categories.get_mut(name).expect("added above");
                match state {
                    Some(GRANTED) => counts.granted += 1,
                    Some(DENIED) => counts.denied += 1,
                    Some(NOT_ANSWERED) => counts.not_answered += 1,
                    _ if last.snapshot != 0 => counts.not_answered += 1,
                    _ => counts.unknown += 1,
                }
            }
            if let Some(&b) = index.get(&interval.bucket_start(last.start_ms)) {
                let p = &mut series[b];
                match (last.snapshot, analytics.and_then(|a| states[a])) {
                    (_, Some(GRANTED)) => p.granted += 1,
                    (_, Some(DENIED)) => p.denied += 1,
                    (0, _) => p.unknown += 1,
                    _ => p.not_answered += 1,
                }
            }
        }
    }
    stats.categories = tally.categories.into_values().collect();
    stats.choices = tally.choices;
    stats.choices_by_category = tally.by_category.into_values().collect();
    let groups = |m: BTreeMap<String, Choices>| {
        let mut v: Vec<ChoiceGroup> = m
            .into_iter()
            .map(|(name, choices)| ChoiceGroup { name, choices })
            .collect();
        v.sort_by(|a, b| {
            b.choices
                .total
                .cmp(&a.choices.total)
                .then(a.name.cmp(&b.name))
        });
        v
    };
    stats.by_source = groups(tally.by_source);
    stats.by_revision = groups(tally.by_revision);
    stats.series = super::traffic::points(starts, series);
    stats
}

fn count_choice(scan: &DayScan, c: &StoredChoice, tally: &mut Tally) {
    tally.choices.add(c.outcome);
    tally
        .by_source
        .entry(scan.text(c.source).to_string())
        .or_default()
        .add(c.outcome);
    tally
        .by_revision
        .entry(scan.text(c.revision).to_string())
        .or_default()
        .add(c.outcome);
    for (cat, state) in &scan.day.choice_states[c.states.0 as usize..c.states.1 as usize] {
        let name = scan.text(*cat);
        let entry = tally
            .by_category
            .entry(name.to_string())
            .or_insert_with(|| CategoryChoices {
                category: name.to_string(),
                ..CategoryChoices::default()
            });
        if *state == GRANTED {
            entry.granted += 1;
        } else {
            entry.denied += 1;
        }
    }
}

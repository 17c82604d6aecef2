//! Funnels: of the visits whose visitor consented (a stable id links their pages), how many
//! reached each step after all the steps before it, in order, within the visit.

use std::sync::Arc;

use super::build::{DayDigest, CONSENTED, TRAFFIC};
use super::record::Sym;
use super::scan::DayScan;
use super::{Funnel, FunnelStep, FunnelStepCount, StatsQuery};

pub(crate) fn scan(days: &[Arc<DayDigest>], query: &StatsQuery, steps: &[FunnelStep]) -> Funnel {
    let mut reached = vec![0u64; steps.len()];
    let (mut consented_visits, mut visits) = (0, 0);
    for digest in days {
        let Some(scan) = DayScan::new(digest, query) else {
            continue;
        };
        // A step whose name the day never saw cannot be reached that day.
        let wanted: Vec<Option<(bool, Sym)>> = steps
            .iter()
            .map(|s| match s {
                FunnelStep::Page(p) => digest.strings.find(p).map(|sym| (true, sym)),
                FunnelStep::Event(e) => digest.strings.find(e).map(|sym| (false, sym)),
            })
            .collect();
        for (_, v) in scan.visits().filter(|(_, v)| v.has(TRAFFIC)) {
            visits += 1;
            if !v.has(CONSENTED) {
                continue;
            }
            consented_visits += 1;
            // Greedy: the earliest match of each step after the previous one is optimal.
            let mut next = 0;
            for step in scan.steps(v) {
                match wanted.get(next) {
                    Some(Some(w)) if *w == (step.page, step.name) => {
                        reached[next] += 1;
                        next += 1;
                    }
                    _ => {}
                }
                if next == steps.len() {
                    break;
                }
            }
        }
    }
    Funnel {
        steps: steps
            .iter()
            .cloned()
            .zip(reached)
            .map(|(step, visits)| FunnelStepCount { step, visits })
            .collect(),
        consented_visits,
        visits,
    }
}

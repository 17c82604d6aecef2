//! Reading a day's digest for one query: which visits the period and the filters keep, and
//! which of their steps count.

use super::build::{visit_dimension, DayDigest, ProjectDay, Step, Visit, NO_VISITOR};
use super::record::Sym;
use super::{Dimension, StatsQuery};

/// One day of one project, seen through a query.
pub(crate) struct DayScan<'a> {
    pub digest: &'a DayDigest,
    pub day: &'a ProjectDay,
    from_ms: i64,
    to_ms: i64,
    visit_filters: Vec<(usize, Sym)>,
    page: Option<Sym>,
    event: Option<Sym>,
}

impl<'a> DayScan<'a> {
    /// `None` when nothing of the day can match (no such project, or a filter's value never
    /// occurs that day).
    pub fn new(digest: &'a DayDigest, query: &StatsQuery) -> Option<DayScan<'a>> {
        let day = digest.project(&query.project)?;
        let mut scan = DayScan {
            digest,
            day,
            from_ms: query.from_ms,
            to_ms: query.to_ms,
            visit_filters: Vec::new(),
            page: None,
            event: None,
        };
        for filter in &query.filters {
            let sym = digest.strings.find(&filter.value)?;
            match filter.dimension {
                Dimension::Page => scan.page = Some(sym),
                Dimension::Event => scan.event = Some(sym),
                other => {
                    let index = visit_dimension(other).expect("every other dimension is a visit's");
                    scan.visit_filters.push((index, sym));
                }
            }
        }
        Some(scan)
    }

    pub fn text(&self, sym: Sym) -> &'a str {
        self.digest.strings.get(sym)
    }

    pub fn strings_len(&self) -> usize {
        self.digest.strings.list.len()
    }

    /// The visits the query keeps, with their index.
    pub fn visits(&self) -> impl Iterator<Item = (usize, &'a Visit)> + '_ {
        self.day
            .visits
            .iter()
            .enumerate()
            .filter(move |(_, v)| self.keeps(v))
    }

    fn keeps(&self, v: &Visit) -> bool {
        v.start_ms >= self.from_ms
            && v.start_ms < self.to_ms
            && self.visit_filters.iter().all(|(i, sym)| v.dims[*i] == *sym)
            && self
                .page
                .is_none_or(|p| self.steps(v).iter().any(|s| s.page && s.name == p))
            && self
                .event
                .is_none_or(|e| self.steps(v).iter().any(|s| !s.page && s.name == e))
    }

    pub fn steps(&self, v: &Visit) -> &'a [Step] {
        &self.day.steps[v.steps.0 as usize..v.steps.1 as usize]
    }

    /// The steps that count under the page and event filters (a page filter counts only
    /// views of that page; an event filter only that event).
    pub fn counted_steps<'s>(&'s self, v: &Visit) -> impl Iterator<Item = &'a Step> + 's {
        self.steps(v).iter().filter(move |s| {
            if s.page {
                self.page.is_none_or(|p| p == s.name)
            } else {
                self.event.is_none_or(|e| e == s.name)
            }
        })
    }

    pub fn properties(&self, step: &Step) -> &'a [(Sym, Sym)] {
        &self.day.properties[step.properties.0 as usize..step.properties.1 as usize]
    }
}

/// Counts distinct visitors of one day for many keys at once: visits come ordered by visitor,
/// so a key is new for a visitor when the last visitor it saw is another one.
pub(crate) struct DistinctVisitors {
    last: Vec<u32>,
}

impl DistinctVisitors {
    pub fn new(keys: usize) -> DistinctVisitors {
        DistinctVisitors {
            last: vec![NO_VISITOR; keys],
        }
    }

    /// True the first time `visitor` is seen for `key` (never for visits without a visitor).
    pub fn first(&mut self, key: usize, visitor: u32) -> bool {
        if visitor == NO_VISITOR || self.last[key] == visitor {
            return false;
        }
        self.last[key] = visitor;
        true
    }
}

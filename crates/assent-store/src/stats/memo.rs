//! Answers kept per day: a statistic over many days is the sum of its answers over each day's
//! digest (visitors are counted per day, so even they add up), and a day's answer does not
//! change while its digest does not. Computed once per digest, question and filters, an
//! answer over 90 days is then a sum of 90 small answers: these are the dashboard's rollups,
//! made when first asked for and dropped with their digest.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::build::DayDigest;
use super::{
    CategoryChoices, CategoryStates, ChoiceGroup, Choices, ConsentPoint, ConsentStats, Funnel,
    Point, PropertyRow, StatsQuery, TopList, TopRow, Totals, Traffic,
};

/// At most this many answers are kept per digest (then they are all dropped).
const MAX_ANSWERS: usize = 512;

#[derive(Default)]
pub(crate) struct Memo(Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>);

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

/// An answer that adds up over days.
pub(crate) trait Additive: Clone + Send + Sync + 'static {
    fn add(&mut self, other: &Self);
}

/// `compute` over every day of `days`, each day's answer kept in its digest, added into
/// `total` (which starts with every bucket of the period, empty). `question` names what is
/// computed (and its own parameters); the period and filters are added to it.
pub(crate) fn per_day<T: Additive>(
    days: &[Arc<DayDigest>],
    query: &StatsQuery,
    question: &str,
    mut total: T,
    compute: impl Fn(&[Arc<DayDigest>], &StatsQuery) -> T,
) -> T {
    for digest in days {
        let Some((first, last)) = digest.span() else {
            continue;
        };
        // The part of the period this day's visits can be in: for a day wholly inside the
        // period, the same for every period, so that 7, 30 and 90 days share its answer.
        let day_query = StatsQuery {
            from_ms: query.from_ms.max(first),
            to_ms: query.to_ms.min(last + 1),
            ..query.clone()
        };
        if day_query.from_ms >= day_query.to_ms {
            continue;
        }
        let key = format!(
            "{question}|{}|{}|{}|{:?}",
            day_query.project, day_query.from_ms, day_query.to_ms, day_query.filters
        );
        let known = digest
            .memo
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let answer: Arc<T> = match known.and_then(|a| a.downcast::<T>().ok()) {
            Some(answer) => answer,
            None => {
                let answer = Arc::new(compute(std::slice::from_ref(digest), &day_query));
                let mut memo = digest.memo.0.lock().unwrap_or_else(|e| e.into_inner());
                if memo.len() >= MAX_ANSWERS {
                    memo.clear();
                }
                memo.insert(key, answer.clone());
                answer
            }
        };
        total.add(&answer);
    }
    total
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.visitors += o.visitors;
        self.visits += o.visits;
        self.pageviews += o.pageviews;
        self.events += o.events;
        self.bounces += o.bounces;
        self.duration_ms += o.duration_ms;
    }
}

/// Adds `other`'s points into `mine` by start (a day's buckets are among the period's).
fn add_series<T>(mine: &mut [Point<T>], other: &[Point<T>], add: impl Fn(&mut T, &T)) {
    let index: HashMap<i64, usize> = mine
        .iter()
        .enumerate()
        .map(|(i, p)| (p.start_ms, i))
        .collect();
    for p in other {
        if let Some(&i) = index.get(&p.start_ms) {
            add(&mut mine[i].value, &p.value);
        }
    }
}

impl Additive for Traffic {
    fn add(&mut self, o: &Traffic) {
        self.totals.add(&o.totals);
        add_series(&mut self.series, &o.series, Totals::add);
    }
}

impl Additive for TopList {
    fn add(&mut self, o: &TopList) {
        let mut index: HashMap<String, usize> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.value.clone(), i))
            .collect();
        for r in &o.rows {
            match index.get(&r.value) {
                Some(&i) => {
                    let m: &mut TopRow = &mut self.rows[i];
                    m.visitors += r.visitors;
                    m.visits += r.visits;
                    m.pageviews += r.pageviews;
                    m.events += r.events;
                    m.bounces += r.bounces;
                    m.duration_ms += r.duration_ms;
                }
                None => {
                    index.insert(r.value.clone(), self.rows.len());
                    self.rows.push(r.clone());
                }
            }
        }
        self.total_rows = self.rows.len();
    }
}

/// Property rows of one event.
#[derive(Clone)]
pub(crate) struct Properties(pub Vec<PropertyRow>);

impl Additive for Properties {
    fn add(&mut self, o: &Properties) {
        let mut index: HashMap<(String, String), usize> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.property.clone(), r.value.clone()), i))
            .collect();
        for r in &o.0 {
            match index.get(&(r.property.clone(), r.value.clone())) {
                Some(&i) => {
                    self.0[i].visitors += r.visitors;
                    self.0[i].events += r.events;
                }
                None => {
                    index.insert((r.property.clone(), r.value.clone()), self.0.len());
                    self.0.push(r.clone());
                }
            }
        }
    }
}

impl Additive for Funnel {
    fn add(&mut self, o: &Funnel) {
        for (mine, theirs) in self.steps.iter_mut().zip(&o.steps) {
            mine.visits += theirs.visits;
        }
        self.consented_visits += o.consented_visits;
        self.visits += o.visits;
    }
}

impl Choices {
    fn add_all(&mut self, o: &Choices) {
        self.total += o.total;
        self.accept_all += o.accept_all;
        self.reject_all += o.reject_all;
        self.custom += o.custom;
        self.opt_outs += o.opt_outs;
        self.opt_ins += o.opt_ins;
    }
}

/// Adds rows named by `name` into `mine`, keeping first-seen order.
fn add_named<T: Clone>(
    mine: &mut Vec<T>,
    other: &[T],
    name: impl Fn(&T) -> &str,
    add: impl Fn(&mut T, &T),
) {
    for o in other {
        match mine.iter_mut().find(|m| name(m) == name(o)) {
            Some(m) => add(m, o),
            None => mine.push(o.clone()),
        }
    }
}

impl Additive for ConsentStats {
    fn add(&mut self, o: &ConsentStats) {
        self.visitors += o.visitors;
        add_named(
            &mut self.categories,
            &o.categories,
            |c: &CategoryStates| &c.category,
            |m, o| {
                m.granted += o.granted;
                m.denied += o.denied;
                m.not_answered += o.not_answered;
                m.unknown += o.unknown;
            },
        );
        self.choices.add_all(&o.choices);
        add_named(
            &mut self.choices_by_category,
            &o.choices_by_category,
            |c: &CategoryChoices| &c.category,
            |m, o| {
                m.granted += o.granted;
                m.denied += o.denied;
            },
        );
        add_named(
            &mut self.by_source,
            &o.by_source,
            |g: &ChoiceGroup| &g.name,
            |m, o| m.choices.add_all(&o.choices),
        );
        add_named(
            &mut self.by_revision,
            &o.by_revision,
            |g: &ChoiceGroup| &g.name,
            |m, o| m.choices.add_all(&o.choices),
        );
        self.gpc_visitors += o.gpc_visitors;
        self.dnt_visitors += o.dnt_visitors;
        self.gpc_choices += o.gpc_choices;
        self.events += o.events;
        self.events_without_identifiers += o.events_without_identifiers;
        add_series(&mut self.series, &o.series, |m: &mut ConsentPoint, o| {
            m.choices.add_all(&o.choices);
            m.granted += o.granted;
            m.denied += o.denied;
            m.not_answered += o.not_answered;
            m.unknown += o.unknown;
        });
    }
}

//! A day's digest: its events grouped into visitors and visits, in the compact form every
//! statistic is computed from. Built from a partition's records; kept in the partition once
//! the day is closed (see `engine.rs`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::record::{EventRecord, Kind, Outcome, Strings, Sym, NONE};
use super::Dimension;

/// A visit ends after this long without an event (the tracker's session timeout too).
pub(crate) const VISIT_GAP_MS: i64 = 30 * 60 * 1000;

/// The visitor index of events that have no visitor (anonymous requests).
pub(crate) const NO_VISITOR: u32 = u32::MAX;

/// Visit flags.
pub(crate) const TRAFFIC: u8 = 1;
pub(crate) const CONSENTED: u8 = 2;
pub(crate) const BOUNCE: u8 = 4;
pub(crate) const GPC: u8 = 8;
pub(crate) const DNT: u8 = 16;

/// The visit attributes, in the order of `Visit::dims`.
pub(crate) const VISIT_DIMENSIONS: [Dimension; 11] = [
    Dimension::Source,
    Dimension::Referrer,
    Dimension::UtmSource,
    Dimension::UtmMedium,
    Dimension::UtmCampaign,
    Dimension::Browser,
    Dimension::Os,
    Dimension::Device,
    Dimension::Country,
    Dimension::EntryPage,
    Dimension::ExitPage,
];

pub(crate) fn visit_dimension(d: Dimension) -> Option<usize> {
    VISIT_DIMENSIONS.iter().position(|v| *v == d)
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DayDigest {
    /// Days since 1970 (the partition's day).
    pub day: i64,
    pub strings: Strings,
    pub projects: Vec<ProjectDay>,
    /// Answers already computed from this digest (see `memo.rs`); they go with it.
    #[serde(skip)]
    pub memo: super::memo::Memo,
    #[serde(skip)]
    span: std::sync::OnceLock<Option<(i64, i64)>>,
}

impl DayDigest {
    /// The first and last start of its visits (a partition holds its day's visits, and late
    /// ones of days before).
    pub fn span(&self) -> Option<(i64, i64)> {
        *self.span.get_or_init(|| {
            let starts = self
                .projects
                .iter()
                .flat_map(|p| p.visits.iter().map(|v| v.start_ms));
            starts.fold(None, |span, s| match span {
                None => Some((s, s)),
                Some((a, b)) => Some((a.min(s), b.max(s))),
            })
        })
    }

    pub fn project(&self, name: &str) -> Option<&ProjectDay> {
        let sym = self.strings.find(name)?;
        self.projects.iter().find(|p| p.project == sym)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ProjectDay {
    pub project: Sym,
    /// Ordered by visitor, then start; visits without a visitor last.
    pub visits: Vec<Visit>,
    pub steps: Vec<Step>,
    pub properties: Vec<(Sym, Sym)>,
    pub choices: Vec<StoredChoice>,
    pub choice_states: Vec<(Sym, u8)>,
    /// Consent snapshots, each once; 0 is "none".
    pub snapshots: Vec<Vec<(Sym, u8)>>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Visit {
    pub visitor: u32,
    pub start_ms: i64,
    pub duration_ms: u32,
    pub dims: [Sym; 11],
    /// `steps[start..end]`: pageviews and custom events, in order.
    pub steps: (u32, u32),
    pub choices: (u32, u32),
    /// The latest consent snapshot the visit's events carried (index into `snapshots`).
    pub snapshot: u32,
    pub flags: u8,
    /// Every stored event of the visit, and those with no identifier.
    pub events: u32,
    pub without_identifiers: u32,
}

impl Visit {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A pageview or a custom event.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Step {
    pub name: Sym,
    pub page: bool,
    /// `properties[start..end]` (custom events only).
    pub properties: (u32, u32),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct StoredChoice {
    pub ts: i64,
    pub outcome: Outcome,
    pub source: Sym,
    pub revision: Sym,
    /// `choice_states[start..end]`.
    pub states: (u32, u32),
    pub gpc: bool,
}

/// Groups a day's records (of every project) into its digest.
pub(crate) fn digest(day: i64, mut strings: Strings, records: &[EventRecord]) -> DayDigest {
    let labels = Labels::new(&mut strings);
    let mut by_project: HashMap<Sym, Vec<&EventRecord>> = HashMap::new();
    for r in records {
        by_project.entry(r.project).or_default().push(r);
    }
    let mut projects: Vec<ProjectDay> = by_project
        .into_iter()
        .map(|(project, records)| project_day(project, records, &labels))
        .collect();
    projects.sort_by_key(|p| p.project);
    DayDigest {
        day,
        strings,
        projects,
        memo: Default::default(),
        span: Default::default(),
    }
}

/// Labels for what an event did not say.
struct Labels {
    direct: Sym,
    none: Sym,
    unknown: Sym,
}

impl Labels {
    fn new(strings: &mut Strings) -> Labels {
        Labels {
            direct: strings.intern("Direct / none"),
            none: strings.intern("(none)"),
            unknown: strings.intern("(unknown)"),
        }
    }
}

/// Who an event's visitor is: its stable id, else its visitor hash — counted as the stable id
/// that hash was seen with that day when there is exactly one. The flag keeps the two kinds
/// of keys apart.
fn visitor_keys(records: &[&EventRecord]) -> Vec<Option<(bool, Sym)>> {
    let mut hash_to_stable: HashMap<Sym, Option<Sym>> = HashMap::new();
    for r in records {
        if r.hash != NONE && r.stable != NONE {
            hash_to_stable
                .entry(r.hash)
                .and_modify(|s| {
                    if *s != Some(r.stable) {
                        *s = None
                    }
                })
                .or_insert(Some(r.stable));
        }
    }
    records
        .iter()
        .map(|r| {
            if r.stable != NONE {
                Some((true, r.stable))
            } else if r.hash != NONE {
                Some(match hash_to_stable.get(&r.hash).copied().flatten() {
                    Some(stable) => (true, stable),
                    None => (false, r.hash),
                })
            } else {
                None
            }
        })
        .collect()
}

fn project_day(project: Sym, records: Vec<&EventRecord>, labels: &Labels) -> ProjectDay {
    let keys = visitor_keys(&records);
    let mut order: Vec<usize> = (0..records.len()).collect();
    // Visitors in key order, each one's events in time order; events without a visitor last.
    order.sort_by_key(|&i| (keys[i].is_none(), keys[i], records[i].ts, records[i].id));
    let mut out = ProjectDay {
        project,
        snapshots: vec![Vec::new()],
        ..ProjectDay::default()
    };
    let mut snapshot_index: HashMap<Vec<(Sym, u8)>, u32> = HashMap::new();
    let mut visitor = 0u32;
    let mut i = 0;
    while i < order.len() {
        let key = keys[order[i]];
        let mut end = i + 1;
        if key.is_some() {
            while end < order.len()
                && keys[order[end]] == key
                && records[order[end]].ts - records[order[end - 1]].ts <= VISIT_GAP_MS
            {
                end += 1;
            }
        }
        let visit_records: Vec<&EventRecord> = order[i..end].iter().map(|&j| records[j]).collect();
        let who = if key.is_some() { visitor } else { NO_VISITOR };
        let visit = visit(&visit_records, who, labels, &mut out, &mut snapshot_index);
        out.visits.push(visit);
        let next_key = order.get(end).map(|&j| keys[j]);
        if key.is_some() && next_key != Some(key) {
            visitor += 1;
        }
        i = end;
    }
    out
}

fn visit(
    records: &[&EventRecord],
    visitor: u32,
    labels: &Labels,
    out: &mut ProjectDay,
    snapshot_index: &mut HashMap<Vec<(Sym, u8)>, u32>,
) -> Visit {
    let first = records[0];
    let last = records[records.len() - 1];
    let steps_start = out.steps.len() as u32;
    let choices_start = out.choices.len() as u32;
    let mut flags = 0u8;
    let mut interactions = 0;
    let mut without_identifiers = 0;
    let mut snapshot = None;
    for r in records {
        match r.kind {
            Kind::Page | Kind::Track => {
                let start = out.properties.len() as u32;
                out.properties.extend_from_slice(&r.properties);
                out.steps.push(Step {
                    name: r.name,
                    page: r.kind == Kind::Page,
                    properties: (start, out.properties.len() as u32),
                });
                interactions += 1;
            }
            Kind::Consent => {
                if let Some(choice) = &r.choice {
                    let start = out.choice_states.len() as u32;
                    out.choice_states.extend_from_slice(&choice.states);
                    out.choices.push(StoredChoice {
                        ts: r.ts,
                        outcome: choice.outcome,
                        source: choice.source,
                        revision: choice.revision,
                        states: (start, out.choice_states.len() as u32),
                        gpc: r.gpc,
                    });
                }
            }
            Kind::Other => {}
        }
        if r.kind != Kind::Consent && visitor != NO_VISITOR {
            flags |= TRAFFIC;
        }
        if r.stable != NONE {
            flags |= CONSENTED;
        }
        if r.gpc {
            flags |= GPC;
        }
        if r.dnt {
            flags |= DNT;
        }
        without_identifiers += u32::from(r.without_identifiers);
        if r.consent.is_some() {
            snapshot = r.consent.as_ref();
        }
    }
    if interactions < 2 {
        flags |= BOUNCE;
    }
    let steps = &out.steps[steps_start as usize..];
    let pages = || steps.iter().filter(|s| s.page).map(|s| s.name);
    let entry = pages().next().unwrap_or(labels.none);
    let exit = pages().next_back().unwrap_or(labels.none);
    let origin = records
        .iter()
        .find(|r| r.kind == Kind::Page && r.origin.is_some())
        .or_else(|| records.iter().find(|r| r.origin.is_some()))
        .and_then(|r| r.origin);
    let agent = records.iter().find_map(|r| r.agent);
    let country = records
        .iter()
        .map(|r| r.country)
        .find(|c| *c != labels.unknown && *c != NONE)
        .unwrap_or(labels.unknown);
    let (source, referrer, utm) = match origin {
        Some(o) => (o.source, o.referrer, o.utm),
        None => (labels.direct, labels.none, [labels.none; 3]),
    };
    let (browser, os, device) = match agent {
        Some(a) => (a.browser, a.os, a.device),
        None => (labels.unknown, labels.unknown, labels.unknown),
    };
    let snapshot = match snapshot {
        None => 0,
        Some(states) => {
            let mut states = states.clone();
            states.sort_unstable();
            let next = out.snapshots.len() as u32;
            *snapshot_index.entry(states.clone()).or_insert_with(|| {
                out.snapshots.push(states);
                next
            })
        }
    };
    Visit {
        visitor,
        start_ms: first.ts,
        duration_ms: (last.ts - first.ts).clamp(0, u32::MAX as i64) as u32,
        dims: [
            source, referrer, utm[0], utm[1], utm[2], browser, os, device, country, entry, exit,
        ],
        steps: (steps_start, out.steps.len() as u32),
        choices: (choices_start, out.choices.len() as u32),
        snapshot,
        flags,
        events: records.len() as u32,
        without_identifiers,
    }
}

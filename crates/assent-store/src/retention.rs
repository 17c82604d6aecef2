//! Retention: what has been kept longer than its project allows is deleted, and the disk
//! space is given back.
//!
//! Events live in daily partitions: a partition whose every project's period is over is
//! deleted whole (its file is removed: milliseconds, whatever its size). One that still holds
//! events another project keeps loses the expired project's rows in steps. Events thus go on
//! the first sweep after their whole day has passed the period: at most a day later than the
//! period itself.
//!
//! Other kinds are deleted in steps of [`STEP_ROWS`] rows, each its own job on the writer, so
//! ingest waits at most one step, and their space is given back (`PRAGMA
//! incremental_vacuum`). Adding a kind means one entry in [`RETENTION_KINDS`] and a `*_days`
//! field in [`RetentionRule`]; session replays, kept in `replays.db`, are swept with that file
//! attached to the writer for the run (see `replays.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

use crate::partition::PartitionDay;

use crate::audit::{self, AuditAction, AuditEntry, Counts};
use crate::{SqliteStore, StoreError};

/// The most rows one step deletes of one kind.
pub const STEP_ROWS: usize = 20_000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How long one project keeps each kind; `None` keeps it forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    pub project: String,
    pub events_days: Option<u32>,
    pub consent_days: Option<u32>,
    pub replays_days: Option<u32>,
    /// Identity links not seen again for this long.
    pub identity_links_days: Option<u32>,
}

/// Count what would go, or delete up to a number of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    Count,
    Delete { limit: usize },
}

/// Rows expired (counted or deleted), per project.
pub type Expired = BTreeMap<String, u64>;

/// One kind of data retention applies to.
pub struct RetentionKind {
    pub name: &'static str,
    /// Counts or deletes the expired rows at a time (ms) under the rules.
    pub sweep: fn(&Connection, &[RetentionRule], i64, Sweep) -> rusqlite::Result<Expired>,
}

/// Every kind besides the events (which are swept by partition), in order.
pub const RETENTION_KINDS: &[RetentionKind] = &[
    RetentionKind {
        name: "consent",
        sweep: sweep_consent,
    },
    RetentionKind {
        name: "replays",
        sweep: crate::replays::sweep,
    },
    RetentionKind {
        name: "identity_links",
        sweep: sweep_identity_links,
    },
];

fn cutoff(now_ms: i64, days: u32) -> i64 {
    now_ms - i64::from(days) * DAY_MS
}

/// Counts or deletes the rows of `table` (which has `id`, `project` and an indexed
/// `received_at`) older than each project's `days`.
pub(crate) fn sweep_by_received(
    conn: &Connection,
    table: &str,
    days: fn(&RetentionRule) -> Option<u32>,
    rules: &[RetentionRule],
    now_ms: i64,
    sweep: Sweep,
) -> rusqlite::Result<Expired> {
    let mut out = BTreeMap::new();
    for rule in rules {
        let Some(days) = days(rule) else {
            continue;
        };
        let cutoff = cutoff(now_ms, days);
        let n: i64 = match sweep {
            Sweep::Count => conn.query_row(
                &format!("SELECT count(*) FROM {table} WHERE received_at < ?1 AND project = ?2"),
                params![cutoff, rule.project],
                |r| r.get(0),
            )?,
            Sweep::Delete { limit } => conn.execute(
                &format!(
                    "DELETE FROM {table} WHERE id IN (
                        SELECT id FROM {table} WHERE received_at < ?1 AND project = ?2 LIMIT ?3)"
                ),
                params![cutoff, rule.project, limit as i64],
            )? as i64,
        };
        out.insert(rule.project.clone(), n as u64);
    }
    Ok(out)
}

/// Identity links not seen again within their period (`identity_links_by_last_seen`).
fn sweep_identity_links(
    conn: &Connection,
    rules: &[RetentionRule],
    now_ms: i64,
    sweep: Sweep,
) -> rusqlite::Result<Expired> {
    let mut out = BTreeMap::new();
    for rule in rules {
        let Some(days) = rule.identity_links_days else {
            continue;
        };
        let cutoff = cutoff(now_ms, days);
        let n = match sweep {
            Sweep::Count => conn.query_row(
                "SELECT count(*) FROM identity_links WHERE last_seen < ?1 AND project = ?2",
                params![cutoff, rule.project],
                |r| r.get::<_, i64>(0),
            )? as u64,
            Sweep::Delete { limit } => conn.execute(
                "DELETE FROM identity_links WHERE (anonymous_id, user_id, project) IN (
                    SELECT anonymous_id, user_id, project FROM identity_links
                    WHERE last_seen < ?1 AND project = ?2 LIMIT ?3)",
                params![cutoff, rule.project, limit as i64],
            )? as u64,
        };
        out.insert(rule.project.clone(), n);
    }
    Ok(out)
}

/// The partitions old enough for some project's period to be over for their whole day: only
/// those are looked at.
fn expirable(dir: &Path, rules: &[RetentionRule], now_ms: i64) -> Vec<PartitionDay> {
    let Some(shortest) = rules.iter().filter_map(|r| r.events_days).min() else {
        return Vec::new();
    };
    let latest_end = cutoff(now_ms, shortest);
    crate::partition::list(dir)
        .into_iter()
        .filter(|day| day.start_ms() + DAY_MS <= latest_end)
        .collect()
}

/// What retention does to one partition: which projects' events in it are expired (with how
/// many there are), and whether that is all of them (then the file goes).
struct PartitionPlan {
    expired: BTreeMap<String, u64>,
    whole: bool,
}

impl PartitionPlan {
    fn of(
        dir: &Path,
        day: PartitionDay,
        rules: &[RetentionRule],
        now_ms: i64,
    ) -> rusqlite::Result<PartitionPlan> {
        let conn = crate::partition::open(dir, day, true)?;
        let counts: Vec<(String, i64)> = conn
            .prepare("SELECT project, events FROM projects WHERE events > 0")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        // The whole day must be past a project's period.
        let day_end = day.start_ms() + DAY_MS;
        let expired: BTreeMap<String, u64> = counts
            .iter()
            .filter(|(project, _)| {
                rules.iter().any(|r| {
                    r.project == *project
                        && r.events_days.is_some_and(|d| day_end <= cutoff(now_ms, d))
                })
            })
            .map(|(project, n)| (project.clone(), *n as u64))
            .collect();
        let whole = expired.len() == counts.len();
        Ok(PartitionPlan { expired, whole })
    }
}

/// Deletes up to [`STEP_ROWS`] events of `project` from a partition; returns how many.
fn expire_project_rows(tx: &Transaction, schema: &str, project: &str) -> rusqlite::Result<u64> {
    let n = tx.execute(
        &format!(
            "DELETE FROM {schema}.events WHERE id IN (
                SELECT id FROM {schema}.events WHERE project = ?1 LIMIT ?2)"
        ),
        params![project, STEP_ROWS as i64],
    )? as u64;
    tx.execute(
        &format!("UPDATE {schema}.projects SET events = max(events - ?2, 0) WHERE project = ?1"),
        params![project, n as i64],
    )?;
    Ok(n)
}

/// The consent ledger is one hash chain, so it can only lose entries from its start: the
/// longest run of expired entries there goes, and the last removed hash becomes the anchor
/// the chain is verified from (`meta.ledger_anchor`). An entry of a project that keeps
/// consent longer (or forever) keeps the entries after it.
fn sweep_consent(
    conn: &Connection,
    rules: &[RetentionRule],
    now_ms: i64,
    sweep: Sweep,
) -> rusqlite::Result<Expired> {
    let cutoffs: BTreeMap<&str, i64> = rules
        .iter()
        .filter_map(|r| Some((r.project.as_str(), cutoff(now_ms, r.consent_days?))))
        .collect();
    let mut out = BTreeMap::new();
    if cutoffs.is_empty() {
        return Ok(out);
    }
    let limit = match sweep {
        Sweep::Count => usize::MAX,
        Sweep::Delete { limit } => limit,
    };
    let mut query = conn.prepare(
        "SELECT id, project, json_extract(entry, '$.at_ms'), hash FROM consent_ledger ORDER BY id",
    )?;
    let mut rows = query.query([])?;
    let mut last: Option<(i64, String)> = None;
    let mut taken = 0;
    while let Some(row) = rows.next()? {
        let project: String = row.get(1)?;
        let at_ms: i64 = row.get(2)?;
        let expired = cutoffs.get(project.as_str()).is_some_and(|c| at_ms < *c);
        if !expired || taken == limit {
            break;
        }
        *out.entry(project).or_insert(0) += 1;
        last = Some((row.get(0)?, row.get(3)?));
        taken += 1;
    }
    drop(rows);
    if let (Sweep::Delete { .. }, Some((id, hash))) = (sweep, last) {
        conn.execute("DELETE FROM consent_ledger WHERE id <= ?1", [id])?;
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('ledger_anchor', ?1)",
            [hash],
        )?;
    }
    Ok(out)
}

/// What a retention run removed (or, dry, would remove): per project, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub projects: BTreeMap<String, Counts>,
}

impl RetentionReport {
    fn add(&mut self, kind: &str, found: Expired) -> u64 {
        let mut total = 0;
        for (project, n) in found {
            *self
                .projects
                .entry(project)
                .or_default()
                .entry(kind.to_string())
                .or_insert(0) += n;
            total += n;
        }
        total
    }
}

/// What a retention run would delete now, read without writing (`--dry-run`).
pub fn retention_preview(
    conn: &Connection,
    rules: &[RetentionRule],
    now_ms: i64,
) -> rusqlite::Result<RetentionReport> {
    let tx = conn.unchecked_transaction()?;
    let mut report = RetentionReport::default();
    if let Some(dir) = conn.path().and_then(|p| Path::new(p).parent()) {
        for day in expirable(dir, rules, now_ms) {
            let plan = PartitionPlan::of(dir, day, rules, now_ms)?;
            report.add("events", plan.expired.into_iter().collect());
        }
    }
    for kind in RETENTION_KINDS {
        report.add(kind.name, (kind.sweep)(&tx, rules, now_ms, Sweep::Count)?);
    }
    Ok(report)
}

/// Whether a project for which a run found nothing expired gets an audit entry. A person's
/// run always does (it answers "did we check?"); the hourly sweeper's would only be noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NothingExpired {
    Audit,
    Skip,
}

impl SqliteStore {
    /// Deletes everything expired under `rules`, step by step on the writer, records one
    /// audit entry per project, and gives the free pages back to the file system.
    pub async fn run_retention(
        &self,
        rules: Vec<RetentionRule>,
        now_ms: i64,
        actor: &str,
        nothing_expired: NothingExpired,
    ) -> Result<RetentionReport, StoreError> {
        let rules = std::sync::Arc::new(rules);
        let mut report = RetentionReport::default();
        let mut touched = Vec::new();
        for day in expirable(self.dir(), &rules, now_ms) {
            let plan = PartitionPlan::of(self.dir(), day, &rules, now_ms)
                .map_err(|e| StoreError::Commit(e.to_string()))?;
            if plan.expired.is_empty() {
                continue;
            }
            if plan.whole {
                self.with_writer(move |state| {
                    state.detach(day)?;
                    state.dedupe.forget(day);
                    crate::partition::remove(&state.dir, day)
                        .map_err(|e| crate::partition::failure(e.to_string()))
                })?
                .await?;
            } else {
                touched.push(day);
                for project in plan.expired.keys() {
                    loop {
                        let project = project.clone();
                        let deleted = self
                            .maintain_partition(day, move |tx, _| {
                                expire_project_rows(tx, &day.schema(), &project)
                            })?
                            .await?
                            .unwrap_or(0);
                        if deleted == 0 {
                            break;
                        }
                    }
                }
            }
            report.add("events", plan.expired.into_iter().collect());
        }
        for kind in RETENTION_KINDS {
            loop {
                let step_rules = rules.clone();
                let found = self
                    .maintain(move |tx, _| {
                        (kind.sweep)(tx, &step_rules, now_ms, Sweep::Delete { limit: STEP_ROWS })
                    })?
                    .await?;
                if report.add(kind.name, found) == 0 {
                    break;
                }
            }
        }
        let entries: Vec<AuditEntry> = rules
            .iter()
            .filter(|rule| {
                nothing_expired == NothingExpired::Audit
                    || report
                        .projects
                        .get(&rule.project)
                        .is_some_and(|counts| counts.values().any(|n| *n > 0))
            })
            .map(|rule| AuditEntry {
                at_ms: crate::now_ms(),
                actor: actor.to_string(),
                action: AuditAction::Retention,
                project: rule.project.clone(),
                subject_hash: None,
                counts: report
                    .projects
                    .get(&rule.project)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        self.maintain(move |tx, _| {
            entries
                .iter()
                .try_for_each(|entry| audit::record(tx, entry))
        })?
        .await?;
        self.compact(touched).await?;
        Ok(report)
    }
}

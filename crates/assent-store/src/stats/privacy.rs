//! Privacy operations over time, from the audit trail and the partitions' counts: deletions,
//! exports, retention runs, replays viewed, and events of deleted subjects refused at ingest.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::traffic::buckets;
use super::StatsEngine;
use super::{Interval, Point, StatsQuery};
use crate::partition::{self, PartitionDay};

/// Privacy work of one bucket (or of the whole period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyPoint {
    /// Subject deletions finished (GDPR Art. 17, CCPA delete).
    pub deletions: u64,
    /// Subject exports (GDPR Art. 15/20, CCPA know).
    pub exports: u64,
    pub retention_runs: u64,
    pub replay_views: u64,
    /// Events removed by deletions and retention.
    pub events_deleted: u64,
    /// Events of deleted subjects that arrived later and were not stored.
    pub suppressed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyActivity {
    pub totals: PrivacyPoint,
    pub series: Vec<Point<PrivacyPoint>>,
    /// The start of the oldest day that still holds events of the project.
    pub oldest_events_ms: Option<i64>,
}

pub(crate) fn activity(
    main: &Connection,
    engine: &StatsEngine,
    query: &StatsQuery,
    interval: Interval,
) -> rusqlite::Result<PrivacyActivity> {
    let mut audit = main.prepare_cached(
        "SELECT at, action, counts FROM audit_log WHERE project = ?1 AND at >= ?2 AND at < ?3",
    )?;
    let entries = audit
        .query_map(params![query.project, query.from_ms, query.to_ms], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<rusqlite::Result<Vec<(i64, String, String)>>>()?;
    let first = PartitionDay::of_ms(query.from_ms);
    let last = PartitionDay::of_ms(query.to_ms - 1);
    let mut oldest = None;
    let mut suppressed = Vec::new();
    for day in partition::list(engine.dir()) {
        let in_period = day >= first && day <= last;
        if !in_period && oldest.is_some() {
            continue;
        }
        let (events, refused) = engine.project_counts(day, &query.project)?;
        if events > 0 && oldest.is_none() {
            oldest = Some(day.start_ms());
        }
        if in_period {
            suppressed.push((day.start_ms(), refused));
        }
    }
    Ok(activity_of(query, interval, &entries, &suppressed, oldest))
}

/// The privacy activity of `query`'s period from the audit trail's entries in it (time,
/// action, counts as JSON) and the events of deleted subjects refused on each of its days
/// (day start, count); `oldest_events_ms` is the start of the oldest day with events.
pub fn activity_of(
    query: &StatsQuery,
    interval: Interval,
    audit: &[(i64, String, String)],
    suppressed: &[(i64, u64)],
    oldest_events_ms: Option<i64>,
) -> PrivacyActivity {
    let (starts, index) = buckets(query, interval);
    let mut series = vec![PrivacyPoint::default(); starts.len()];
    let mut totals = PrivacyPoint::default();
    for (at, action, counts) in audit {
        let counts: std::collections::BTreeMap<String, u64> =
            serde_json::from_str(counts).unwrap_or_default();
        let add = |p: &mut PrivacyPoint| {
            match action.as_str() {
                "deletion" => p.deletions += 1,
                "export" => p.exports += 1,
                "retention" => p.retention_runs += 1,
                "replay_view" => p.replay_views += 1,
                _ => {}
            }
            if action == "deletion" || action == "retention" {
                p.events_deleted += counts.get("events").copied().unwrap_or(0);
            }
        };
        add(&mut totals);
        if let Some(&b) = index.get(&interval.bucket_start(*at)) {
            add(&mut series[b]);
        }
    }
    for &(day_start, refused) in suppressed {
        totals.suppressed += refused;
        if let Some(&b) = index.get(&interval.bucket_start(day_start)) {
            series[b].suppressed += refused;
        }
    }
    PrivacyActivity {
        totals,
        series: super::traffic::points(starts, series),
        oldest_events_ms,
    }
}

/// Events stored and suppressed in a partition for a project (partitions made before the
/// count of suppressed events have none).
pub(crate) fn project_counts(conn: &Connection, project: &str) -> rusqlite::Result<(u64, u64)> {
    let has_suppressed = partition::has_column(conn, "projects", "suppressed")?;
    let sql = if has_suppressed {
        "SELECT events, suppressed FROM projects WHERE project = ?1"
    } else {
        "SELECT events, 0 FROM projects WHERE project = ?1"
    };
    Ok(conn
        .query_row(sql, [project], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })
        .optional()?
        .unwrap_or((0, 0)))
}

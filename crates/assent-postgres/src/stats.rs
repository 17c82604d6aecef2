//! The dashboard's statistics on PostgreSQL. A project's rows of one day are read once into a
//! digest (`assent_store::stats::portable`) kept in memory, and every answer is computed from
//! the digests by the same code as the embedded store's, so both count alike.
//!
//! A day is read again when the audit trail shows a deletion or a retention run finished
//! since it was read, by this process or any other, so no answer counts a deleted subject
//! after its deletion finished. A day still received into (today, yesterday) is also read
//! again once its digest is [`LIVE_REFRESH`] old: the dashboard is at most that far behind.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use assent_store::stats::portable::{self, DayBuilder, StatsDay, StatsRow};
use assent_store::stats::{Interval, PrivacyActivity, StatsQuery};
use assent_store::StoreError;
use futures_util::{pin_mut, TryStreamExt};
use tokio_postgres::types::ToSql;

use crate::append::day_of;
use crate::text::pg;
use crate::{read_error, Shared};

/// How old the digest of a day still received into may be.
pub(crate) const LIVE_REFRESH: Duration = Duration::from_secs(5);

/// Rows handed to the digest at a time, off the runtime's async work.
const ROWS_PER_STEP: usize = 4096;

const DAY_MS: i64 = 86_400_000;

struct Cached {
    day: StatsDay,
    read_at: Instant,
    /// The audit trail's newest deletion or retention when the day was read.
    privacy_mark: i64,
}

/// The digests read so far, by day and project. One question reads at a time, so the panels
/// of a dashboard asked at once wait for the first to read a day rather than all reading it.
#[derive(Default)]
pub(crate) struct StatsCache {
    days: tokio::sync::Mutex<HashMap<(i32, String), Cached>>,
}

/// The digests of the days that may hold visits of `query`'s period.
pub(crate) async fn days(shared: &Shared, query: &StatsQuery) -> Result<Vec<StatsDay>, StoreError> {
    let range = portable::days_of(query);
    let (first, last) = (*range.start() as i32, *range.end() as i32);
    let project = pg(&query.project).into_owned();
    let client = shared.client().await?;
    let mark: i64 = client
        .query_one(
            "SELECT coalesce(max(id), 0) FROM audit_log WHERE action IN ('deletion', 'retention')",
            &[],
        )
        .await
        .map_err(read_error)?
        .get(0);
    let held: Vec<i32> = client
        .query(
            "SELECT day FROM partition_projects WHERE project = $1 AND day BETWEEN $2 AND $3
             ORDER BY day",
            &[&project, &first, &last],
        )
        .await
        .map_err(read_error)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let received_into = day_of(crate::now_ms()) - 1;

    let mut cache = shared.stats.days.lock().await;
    cache.retain(|(day, p), _| p != &project || held.contains(day) || *day < first || *day > last);
    let mut out = Vec::with_capacity(held.len());
    for day in held {
        let key = (day, project.clone());
        let fresh = cache.get(&key).is_some_and(|c| {
            c.privacy_mark == mark && (day < received_into || c.read_at.elapsed() < LIVE_REFRESH)
        });
        if !fresh {
            let digest = read_day(&client, day, &project).await?;
            cache.insert(
                key.clone(),
                Cached {
                    day: digest,
                    read_at: Instant::now(),
                    privacy_mark: mark,
                },
            );
        }
        out.push(cache[&key].day.clone());
    }
    Ok(out)
}

/// Reads a project's rows of one day, in the order they were stored, into its digest.
async fn read_day(
    client: &tokio_postgres::Client,
    day: i32,
    project: &str,
) -> Result<StatsDay, StoreError> {
    let params: [&(dyn ToSql + Sync); 2] = [&day, &project];
    let rows = client
        .query_raw(
            "SELECT type, event, anonymous_id, user_id, group_id, session_id, timestamp,
                    visitor_hash, payload
             FROM events WHERE day = $1 AND project = $2
             ORDER BY received_at, dedupe_ts, message_id",
            params,
        )
        .await
        .map_err(read_error)?;
    pin_mut!(rows);
    let mut builder = DayBuilder::new(day as i64);
    let mut step = Vec::with_capacity(ROWS_PER_STEP);
    let mut id = 0i64;
    loop {
        let row = rows.try_next().await.map_err(read_error)?;
        let done = row.is_none();
        step.extend(row);
        if step.len() == ROWS_PER_STEP || (done && !step.is_empty()) {
            // Digesting is CPU work: let the runtime's other tasks (group commits) move on.
            tokio::task::block_in_place(|| {
                for row in step.drain(..) {
                    id += 1;
                    builder.push(&StatsRow {
                        id,
                        project,
                        kind: row.get(0),
                        name: row.get(1),
                        anonymous_id: row.get(2),
                        user_id: row.get(3),
                        group_id: row.get(4),
                        session_id: row.get(5),
                        timestamp_ms: row.get(6),
                        visitor_hash: row.get(7),
                        payload: row.get(8),
                    });
                }
            });
        }
        if done {
            break;
        }
    }
    Ok(tokio::task::block_in_place(|| builder.finish()))
}

/// Deletions, exports, retention runs and refused events of `query`'s period.
pub(crate) async fn privacy(
    shared: &Shared,
    query: &StatsQuery,
    interval: Interval,
) -> Result<PrivacyActivity, StoreError> {
    let project = pg(&query.project).into_owned();
    let client = shared.client().await?;
    let audit: Vec<(i64, String, String)> = client
        .query(
            "SELECT at, action, counts FROM audit_log
             WHERE project = $1 AND at >= $2 AND at < $3 ORDER BY id",
            &[&project, &query.from_ms, &query.to_ms],
        )
        .await
        .map_err(read_error)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let (first, last) = (day_of(query.from_ms), day_of(query.to_ms - 1));
    let refused: Vec<(i64, u64)> = client
        .query(
            "SELECT day, events FROM suppressed_counts
             WHERE project = $1 AND day BETWEEN $2 AND $3",
            &[&project, &first, &last],
        )
        .await
        .map_err(read_error)?
        .iter()
        .map(|r| {
            (
                r.get::<_, i32>(0) as i64 * DAY_MS,
                r.get::<_, i64>(1) as u64,
            )
        })
        .collect();
    let oldest: Option<i32> = client
        .query_one(
            "SELECT min(day) FROM partition_projects WHERE project = $1",
            &[&project],
        )
        .await
        .map_err(read_error)?
        .get(0);
    Ok(portable::privacy_activity(
        query,
        interval,
        &audit,
        &refused,
        oldest.map(|d| d as i64 * DAY_MS),
    ))
}

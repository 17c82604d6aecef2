//! The dashboard's statistics on PostgreSQL. A project's rows of one day are read into a
//! digest (`assent_store::stats::portable`), and every answer is computed from the digests by
//! the same code as the embedded store's, so both count alike.
//!
//! A day no longer received into (older than yesterday) is digested once for every collector:
//! the digest is kept in `stats_digests`, stamped with the day's version (`day_versions`,
//! raised by a deletion that removes rows of the day, in its own transaction, which also drops
//! the kept digest; and by rows that arrive late). A collector keeps the digests it read in
//! memory and asks only for the versions at each question. Today's and yesterday's rows are
//! read again once their digest is [`LIVE_REFRESH`] old, or ten times as old as its read took
//! on a busy day (or when their version moved): the dashboard is at most that far behind.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use assent_store::stats::portable::{self, DayBuilder, StatsDay, StatsRow};
use assent_store::stats::{Interval, PrivacyActivity, StatsQuery};
use assent_store::StoreError;
use futures_util::{pin_mut, TryStreamExt};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

use crate::append::{day_of, DAY_MS};
use crate::text::pg;
use crate::{commit_error, read_error, Shared};

/// How old the digest of a day still received into may be, at least.
pub(crate) const LIVE_REFRESH: Duration = Duration::from_secs(5);

/// A day still received into is read again only after this many times as long as its last
/// read took: reading a busy day's rows costs seconds, and a dashboard left open must not
/// keep a core busy with it.
const LIVE_READ_SHARE: u32 = 10;

/// Rows handed to the digest at a time, off the runtime's async work.
const ROWS_PER_STEP: usize = 4096;

struct Cached {
    day: StatsDay,
    read_at: Instant,
    /// How long reading it took.
    read_took: Duration,
    version: i64,
}

/// The digests read so far, by day and project. One question reads at a time, so the panels
/// of a dashboard asked at once wait for the first to read a day rather than all reading it.
#[derive(Default)]
pub(crate) struct StatsCache {
    days: tokio::sync::Mutex<HashMap<(i32, String), Cached>>,
}

/// Records, in the transaction that changes them, that a project's rows of a day changed:
/// the kept digest of the day goes, and digests built before are stale everywhere.
pub(crate) async fn day_changed(
    tx: &impl GenericClient,
    day: i32,
    project: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO day_versions (day, project, version) VALUES ($1, $2, 1)
         ON CONFLICT (day, project) DO UPDATE SET version = day_versions.version + 1",
        &[&day, &project],
    )
    .await
    .map_err(commit_error)?;
    tx.execute(
        "DELETE FROM stats_digests WHERE day = $1 AND project = $2",
        &[&day, &project],
    )
    .await
    .map_err(commit_error)?;
    Ok(())
}

/// The digests of the days that may hold visits of `query`'s period.
pub(crate) async fn days(shared: &Shared, query: &StatsQuery) -> Result<Vec<StatsDay>, StoreError> {
    let range = portable::days_of(query.from_ms, query.to_ms);
    let (first, last) = (*range.start() as i32, *range.end() as i32);
    let project = pg(&query.project).into_owned();
    // The versions are read under the lock: read before it, they could predate a deletion
    // that finished while another question held it.
    let mut cache = shared.stats.days.lock().await;
    let mut client = shared.client().await?;
    let held: Vec<(i32, i64)> = client
        .query(
            "SELECT p.day, coalesce(v.version, 0) FROM partition_projects p
             LEFT JOIN day_versions v ON v.day = p.day AND v.project = p.project
             WHERE p.project = $1 AND p.day BETWEEN $2 AND $3 ORDER BY p.day",
            &[&project, &first, &last],
        )
        .await
        .map_err(read_error)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let received_into = day_of(crate::now_ms()) - 1;

    cache.retain(|(day, p), _| {
        p != &project || *day < first || *day > last || held.iter().any(|(d, _)| d == day)
    });
    let mut out = Vec::with_capacity(held.len());
    for (day, version) in held {
        let key = (day, project.clone());
        let live = day >= received_into;
        let fresh = cache.get(&key).is_some_and(|c| {
            let refresh = LIVE_REFRESH.max(c.read_took * LIVE_READ_SHARE);
            c.version == version && (!live || c.read_at.elapsed() < refresh)
        });
        if !fresh {
            let started = Instant::now();
            let digest = if live {
                read_day(&client, day, &project).await?
            } else {
                closed_day(&mut client, day, &project, version).await?
            };
            cache.insert(
                key.clone(),
                Cached {
                    day: digest,
                    read_at: Instant::now(),
                    read_took: started.elapsed(),
                    version,
                },
            );
        }
        out.push(cache[&key].day.clone());
    }
    Ok(out)
}

/// Reads every project's digests of the last 90 days, now and every ten minutes, for as long
/// as the store is open. The digests of closed days are built and kept by the first process
/// to need them, so a second collector only loads them.
pub(crate) async fn keep_warm(shared: std::sync::Arc<Shared>) {
    const PERIOD_DAYS: i64 = 90;
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let started = Instant::now();
        let today = crate::now_ms().div_euclid(DAY_MS);
        let projects = match shared.client().await {
            Ok(client) => client
                .query(
                    "SELECT DISTINCT project FROM partition_projects WHERE day >= $1",
                    &[&((today - PERIOD_DAYS) as i32)],
                )
                .await
                .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect()),
            Err(_) => Ok(Vec::new()),
        };
        let projects: Vec<String> = match projects {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(error = %crate::describe(&e), "statistics will be read when asked");
                continue;
            }
        };
        for project in &projects {
            let query = StatsQuery::new(
                project.as_str(),
                (today - PERIOD_DAYS + 1) * DAY_MS,
                (today + 1) * DAY_MS,
            );
            if let Err(e) = days(&shared, &query).await {
                tracing::debug!(error = %e, project, "statistics will be read when asked");
            }
        }
        tracing::debug!(
            projects = projects.len(),
            seconds = started.elapsed().as_secs_f64(),
            "dashboard digests read"
        );
    }
}

/// A closed day's digest: the kept one of its version, or one read from its rows and kept.
async fn closed_day(
    client: &mut tokio_postgres::Client,
    day: i32,
    project: &str,
    version: i64,
) -> Result<StatsDay, StoreError> {
    let kept = client
        .query_opt(
            "SELECT data FROM stats_digests
             WHERE day = $1 AND project = $2 AND format = $3 AND version = $4",
            &[&day, &project, &StatsDay::FORMAT, &version],
        )
        .await
        .map_err(read_error)?;
    if let Some(digest) = kept.and_then(|r| StatsDay::from_bytes(r.get(0))) {
        return Ok(digest);
    }
    let digest = read_day(client, day, project).await?;
    let bytes = tokio::task::block_in_place(|| digest.to_bytes());
    // Kept only if the day is still at the version its rows were read at: the version row's
    // lock orders this against a deletion, which would otherwise find no digest to remove
    // and leave this one, built with the deleted rows.
    let tx = client.transaction().await.map_err(commit_error)?;
    tx.execute(
        "INSERT INTO day_versions (day, project, version) VALUES ($1, $2, 0)
         ON CONFLICT (day, project) DO NOTHING",
        &[&day, &project],
    )
    .await
    .map_err(commit_error)?;
    let now: i64 = tx
        .query_one(
            "SELECT version FROM day_versions WHERE day = $1 AND project = $2 FOR UPDATE",
            &[&day, &project],
        )
        .await
        .map_err(commit_error)?
        .get(0);
    if now == version {
        tx.execute(
            "INSERT INTO stats_digests (day, project, format, version, data)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (day, project) DO UPDATE
             SET format = excluded.format, version = excluded.version, data = excluded.data",
            &[&day, &project, &StatsDay::FORMAT, &version, &bytes],
        )
        .await
        .map_err(commit_error)?;
    }
    tx.commit().await.map_err(commit_error)?;
    Ok(digest)
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

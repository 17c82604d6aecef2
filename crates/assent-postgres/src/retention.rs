//! Retention on PostgreSQL: a day whose every project's period is over loses its partition
//! (`DROP TABLE`: instant, whatever its size, and its bytes leave the data files); a day that
//! still holds events another project keeps loses the expired project's rows in steps. Other
//! kinds are deleted in steps of [`STEP_ROWS`], each its own transaction.

use std::collections::BTreeMap;

use assent_store::audit::{AuditAction, AuditEntry};
use assent_store::retention::{Expired, NothingExpired, RetentionReport, RetentionRule};
use assent_store::StoreError;
use tokio_postgres::GenericClient;

use crate::{commit_error, read_error, Shared, DAY_MS};

/// The most rows one step deletes of one kind.
pub const STEP_ROWS: i64 = 20_000;

fn cutoff(now_ms: i64, days: u32) -> i64 {
    now_ms - i64::from(days) * DAY_MS
}

/// What retention does to one day: which projects' events are expired (with how many), and
/// whether that is all of them (then the partition goes).
struct DayPlan {
    day: i32,
    expired: BTreeMap<String, u64>,
    whole: bool,
}

async fn plan_days(
    client: &impl GenericClient,
    rules: &[RetentionRule],
    now_ms: i64,
) -> Result<Vec<DayPlan>, tokio_postgres::Error> {
    let mut plans = Vec::new();
    for day in crate::partitions::list(client).await? {
        // The whole day must be past a project's period.
        let day_end = (i64::from(day) + 1) * DAY_MS;
        let expires = |project: &str| {
            rules.iter().any(|r| {
                r.project == project && r.events_days.is_some_and(|d| day_end <= cutoff(now_ms, d))
            })
        };
        let projects: Vec<String> = client
            .query(
                "SELECT project FROM partition_projects WHERE day = $1",
                &[&day],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let table = crate::partitions::table(day);
        let mut expired = BTreeMap::new();
        for project in projects.iter().filter(|p| expires(p)) {
            let n: i64 = client
                .query_one(
                    &format!("SELECT count(*) FROM {table} WHERE project = $1"),
                    &[project],
                )
                .await?
                .get(0);
            expired.insert(project.clone(), n as u64);
        }
        if !expired.is_empty() {
            plans.push(DayPlan {
                day,
                whole: expired.len() == projects.len(),
                expired,
            });
        }
    }
    Ok(plans)
}

/// A kind of data besides events: its name and how to count or delete (up to a limit) the
/// rows of one project older than a cutoff.
struct Kind {
    name: &'static str,
    days: fn(&RetentionRule) -> Option<u32>,
    count: &'static str,
    delete: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "replays",
        days: |r| r.replays_days,
        count: "SELECT count(*) FROM replay_chunks WHERE received_at < $1 AND project = $2",
        delete: "DELETE FROM replay_chunks WHERE id IN (
            SELECT id FROM replay_chunks WHERE received_at < $1 AND project = $2 LIMIT $3)",
    },
    Kind {
        name: "identity_links",
        days: |r| r.identity_links_days,
        count: "SELECT count(*) FROM identity_links WHERE last_seen < $1 AND project = $2",
        delete: "DELETE FROM identity_links WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM identity_links WHERE last_seen < $1 AND project = $2 LIMIT $3))",
    },
];

/// The ids and last hash of the oldest run of a project's chain recorded before `cutoff`
/// (at most `limit` entries): a hash chain can only lose entries from its start.
async fn expired_ledger_run(
    client: &impl GenericClient,
    project: &str,
    cutoff: i64,
    limit: i64,
) -> Result<Option<(i64, String, u64)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT id, entry, hash FROM consent_ledger WHERE project = $1 ORDER BY id LIMIT $2",
            &[&project, &limit],
        )
        .await?;
    let mut last = None;
    let mut n = 0;
    for row in rows {
        let entry: serde_json::Value = serde_json::from_str(row.get(1)).unwrap_or_default();
        if entry["at_ms"].as_i64().is_none_or(|at| at >= cutoff) {
            break;
        }
        n += 1;
        last = Some((row.get::<_, i64>(0), row.get::<_, String>(2), n));
    }
    Ok(last)
}

/// What [`run`] would delete now.
pub(crate) async fn preview(
    shared: &Shared,
    rules: &[RetentionRule],
    now_ms: i64,
) -> Result<RetentionReport, StoreError> {
    let mut client = shared.client().await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(read_error)?;
    let mut report = RetentionReport::default();
    for plan in plan_days(&tx, rules, now_ms).await.map_err(read_error)? {
        report.add("events", plan.expired);
    }
    let mut consent = Expired::new();
    for rule in rules {
        if let Some(days) = rule.consent_days {
            let run = expired_ledger_run(&tx, &rule.project, cutoff(now_ms, days), i64::MAX)
                .await
                .map_err(read_error)?;
            consent.insert(rule.project.clone(), run.map_or(0, |(_, _, n)| n));
        }
    }
    report.add("consent", consent);
    for kind in KINDS {
        let mut found = Expired::new();
        for rule in rules {
            if let Some(days) = (kind.days)(rule) {
                let n: i64 = tx
                    .query_one(kind.count, &[&cutoff(now_ms, days), &rule.project])
                    .await
                    .map_err(read_error)?
                    .get(0);
                found.insert(rule.project.clone(), n as u64);
            }
        }
        report.add(kind.name, found);
    }
    Ok(report)
}

/// Deletes everything expired under `rules`, and audits it per project.
pub(crate) async fn run(
    shared: &Shared,
    rules: &[RetentionRule],
    now_ms: i64,
    actor: &str,
    nothing_expired: NothingExpired,
) -> Result<RetentionReport, StoreError> {
    let mut report = RetentionReport::default();
    let plans = {
        let client = shared.client().await?;
        plan_days(&*client, rules, now_ms)
            .await
            .map_err(commit_error)?
    };
    for plan in plans {
        if plan.whole {
            crate::partitions::drop_day(shared, plan.day).await?;
        } else {
            let table = crate::partitions::table(plan.day);
            let client = shared.client().await?;
            for project in plan.expired.keys() {
                while client
                    .execute(
                        &format!(
                            "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
                                SELECT ctid FROM {table} WHERE project = $1 LIMIT $2))"
                        ),
                        &[project, &STEP_ROWS],
                    )
                    .await
                    .map_err(commit_error)?
                    > 0
                {}
                client
                    .execute(
                        "DELETE FROM partition_projects WHERE day = $1 AND project = $2",
                        &[&plan.day, project],
                    )
                    .await
                    .map_err(commit_error)?;
                for table in ["suppressed_counts", "stats_digests", "day_versions"] {
                    client
                        .execute(
                            &format!("DELETE FROM {table} WHERE day = $1 AND project = $2"),
                            &[&plan.day, project],
                        )
                        .await
                        .map_err(commit_error)?;
                }
            }
        }
        report.add("events", plan.expired);
    }
    let mut consent = Expired::new();
    for rule in rules {
        let Some(days) = rule.consent_days else {
            continue;
        };
        let mut total = 0;
        loop {
            let mut client = shared.client().await?;
            let tx = client.transaction().await.map_err(commit_error)?;
            crate::ledger::lock_tip(&tx, &rule.project).await?;
            let run = expired_ledger_run(&tx, &rule.project, cutoff(now_ms, days), STEP_ROWS)
                .await
                .map_err(commit_error)?;
            let Some((last_id, last_hash, n)) = run else {
                break;
            };
            tx.execute(
                "DELETE FROM consent_ledger WHERE project = $1 AND id <= $2",
                &[&rule.project, &last_id],
            )
            .await
            .map_err(commit_error)?;
            tx.execute(
                "UPDATE ledger_chains SET anchor = $2 WHERE project = $1",
                &[&rule.project, &last_hash],
            )
            .await
            .map_err(commit_error)?;
            tx.commit().await.map_err(commit_error)?;
            total += n;
        }
        consent.insert(rule.project.clone(), total);
    }
    report.add("consent", consent);
    for kind in KINDS {
        let mut found = Expired::new();
        for rule in rules {
            let Some(days) = (kind.days)(rule) else {
                continue;
            };
            let client = shared.client().await?;
            let mut total = 0;
            loop {
                let n = client
                    .execute(
                        kind.delete,
                        &[&cutoff(now_ms, days), &rule.project, &STEP_ROWS],
                    )
                    .await
                    .map_err(commit_error)?;
                total += n;
                if n == 0 {
                    break;
                }
            }
            found.insert(rule.project.clone(), total);
        }
        report.add(kind.name, found);
    }
    let client = shared.client().await?;
    for rule in rules {
        let counts = report
            .projects
            .get(&rule.project)
            .cloned()
            .unwrap_or_default();
        if nothing_expired == NothingExpired::Skip && counts.values().all(|n| *n == 0) {
            continue;
        }
        crate::seam::record_audit_in(
            &*client,
            &AuditEntry {
                at_ms: crate::now_ms(),
                actor: actor.to_string(),
                action: AuditAction::Retention,
                project: rule.project.clone(),
                subject_hash: None,
                counts,
            },
        )
        .await?;
    }
    Ok(report)
}

//! One group commit: the events of many requests (or of a sink's whole batch) in one
//! transaction, with everything the embedded store does in its writer — suppression, the
//! dedupe window, the identity graph, the consent ledger — done the way any number of
//! processes can do it at once.
//!
//! Rows go in as arrays (`INSERT … SELECT * FROM unnest(…)`): one statement per table per
//! group, whatever its size. Rows are sorted by key first, so that two transactions taking
//! the same keys take them in the same order and never wait for each other in a circle.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use assent_core::ledger::Entry;
use assent_core::StoredEvent;
use assent_store::{AppendReport, StoreError};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

use crate::text::{pg, pg_opt};
use crate::{commit_error, Shared};

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

/// How stale a link's `last_seen` may get before an event seeing it again moves it forward.
const LAST_SEEN_PRECISION_MS: i64 = DAY_MS;

/// Links remembered as written; past it, the memory starts over.
const REMEMBERED_LINKS: usize = 200_000;

/// The day (since 1970, UTC) of a time in milliseconds.
pub(crate) fn day_of(ms: i64) -> i32 {
    ms.div_euclid(DAY_MS) as i32
}

/// What this process knows it has written already, to keep repeats off the database.
#[derive(Default)]
pub(crate) struct Recorded {
    /// `(project, other id, user id)` → the day it was last written.
    links: HashMap<(String, String, String), i64>,
    /// `(day, project)` pairs in `partition_projects`.
    partition_projects: HashSet<(i32, String)>,
}

/// An event that may be new: not suppressed, not repeated within its group.
struct Candidate<'a> {
    group: usize,
    project: &'a str,
    event: &'a StoredEvent,
    day: i32,
    ts: i64,
    message_id: Cow<'a, str>,
}

impl Candidate<'_> {
    fn hour(&self) -> i64 {
        self.ts.div_euclid(HOUR_MS)
    }
}

/// Writes `groups` (a project and its events, one per request or message) in one
/// transaction; `probe` also proves a write commits. Returns a report per group, in order.
pub(crate) async fn write_groups(
    shared: &Shared,
    groups: &[(Arc<str>, Vec<StoredEvent>)],
    probe: bool,
) -> Result<Vec<AppendReport>, StoreError> {
    let days: Vec<i32> = {
        let set: std::collections::BTreeSet<i32> = groups
            .iter()
            .flat_map(|(_, events)| events.iter().map(|e| day_of(e.received_at_ms)))
            .collect();
        set.into_iter().collect()
    };
    shared.partitions.ensure(shared, &days).await?;
    let outcome = write_in_transaction(shared, groups, probe).await;
    if outcome.is_err() {
        // A partition dropped by another process since it was seen is made again next time.
        shared.partitions.forget();
    }
    outcome
}

async fn write_in_transaction(
    shared: &Shared,
    groups: &[(Arc<str>, Vec<StoredEvent>)],
    probe: bool,
) -> Result<Vec<AppendReport>, StoreError> {
    let mut client = shared.client().await?;
    let tx = client.transaction().await.map_err(commit_error)?;
    let mut projects: Vec<&str> = groups.iter().map(|(p, _)| p.as_ref()).collect();
    projects.sort_unstable();
    projects.dedup();
    let suppressed = shared
        .suppression
        .lock_and_read(&tx, &projects)
        .await
        .map_err(commit_error)?;

    let mut reports = vec![AppendReport::default(); groups.len()];
    let mut seen: HashSet<(&str, i64, Cow<str>)> = HashSet::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    // Events to record in the graph and the ledger: every one not suppressed, duplicates
    // too (both are idempotent), once per group commit.
    let mut kept: Vec<(&str, &StoredEvent)> = Vec::new();
    // Refused events per (day, project): the dashboard's privacy panel counts them.
    let mut refused: HashMap<(i32, &str), i64> = HashMap::new();
    for (group, (project, events)) in groups.iter().enumerate() {
        for e in events {
            if suppressed.covers(project, e) {
                reports[group].suppressed += 1;
                *refused
                    .entry((day_of(e.received_at_ms), project.as_ref()))
                    .or_default() += 1;
                continue;
            }
            let ts = e.original_timestamp_ms.unwrap_or(0);
            let message_id = pg(&e.message_id);
            if !seen.insert((project.as_ref(), ts, message_id.clone())) {
                reports[group].duplicates += 1;
                continue;
            }
            kept.push((project.as_ref(), e));
            candidates.push(Candidate {
                group,
                project,
                event: e,
                day: day_of(e.received_at_ms),
                ts,
                message_id,
            });
        }
    }
    drop(suppressed);

    let (elsewhere, hours_held) = stored_on_other_days(shared, &tx, &candidates).await?;
    let mut new: Vec<&Candidate> = candidates
        .iter()
        .enumerate()
        .filter(|(i, _)| !elsewhere.contains(i))
        .map(|(_, c)| c)
        .collect();
    new.sort_by(|a, b| {
        (a.day, a.ts, &a.message_id, a.project).cmp(&(b.day, b.ts, &b.message_id, b.project))
    });
    let inserted = insert_events(&tx, &new).await?;
    for c in &candidates {
        if inserted.contains(&(c.project.to_string(), c.ts, c.message_id.to_string())) {
            reports[c.group].inserted += 1;
        } else {
            reports[c.group].duplicates += 1;
        }
    }
    let stored: Vec<&Candidate> = new
        .into_iter()
        .filter(|c| inserted.contains(&(c.project.to_string(), c.ts, c.message_id.to_string())))
        .collect();
    record_hours(&tx, &stored, &hours_held).await?;
    // Rows received into a closed day (a sink catching up on an old backlog) change what its
    // kept digest says.
    let closed_before = day_of(crate::now_ms()) - 1;
    let late: HashSet<(i32, &str)> = stored
        .iter()
        .filter(|c| c.day < closed_before)
        .map(|c| (c.day, c.project))
        .collect();
    for (day, project) in late {
        crate::stats::day_changed(&tx, day, &pg(project)).await?;
    }
    let new_partition_projects = record_partition_projects(shared, &tx, &stored).await?;
    let new_links = record_links(shared, &tx, &kept).await?;
    record_consent(shared, &tx, &kept).await?;
    for ((day, project), count) in refused {
        tx.execute(
            "INSERT INTO suppressed_counts (day, project, events) VALUES ($1, $2, $3)
             ON CONFLICT (day, project) DO UPDATE
             SET events = suppressed_counts.events + excluded.events",
            &[&day, &pg(project).as_ref(), &count],
        )
        .await
        .map_err(commit_error)?;
    }
    if probe {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('probe', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&crate::now_ms().to_string()],
        )
        .await
        .map_err(commit_error)?;
    }
    tx.commit().await.map_err(commit_error)?;

    let mut recorded = shared.links.lock().unwrap_or_else(|e| e.into_inner());
    if recorded.links.len() + new_links.len() > REMEMBERED_LINKS {
        recorded.links.clear();
    }
    recorded.links.extend(new_links);
    recorded.partition_projects.extend(new_partition_projects);
    Ok(reports)
}

/// The days of the dedupe window that hold each client hour.
type HoursHeld = HashMap<i64, Vec<i32>>;

/// The candidates (by index) already stored on another day of the dedupe window: those whose
/// client hour another day holds, looked up there. Also returns which days hold the
/// candidates' hours.
async fn stored_on_other_days(
    shared: &Shared,
    tx: &impl GenericClient,
    candidates: &[Candidate<'_>],
) -> Result<(HashSet<usize>, HoursHeld), StoreError> {
    if candidates.is_empty() {
        return Ok(Default::default());
    }
    let mut hours: Vec<i64> = candidates.iter().map(Candidate::hour).collect();
    hours.sort_unstable();
    hours.dedup();
    let first_day = day_of(crate::now_ms() - shared.dedupe_window_ms);
    let rows = tx
        .query(
            "SELECT hour, day FROM event_hours WHERE hour = ANY($1) AND day >= $2",
            &[&hours, &first_day],
        )
        .await
        .map_err(commit_error)?;
    let mut days_of_hour = HoursHeld::new();
    for row in rows {
        days_of_hour.entry(row.get(0)).or_default().push(row.get(1));
    }
    let (mut index, mut day, mut project, mut ts, mut message_id) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, c) in candidates.iter().enumerate() {
        for other in days_of_hour.get(&c.hour()).into_iter().flatten() {
            if *other != c.day {
                index.push(i as i32);
                day.push(*other);
                project.push(pg(c.project));
                ts.push(c.ts);
                message_id.push(c.message_id.as_ref());
            }
        }
    }
    if index.is_empty() {
        return Ok((HashSet::new(), days_of_hour));
    }
    let project: Vec<&str> = project.iter().map(AsRef::as_ref).collect();
    let rows = tx
        .query(
            "SELECT k.i FROM unnest($1::int4[], $2::int4[], $3::text[], $4::int8[], $5::text[])
                AS k(i, day, project, ts, message_id)
             WHERE EXISTS (SELECT 1 FROM events e WHERE e.day = k.day
                AND e.dedupe_ts = k.ts AND e.message_id = k.message_id AND e.project = k.project)",
            &[&index, &day, &project, &ts, &message_id],
        )
        .await
        .map_err(commit_error)?;
    let found = rows.iter().map(|r| r.get::<_, i32>(0) as usize).collect();
    Ok((found, days_of_hour))
}

fn as_str<'a>(v: &'a [Cow<'_, str>]) -> Vec<&'a str> {
    v.iter().map(AsRef::as_ref).collect()
}

fn as_opt<'a>(v: &'a [Option<Cow<'_, str>>]) -> Vec<Option<&'a str>> {
    v.iter().map(|s| s.as_deref()).collect()
}

/// Inserts the events; returns the keys `(project, dedupe_ts, message_id)` that were new.
async fn insert_events(
    tx: &impl GenericClient,
    new: &[&Candidate<'_>],
) -> Result<HashSet<(String, i64, String)>, StoreError> {
    if new.is_empty() {
        return Ok(HashSet::new());
    }
    let n = new.len();
    let mut day = Vec::with_capacity(n);
    let mut project = Vec::with_capacity(n);
    let mut message_id = Vec::with_capacity(n);
    let mut dedupe_ts = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut name = Vec::with_capacity(n);
    let mut anonymous_id = Vec::with_capacity(n);
    let mut user_id = Vec::with_capacity(n);
    let mut group_id = Vec::with_capacity(n);
    let mut session_id = Vec::with_capacity(n);
    let mut sequence = Vec::with_capacity(n);
    let mut timestamp = Vec::with_capacity(n);
    let mut sent_at = Vec::with_capacity(n);
    let mut received_at = Vec::with_capacity(n);
    let mut ip = Vec::with_capacity(n);
    let mut visitor_hash = Vec::with_capacity(n);
    let mut payload = Vec::with_capacity(n);
    for c in new {
        let e = c.event;
        day.push(c.day);
        project.push(pg(c.project));
        message_id.push(c.message_id.as_ref());
        dedupe_ts.push(c.ts);
        kind.push(e.kind.as_str());
        name.push(pg_opt(&e.name));
        anonymous_id.push(pg_opt(&e.anonymous_id));
        user_id.push(pg_opt(&e.user_id));
        group_id.push(pg_opt(&e.group_id));
        session_id.push(e.session_id);
        sequence.push(e.sequence);
        timestamp.push(e.timestamp_ms);
        sent_at.push(e.sent_at_ms);
        received_at.push(e.received_at_ms);
        ip.push(e.ip.as_deref().map(pg));
        visitor_hash.push(e.visitor_hash.as_deref().map(pg));
        payload.push(pg(&e.payload));
    }
    let (project, name, anonymous_id, user_id, group_id, ip, visitor_hash, payload) = (
        as_str(&project),
        as_opt(&name),
        as_opt(&anonymous_id),
        as_opt(&user_id),
        as_opt(&group_id),
        as_opt(&ip),
        as_opt(&visitor_hash),
        as_str(&payload),
    );
    let params: [&(dyn ToSql + Sync); 17] = [
        &day,
        &project,
        &message_id,
        &dedupe_ts,
        &kind,
        &name,
        &anonymous_id,
        &user_id,
        &group_id,
        &session_id,
        &sequence,
        &timestamp,
        &sent_at,
        &received_at,
        &ip,
        &visitor_hash,
        &payload,
    ];
    let rows = tx
        .query(
            "INSERT INTO events (day, project, message_id, dedupe_ts, type, event, anonymous_id,
                user_id, group_id, session_id, sequence, timestamp, sent_at, received_at, ip,
                visitor_hash, payload)
             SELECT * FROM unnest($1::int4[], $2::text[], $3::text[], $4::int8[], $5::text[],
                $6::text[], $7::text[], $8::text[], $9::text[], $10::int8[], $11::int8[],
                $12::int8[], $13::int8[], $14::int8[], $15::text[], $16::text[], $17::text[])
             ON CONFLICT DO NOTHING
             RETURNING project, dedupe_ts, message_id",
            &params,
        )
        .await
        .map_err(commit_error)?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Adds the client hours the new events bring to their days (see the dedupe window).
async fn record_hours(
    tx: &impl GenericClient,
    stored: &[&Candidate<'_>],
    held: &HoursHeld,
) -> Result<(), StoreError> {
    let mut pairs: Vec<(i32, i64)> = stored
        .iter()
        .map(|c| (c.day, c.hour()))
        .filter(|(day, hour)| !held.get(hour).is_some_and(|days| days.contains(day)))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    if pairs.is_empty() {
        return Ok(());
    }
    let (days, hours): (Vec<i32>, Vec<i64>) = pairs.into_iter().unzip();
    tx.execute(
        "INSERT INTO event_hours (day, hour) SELECT * FROM unnest($1::int4[], $2::int8[])
         ON CONFLICT DO NOTHING",
        &[&days, &hours],
    )
    .await
    .map_err(commit_error)?;
    Ok(())
}

/// Notes which projects have events in which days; returns the pairs written.
async fn record_partition_projects(
    shared: &Shared,
    tx: &impl GenericClient,
    stored: &[&Candidate<'_>],
) -> Result<Vec<(i32, String)>, StoreError> {
    let mut pairs: Vec<(i32, String)> = {
        let recorded = shared.links.lock().unwrap_or_else(|e| e.into_inner());
        stored
            .iter()
            .map(|c| (c.day, c.project.to_string()))
            .filter(|pair| !recorded.partition_projects.contains(pair))
            .collect()
    };
    pairs.sort_unstable();
    pairs.dedup();
    if pairs.is_empty() {
        return Ok(pairs);
    }
    let days: Vec<i32> = pairs.iter().map(|(d, _)| *d).collect();
    let projects: Vec<&str> = pairs.iter().map(|(_, p)| p.as_str()).collect();
    tx.execute(
        "INSERT INTO partition_projects (day, project) SELECT * FROM unnest($1::int4[], $2::text[])
         ON CONFLICT DO NOTHING",
        &[&days, &projects],
    )
    .await
    .map_err(commit_error)?;
    Ok(pairs)
}

/// Records the links events reveal (anonymousId ↔ userId, and an alias's previousId ↔
/// userId); returns the links written, to be remembered once committed.
async fn record_links(
    shared: &Shared,
    tx: &impl GenericClient,
    kept: &[(&str, &StoredEvent)],
) -> Result<Vec<((String, String, String), i64)>, StoreError> {
    // The newest sighting of each link in the group.
    let mut links: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    {
        let recorded = shared.links.lock().unwrap_or_else(|e| e.into_inner());
        for (project, e) in kept {
            let day = e.received_at_ms.div_euclid(LAST_SEEN_PRECISION_MS);
            for (other, user_id) in e.identity_links() {
                let link = (
                    pg(project).into_owned(),
                    pg(other).into_owned(),
                    pg(user_id).into_owned(),
                );
                if recorded.links.get(&link) == Some(&day) {
                    continue;
                }
                let at = links.entry(link).or_insert(e.received_at_ms);
                *at = (*at).max(e.received_at_ms);
            }
        }
    }
    if links.is_empty() {
        return Ok(Vec::new());
    }
    // Sorted by the table's key (anonymous_id, user_id, project): the order every
    // transaction locks them in.
    let mut rows: Vec<(&(String, String, String), &i64)> = links.iter().collect();
    rows.sort_by(|a, b| (&a.0 .1, &a.0 .2, &a.0 .0).cmp(&(&b.0 .1, &b.0 .2, &b.0 .0)));
    let projects: Vec<&str> = rows.iter().map(|(l, _)| l.0.as_str()).collect();
    let others: Vec<&str> = rows.iter().map(|(l, _)| l.1.as_str()).collect();
    let users: Vec<&str> = rows.iter().map(|(l, _)| l.2.as_str()).collect();
    let at: Vec<i64> = rows.iter().map(|(_, t)| **t).collect();
    tx.execute(
        "INSERT INTO identity_links (project, anonymous_id, user_id, first_seen, last_seen)
         SELECT p, a, u, t, t FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) AS x(p, a, u, t)
         ON CONFLICT (anonymous_id, user_id, project) DO UPDATE SET last_seen = excluded.last_seen
         WHERE excluded.last_seen > identity_links.last_seen + $5",
        &[&projects, &others, &users, &at, &LAST_SEEN_PRECISION_MS],
    )
    .await
    .map_err(commit_error)?;
    Ok(links
        .into_iter()
        .map(|(link, at)| (link, at.div_euclid(LAST_SEEN_PRECISION_MS)))
        .collect())
}

/// Appends the ledger entries of consent events that have none yet, project by project, each
/// project's chain locked by its tip's row until the commit.
async fn record_consent(
    shared: &Shared,
    tx: &impl GenericClient,
    kept: &[(&str, &StoredEvent)],
) -> Result<(), StoreError> {
    let mut by_project: BTreeMap<&str, Vec<(&StoredEvent, &Entry)>> = BTreeMap::new();
    for (project, e) in kept {
        if let Some(entry) = &e.consent {
            by_project.entry(project).or_default().push((e, entry));
        }
    }
    for (project, entries) in by_project {
        let project = pg(project);
        let mut tip = crate::ledger::lock_tip(tx, &project).await?;
        let message_ids: Vec<String> = entries
            .iter()
            .map(|(e, _)| pg(&e.message_id).into_owned())
            .collect();
        let rows = tx
            .query(
                "SELECT message_id FROM consent_ledger WHERE project = $1 AND message_id = ANY($2)",
                &[&project.as_ref(), &message_ids],
            )
            .await
            .map_err(commit_error)?;
        let mut recorded: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        let key = shared
            .keys
            .ledger_key(tx, &project)
            .await
            .map_err(StoreError::Commit)?;
        for ((e, entry), message_id) in entries.into_iter().zip(message_ids) {
            if !recorded.insert(message_id.clone()) {
                continue;
            }
            tip = crate::ledger::append(tx, &project, entry, &key, e, &message_id, &tip).await?;
        }
        tx.execute(
            "UPDATE ledger_chains SET tip = $2 WHERE project = $1",
            &[&project.as_ref(), &tip],
        )
        .await
        .map_err(commit_error)?;
    }
    Ok(())
}

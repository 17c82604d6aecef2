//! The daily partitions of `events`: `events_20261130` holds the events received on that UTC
//! day. Each is made before it is needed — at open and then every few minutes, a day ahead —
//! so midnight is not a moment of DDL under load; a day never made (an event received with a
//! clock far off, a test) is made on demand, under an advisory lock so that two processes
//! never make it at once.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_postgres::GenericClient;

use crate::{Shared, DAY_MS};

/// The lock partitions are made (and dropped) under.
const PARTITION_LOCK: i64 = 0x4153_5345_4e54_0002;

pub(crate) struct Partitions {
    known: Mutex<BTreeSet<i32>>,
}

/// The table of one day.
pub(crate) fn table(day: i32) -> String {
    format!("events_{}", date(day).replace('-', ""))
}

/// `2026-11-30`.
pub(crate) fn date(day: i32) -> String {
    jiff::Timestamp::from_millisecond(i64::from(day) * DAY_MS)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| format!("day-{day}"))
}

impl Partitions {
    pub async fn load(client: &impl GenericClient) -> Result<Partitions, tokio_postgres::Error> {
        Ok(Partitions {
            known: Mutex::new(list(client).await?.into_iter().collect()),
        })
    }

    /// Makes the partitions of `days` that this process has not seen yet.
    pub async fn ensure(
        &self,
        shared: &Shared,
        days: &[i32],
    ) -> Result<(), assent_store::StoreError> {
        let missing: Vec<i32> = {
            let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            days.iter()
                .copied()
                .filter(|d| !known.contains(d))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let mut client = shared.client().await?;
        let tx = client.transaction().await.map_err(crate::commit_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PARTITION_LOCK])
            .await
            .map_err(crate::commit_error)?;
        for day in &missing {
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF events FOR VALUES FROM ({day}) TO ({})",
                table(*day),
                day + 1
            ))
            .await
            .map_err(crate::commit_error)?;
        }
        tx.commit().await.map_err(crate::commit_error)?;
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(missing);
        Ok(())
    }

    /// Forgets what this process knows: after a failed insert (a partition another process
    /// dropped), the next commit asks again.
    pub fn forget(&self) {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn forget_day(&self, day: i32) {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&day);
    }
}

/// The days that have a partition, oldest first, as the database says now.
pub(crate) async fn list(client: &impl GenericClient) -> Result<Vec<i32>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT c.relname FROM pg_inherits i
                JOIN pg_class c ON c.oid = i.inhrelid
                JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname = 'events' AND p.relnamespace = current_schema()::regnamespace",
            &[],
        )
        .await?;
    let mut days: Vec<i32> = rows.iter().filter_map(|r| day_of_table(r.get(0))).collect();
    days.sort_unstable();
    Ok(days)
}

fn day_of_table(name: &str) -> Option<i32> {
    let digits = name.strip_prefix("events_")?;
    if digits.len() != 8 {
        return None;
    }
    let date: jiff::civil::Date = format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..])
        .parse()
        .ok()?;
    let start = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(start.as_millisecond().div_euclid(DAY_MS) as i32)
}

/// Drops a day's partition and what describes it, under the partition lock.
pub(crate) async fn drop_day(shared: &Shared, day: i32) -> Result<(), assent_store::StoreError> {
    let mut client = shared.client().await?;
    let tx = client.transaction().await.map_err(crate::commit_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PARTITION_LOCK])
        .await
        .map_err(crate::commit_error)?;
    tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", table(day)))
        .await
        .map_err(crate::commit_error)?;
    tx.execute("DELETE FROM event_hours WHERE day = $1", &[&day])
        .await
        .map_err(crate::commit_error)?;
    tx.execute("DELETE FROM partition_projects WHERE day = $1", &[&day])
        .await
        .map_err(crate::commit_error)?;
    for table in ["suppressed_counts", "stats_digests", "day_versions"] {
        tx.execute(&format!("DELETE FROM {table} WHERE day = $1"), &[&day])
            .await
            .map_err(crate::commit_error)?;
    }
    tx.commit().await.map_err(crate::commit_error)?;
    shared.partitions.forget_day(day);
    Ok(())
}

/// Keeps tomorrow's partition made, every ten minutes, for as long as the store is open.
pub(crate) async fn keep_ahead(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let today = crate::append::day_of(crate::now_ms());
        if let Err(e) = shared.partitions.ensure(&shared, &[today, today + 1]).await {
            tracing::warn!(error = %e, "could not make tomorrow's events partition yet");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_day_names_its_table_and_is_read_back_from_it() {
        let day = (1_796_083_200_000i64 / super::DAY_MS) as i32;
        assert_eq!(super::table(day), "events_20261201");
        assert_eq!(super::day_of_table("events_20261201"), Some(day));
        assert_eq!(super::day_of_table("events_hours"), None);
    }
}

//! Cookieless audience: daily unique visitors by the visitor hash, a partition (day) at a time.

use std::path::Path;

use crate::partition::{self, PartitionDay};
use crate::store::VisitorDay;

/// Unique visitors and events per project and day, over the partitions of the last `days`
/// days (today included), oldest first.
pub(crate) fn visitors_per_day(
    dir: &Path,
    days: u32,
    now_ms: i64,
) -> rusqlite::Result<Vec<VisitorDay>> {
    let today = PartitionDay::of_ms(now_ms);
    let first = PartitionDay(today.0 - i64::from(days));
    let mut out = Vec::new();
    for day in partition::list(dir).into_iter().filter(|d| *d >= first) {
        let conn = partition::open(dir, day, true)?;
        let mut query = conn.prepare(
            "SELECT project, count(DISTINCT visitor_hash), count(*) FROM events
             GROUP BY project ORDER BY project",
        )?;
        let rows = query.query_map([], |r| {
            Ok(VisitorDay {
                project: r.get(0)?,
                day: day.date(),
                visitors: r.get::<_, i64>(1)? as u64,
                events: r.get::<_, i64>(2)? as u64,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

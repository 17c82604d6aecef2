//! Privacy operations at scale: with 50 million events of 500 000 subjects spread over a year
//! of daily partitions, how long do exporting one subject and deleting one subject take? And
//! how long does retention take to drop one partition of 5 million events?
//!
//! The partitions are filled directly (bulk inserts into each day's file, much faster than
//! HTTP) and given their subject indexes as the indexer would, then subjects are exported and
//! deleted through the store seam, exactly as the server and the CLI call it.
//!
//!   cargo run --release -p assent-store --example privacy_scale -- [events] [subjects] [days] [dir]

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use assent_store::deletion::DeletionRequest;
use assent_store::partition::{self, PartitionDay};
use assent_store::retention::{NothingExpired, RetentionRule};
use assent_store::{SqliteStore, Store, StoreOptions};
use rusqlite::{params, Connection};

const DAY: i64 = 86_400_000;
const PAYLOAD: &str = r#"{"properties":{"path":"/pricing","total":42.5},"context":{"page":{"url":"https://shop.example/pricing"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"}}"#;

/// Counts bytes instead of keeping them: an export's size without holding it.
struct Counting(u64);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn anonymous_id(s: u64) -> String {
    format!("anon-{s:07}-5f1c")
}

fn user_id(s: u64) -> String {
    format!("user-{s:07}@example.org")
}

/// Fills one day's partition with `events` events spread over `subjects`, starting at
/// subject `first` (so each subject comes back on several days, as visitors do).
fn fill_day(
    dir: &Path,
    day: PartitionDay,
    events: u64,
    subjects: u64,
    first: u64,
) -> rusqlite::Result<()> {
    // Made by the store's own code, then filled on a connection of our own.
    let conn = Connection::open(day.path(dir))?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -256_000)?;
    conn.execute_batch("BEGIN")?;
    {
        let mut insert = conn.prepare_cached(
            "INSERT INTO events (project, message_id, dedupe_ts, type, event, anonymous_id,
                 user_id, timestamp, received_at, ip, visitor_hash, payload)
             VALUES ('bench', ?1, ?2, 'track', 'Viewed', ?3, ?4, ?2, ?2, '203.0.113.0', ?5, ?6)",
        )?;
        for n in 0..events {
            let s = (first + n) % subjects;
            let at = day.start_ms() + (n as i64 * DAY / events as i64);
            // A third of the events come after a login, with both ids.
            let user = (n % 3 == 0).then(|| user_id(s));
            insert.execute(params![
                format!("m-{}-{n}", day.0),
                at,
                anonymous_id(s),
                user,
                format!("{:032x}", s),
                PAYLOAD
            ])?;
        }
    }
    conn.execute_batch(&format!(
        "INSERT OR IGNORE INTO hours (hour) SELECT DISTINCT dedupe_ts / 3600000 FROM events;
         INSERT OR REPLACE INTO projects (project, events) VALUES ('bench', {events});
         COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let events: u64 = args.get(1).map_or(Ok(50_000_000), |a| a.parse())?;
    let subjects: u64 = args.get(2).map_or(Ok(500_000), |a| a.parse())?;
    let days: u64 = args.get(3).map_or(Ok(365), |a| a.parse())?;
    let temp = tempfile::tempdir()?;
    let dir = args
        .get(4)
        .map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    // A year of partitions ending two days ago (all closed, so all indexed), and today's.
    let today = PartitionDay::of_ms(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64,
    );
    let started = Instant::now();
    if partition::list(&dir).is_empty() {
        let store = SqliteStore::open(&dir, StoreOptions::default())?;
        let per_day = events / days;
        let per_day_subjects = subjects / 30; // a subject comes back about once a month
        for d in 0..days {
            let day = PartitionDay(today.0 - 2 - d as i64);
            partition::create(&dir, day)?;
            fill_day(&dir, day, per_day, subjects, d * per_day_subjects)?;
            eprint!("\rfilled {} of {days} days", d + 1);
        }
        eprintln!();
        let indexed = store.index_closed_partitions();
        store.close();
        eprintln!("indexed {indexed} partitions");
    } else {
        eprintln!("reusing the store in {}", dir.display());
    }
    let bytes: u64 = partition::list(&dir)
        .iter()
        .map(|d| std::fs::metadata(d.path(&dir)).map_or(0, |m| m.len()))
        .sum();
    println!(
        "store: {events} events of {subjects} subjects over {} daily partitions, {:.1} GB, made in {:.0} s",
        partition::list(&dir).len(),
        bytes as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );

    let store = SqliteStore::open(&dir, StoreOptions::default())?;
    let picks = [
        13_579u64, 42_000, 77_777, 99_999, 1, 24_680, 55_555, 86_420, 31_415,
    ];
    let mut export_ms = Vec::new();
    let mut delete_ms = Vec::new();
    for (i, s) in picks.iter().enumerate() {
        let s = (s + std::process::id() as u64) % subjects;
        let mut out = Counting(0);
        let t = Instant::now();
        let (_, counts) = store.write_export("bench", &user_id(s), 0, &mut out)?;
        export_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        println!(
            "export subject {s}: {:.1} ms, {} events, {} bytes",
            export_ms[i], counts["events"], out.0
        );

        let victim = (s + subjects / 2) % subjects;
        let t = Instant::now();
        let job = runtime.block_on(async {
            let id = format!("bench-{i}-{}", std::process::id());
            store
                .accept_deletion(DeletionRequest {
                    job_id: id.clone(),
                    project: "bench".into(),
                    id: anonymous_id(victim),
                    actor: "bench".into(),
                })
                .await?;
            store.run_deletion(id).await
        })?;
        delete_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        println!(
            "delete subject {victim}: {:.1} ms, {:?}",
            delete_ms[i],
            job.map(|j| j.counts)
        );
    }
    export_ms.sort_by(f64::total_cmp);
    delete_ms.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v[v.len() / 2];
    println!(
        "RESULT export one subject: median {:.1} ms, max {:.1} ms; delete one subject: median {:.1} ms, max {:.1} ms ({} runs each)",
        median(&export_ms),
        export_ms[export_ms.len() - 1],
        median(&delete_ms),
        delete_ms[delete_ms.len() - 1],
        picks.len()
    );
    store.close();

    // Retention of one big partition: a day of 5 million events, past its period.
    let big = PartitionDay(today.0 - 400);
    partition::create(&dir, big)?;
    fill_day(&dir, big, 5_000_000, subjects, 0)?;
    let size = std::fs::metadata(big.path(&dir))?.len();
    let store = SqliteStore::open(&dir, StoreOptions::default())?;
    let rules = vec![RetentionRule {
        project: "bench".into(),
        events_days: Some(395),
        consent_days: None,
        replays_days: None,
        identity_links_days: None,
    }];
    let now = today.start_ms() + DAY / 2;
    let t = Instant::now();
    let report =
        runtime.block_on(store.run_retention(rules, now, "bench".into(), NothingExpired::Skip))?;
    println!(
        "RESULT retention of a {:.1} GB partition of 5000000 events: {:.1} ms ({:?})",
        size as f64 / 1e9,
        t.elapsed().as_secs_f64() * 1000.0,
        report.projects.get("bench")
    );
    store.close();
    Ok(())
}

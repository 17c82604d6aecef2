//! Privacy operations at scale: with 5 million events from 100 000 subjects in the
//! store, how long do deleting one subject and exporting one subject take?
//!
//! The store is filled directly (batched inserts into a fresh store file, much faster than
//! HTTP), then subjects are deleted and exported through the very functions the server and
//! the CLI call: `SqliteStore::delete_subject` (on the writer, with the WAL checkpoint after
//! it) and `export::export_subject` (on a reader, streamed).
//!
//!   cargo run --release -p assent-store --example privacy_scale -- [events] [subjects] [dir]

use std::io::Write;
use std::time::Instant;

use assent_store::deletion::DeletionRequest;
use assent_store::{export, SqliteStore, StoreOptions};
use rusqlite::{params, Connection};

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

fn fill(path: &std::path::Path, events: u64, subjects: u64) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -512_000)?;
    let per_subject = events / subjects;
    let day = 86_400_000i64;
    let start = 1_780_000_000_000i64;
    let tx = conn.transaction()?;
    {
        let mut event = tx.prepare(
            "INSERT INTO events (project, message_id, type, event, anonymous_id, user_id,
                 session_id, sequence, timestamp, received_at, ip, payload, visitor_hash)
             VALUES ('bench', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, '203.0.113.0', ?9, ?10)",
        )?;
        let mut link = tx.prepare(
            "INSERT INTO identity_links (project, anonymous_id, user_id, first_seen)
             VALUES ('bench', ?1, ?2, ?3)",
        )?;
        let mut ledger = tx.prepare(
            "INSERT INTO consent_ledger (project, consent_id, anonymous_id, user_id, entry, previous_hash, hash)
             VALUES ('bench', ?1, ?2, NULL, ?3, ?4, ?4)",
        )?;
        // Events interleave subjects, as real traffic does: subject s's n-th event is row
        // n * subjects + s, so one subject's rows are spread over the whole file.
        for n in 0..per_subject {
            for s in 0..subjects {
                let anon = format!("anon-{s:06}-5f1c");
                let user = format!("user-{s:06}@example.org");
                let at = start + (n as i64) * (30 * day / per_subject as i64) + s as i64;
                let login = per_subject * 4 / 5;
                let (kind, name, anonymous_id, user_id) = match n {
                    n if n < login => ("page", "Pricing", Some(anon.as_str()), None),
                    n if n == login => ("identify", "", Some(anon.as_str()), Some(user.as_str())),
                    _ => ("track", "Order Completed", None, Some(user.as_str())),
                };
                event.execute(params![
                    format!("m-{s}-{n}"),
                    kind,
                    (!name.is_empty()).then_some(name),
                    anonymous_id,
                    user_id,
                    at - 60_000,
                    n as i64,
                    at,
                    r#"{"properties":{"path":"/pricing","total":42.5,"currency":"EUR"},"context":{"library":{"name":"@assent/browser","version":"0.1.0"},"page":{"url":"https://shop.example/pricing","referrer":"https://search.example/"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"}}"#,
                    format!("{:032x}", s * 7919 + n),
                ])?;
                if n == login {
                    link.execute(params![anon, user, at])?;
                }
                if n == 0 {
                    let entry = format!(
                        r#"{{"consent_id":"c-{s}","anonymous_id_digest":null,"user_id_digest":null,"states":"{{\"analytics\":\"granted\"}}","revision":"1","source":"banner","at_ms":{at},"message_id":"m-{s}-0"}}"#
                    );
                    ledger.execute(params![format!("c-{s}"), anon, entry, format!("{s:064x}")])?;
                }
            }
            if (n + 1) % 10 == 0 {
                eprint!("\rfilled {} of {events} events", (n + 1) * subjects);
            }
        }
    }
    tx.commit()?;
    eprintln!();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
    // The load ran without syncs; flush it now, or the first timed commit would pay for
    // writing gigabytes of the load's dirty pages back to the disk.
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let events: u64 = args.get(1).map_or(Ok(5_000_000), |a| a.parse())?;
    let subjects: u64 = args.get(2).map_or(Ok(100_000), |a| a.parse())?;
    let temp = tempfile::tempdir()?;
    let dir = args
        .get(3)
        .map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);

    let path = dir.join(SqliteStore::FILE);
    let started = Instant::now();
    if path.exists() {
        eprintln!("reusing the store in {}", dir.display());
    } else {
        // A fresh store: schema, key, then closed for the bulk load.
        SqliteStore::open(&dir, StoreOptions::default())?.close();
        fill(&path, events, subjects)?;
    }
    let size = std::fs::metadata(&path)?.len();
    println!(
        "store: {events} events of {subjects} subjects ({} per subject), {:.1} GB, filled in {:.0} s",
        events / subjects,
        size as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );

    let store = SqliteStore::open(&dir, StoreOptions::default())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let reader = store.reader()?;
    let t = Instant::now();
    runtime.block_on(store.compact())?;
    println!(
        "first checkpoint and vacuum after opening: {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let picks = [
        13_579u64, 42_000, 77_777, 99_999, 1, 24_680, 55_555, 86_420, 31_415,
    ];
    let mut export_ms = Vec::new();
    let mut delete_ms = Vec::new();
    for (i, s) in picks.iter().enumerate() {
        // A reused store (fourth argument) gets other subjects on each run.
        let s = (s + std::process::id() as u64) % subjects;
        // Export by the user id: the anonymous events before login come through the graph.
        let mut out = Counting(0);
        let t = Instant::now();
        let (_, counts) = export::export_subject(
            &reader,
            "bench",
            &format!("user-{s:06}@example.org"),
            0,
            &mut out,
        )?;
        export_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        println!(
            "export subject {s}: {:.1} ms, {} events, {} bytes",
            export_ms[i], counts["events"], out.0
        );

        // Delete another subject by its anonymous id, through the writer, WAL checkpoint included.
        let victim = (s + subjects / 2) % subjects;
        let t = Instant::now();
        let job = runtime.block_on(store.delete_subject(DeletionRequest {
            job_id: format!(
                "bench-{i}-{}",
                t.elapsed().as_nanos() ^ std::process::id() as u128
            ),
            project: "bench".into(),
            id: format!("anon-{victim:06}-5f1c"),
            actor: "bench".into(),
        }))?;
        delete_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        println!(
            "delete subject {victim}: {:.1} ms, {:?}",
            delete_ms[i], job.counts
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
    let plan: Vec<String> = reader
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id FROM events WHERE user_id IN (SELECT value FROM json_each(?1)) AND project = ?2",
        )?
        .query_map(params!["[\"x\"]", "bench"], |r| r.get::<_, String>(3))?
        .collect::<Result<_, _>>()?;
    println!("plan (events by user id): {}", plan.join(" / "));
    drop(reader);
    store.close();
    Ok(())
}

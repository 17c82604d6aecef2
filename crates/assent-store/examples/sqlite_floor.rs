//! The floor under any SQLite-backed ingest: how many events/s one writer thread commits when
//! each event is the least a deduplicating store can write — one row and one unique index on
//! its `messageId` — with none of Assent's other work (no HTTP, no decode, no subject indexes).
//!
//!   cargo run --release -p assent-store --example sqlite_floor [events] [per-commit]
//!
//! It runs twice: with ordered ids (as `bench/loadgen` sends: a counter per connection) and with
//! random ids (as browsers send: UUID v4). The difference is what random keys cost a B-tree:
//! each new id lands on a different leaf page, and every commit writes each dirty page whole
//! to the WAL.

use std::time::Instant;

use rusqlite::{params, Connection};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a number"));
    let total = args.next().unwrap_or(2_000_000);
    let per_commit = args.next().unwrap_or(1_600);
    for random in [false, true] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("floor.db");
        let (rate, wal) = run(&path, total, per_commit, random);
        println!(
            "{total} events, {per_commit} per commit, {} ids: {rate:.0} events/s, WAL {:.0} MB",
            if random { "random" } else { "ordered" },
            wal as f64 / 1e6,
        );
    }
}

/// Returns events/s and the bytes written to the WAL (no checkpoint runs meanwhile).
fn run(path: &std::path::Path, total: usize, per_commit: usize, random: bool) -> (f64, u64) {
    let mut conn = Connection::open(path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "cache_size", -64_000).unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    conn.execute_batch(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, payload TEXT NOT NULL);
         CREATE UNIQUE INDEX events_by_message ON events (message_id);",
    )
    .unwrap();
    let payload = "x".repeat(300);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next_id = |n: usize| {
        if random {
            // xorshift64*: cheap, and as scattered as UUID v4 for a B-tree.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let a = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            format!("{a:016x}-{:016x}", a.rotate_left(17))
        } else {
            format!("w{}-{}-1764500000000000000", n % 32, n / 32)
        }
    };
    let started = Instant::now();
    let mut n = 0;
    while n < total {
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO events (message_id, payload) VALUES (?1, ?2)",
                )
                .unwrap();
            for _ in 0..per_commit.min(total - n) {
                insert.execute(params![next_id(n), payload]).unwrap();
                n += 1;
            }
        }
        tx.commit().unwrap();
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
    (rate, wal)
}

//! The real `assent` binary, started as a user would, on a random port.
#![allow(dead_code)] // each test file uses its own part of this

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub fn assent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assent"))
}

/// `assent serve --config FILE`, running until dropped (or killed by the test).
pub struct Collector {
    pub child: Child,
    pub url: String,
    pub http: reqwest::Client,
}

impl Collector {
    pub fn start(config: &Path) -> Collector {
        let mut child = assent()
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the assent binary starts");
        let url = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            .find_map(|l| l.strip_prefix("assent listening on ").map(str::to_string))
            .expect("the collector prints its address");
        Collector {
            child,
            url,
            http: reqwest::Client::new(),
        }
    }

    /// The most memory the process has held at once, in bytes (`VmHWM`).
    pub fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("Linux reports VmHWM");
        kb * 1024
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to a data directory's `events.db`, with every partition attached under the
/// views `events` and `events_json`, as a tool reading the store with SQL would make it.
pub fn store_db(data_dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(data_dir.join("events.db")).unwrap();
    assent_store::partition::attach_all(&conn, data_dir).unwrap();
    conn
}

/// Makes every partition of a stopped (or killed) collector's store `days` older, as if its
/// events had been received that long ago.
pub fn age_partitions(data_dir: &Path, days: i64) {
    use assent_store::partition::{self, PartitionDay};
    for day in partition::list(data_dir) {
        let (from, to) = (
            day.path(data_dir),
            PartitionDay(day.0 - days).path(data_dir),
        );
        for suffix in ["", "-wal", "-shm"] {
            let from = format!("{}{suffix}", from.display());
            if Path::new(&from).exists() {
                std::fs::rename(&from, format!("{}{suffix}", to.display())).unwrap();
            }
        }
    }
}

/// Writes `dir/assent.toml`: one project `demo` (opt-out mode, write key `pk_demo`, admin token
/// `sk_demo`), data in `dir/data`, no retention sweeper; `project` is added to the project's
/// table (e.g. its `[projects.retention]`).
pub fn demo_config(dir: &Path, project: &str) -> std::path::PathBuf {
    let path = dir.join("assent.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[store]\nretention_sweep_minutes = 0\n\
             [[projects]]\nid = \"demo\"\nmode = \"opt-out\"\nwrite_keys = [\"pk_demo\"]\n\
             admin_tokens = [\"sk_demo\"]\n{project}",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    path
}

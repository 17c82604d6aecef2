//! The real `assent` collector binary, on a port of its own, over a SQLite file in a
//! temporary directory; killed and restarted as a test needs.
#![allow(dead_code)] // each test file uses its own part of this

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const WRITE_KEY: &str = "pk_demo";

/// The collector binary: `ASSENT_BIN`, or `assent` in this build's target directory. Its
/// absence fails the test with the command that makes it: a test that skips is no test.
pub fn assent_bin() -> PathBuf {
    if let Ok(path) = std::env::var("ASSENT_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test knows where it runs");
    // target/<profile>/deps/<test> → target/<profile>/assent
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("assent"))
        .expect("a target directory");
    assert!(
        bin.exists(),
        "the collector binary is not at {}: run `cargo build -p assent` first (or set ASSENT_BIN)",
        bin.display()
    );
    bin
}

/// A build artefact beside the collector, e.g. `examples/spool_child`.
pub fn artefact(relative: &str) -> PathBuf {
    let path = assent_bin()
        .parent()
        .expect("a target directory")
        .join(relative);
    assert!(
        path.exists(),
        "{} is missing: `cargo test -p assent-sdk` builds it (or `cargo build -p assent-sdk --examples`)",
        path.display()
    );
    path
}

pub struct Collector {
    child: Option<Child>,
    pub url: String,
    pub dir: tempfile::TempDir,
    config: PathBuf,
    project: String,
}

impl Collector {
    /// A collector whose one project (`pk_demo`) runs in the default `opt-in` mode.
    pub fn start() -> Collector {
        Collector::start_with("")
    }

    /// `project` is added to the project's table (e.g. `mode = "opt-out"`).
    pub fn start_with(project: &str) -> Collector {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("assent.toml");
        let mut collector = Collector {
            child: None,
            url: String::new(),
            dir,
            config,
            project: project.to_string(),
        };
        collector.write_config("127.0.0.1:0");
        collector.run();
        // Restarts come back on the same port: the client under test keeps its endpoint.
        let addr = collector.url.trim_start_matches("http://").to_string();
        collector.write_config(&addr);
        collector
    }

    fn write_config(&self, listen: &str) {
        let text = format!(
            "listen = \"{listen}\"\ndata_dir = {:?}\n[[projects]]\nid = \"demo\"\nwrite_keys = [\"{WRITE_KEY}\"]\n{}\n",
            self.data_dir().display().to_string(),
            self.project
        );
        std::fs::write(&self.config, text).unwrap();
    }

    fn run(&mut self) {
        let mut child = Command::new(assent_bin())
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the assent binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the collector prints its address")
                .unwrap();
            if let Some(url) = line.strip_prefix("assent listening on ") {
                break url.to_string();
            }
        };
        // Keep reading, so a full pipe never blocks the collector.
        std::thread::spawn(move || lines.for_each(drop));
        self.url = url;
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no last commit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts it again on the same port and data.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "kill it first");
        for _ in 0..50 {
            // The port may linger for a moment after the kill.
            if std::net::TcpListener::bind(self.url.trim_start_matches("http://")).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.run();
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A connection to the store's file, as any SQLite tool would open it, with the daily
    /// partitions of events attached under the views `events` and `events_json`.
    pub fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.data_dir().join("events.db")).unwrap();
        assent_store::partition::attach_all(&conn, &self.data_dir()).unwrap();
        conn
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Every stored messageId, and whether any is stored twice.
    pub fn message_ids(&self) -> (HashSet<String>, usize) {
        let db = self.db();
        let mut q = db.prepare("SELECT message_id FROM events").unwrap();
        let ids: Vec<String> = q
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let rows = ids.len();
        (ids.into_iter().collect(), rows)
    }

    /// One stored event whole (the `events_json` view), by messageId.
    pub fn event(&self, message_id: &str) -> serde_json::Value {
        let text: String = self
            .db()
            .query_row(
                "SELECT j.event FROM events_json j JOIN events e ON e.id = j.id WHERE e.message_id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("event {message_id} is not stored: {e}"));
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.kill();
    }
}

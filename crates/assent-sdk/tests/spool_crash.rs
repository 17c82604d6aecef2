//! With a spool, a client process killed with SIGKILL loses nothing its calls accepted, and
//! the collector stores nothing twice, even for events sent both before and after the kill.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::{artefact, Collector, WRITE_KEY};

/// `examples/track_lines`: tracks each line of its input, prints `accepted <id>` for each.
struct Tracker {
    child: Child,
    stdin: Option<ChildStdin>,
    accepted: mpsc::Receiver<String>,
}

impl Tracker {
    fn start(endpoint: &str, spool: &std::path::Path) -> Tracker {
        let mut child = Command::new(artefact("examples/track_lines"))
            .args([endpoint, WRITE_KEY])
            .arg(spool)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the example starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, accepted) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some(id) = line.strip_prefix("accepted ") {
                    let _ = tx.send(id.to_string());
                }
            }
        });
        Tracker {
            stdin: child.stdin.take(),
            child,
            accepted,
        }
    }

    fn track(&mut self, names: impl Iterator<Item = String>) {
        let stdin = self.stdin.as_mut().unwrap();
        for name in names {
            writeln!(stdin, "{name}").unwrap();
        }
        stdin.flush().unwrap();
    }

    /// Waits until `n` more events were accepted, and returns their ids.
    fn accepted(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                self.accepted
                    .recv_timeout(Duration::from_secs(30))
                    .expect("the example accepts events")
            })
            .collect()
    }
}

#[test]
fn a_client_killed_with_sigkill_loses_nothing_it_accepted() {
    let mut collector = Collector::start();
    let spool = tempfile::tempdir().unwrap();

    // A first process sends 1 000 events to a live collector…
    let mut first = Tracker::start(&collector.url, spool.path());
    first.track((0..1_000).map(|n| format!("Line {n}")));
    let mut accepted: HashSet<String> = first.accepted(1_000).into_iter().collect();
    while collector.count("SELECT count(*) FROM events") < 500 {
        std::thread::sleep(Duration::from_millis(20));
    }
    // …then 1 000 more while the collector is down, and is killed with them undelivered.
    collector.kill();
    first.track((1_000..2_000).map(|n| format!("Line {n}")));
    accepted.extend(first.accepted(1_000));
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    // Anything it printed before dying counts as accepted too.
    accepted.extend(first.accepted.try_iter());
    assert_eq!(accepted.len(), 2_000);

    // The collector comes back; a second process on the same spool sends what was left.
    collector.start_again();
    let mut second = Tracker::start(&collector.url, spool.path());
    drop(second.stdin.take()); // no new events: deliver and exit
    let status = second.child.wait().unwrap();
    assert!(
        status.success(),
        "the second process delivered and exited: {status}"
    );

    let (stored, rows) = collector.message_ids();
    let lost: Vec<_> = accepted.difference(&stored).take(3).collect();
    assert!(lost.is_empty(), "accepted but never stored: {lost:?}");
    assert_eq!(rows, stored.len(), "no event is stored twice");
    assert_eq!(stored.len(), 2_000, "nothing but what was tracked");
    let left: Vec<_> = std::fs::read_dir(spool.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("events-"))
        .collect();
    assert!(
        left.is_empty(),
        "a delivered spool leaves no file: {left:?}"
    );
}

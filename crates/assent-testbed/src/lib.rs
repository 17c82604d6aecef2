//! Real servers for tests and benchmarks, started and stopped by the code that needs them:
//! a throwaway PostgreSQL cluster ([`Postgres`]) and a JetStream cluster of NATS servers
//! ([`NatsCluster`]), on loopback ports, in temporary directories.
//!
//! Both come from Debian's packages (`postgresql`, `nats-server`; `scripts/setup --tests`
//! installs them). PostgreSQL refuses to run as root, so as root the cluster is made and run
//! as the `postgres` user. Everything is stopped and removed when dropped — also when a test
//! fails. A run killed before that (`kill -9` of the test binary) leaves its servers behind:
//! the next start finds them by the pid each directory records and stops them.
//!
//! ```no_run
//! let pg = assent_testbed::Postgres::start();
//! let url = pg.new_database("shop");
//! let nats = assent_testbed::NatsCluster::start(3);
//! println!("{url} {:?}", nats.urls());
//! ```

mod nats;
mod postgres;
mod stale;

pub use nats::NatsCluster;
pub use postgres::Postgres;

use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a loopback port is free")
}

/// Polls `ready` every 50 ms until it holds, or panics with `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < limit,
            "{what} not ready after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A directory for one server, under the system's temporary directory, recording the pid of
/// the process that owns it (see `stale.rs`).
pub(crate) fn server_dir(kind: &str) -> tempfile::TempDir {
    stale::clean_up();
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}{kind}-", stale::PREFIX))
        .tempdir()
        .expect("a temporary directory");
    std::fs::write(
        dir.path().join(stale::OWNER),
        std::process::id().to_string(),
    )
    .expect("the owner file is written");
    dir
}

//! Starts a throwaway PostgreSQL cluster and a JetStream cluster for the benchmarks, prints
//! where they are, and stops them when its standard input closes (or it is told to stop).
//!
//!   assent-testbed [--nats-nodes 3]      (0: PostgreSQL only)
//!   postgres postgres://postgres@127.0.0.1:PORT/assent
//!   nats nats://127.0.0.1:P1,nats://127.0.0.1:P2,nats://127.0.0.1:P3
//!   dir DIRECTORY
//!   pids postgres PID
//!   pids nats PID PID PID

use std::io::Read;

fn main() {
    let nodes: usize = std::env::args()
        .skip_while(|a| a != "--nats-nodes")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let pg = assent_testbed::Postgres::start();
    let url = pg.new_database("assent");
    let nats = (nodes > 0).then(|| assent_testbed::NatsCluster::start(nodes));
    println!("postgres {url}");
    let urls = nats.as_ref().map(|n| n.urls()).unwrap_or_default();
    println!("nats {}", urls.join(","));
    println!("dir {}", pg.dir().display());
    println!("pids postgres {}", pg.pid().unwrap_or(0));
    println!(
        "pids nats {}",
        nats.as_ref()
            .map(|n| n.pids())
            .unwrap_or_default()
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Stops (dropping both) once whoever started it closes our standard input.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

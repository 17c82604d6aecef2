//! What a `track()` call costs the caller: building the event, applying the consent policy,
//! writing its JSON and queueing it. Prints the distribution of single calls; the delivery
//! task does not run meanwhile (one thread, nothing awaited that waits), so only the call is
//! measured. Calls go in rounds of `ROUND` on a fresh client, whose queue is dropped between
//! rounds: in a running service the queue is drained as fast as it fills, so its memory is
//! reused rather than taken anew from the system (which a queue of every call would measure).
//!
//!     cargo bench -p assent-sdk --bench track

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use assent_sdk::{Client, Consent, Options};

const CALLS: usize = 200_000;
const ROUND: usize = 10_000;

// Nothing listens there: the events stay queued, which is all this measures.
const ENDPOINT: &str = "http://127.0.0.1:9";

fn options() -> Options {
    Options::default()
        .queue_capacity(ROUND * 2)
        .batch_size(ROUND * 2)
        .max_batch_bytes(500 * 1024)
        .flush_interval(Duration::from_secs(3_600))
}

/// The call measured: an event as a backend would track it, with three properties.
fn product_viewed<'c>(client: &'c Client, consent: &Consent, n: usize) -> assent_sdk::Call<'c> {
    client
        .track("Product Viewed")
        .consent(consent)
        .user_id("u-42")
        .property("sku", "G-32")
        .property("price", 18.99)
        .property("n", n)
}

/// Runs `call` CALLS times, ROUND calls per client made by `client`, and prints the median,
/// p90, p99 and mean of one call.
fn measure(
    label: &str,
    runtime: &tokio::runtime::Runtime,
    client: impl Fn() -> Client,
    call: impl Fn(&Client, usize),
) {
    let mut times = Vec::with_capacity(CALLS);
    let mut total = Duration::ZERO;
    for round in 0..=CALLS / ROUND {
        let client = client();
        let start = Instant::now();
        for n in 0..ROUND {
            let t = Instant::now();
            call(&client, n);
            // The first round warms the allocator and the caches up.
            if round > 0 {
                times.push(t.elapsed());
            }
        }
        if round > 0 {
            total += start.elapsed();
        }
        // Nothing can be delivered: this only ends the delivery task and frees the queue.
        let _ = runtime.block_on(client.shutdown(Duration::ZERO));
    }
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize].as_nanos();
    println!(
        "{label}: median {} ns, p90 {} ns, p99 {} ns, mean {} ns ({CALLS} calls)",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        total.as_nanos() / CALLS as u128
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let granted = Consent::new()
        .id("6b1c0d3e-8a43-4c43-a3b0-7b6b1e4a2f10")
        .grant("analytics")
        .source("banner")
        .decided_at(1_764_500_000_000);
    let denied = Consent::new().id("c-2").deny("analytics");
    let overhead = {
        let mut times: Vec<Duration> = (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                t.elapsed()
            })
            .collect();
        times.sort_unstable();
        times[CALLS / 2].as_nanos()
    };
    println!("timer overhead (included below): median {overhead} ns");

    let fresh = || Client::new(ENDPOINT, "pk_bench", options()).unwrap();
    measure(
        "track, identified, 3 properties, try_send()",
        &runtime,
        fresh,
        |client, n| {
            product_viewed(client, &granted, n).try_send().unwrap();
        },
    );
    measure(
        "track, identified, 3 properties, send().await",
        &runtime,
        fresh,
        |client, n| {
            // Polled once, as in a caller's async code: with `DropOldest` it never waits.
            let send = product_viewed(client, &granted, n).send();
            let mut context = Context::from_waker(Waker::noop());
            match pin!(send).poll(&mut context) {
                Poll::Ready(result) => drop(result.unwrap()),
                Poll::Pending => panic!("a call under DropOldest never waits"),
            }
        },
    );
    measure(
        "track, analytics denied (identifiers removed), try_send()",
        &runtime,
        fresh,
        |client, n| {
            product_viewed(client, &denied, n).try_send().unwrap();
        },
    );
    let spool = std::env::temp_dir().join(format!("assent-sdk-bench-{}", std::process::id()));
    measure(
        "track, identified, 3 properties, with the spool (one write per event)",
        &runtime,
        || {
            // A fresh spool each round: the last round's undelivered events are not replayed.
            let _ = std::fs::remove_dir_all(&spool);
            Client::new(ENDPOINT, "pk_bench", options().spool(&spool)).unwrap()
        },
        |client, n| {
            product_viewed(client, &granted, n).try_send().unwrap();
        },
    );
    let _ = std::fs::remove_dir_all(&spool);
}

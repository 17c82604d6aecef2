//! How many events one client delivers per second to a collector: producer tasks call
//! `track()` as fast as the client takes them (`WhenFull::Wait`, so nothing is dropped), and
//! the events the collector acknowledged during the measured window are counted. Run by
//! `bench/run-sdk.sh` against a release collector, beside the load generator's figure.
//!
//!     cargo run --release -p assent-sdk --example throughput -- http://127.0.0.1:8080 pk_bench 10

use std::time::{Duration, Instant};

use assent_sdk::{Client, Consent, Options, WhenFull};
use serde_json::json;

const WARMUP: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: throughput <endpoint> <write key> <seconds> [batch size] [requests in flight] [producers]";
    let (endpoint, write_key) = match args.as_slice() {
        [endpoint, key, ..] => (endpoint.clone(), key.clone()),
        _ => return Err(usage.into()),
    };
    let number = |n: usize, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
        Ok(args
            .get(n)
            .map(|a| a.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let seconds = number(2, 10)?;
    let batch_size = number(3, 500)? as usize;
    let in_flight = number(4, 8)? as usize;
    let producers = number(5, 2)?;

    let options = Options::default()
        .batch_size(batch_size)
        .max_in_flight(in_flight)
        .queue_capacity(50_000)
        .when_full(WhenFull::Wait);
    let client = Client::new(&endpoint, &write_key, options)?;
    let consent = Consent::new()
        .id("6b1c0d3e-8a43-4c43-a3b0-7b6b1e4a2f10")
        .grant("analytics")
        .revision(3)
        .source("banner")
        .decided_at(1_764_500_000_000);

    let stop_at = Instant::now() + WARMUP + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..producers)
        .map(|p| {
            let (client, consent) = (client.clone(), consent.clone());
            tokio::spawn(async move {
                let mut calls = 0u64;
                while Instant::now() < stop_at {
                    // The load generator's event, as a backend would track it, with its kind of
                    // ids: a new visitor every 25 events, numbered in order per producer (as the
                    // load generator's are per connection), so both load the store alike.
                    client
                        .track("Product Viewed")
                        .consent(&consent)
                        .anonymous_id(format!("a-{p}-{}", calls / 25))
                        .session_id(1_763_800_000_000)
                        .property("sku", "G-32")
                        .property("price", 18.99)
                        .property("currency", "EUR")
                        .property("category", "Games")
                        .context(
                            "page",
                            json!({"path": "/shop/g-32", "url": "https://shop.example/shop/g-32"}),
                        )
                        .context("userAgent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0")
                        .context("locale", "fr-FR")
                        .send()
                        .await
                        .expect("the client takes the event");
                    calls += 1;
                }
                calls
            })
        })
        .collect();

    tokio::time::sleep(WARMUP).await;
    let (start, delivered_before) = (Instant::now(), client.stats().delivered);
    tokio::time::sleep_until(stop_at.into()).await;
    let elapsed = start.elapsed().as_secs_f64();
    let delivered = client.stats().delivered - delivered_before;
    let mut calls = 0;
    for task in tasks {
        calls += task.await?;
    }
    client.shutdown(Duration::from_secs(60)).await?;
    let stats = client.stats();
    println!(
        "sdk: {:.0} events/s delivered ({batch_size}-event batches, {in_flight} requests in flight, {producers} producer tasks, {seconds}s); {calls} calls, {} delivered in all, {} retries, {} dropped",
        delivered as f64 / elapsed,
        stats.delivered,
        stats.retries,
        stats.dropped_overflow
    );
    Ok(())
}

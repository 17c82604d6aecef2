//! How fast the store alone commits events, without HTTP: the ceiling for ingest.
//!   cargo run --release -p assent-store --example store_throughput [events] [per-append]

use std::sync::Arc;
use std::time::Instant;

use assent_core::{decode, enrich, IpPolicy, Limits, Received};
use assent_store::{SqliteStore, Store, StoreOptions};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().unwrap());
    let total = args.next().unwrap_or(500_000);
    let per_append = args.next().unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        queue_capacity: total,
        ..StoreOptions::default()
    };
    let store = SqliteStore::open(dir.path(), options).unwrap();
    let project: Arc<str> = "bench".into();
    let event = |id: usize| {
        format!(
            r#"{{"type":"track","event":"Product Viewed","messageId":"m-{id}-7f3a9c","anonymousId":"a-{}","sessionId":1763800000000,"sequence":7,"timestamp":"2026-11-22T10:00:00.000Z","properties":{{"sku":"G-32","price":18.99,"currency":"EUR"}},"context":{{"page":{{"path":"/shop/g-32"}},"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0","locale":"fr-FR"}}}}"#,
            id / 20
        )
    };
    // Prepare everything first so that only the store is timed.
    let batches: Vec<_> = (0..total / per_append)
        .map(|b| {
            let body = format!(
                "{{\"batch\":[{}]}}",
                (0..per_append)
                    .map(|i| event(b * per_append + i))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            enrich::batch(
                decode::batch(body.as_bytes(), &Limits::default()).unwrap(),
                &Received::now(None),
                IpPolicy::Truncate,
            )
            .0
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        // Keep many appends in flight, as concurrent requests do.
        let acks: Vec<_> = batches
            .into_iter()
            .map(|b| store.append(project.clone(), b))
            .collect();
        for ack in acks {
            ack.unwrap().await.unwrap();
        }
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{total} events in appends of {per_append}: {:.0} events/s",
        total as f64 / secs
    );
}

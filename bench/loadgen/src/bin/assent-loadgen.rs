//! Load generator for Assent's ingest benchmark: keeps N keep-alive connections busy with
//! single-event or batched requests for a fixed time, then prints throughput and latency.
//!
//! Every event has a fresh `messageId`, so the collector does the full work (no dedup
//! shortcut), and is what a consenting visitor's tracker sends: the visitor's `anonymousId`
//! (a new visitor every 25 events), the time the event happened, a consent snapshot that grants
//! `analytics`. `--ids ordered` (the default) numbers ids per connection; `--ids random` sends
//! UUID v4s for message and visitor ids, as browsers do. It runs on one thread on purpose: on a 2-core machine it shares the CPU with
//! the collector, and that cost is part of the figure, as the benchmark asks.

use std::time::{Duration, Instant};

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Mode {
    /// One event per request to /v1/track.
    Single,
    /// `--batch-size` events per request to /v1/batch.
    Batch,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Ids {
    /// A counter per connection: new ids land next to each other in the index.
    Ordered,
    /// UUID v4, as browser SDKs make them: new ids land all over the index.
    Random,
}

#[derive(Parser)]
struct Args {
    /// Collector address, host:port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    #[arg(long, default_value = "pk_bench")]
    write_key: String,
    #[arg(long, value_enum, default_value = "batch")]
    mode: Mode,
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "ordered")]
    ids: Ids,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
}

/// One event as a consenting visitor's tracker sends it: the visitor's id, the time the event
/// happened (a retry would carry the same), a session.
fn event(id: &str, visitor: &str, timestamp: &str) -> String {
    format!(
        concat!(
            r#"{{"type":"track","event":"Product Viewed","messageId":"{id}","anonymousId":"{visitor}","#,
            r#""sessionId":1763800000000,"sequence":7,"timestamp":"{timestamp}","#,
            r#""properties":{{"sku":"G-32","price":18.99,"currency":"EUR","category":"Games"}},"#,
            r#""context":{{"consent":{{"id":"c-1","state":{{"analytics":"granted"}},"revision":3}},"#,
            r#""page":{{"path":"/shop/g-32","url":"https://shop.example/shop/g-32"}},"#,
            r#""userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0","locale":"fr-FR"}}}}"#
        ),
        id = id,
        visitor = visitor,
        timestamp = timestamp,
    )
}

/// Events a visitor sends before the next one takes over its connection.
const EVENTS_PER_VISITOR: u64 = 25;

/// The current time as trackers send it: ISO 8601 with milliseconds, UTC.
fn now_iso() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

/// Year, month, day of a day count since 1970 (Howard Hinnant's civil-from-days).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

struct Worker {
    latencies_us: Vec<u32>,
    requests: u64,
    events: u64,
    errors: u64,
}

async fn worker(args: Arc<Args>, n: usize, warm_until: Instant, stop_at: Instant) -> Worker {
    let mut out = Worker {
        latencies_us: vec![],
        requests: 0,
        events: 0,
        errors: 0,
    };
    let stream = tokio::net::TcpStream::connect(&args.addr)
        .await
        .expect("collector reachable");
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let auth = format!("Basic {}", STANDARD.encode(format!("{}:", args.write_key)));
    let (path, per_request) = match args.mode {
        Mode::Single => ("/v1/track", 1),
        Mode::Batch => ("/v1/batch", args.batch_size),
    };
    let mut seq = 0u64;
    let mut visitor = String::new();
    loop {
        let now = Instant::now();
        if now >= stop_at {
            break;
        }
        let timestamp = now_iso();
        let mut events = (0..per_request).map(|_| {
            if seq.is_multiple_of(EVENTS_PER_VISITOR) {
                visitor = match args.ids {
                    Ids::Ordered => format!("v{n}-{seq}"),
                    Ids::Random => uuid::Uuid::new_v4().to_string(),
                };
            }
            seq += 1;
            let id = match args.ids {
                Ids::Ordered => format!("w{n}-{seq}-{}", warm_until.elapsed().as_nanos()),
                Ids::Random => uuid::Uuid::new_v4().to_string(),
            };
            event(&id, &visitor, &timestamp)
        });
        let body = match args.mode {
            Mode::Single => events.next().unwrap(),
            Mode::Batch => format!("{{\"batch\":[{}]}}", events.collect::<Vec<_>>().join(",")),
        };
        let req = Request::post(path)
            .header("host", &args.addr)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let started = Instant::now();
        let ok = match sender.send_request(req).await {
            Ok(res) => {
                let status = res.status();
                let _ = res.into_body().collect().await;
                status == 200
            }
            Err(_) => false,
        };
        if started >= warm_until {
            out.latencies_us.push(started.elapsed().as_micros() as u32);
            if ok {
                out.requests += 1;
                out.events += per_request as u64;
            } else {
                out.errors += 1;
            }
        }
        if !ok && sender.ready().await.is_err() {
            break;
        }
    }
    out
}

fn main() {
    let args = Arc::new(Args::parse());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let warm_until = Instant::now() + Duration::from_secs(args.warmup);
    let stop_at = warm_until + Duration::from_secs(args.seconds);
    let workers: Vec<Worker> = runtime.block_on(async {
        let tasks: Vec<_> = (0..args.connections)
            .map(|n| tokio::spawn(worker(args.clone(), n, warm_until, stop_at)))
            .collect();
        let mut workers = Vec::new();
        for task in tasks {
            workers.push(task.await.expect("a worker panicked"));
        }
        workers
    });
    let mut latencies: Vec<u32> = workers
        .iter()
        .flat_map(|w| w.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let secs = args.seconds as f64;
    let requests: u64 = workers.iter().map(|w| w.requests).sum();
    let events: u64 = workers.iter().map(|w| w.events).sum();
    let errors: u64 = workers.iter().map(|w| w.errors).sum();
    let mode = match args.mode {
        Mode::Single => "single-event".to_string(),
        Mode::Batch => format!("{}-event batches", args.batch_size),
    };
    let ids = match args.ids {
        Ids::Ordered => "ordered ids",
        Ids::Random => "random ids",
    };
    println!(
        "{mode}: {:.0} requests/s, {:.0} events/s, p50 {:.2} ms, p99 {:.2} ms, errors {errors} ({} connections, {ids}, {}s)",
        requests as f64 / secs,
        events as f64 / secs,
        pct(0.50),
        pct(0.99),
        args.connections,
        args.seconds
    );
}

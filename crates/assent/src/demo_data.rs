//! `assent demo-data --events N --days D`: fills a project with the demo shop's traffic over
//! the last D days (today up to now), so that a new dashboard has something to show and the
//! benchmarks something to chew on. Events go through the store like any others (dedupe,
//! identity graph, consent ledger); the request-level steps of ingest (decode, policy) are
//! skipped, and what they would have kept is written directly: identifiers only with
//! `analytics` granted, no hash for anonymous requests, countries, GPC and DNT.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use assent_core::{EventType, StoredEvent};
use assent_server::config::{Settings, StoreBackend};
use assent_server::stores::Purpose;
use assent_store::{Ack, AppendReport, SqliteStore, Store};
use clap::Args;
use fastrand::Rng;
use serde_json::json;

use crate::demo_traffic::{self, Action, Arrival, Choice, Visitor};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;
const SITE: &str = "https://shop.example";
const REVISION: &str = "2026-11";

#[derive(Args)]
pub struct DemoData {
    /// How many events to add.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Over how many days, ending today.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// The configuration file whose data directory holds the store; by default the
    /// development project (made if there is none yet).
    #[arg(long, env = "ASSENT_CONFIG")]
    config: Option<PathBuf>,
    /// The project; may be left out when the configuration has only one.
    #[arg(long)]
    project: Option<String>,
    /// The same seed makes the same visitors and visits.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

pub fn run(args: DemoData) -> ExitCode {
    if args.days == 0 || args.days > 400 {
        eprintln!("--days must be from 1 to 400 (given {})", args.days);
        return ExitCode::from(2);
    }
    let settings = match &args.config {
        Some(path) => crate::configuration::load_or_exit(Some(path)),
        None => crate::development::ensure(&crate::configuration::env).map_err(|problems| {
            eprint!("{problems}");
            ExitCode::from(2)
        }),
    };
    let settings = match settings {
        Ok(s) => s,
        Err(code) => return code,
    };
    let project = match crate::privacy::project(&settings, args.project.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let store = match open(&settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("assent demo-data: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let started = std::time::Instant::now();
    let outcome = runtime.block_on(fill(store.as_ref(), &project, &args));
    let built = match &store {
        DemoStore::Sqlite(sqlite) => sqlite.build_closed_statistics().map(drop),
        // Asking for the period digests its closed days and keeps them in PostgreSQL.
        DemoStore::Shared(shared) => {
            let today = now_ms().div_euclid(DAY_MS);
            let period = assent_store::stats::StatsQuery::new(
                project.as_str(),
                (today - i64::from(args.days) + 1) * DAY_MS,
                (today + 1) * DAY_MS,
            );
            runtime
                .block_on(shared.stats_traffic(period, assent_store::stats::Interval::Day))
                .map(drop)
        }
    };
    store.as_ref().close();
    match (outcome, built) {
        (Ok(stored), Ok(_)) => {
            println!(
                "added {stored} events of the demo shop over {} days to project {project:?} in {:.1} s",
                args.days,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("assent demo-data: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration's store. The embedded one is opened as itself, to digest the closed days
/// at the end, as its collector would in the background.
enum DemoStore {
    Sqlite(Box<SqliteStore>),
    Shared(Arc<dyn Store>),
}

impl DemoStore {
    fn as_ref(&self) -> &dyn Store {
        match self {
            DemoStore::Sqlite(s) => s.as_ref(),
            DemoStore::Shared(s) => s.as_ref(),
        }
    }
}

fn open(settings: &Settings) -> Result<DemoStore, assent_store::StoreError> {
    let mut settings = settings.clone();
    // Made-up data: a crash loses nothing that cannot be made again.
    settings.durability = assent_store::Durability::Normal;
    match &settings.store_backend {
        StoreBackend::Sqlite => assent_server::stores::open_sqlite(&settings, None)
            .map(|s| DemoStore::Sqlite(Box::new(s))),
        StoreBackend::Postgres { .. } => {
            assent_server::stores::open(&settings, None, Purpose::Other).map(DemoStore::Shared)
        }
    }
}

/// Appends every day's events, oldest day first; returns how many were stored.
async fn fill(
    store: &dyn Store,
    project: &str,
    args: &DemoData,
) -> Result<u64, assent_store::StoreError> {
    let project: Arc<str> = project.into();
    let mut rng = Rng::with_seed(args.seed);
    let now = now_ms();
    let today = now.div_euclid(DAY_MS);
    let days: Vec<i64> = (0..i64::from(args.days))
        .map(|i| today - i64::from(args.days) + 1 + i)
        .collect();
    let weights: Vec<f64> = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
            let weekday = (day + 3).rem_euclid(7);
            let week = if weekday >= 5 { 0.78 } else { 1.0 };
            let growth = 0.8 + 0.4 * i as f64 / days.len() as f64;
            let elapsed = if *day == today {
                (now - day * DAY_MS) as f64 / DAY_MS as f64
            } else {
                1.0
            };
            week * growth * rng.f64().mul_add(0.2, 0.9) * elapsed
        })
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let mut visitors: Vec<Visitor> = Vec::new();
    let mut in_flight: VecDeque<Ack<AppendReport>> = VecDeque::new();
    let mut stored = 0u64;
    let mut made = 0u64;
    for (day, weight) in days.iter().zip(&weights) {
        let target = ((args.events as f64) * weight / total_weight).round() as u64;
        let target = target.min(args.events - made);
        let mut events = Vec::with_capacity(target as usize + 64);
        while (events.len() as u64) < target {
            let start = visit_start(&mut rng, *day, now);
            let Some(start) = start else { break };
            let returning = !visitors.is_empty() && rng.u8(0..100) < 25;
            let mut visitor = if returning {
                visitors[rng.usize(..visitors.len())].clone()
            } else {
                let v = Visitor::new(&mut rng, visitors.len() as u64 + 1);
                if visitors.len() < 200_000 {
                    visitors.push(v.clone());
                }
                v
            };
            visit(&mut rng, &mut visitor, !returning, *day, start, &mut events);
        }
        events.truncate(target as usize);
        made += events.len() as u64;
        events.sort_by_key(|e| e.received_at_ms);
        for chunk in events.chunks(5_000) {
            if in_flight.len() >= 4 {
                stored += in_flight.pop_front().expect("not empty").await?.inserted as u64;
            }
            in_flight.push_back(store.append(project.clone(), chunk.to_vec())?);
        }
    }
    while let Some(ack) = in_flight.pop_front() {
        stored += ack.await?.inserted as u64;
    }
    Ok(stored)
}

/// A visit's start on `day`, following the day's busy hours; none in the last minutes
/// before now.
fn visit_start(rng: &mut Rng, day: i64, now: i64) -> Option<i64> {
    for _ in 0..50 {
        let hours: Vec<(i64, u32)> = demo_traffic::HOURS
            .iter()
            .enumerate()
            .map(|(h, w)| (h as i64, *w))
            .collect();
        let hour = demo_traffic::pick(rng, &hours);
        let start = day * DAY_MS + hour * HOUR_MS + rng.i64(0..HOUR_MS);
        if start < now - 20 * 60 * 1000 {
            return Some(start);
        }
    }
    None
}

/// The events of one visit: the banner's answer on a first visit, then the visitor's path.
fn visit(
    rng: &mut Rng,
    visitor: &mut Visitor,
    first: bool,
    day: i64,
    start: i64,
    out: &mut Vec<StoredEvent>,
) {
    let arrival = demo_traffic::arrival(rng);
    let signs_in = visitor.identified() && visitor.user_id.is_none() && rng.u8(0..100) < 12;
    let mut actions = demo_traffic::journey(rng, start + 1_500, signs_in);
    if first && visitor.choice != Choice::Ignored {
        let path = actions.first().map_or("/".to_string(), |a| a.path.clone());
        actions.insert(
            0,
            Action {
                at_ms: start + 1_000,
                kind: EventType::Consent,
                name: String::new(),
                properties: json!({}),
                path,
            },
        );
    }
    if signs_in {
        visitor.user_id = Some(format!("customer-{}", visitor.number));
    }
    // The day's cookieless hash of this browser: the same all day, another one tomorrow.
    let hash = format!(
        "{:032x}",
        Rng::with_seed(visitor.number.wrapping_mul(1_000_003) ^ day as u64).u128(..)
    );
    let mut previous_path: Option<String> = None;
    for (sequence, action) in actions.iter().enumerate() {
        let landing = previous_path.is_none() && action.kind != EventType::Consent;
        out.push(event(
            rng,
            visitor,
            action,
            landing.then_some(arrival),
            previous_path.as_deref(),
            &hash,
            start,
            sequence as i64,
        ));
        if action.kind == EventType::Page {
            previous_path = Some(action.path.clone());
        }
    }
}

fn consent_state(visitor: &Visitor) -> serde_json::Value {
    let (analytics, functional, marketing, replay) = match visitor.choice {
        Choice::AcceptAll => ("granted", "granted", "granted", "granted"),
        Choice::Custom => ("granted", "granted", "denied", "denied"),
        Choice::RejectAll => ("denied", "denied", "denied", "denied"),
        Choice::Ignored => ("pending", "pending", "pending", "pending"),
    };
    let marketing = if visitor.gpc { "denied" } else { marketing };
    json!({"necessary": "granted", "analytics": analytics, "functional": functional,
           "marketing": marketing, "replay": replay})
}

#[allow(clippy::too_many_arguments)]
fn event(
    rng: &mut Rng,
    visitor: &Visitor,
    action: &Action,
    arrival: Option<Arrival>,
    previous_path: Option<&str>,
    hash: &str,
    session_id: i64,
    sequence: i64,
) -> StoredEvent {
    let identified = visitor.identified();
    let consent_event = action.kind == EventType::Consent;
    // A refusal is recorded through an anonymous request (no hash); everything else of an
    // unconsented visitor is measured cookielessly (the hash, no identifier).
    let anonymous_request = consent_event && !identified;
    let search = arrival.map_or("", |a| a.search);
    let referrer = match (arrival, previous_path) {
        (Some(a), _) => a.referrer.to_string(),
        (None, Some(p)) => format!("{SITE}{p}"),
        (None, None) => String::new(),
    };
    let url = format!("{SITE}{}{search}", action.path);
    let decided = visitor.choice != Choice::Ignored;
    let mut consent = json!({
        "state": consent_state(visitor),
        "revision": REVISION,
        "source": if decided { "banner" } else { "default" },
        "mode": "opt-in",
        "decided": decided,
    });
    if identified || consent_event {
        consent["id"] = json!(visitor.consent_id);
    }
    let page = json!({"path": action.path, "referrer": referrer, "search": search,
                      "title": "Assent Shop", "url": url});
    let context = json!({
        "consent": consent,
        "anonymous": if identified { json!(false) } else if anonymous_request { json!("server") } else { json!("full") },
        "page": page,
        "userAgent": visitor.user_agent,
        "locale": "en-GB",
        "library": {"name": "@assent/browser", "version": "0.1.0"},
    });
    let properties = match action.kind {
        EventType::Page => page.clone(),
        EventType::Consent => {
            let mut p = json!({"state": consent_state(visitor), "revision": REVISION,
                               "source": "banner", "mode": "opt-in"});
            p["consentId"] = json!(visitor.consent_id);
            p
        }
        _ => action.properties.clone(),
    };
    let mut payload = json!({"properties": properties, "context": context});
    if !anonymous_request {
        payload["country"] = json!(visitor.country);
    }
    if visitor.gpc || visitor.dnt {
        payload["privacySignals"] = json!({});
        if visitor.gpc {
            payload["privacySignals"]["gpc"] = json!(true);
        }
        if visitor.dnt {
            payload["privacySignals"]["dnt"] = json!(true);
        }
    }
    let message_id = demo_traffic::uuid(rng);
    let ledger = if consent_event {
        let raw = serde_json::value::RawValue::from_string(payload["context"].to_string())
            .expect("a value is valid JSON");
        assent_core::ledger::Entry::of_consent_event(Some(&raw), action.at_ms, &message_id)
    } else {
        None
    };
    let received = action.at_ms + rng.i64(40..900);
    StoredEvent {
        message_id,
        kind: action.kind,
        name: (action.kind == EventType::Track).then(|| action.name.clone()),
        anonymous_id: visitor.anonymous_id.clone().filter(|_| identified),
        user_id: visitor.user_id.clone().filter(|_| identified),
        group_id: None,
        previous_id: None,
        session_id: identified.then_some(session_id),
        sequence: identified.then_some(sequence),
        timestamp_ms: action.at_ms,
        original_timestamp_ms: Some(action.at_ms),
        sent_at_ms: Some(received - 20),
        received_at_ms: received,
        ip: identified.then(|| "198.51.100.0".into()),
        visitor_hash: (!anonymous_request).then(|| hash.into()),
        consent: ledger,
        payload: payload.to_string(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

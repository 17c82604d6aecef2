//! What `/metrics` reports, in Prometheus text format.

use std::sync::Mutex;

use assent_store::CommitStats;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Mutex<Registry>,
    accepted: Family<Labels, Counter>,
    deduplicated: Family<Labels, Counter>,
    suppressed: Family<Labels, Counter>,
    rejected: Family<Labels, Counter>,
    requests_refused: Family<Labels, Counter>,
    policy: Family<Labels, Counter>,
    commit_seconds: Histogram,
    commit_events: Histogram,
    queue_depth: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("assent");
        let m = Metrics {
            accepted: Family::default(),
            deduplicated: Family::default(),
            suppressed: Family::default(),
            rejected: Family::default(),
            requests_refused: Family::default(),
            policy: Family::default(),
            // 100 µs … ~3 s
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            commit_events: Histogram::new(exponential_buckets(1.0, 4.0, 10)),
            queue_depth: Gauge::default(),
            registry: Mutex::new(Registry::default()),
        };
        registry.register(
            "events_accepted",
            "Events durably stored, by project",
            m.accepted.clone(),
        );
        registry.register(
            "events_deduplicated",
            "Events acknowledged again without storing: their messageId was already stored",
            m.deduplicated.clone(),
        );
        registry.register(
            "events_suppressed",
            "Events dropped because they belong to a deleted subject (suppression list), by project",
            m.suppressed.clone(),
        );
        registry.register(
            "events_rejected",
            "Events refused, by reason",
            m.rejected.clone(),
        );
        registry.register(
            "requests_refused",
            "Whole requests refused, by error code",
            m.requests_refused.clone(),
        );
        registry.register(
            "policy_actions",
            "What the privacy policy did to events, by action and reason",
            m.policy.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to commit one group of requests durably",
            m.commit_seconds.clone(),
        );
        registry.register(
            "commit_events",
            "Events per group commit",
            m.commit_events.clone(),
        );
        registry.register(
            "write_queue_depth",
            "Events accepted but not yet committed",
            m.queue_depth.clone(),
        );
        *m.registry.lock().expect("fresh mutex") = registry;
        m
    }
}

impl Metrics {
    pub fn accepted(&self, project: &str, report: &assent_store::AppendReport) {
        let labels = vec![("project", project.to_string())];
        let (inserted, duplicates) = (report.inserted, report.duplicates);
        if report.suppressed > 0 {
            self.suppressed
                .get_or_create(&labels)
                .inc_by(report.suppressed as u64);
        }
        if inserted > 0 {
            self.accepted.get_or_create(&labels).inc_by(inserted as u64);
        }
        if duplicates > 0 {
            self.deduplicated
                .get_or_create(&labels)
                .inc_by(duplicates as u64);
        }
    }

    pub fn rejected(&self, reason: &'static str) {
        self.rejected
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    pub fn refused(&self, code: &'static str) {
        self.requests_refused
            .get_or_create(&vec![("code", code.to_string())])
            .inc();
    }

    pub fn policy(&self, action: assent_core::policy::Action) {
        let labels = vec![
            ("action", action.label().to_string()),
            ("reason", action.reason().label().to_string()),
        ];
        self.policy.get_or_create(&labels).inc();
    }

    pub fn committed(&self, stats: &CommitStats) {
        self.commit_seconds.observe(stats.duration.as_secs_f64());
        self.commit_events.observe(stats.events as f64);
    }

    /// The text exposition, with the queue depth read at scrape time.
    pub fn render(&self, queue_depth: usize) -> String {
        self.queue_depth.set(queue_depth as i64);
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        encode(&mut text, &registry).expect("writing to a String cannot fail");
        text
    }
}

//! The retention sweeper: every `retention_sweep_minutes`, deletes what each project keeps
//! no longer (`[projects.retention]`), through the same store code as `assent retention run`.

use std::sync::Arc;
use std::time::Duration;

use assent_store::retention::{NothingExpired, RetentionRule};
use assent_store::Store;

use crate::config::ProjectSettings;

/// The audit trail's actor for sweeps made by the server itself.
pub const ACTOR: &str = "retention-sweeper";

/// The store's rules for the configured projects. Every project has one: session replays are
/// kept 30 days unless `replays_days` says otherwise.
pub fn rules(projects: &[ProjectSettings]) -> Vec<RetentionRule> {
    projects
        .iter()
        .map(|p| RetentionRule {
            project: p.id.clone(),
            events_days: p.retention.events_days,
            consent_days: p.retention.consent_days,
            replays_days: Some(p.retention.replays_days),
            identity_links_days: p.retention.identity_links_days,
        })
        .collect()
}

/// Starts the sweeper; `None` when it is off (`retention_sweep_minutes = 0`) or no project
/// has a rule. The first sweep runs at once.
pub fn start(
    store: Arc<dyn Store>,
    projects: &[ProjectSettings],
    minutes: u32,
) -> Option<tokio::task::JoinHandle<()>> {
    let rules = rules(projects);
    if minutes == 0 || rules.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(u64::from(minutes) * 60));
        loop {
            every.tick().await;
            match store
                .run_retention(
                    rules.clone(),
                    crate::now_ms(),
                    ACTOR.to_string(),
                    NothingExpired::Skip,
                )
                .await
            {
                Ok(report) => tracing::info!(?report, "retention sweep done"),
                Err(e) => tracing::warn!(error = %e, "retention sweep failed; will retry"),
            }
        }
    }))
}

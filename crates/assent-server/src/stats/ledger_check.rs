//! The consent ledger's verification, run in the background (it reads the whole chain) and
//! shown by the privacy panel as of its last run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_store::Store;
use serde::Serialize;

/// How often the chain is walked again.
const EVERY: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerCheck {
    pub checked_at_ms: i64,
    /// Entries whose hashes verified (every entry, when `problem` is none).
    pub entries: usize,
    /// What broke the chain, if anything.
    pub problem: Option<String>,
}

#[derive(Debug, Default)]
pub struct LedgerStatus(Mutex<Option<LedgerCheck>>);

impl LedgerStatus {
    pub fn last(&self) -> Option<LedgerCheck> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Walks the chain now, and keeps the result.
    pub async fn check(&self, store: &dyn Store) {
        let outcome = store.verify_ledger().await;
        let check = LedgerCheck {
            checked_at_ms: crate::now_ms(),
            entries: *outcome.as_ref().unwrap_or(&0),
            problem: outcome.err().map(|e| e.to_string()),
        };
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(check);
    }
}

/// Checks at start and then every half hour, until the collector stops.
pub fn start(status: Arc<LedgerStatus>, store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            status.check(store.as_ref()).await;
        }
    })
}

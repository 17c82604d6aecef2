//! Group commit for collectors that write to PostgreSQL themselves: each writer takes every
//! append waiting, commits them in one transaction, and only then answers each. Several
//! writers run at once, each on its own connection, so that one group is being built while
//! another waits for PostgreSQL's flush.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use assent_core::StoredEvent;
use assent_store::{CommitStats, StoreError};
use tokio::sync::{mpsc, Mutex};

use crate::{Job, Shared};

pub(crate) struct Writer {
    pub shared: Arc<Shared>,
    pub queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    pub waiting_events: Arc<AtomicUsize>,
    pub max_group_events: usize,
}

fn events_of(job: &Job) -> usize {
    match job {
        Job::Append { events, .. } => events.len(),
        Job::Probe { .. } => 0,
    }
}

impl Writer {
    /// Commits groups until the queue is closed and empty.
    pub async fn run(self) {
        loop {
            let group = {
                let mut queue = self.queue.lock().await;
                let Some(first) = queue.recv().await else {
                    break;
                };
                let mut events = events_of(&first);
                let mut group = vec![first];
                while events < self.max_group_events {
                    match queue.try_recv() {
                        Ok(job) => {
                            events += events_of(&job);
                            group.push(job);
                        }
                        Err(_) => break,
                    }
                }
                group
            };
            self.commit(group).await;
        }
    }

    async fn commit(&self, group: Vec<Job>) {
        let started = Instant::now();
        let events: usize = group.iter().map(events_of).sum();
        let requests = group.len();
        let mut appends: Vec<(Arc<str>, Vec<StoredEvent>)> = Vec::new();
        let mut answers = Vec::new();
        let mut probes = Vec::new();
        for job in group {
            match job {
                Job::Append {
                    project,
                    events,
                    ack,
                } => {
                    appends.push((project, events));
                    answers.push(ack);
                }
                Job::Probe { ack } => probes.push(ack),
            }
        }
        let outcome = crate::append::write_groups(&self.shared, &appends, !probes.is_empty()).await;
        self.waiting_events.fetch_sub(events, Ordering::Relaxed);
        match &outcome {
            Err(e) => {
                tracing::error!(error = %e, events, "commit failed; clients are told to retry")
            }
            Ok(_) => {
                if let Some(hook) = &self.shared.on_commit {
                    let hook = hook.lock().unwrap_or_else(|e| e.into_inner());
                    hook(&CommitStats {
                        requests,
                        events,
                        duration: started.elapsed(),
                    });
                }
            }
        }
        match outcome {
            Ok(reports) => {
                for (ack, report) in answers.into_iter().zip(reports) {
                    let _ = ack.send(Ok(report));
                }
                for ack in probes {
                    let _ = ack.send(Ok(()));
                }
            }
            Err(e) => {
                for ack in answers {
                    let _ = ack.send(Err::<_, StoreError>(e.clone()));
                }
                for ack in probes {
                    let _ = ack.send(Err(e.clone()));
                }
            }
        }
    }
}

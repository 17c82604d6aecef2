//! Subject deletion: `DELETE /v1/admin/subjects/{id}` starts a job, `GET
//! /v1/admin/deletions/{job}` reports it.
//!
//! The job is accepted by the store before the answer (the subject is suppressed from then on
//! and the job survives a restart), then worked in bounded steps on the store's writer
//! (assent_store::deletion), interleaved with ingest. The answer waits a moment for it, so a
//! small subject's answer already says `finished`; a big one says `running` and is polled. A
//! subject the store never saw gets a job like any other, with zero counts.

use std::time::Duration;

use assent_store::audit::Counts;
use assent_store::deletion::{DeletionJob, DeletionRequest};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::auth::Admin;
use super::error::AdminError;
use super::{iso_time, subject_id};
use crate::App;

/// How long a deletion request waits for its job before answering `running`.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// A job as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    job: String,
    /// `running` or `finished`.
    status: &'static str,
    started_at: String,
    finished_at: Option<String>,
    subject_hash: Option<String>,
    counts: Counts,
    /// Why the last step failed, while it is retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<DeletionJob> for JobStatus {
    fn from(job: DeletionJob) -> JobStatus {
        JobStatus {
            status: if job.finished() {
                "finished"
            } else {
                "running"
            },
            job: job.job,
            started_at: iso_time(job.started_at_ms),
            finished_at: job.finished_at_ms.map(iso_time),
            subject_hash: job.subject_hash,
            counts: job.counts,
            error: job.last_error,
        }
    }
}

pub async fn delete(
    State(app): State<App>,
    admin: Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<JobStatus>), AdminError> {
    let id = subject_id(id)?;
    let job = uuid::Uuid::new_v4().to_string();
    app.store
        .accept_deletion(DeletionRequest {
            job_id: job.clone(),
            project: admin.project.id.to_string(),
            id,
            actor: admin.actor,
        })
        .await?;
    let work = run_in_background(&app, job.clone());
    let status = match tokio::time::timeout(ANSWER_WITHIN, work).await {
        Ok(Ok(Ok(Some(done)))) => done.into(),
        _ => status_of(&app, &admin.project.id, &job).await?,
    };
    Ok((StatusCode::ACCEPTED, Json(status)))
}

/// Works an accepted job to its end on a task of its own (the request may go before it ends).
fn run_in_background(
    app: &App,
    job: String,
) -> tokio::task::JoinHandle<Result<Option<DeletionJob>, assent_store::StoreError>> {
    let store = app.store.clone();
    tokio::spawn(async move {
        let outcome = store.run_deletion(job.clone()).await;
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, job, "a deletion stopped; it resumes when the collector next starts");
        }
        outcome
    })
}

pub async fn job(
    State(app): State<App>,
    admin: Admin,
    job: Result<Path<String>, PathRejection>,
) -> Result<Json<JobStatus>, AdminError> {
    let Path(job) = job.map_err(|e| AdminError::invalid("job", e.body_text()))?;
    status_of(&app, &admin.project.id, &job).await.map(Json)
}

/// A job of the token's project: jobs of other projects are not found.
async fn status_of(app: &App, project: &str, job: &str) -> Result<JobStatus, AdminError> {
    app.store
        .deletion_job(project.to_string(), job.to_string())
        .await?
        .map(JobStatus::from)
        .ok_or(AdminError::NotFound("deletion job"))
}

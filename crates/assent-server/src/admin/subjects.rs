//! Subject deletion: `DELETE /v1/admin/subjects/{id}` starts a job, `GET
//! /v1/admin/deletions/{job}` reports it.
//!
//! The work runs on the store's writer (assent_store::deletion). The answer waits a moment
//! for it, so a small subject's answer already says `finished`; a big one says `running` and
//! is polled. A subject the store never saw gets a job like any other, with zero counts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use assent_store::audit::Counts;
use assent_store::deletion::{self, DeletionJob, DeletionRequest};
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

/// Jobs started by this process and not finished yet (finished ones are in the store).
#[derive(Default)]
pub struct RunningDeletions(Mutex<HashMap<String, Running>>);

#[derive(Clone)]
struct Running {
    project: String,
    started_at_ms: i64,
    /// Set when the job failed; it was rolled back and may be asked for again.
    error: Option<String>,
}

/// A job as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    job: String,
    /// `running`, `finished` or `failed`.
    status: &'static str,
    started_at: String,
    finished_at: Option<String>,
    subject_hash: Option<String>,
    counts: Counts,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl JobStatus {
    fn finished(job: DeletionJob) -> JobStatus {
        JobStatus {
            job: job.job,
            status: "finished",
            started_at: iso_time(job.started_at_ms),
            finished_at: Some(iso_time(job.finished_at_ms)),
            subject_hash: Some(job.subject_hash),
            counts: job.counts,
            error: None,
        }
    }

    fn unfinished(job: String, running: Running) -> JobStatus {
        JobStatus {
            job,
            status: if running.error.is_some() {
                "failed"
            } else {
                "running"
            },
            started_at: iso_time(running.started_at_ms),
            finished_at: None,
            subject_hash: None,
            counts: Counts::new(),
            error: running.error,
        }
    }
}

impl RunningDeletions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub async fn delete(
    State(app): State<App>,
    admin: Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<JobStatus>), AdminError> {
    let id = subject_id(id)?;
    let job = uuid::Uuid::new_v4().to_string();
    let running = Running {
        project: admin.project.id.to_string(),
        started_at_ms: crate::now_ms(),
        error: None,
    };
    app.deletions.lock().insert(job.clone(), running);
    let request = DeletionRequest {
        job_id: job.clone(),
        project: admin.project.id.to_string(),
        id,
        actor: admin.actor,
    };
    let work = tokio::spawn({
        let app = app.clone();
        async move {
            let outcome = app.sqlite.delete_subject(request.clone()).await;
            let mut running = app.deletions.lock();
            match &outcome {
                Ok(_) => drop(running.remove(&request.job_id)),
                Err(e) => {
                    if let Some(r) = running.get_mut(&request.job_id) {
                        r.error = Some(e.to_string());
                    }
                }
            }
            outcome
        }
    });
    let status = match tokio::time::timeout(ANSWER_WITHIN, work).await {
        Ok(Ok(Ok(done))) => JobStatus::finished(done),
        Ok(Ok(Err(e))) => return Err(e.into()),
        _ => status_of(&app, &admin.project.id, &job)?,
    };
    Ok((StatusCode::ACCEPTED, Json(status)))
}

pub async fn job(
    State(app): State<App>,
    admin: Admin,
    job: Result<Path<String>, PathRejection>,
) -> Result<Json<JobStatus>, AdminError> {
    let Path(job) = job.map_err(|e| AdminError::invalid("job", e.body_text()))?;
    status_of(&app, &admin.project.id, &job).map(Json)
}

/// A job of the token's project: jobs of other projects are not found.
fn status_of(app: &App, project: &str, job: &str) -> Result<JobStatus, AdminError> {
    if let Some(running) = app.deletions.lock().get(job).cloned() {
        if running.project == project {
            return Ok(JobStatus::unfinished(job.to_string(), running));
        }
    }
    let conn = app.sqlite.reader()?;
    deletion::deletion_job(&conn, project, job)?
        .map(JobStatus::finished)
        .ok_or(AdminError::NotFound("deletion job"))
}

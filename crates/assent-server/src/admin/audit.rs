//! `GET /v1/admin/audit?limit=N`: the project's audit trail, newest first.

use assent_store::audit::AuditEntry;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Admin;
use super::error::AdminError;
use super::iso_time;
use crate::App;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    limit: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLine {
    at: String,
    #[serde(flatten)]
    entry: AuditEntry,
}

pub const MAX_LIMIT: u32 = 1000;

pub async fn list(
    State(app): State<App>,
    admin: Admin,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::invalid("limit", e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AdminError::invalid(
            "limit",
            format!("limit must be from 1 to {MAX_LIMIT}"),
        ));
    }
    let entries: Vec<AuditLine> = app
        .store
        .audit(admin.project.id.to_string(), limit)
        .await?
        .into_iter()
        .map(|entry| AuditLine {
            at: iso_time(entry.at_ms),
            entry,
        })
        .collect();
    Ok(Json(serde_json::json!({ "entries": entries })))
}

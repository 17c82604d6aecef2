//! `GET /v1/admin/consent?subject=ID`: a connected subject's consent-ledger history, oldest
//! first — the proof of consent GDPR Art. 7(1) asks for.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::auth::Admin;
use super::check_subject_id;
use super::error::AdminError;
use crate::App;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentQuery {
    subject: Option<String>,
}

pub async fn history(
    State(app): State<App>,
    admin: Admin,
    query: Result<Query<ConsentQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::invalid("subject", e.body_text()))?;
    let subject = query.subject.ok_or_else(|| {
        AdminError::invalid(
            "subject",
            "give the subject: ?subject=<anonymousId or userId>",
        )
    })?;
    let subject = check_subject_id(subject, "subject")?;
    let entries = app
        .store
        .consent_history(admin.project.id.to_string(), subject)
        .await?
        .into_iter()
        .map(|json| RawValue::from_string(json).map_err(|e| AdminError::Read(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}

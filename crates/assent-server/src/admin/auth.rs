//! Who may use `/v1/admin`: the holder of an admin token, sent as `Authorization: Bearer`.
//!
//! A token opens exactly one project, and its name is the actor the audit trail records.
//! Write keys are public (they ship in web pages) and never work here; an admin token never
//! works for ingest (`projects.rs`). A viewer token (statistics only) gets `403`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::AdminError;
use crate::projects::Project;
use crate::App;

/// An authenticated admin request.
pub struct Admin {
    pub project: Arc<Project>,
    /// The token's name, for the audit trail.
    pub actor: String,
}

impl FromRequestParts<App> for Admin {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Admin, AdminError> {
        let secret = bearer(&parts.headers).ok_or(AdminError::Unauthorized)?;
        let Some((token, project)) = app.projects.admin_token(secret) else {
            // A viewer token is known, and refused for what it may not do.
            return Err(match app.projects.viewer_token(secret) {
                Some(_) => AdminError::ViewerToken,
                None => AdminError::Unauthorized,
            });
        };
        Ok(Admin {
            project: project.clone(),
            actor: token.name.clone(),
        })
    }
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

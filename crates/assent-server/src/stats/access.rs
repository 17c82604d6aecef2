//! Who may read statistics: the holder of one of the project's admin or viewer tokens, sent
//! as `Authorization: Bearer`, or signed in to the dashboard with one (`session.rs`).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

use super::error::StatsError;
use super::session::COOKIE;
use crate::projects::Project;
use crate::App;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An admin token: statistics here, and the privacy operations of `/v1/admin`.
    Admin,
    /// A viewer token: statistics only.
    Viewer,
}

/// An authenticated reader of one project's statistics.
#[derive(Debug, Clone)]
pub struct Access {
    pub project: Arc<Project>,
    pub role: Role,
    /// The token's name.
    pub name: String,
}

impl Access {
    pub fn of_token(app: &App, secret: &str) -> Option<Access> {
        if let Some((token, project)) = app.projects.admin_token(secret) {
            return Some(Access {
                project: project.clone(),
                role: Role::Admin,
                name: token.name.clone(),
            });
        }
        let (token, project) = app.projects.viewer_token(secret)?;
        Some(Access {
            project: project.clone(),
            role: Role::Viewer,
            name: token.name.clone(),
        })
    }
}

impl FromRequestParts<App> for Access {
    type Rejection = StatsError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Access, StatsError> {
        if let Some(secret) = crate::admin::bearer(&parts.headers) {
            return Access::of_token(app, secret).ok_or(StatsError::BadToken);
        }
        crate::server_id::request_cookie(&parts.headers, COOKIE)
            .and_then(|id| app.dashboard_sessions.access(&id))
            .ok_or(StatsError::Unauthorized)
    }
}

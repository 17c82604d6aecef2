//! Which project an admin token opens. One small function on purpose: the privacy-operations
//! work brings the collector's general admin auth, and this is the single place to swap in.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use subtle::ConstantTimeEq;

use crate::config::ProjectSettings;

/// Every project's admin tokens.
pub struct AdminTokens(Vec<(Vec<u8>, Arc<str>)>);

impl AdminTokens {
    pub fn new(projects: &[ProjectSettings]) -> AdminTokens {
        AdminTokens(
            projects
                .iter()
                .flat_map(|p| {
                    let id: Arc<str> = p.id.as_str().into();
                    p.admin_tokens
                        .iter()
                        .map(move |t| (t.as_bytes().to_vec(), id.clone()))
                })
                .collect(),
        )
    }

    /// The project whose admin token is in `Authorization: Bearer …`, if any. Every token is
    /// compared, in constant time, so the answer's timing tells nothing about how close a
    /// guess came.
    pub fn project(&self, headers: &HeaderMap) -> Option<Arc<str>> {
        let given = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim()
            .as_bytes();
        let mut found = None;
        for (token, project) in &self.0 {
            if bool::from(token.as_slice().ct_eq(given)) {
                found = Some(project.clone());
            }
        }
        found
    }
}

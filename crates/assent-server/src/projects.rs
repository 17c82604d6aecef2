//! Which project a request belongs to, decided by its write key.

use std::collections::HashMap;
use std::sync::Arc;

use assent_core::policy::Policy;
use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{AdminToken, IdCookie, ProjectSettings, Retention};

/// A project as the running server sees it.
#[derive(Debug)]
pub struct Project {
    pub id: Arc<str>,
    pub policy: Policy,
    pub id_cookie: IdCookie,
    /// `None` allows every origin.
    pub allowed_origins: Option<Vec<String>>,
    pub retention: Retention,
}

impl Project {
    pub fn allows_origin(&self, origin: &HeaderValue) -> bool {
        match &self.allowed_origins {
            None => true,
            Some(list) => list.iter().any(|o| o.as_bytes() == origin.as_bytes()),
        }
    }
}

/// Why a request could not be tied to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no write key: send it as HTTP Basic auth user name (`key:`) or in a `writeKey` field"
    )]
    Missing,
    #[error("unknown write key")]
    Unknown,
    #[error("an admin token (or a viewer token) is not a write key: tokens are secret and are never accepted for ingest")]
    AdminToken,
    #[error("the Authorization header is not HTTP Basic auth with the write key as user name")]
    Malformed,
}

/// Every project, indexed by its write keys.
#[derive(Debug, Default)]
pub struct Projects {
    by_write_key: HashMap<String, Arc<Project>>,
    by_snowplow_app_id: HashMap<String, Arc<Project>>,
    admin_tokens: Vec<(AdminToken, Arc<Project>)>,
    viewer_tokens: Vec<(AdminToken, Arc<Project>)>,
    all: Vec<Arc<Project>>,
}

impl Projects {
    pub fn new(settings: &[ProjectSettings]) -> Projects {
        let mut projects = Projects::default();
        for p in settings {
            let project = Arc::new(Project {
                id: p.id.as_str().into(),
                policy: p.policy.clone(),
                id_cookie: p.id_cookie.clone(),
                allowed_origins: p.allowed_origins.clone(),
                retention: p.retention,
            });
            for key in &p.write_keys {
                projects.by_write_key.insert(key.clone(), project.clone());
            }
            for app_id in &p.snowplow_app_ids {
                projects
                    .by_snowplow_app_id
                    .insert(app_id.clone(), project.clone());
            }
            projects.admin_tokens.extend(
                p.admin_tokens
                    .iter()
                    .map(|token| (token.clone(), project.clone())),
            );
            projects.viewer_tokens.extend(
                p.viewer_tokens
                    .iter()
                    .map(|token| (token.clone(), project.clone())),
            );
            projects.all.push(project);
        }
        projects
    }

    /// Whether any project accepts requests from this origin (for CORS preflights, which
    /// carry no key).
    pub fn any_allows_origin(&self, origin: &HeaderValue) -> bool {
        self.all.iter().any(|p| p.allows_origin(origin))
    }

    /// The project of a request: the `Authorization: Basic` user name wins over a `writeKey`
    /// in the body, as in Segment's API.
    pub fn for_ingest(
        &self,
        headers: &HeaderMap,
        body_key: Option<&str>,
    ) -> Result<&Arc<Project>, KeyError> {
        let header_key = headers
            .get(header::AUTHORIZATION)
            .map(basic_user)
            .transpose()?;
        let key = header_key
            .as_deref()
            .or(body_key)
            .ok_or(KeyError::Missing)?;
        match self.by_write_key.get(key) {
            Some(project) => Ok(project),
            None if self.admin_token(key).is_some() || self.viewer_token(key).is_some() => {
                Err(KeyError::AdminToken)
            }
            None => Err(KeyError::Unknown),
        }
    }
}

impl Projects {
    /// Every project, in configuration order.
    pub fn all(&self) -> &[Arc<Project>] {
        &self.all
    }

    /// The admin token `secret` is, and its project. Every token is compared, in constant
    /// time, by SHA-256 digest: neither timing nor the configuration's form (plain or hashed)
    /// tells how close a guess came.
    pub fn admin_token(&self, secret: &str) -> Option<(&AdminToken, &Arc<Project>)> {
        find_token(&self.admin_tokens, secret)
    }

    /// The viewer token `secret` is (read-only: statistics), and its project; compared as
    /// admin tokens are.
    pub fn viewer_token(&self, secret: &str) -> Option<(&AdminToken, &Arc<Project>)> {
        find_token(&self.viewer_tokens, secret)
    }

    /// The project a Snowplow app id (`aid`) belongs to, by `snowplow_app_ids`.
    pub fn for_snowplow_app(&self, app_id: &str) -> Option<&Arc<Project>> {
        self.by_snowplow_app_id.get(app_id)
    }
}

fn find_token<'a>(
    tokens: &'a [(AdminToken, Arc<Project>)],
    secret: &str,
) -> Option<(&'a AdminToken, &'a Arc<Project>)> {
    let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    let mut found = None;
    for (token, project) in tokens {
        if bool::from(token.sha256.ct_eq(&digest)) {
            found = Some((token, project));
        }
    }
    found
}

/// The user name of `Authorization: Basic base64(user:password)`.
fn basic_user(value: &HeaderValue) -> Result<String, KeyError> {
    let encoded = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .ok_or(KeyError::Malformed)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| KeyError::Malformed)?;
    let text = String::from_utf8(decoded).map_err(|_| KeyError::Malformed)?;
    let user = text.split(':').next().unwrap_or_default();
    if user.is_empty() {
        return Err(KeyError::Missing);
    }
    Ok(user.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projects() -> Projects {
        Projects::new(&[ProjectSettings {
            id: "demo".into(),
            write_keys: vec!["pk_demo".into()],
            admin_tokens: vec![AdminToken::from_secret("dpo", "sk_demo")],
            viewer_tokens: vec![AdminToken::from_secret("team", "vk_demo")],
            allowed_origins: None,
            policy: Policy::default(),
            id_cookie: IdCookie {
                max_age_days: 365,
                domain: None,
                secure: None,
            },
            snowplow_app_ids: vec!["shop-web".into()],
            retention: Retention::default(),
        }])
    }

    fn basic(user_pass: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_pass);
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {encoded}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn the_key_comes_from_basic_auth_or_the_body() {
        let p = projects();
        assert_eq!(&*p.for_ingest(&basic("pk_demo:"), None).unwrap().id, "demo");
        assert_eq!(
            &*p.for_ingest(&HeaderMap::new(), Some("pk_demo")).unwrap().id,
            "demo"
        );
        assert_eq!(
            p.for_ingest(&HeaderMap::new(), None).unwrap_err(),
            KeyError::Missing
        );
        assert_eq!(
            p.for_ingest(&basic("pk_other:"), None).unwrap_err(),
            KeyError::Unknown
        );
    }

    #[test]
    fn a_snowplow_app_id_chooses_its_project() {
        let p = projects();
        assert_eq!(&*p.for_snowplow_app("shop-web").unwrap().id, "demo");
        assert!(p.for_snowplow_app("pk_demo").is_none());
    }

    #[test]
    fn an_admin_token_never_opens_ingest() {
        let p = projects();
        assert_eq!(
            p.for_ingest(&basic("sk_demo:"), None).unwrap_err(),
            KeyError::AdminToken
        );
        assert_eq!(
            p.for_ingest(&HeaderMap::new(), Some("sk_demo"))
                .unwrap_err(),
            KeyError::AdminToken
        );
    }

    #[test]
    fn an_admin_token_names_its_project_and_holder() {
        let p = projects();
        let (token, project) = p.admin_token("sk_demo").unwrap();
        assert_eq!((token.name.as_str(), &*project.id), ("dpo", "demo"));
        assert!(p.admin_token("sk_demo ").is_none());
        assert!(p.admin_token("pk_demo").is_none());
    }

    #[test]
    fn a_broken_authorization_header_is_named() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer pk_demo".parse().unwrap());
        assert_eq!(
            projects().for_ingest(&h, Some("pk_demo")).unwrap_err(),
            KeyError::Malformed
        );
    }
}

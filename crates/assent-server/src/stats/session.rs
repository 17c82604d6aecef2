//! Dashboard sessions: a token is exchanged once for a random session id in an `HttpOnly`,
//! `SameSite=Strict` cookie (`Secure` over HTTPS), so the page never holds the token — not in
//! its URL, not in `localStorage`. Sessions live in the collector's memory and end after
//! 12 hours, at sign-out, or when the collector restarts.
//!
//! Cross-site request forgery: the cookie is `SameSite=Strict`, so other sites' pages never
//! send it; every change (sign-in, sign-out) must also come with `Content-Type:
//! application/json` and, when the browser says where it comes from, from this origin.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use super::access::{Access, Role};
use super::error::StatsError;
use crate::App;

pub const COOKIE: &str = "assent_dashboard";
const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Past this many live sessions, the oldest are dropped.
const MAX_SESSIONS: usize = 10_000;

#[derive(Clone)]
struct Session {
    access: Access,
    started: Instant,
}

/// The sessions of the running collector.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn start(&self, access: Access) -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut sessions = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.started.elapsed() < LIFETIME);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.started)
                .map(|(id, _)| id.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            id.clone(),
            Session {
                access,
                started: Instant::now(),
            },
        );
        id
    }

    pub fn access(&self, id: &str) -> Option<Access> {
        let sessions = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(id)
            .filter(|s| s.started.elapsed() < LIFETIME)
            .map(|s| s.access.clone())
    }

    fn end(&self, id: &str) {
        self.by_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions")
    }
}

pub type SharedSessions = Arc<Sessions>;

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

/// Who is signed in, as the page shows it.
#[derive(Serialize)]
pub struct Whoami {
    project: String,
    role: Role,
    name: String,
}

impl From<&Access> for Whoami {
    fn from(a: &Access) -> Whoami {
        Whoami {
            project: a.project.id.to_string(),
            role: a.role,
            name: a.name.clone(),
        }
    }
}

/// `POST /v1/stats/session` with `{"token": "..."}`.
pub async fn sign_in(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, StatsError> {
    same_origin_change(&headers)?;
    let SignIn { token } = serde_json::from_slice(&body).map_err(|e| {
        StatsError::invalid(
            "token",
            format!("send {{\"token\": \"<admin or viewer token>\"}}: {e}"),
        )
    })?;
    let access = Access::of_token(&app, token.trim()).ok_or(StatsError::BadToken)?;
    let id = app.dashboard_sessions.start(access.clone());
    let cookie = Cookie::build((COOKIE, id))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(crate::server_id::is_https(&app, peer, &headers))
        .path("/")
        .max_age(cookie::time::Duration::seconds(LIFETIME.as_secs() as i64))
        .build();
    Ok((
        [
            (header::SET_COOKIE, cookie.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Json(Whoami::from(&access)),
    )
        .into_response())
}

/// `GET /v1/stats/session`: who is signed in (401 when nobody).
pub async fn current(access: Access) -> Json<Whoami> {
    Json(Whoami::from(&access))
}

/// `DELETE /v1/stats/session`: signs out and expires the cookie.
pub async fn sign_out(State(app): State<App>, headers: HeaderMap) -> Result<Response, StatsError> {
    same_origin_change(&headers)?;
    if let Some(id) = crate::server_id::request_cookie(&headers, COOKIE) {
        app.dashboard_sessions.end(&id);
    }
    let expired = Cookie::build((COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, expired.to_string())],
    )
        .into_response())
}

/// A change of session must be a JSON request (other sites cannot send one without a CORS
/// preflight, which the collector never grants here) from this origin when one is named.
fn same_origin_change(headers: &HeaderMap) -> Result<(), StatsError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(StatsError::Forbidden(
            "sessions change only with Content-Type: application/json (a cross-site form cannot send it)",
        ));
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let own = host
            .is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
        if !own {
            return Err(StatsError::Forbidden(
                "sessions change only from the dashboard's own origin",
            ));
        }
    }
    Ok(())
}

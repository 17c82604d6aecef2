//! `GET /v1/id`: an anonymous id kept in a cookie the collector sets itself.
//!
//! Safari (ITP) caps cookies written by scripts at 7 days, so a tracker's own anonymousId
//! is forgotten by a visitor who comes back weekly. A cookie set by the server in an HTTP
//! answer, HttpOnly, on the site's own domain (the collector served as a first-party
//! subdomain) is not capped that way. The tracker asks for it only when `analytics` is
//! allowed, and adopts the id when its own was lost. Without consent, or on an anonymous
//! request, nothing is set and an existing cookie is expired: a script cannot remove an
//! HttpOnly cookie, so withdrawing consent must come through here.

use std::net::SocketAddr;

use assent_core::client_address::is_trusted;
use assent_core::policy::{DntRule, GpcRule, Signals};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::json;

use crate::api_error::ApiError;
use crate::json_query::JsonQuery;
use crate::projects::Project;
use crate::App;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdQuery {
    write_key: Option<String>,
    /// The visitor's `analytics` state as the tracker holds it; only `granted` gets an id.
    analytics: Option<String>,
}

pub async fn id(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonQuery(query): JsonQuery<IdQuery>,
) -> Result<Response, ApiError> {
    let project = app
        .projects
        .for_ingest(&headers, query.write_key.as_deref())?;
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !project.allows_origin(origin) {
            return Err(ApiError::Origin(
                String::from_utf8_lossy(origin.as_bytes()).into(),
            ));
        }
    }
    let signals = Signals::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()));
    let name = format!("ast_id_{}", project.id);
    let existing = request_cookie(&headers, &name);
    let allowed =
        query.analytics.as_deref() == Some("granted") && !refused_by_signals(project, &signals);

    let secure = project
        .id_cookie
        .secure
        .unwrap_or_else(|| is_https(&app, peer, &headers));
    let cookie = |value: String, max_age: Duration| {
        let mut c = Cookie::build((name.clone(), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(max_age);
        if let Some(domain) = &project.id_cookie.domain {
            c = c.domain(domain.clone());
        }
        c.build().to_string()
    };
    let (body, set_cookie) = if allowed {
        let id = existing
            .filter(|v| uuid::Uuid::parse_str(v).is_ok())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let max_age = Duration::days(project.id_cookie.max_age_days.into());
        (json!({ "id": id }), Some(cookie(id, max_age)))
    } else {
        (
            json!({ "id": null }),
            existing.map(|_| cookie(String::new(), Duration::ZERO)),
        )
    };
    let mut response = Json(body).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(set_cookie) = set_cookie {
        h.insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&set_cookie).expect("a cookie is a valid header"),
        );
    }
    Ok(response)
}

/// Anonymous requests and opt-out signals refuse an id whatever the tracker says.
fn refused_by_signals(project: &Project, signals: &Signals) -> bool {
    signals.anonymous
        || (signals.gpc && project.policy.gpc == GpcRule::OptOut)
        || (signals.dnt && project.policy.dnt != DntRule::Ignore)
}

pub(crate) fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Over TLS when a trusted proxy says so (the collector itself speaks plain HTTP).
pub(crate) fn is_https(app: &App, peer: SocketAddr, headers: &HeaderMap) -> bool {
    is_trusted(peer.ip(), &app.trusted_proxies)
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

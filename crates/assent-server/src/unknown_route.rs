//! Answers for requests no route takes: a JSON `404` that lists the endpoints there are (and
//! the nearest one, for a typo), and a JSON `405` for a known path with the wrong method.

use axum::http::{Method, Uri};

use crate::api_error::ApiError;

/// The collector's endpoints, as a client would look for them.
const ENDPOINTS: &[&str] = &[
    "POST /v1/batch",
    "POST /v1/track",
    "POST /v1/page",
    "POST /v1/screen",
    "POST /v1/identify",
    "POST /v1/group",
    "POST /v1/alias",
    "POST /v1/consent",
    "GET /v1/id",
    "POST /v1/replay",
    "POST /v1/t",
    "POST /v1/p",
    "POST /v1/s",
    "POST /v1/i",
    "POST /v1/g",
    "POST /v1/a",
    "POST /v1/b",
    "POST /b",
    "POST /2/httpapi",
    "POST /batch",
    "POST /com.snowplowanalytics.snowplow/tp2",
    "GET /i",
    "/v1/admin/… (Bearer admin token)",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /sdk/…",
    "GET /replay/",
];

/// `404` for a path no route has.
pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiError {
    let path = uri.path();
    let nearest = ENDPOINTS
        .iter()
        .filter_map(|e| e.split_once(' ').map(|(_, p)| p))
        .filter(|p| p.starts_with('/') && !p.contains('…'))
        .map(|p| (strsim::levenshtein(p, path), p))
        .min();
    let suggestion = match nearest {
        Some((distance, p)) if distance <= 2 => format!(" (did you mean {p}?)"),
        _ => String::new(),
    };
    ApiError::NoRoute {
        method: method.to_string(),
        path: path.to_string(),
        suggestion,
        known: ENDPOINTS.join(", "),
    }
}

/// `405` for a path that exists, asked with a method it does not take.
pub(crate) async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::Method {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
}

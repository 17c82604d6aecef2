//! `/v1/stats`: the statistics the dashboard shows, as a JSON API (and CSV) for anyone holding
//! one of the project's admin or viewer tokens, and the dashboard's sign-in. Documented in
//! `docs/dashboard.md`.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /v1/stats/session` | sign in with `{"token": …}`: a session cookie |
//! | `GET /v1/stats/session` | who is signed in |
//! | `DELETE /v1/stats/session` | sign out |
//! | `GET /v1/stats/traffic` | visitors, visits, pageviews, bounce rate, duration; series; previous period |
//! | `GET /v1/stats/top/{dimension}` | top pages, entry/exit pages, sources, referrers, UTM, browsers, OS, devices, countries, events |
//! | `GET /v1/stats/properties?event=…` | a custom event's properties |
//! | `GET /v1/stats/funnel?step=…&step=…` | a funnel of 2 to 5 steps |
//! | `GET /v1/stats/consent` | consent analytics |
//! | `GET /v1/stats/privacy` | deletions, exports, suppressed events, ledger check, retention |

mod access;
mod csv_export;
mod error;
mod handlers;
pub mod ledger_check;
mod params;
pub mod session;

use axum::routing::{any, get};
use axum::Router;

use crate::App;
pub use access::{Access, Role};
pub use error::StatsError;

pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/traffic", get(handlers::traffic))
        .route("/top/{dimension}", get(handlers::top))
        .route("/properties", get(handlers::properties))
        .route("/funnel", get(handlers::funnel))
        .route("/consent", get(handlers::consent))
        .route("/privacy", get(handlers::privacy))
        // Spelled out, so that it wins over the collector's own `/v1/{*rest}`.
        .route("/{*rest}", any(not_found))
        .fallback(not_found)
}

async fn not_found() -> StatsError {
    StatsError::NotFound
}

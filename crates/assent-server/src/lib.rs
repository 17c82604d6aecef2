//! The Assent collector's HTTP face.
//!
//! Handlers are thin: they parse a request, call one function, and map the result to an
//! answer. Decoding and enrichment live in `assent_core` (pure functions), durability in
//! `assent_store`. What is here is the edge: routing, keys, CORS, limits, and turning every
//! failure into a JSON error that names what to fix ([`api_error`]).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let settings = assent_server::config::load("assent.toml".as_ref()).unwrap();
//! let listener = tokio::net::TcpListener::bind(settings.listen).await?;
//! assent_server::serve(settings, listener, async { tokio::signal::ctrl_c().await.unwrap() })
//!     .await
//!     .unwrap();
//! # Ok(()) }
//! ```

mod admin;
pub mod api_error;
mod compat;
pub mod config;
mod dashboard_files;
pub mod geo;
pub mod http_server;
mod ingest;
mod json_query;
mod metrics;
mod ops;
pub mod projects;
mod replay;
pub mod retention_sweeper;
mod server_id;
pub mod stats;
pub mod stores;
mod streamed_body;
mod unknown_route;
pub mod visitor_salts;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use assent_core::{EventType, Limits};
use assent_store::{Store, StoreError};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderName, Method};
use axum::routing::{any, get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

use crate::api_error::ApiError;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::projects::Projects;
use crate::visitor_salts::VisitorSalts;

/// Shared by every handler.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub projects: Projects,
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pub trusted_proxies: Vec<assent_core::client_address::IpNet>,
    pub visitor_salts: Arc<VisitorSalts>,
    /// The operator's country database, when configured.
    pub countries: Option<Arc<geo::CountryDatabase>>,
    pub dashboard_sessions: Arc<stats::session::Sessions>,
    pub ledger_status: Arc<stats::ledger_check::LedgerStatus>,
    demo_write_key: Option<String>,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    /// Counts a refused request by its error code and passes the result on.
    fn count_refusal<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if let Err(e) = &result {
            self.metrics.refused(e.code());
        }
        result
    }
}

/// The header a tracker sets on requests that must be handled anonymously.
pub const ANONYMOUS_HEADER: &str = "x-assent-anonymous";
/// Snowplow's tracker says the same with this header.
pub const SNOWPLOW_ANONYMOUS_HEADER: &str = "sp-anonymous";

/// Builds the routes over an already-open store.
pub fn router(
    settings: &Settings,
    store: Arc<dyn Store>,
    visitor_salts: Arc<VisitorSalts>,
    metrics: Arc<Metrics>,
) -> Router {
    router_with(settings, store, visitor_salts, metrics, Extras::default())
}

/// What the collector adds to the routes beyond the store: the country database and the
/// consent ledger's last check.
#[derive(Default)]
pub struct Extras {
    pub countries: Option<Arc<geo::CountryDatabase>>,
    pub ledger_status: Arc<stats::ledger_check::LedgerStatus>,
}

/// Builds the routes over an already-open store, with [`Extras`].
pub fn router_with(
    settings: &Settings,
    store: Arc<dyn Store>,
    visitor_salts: Arc<VisitorSalts>,
    metrics: Arc<Metrics>,
    extras: Extras,
) -> Router {
    let projects = Projects::new(&settings.projects);
    let demo_write_key = settings
        .web
        .demo
        .then(|| {
            settings
                .projects
                .first()
                .and_then(|p| p.write_keys.first().cloned())
        })
        .flatten();
    let limits = Limits::default();
    let app = App(Arc::new(AppInner {
        projects,
        store,
        metrics,
        limits,
        trusted_proxies: settings.trusted_proxies.clone(),
        visitor_salts,
        countries: extras.countries,
        dashboard_sessions: Arc::default(),
        ledger_status: extras.ledger_status,
        demo_write_key,
    }));

    let mut ingest = Router::new()
        .route("/v1/batch", post(ingest::batch))
        .route("/v1/id", get(server_id::id));
    for kind in EventType::ALL {
        let path = format!("/v1/{kind}");
        ingest = ingest.route(
            &path,
            post(
                move |State(app): State<App>,
                      ConnectInfo(peer): ConnectInfo<SocketAddr>,
                      headers,
                      body| { ingest::single(kind, app, peer, headers, body) },
            ),
        );
    }
    // The 405 answer is set before the CORS layer, so that preflights still reach it.
    let ingest = compat::routes(ingest)
        .method_not_allowed_fallback(unknown_route::wrong_method)
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(cors(app.clone()));

    let mut routes = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/v1/{*rest}", any(unknown_route::no_route))
        .method_not_allowed_fallback(unknown_route::wrong_method)
        .merge(ingest)
        .nest("/v1/admin", admin::routes())
        .nest("/v1/stats", stats::routes())
        .merge(dashboard_files::routes(settings, &app))
        .merge(replay::routes(settings, app.clone()))
        .nest_service(
            "/sdk/banner",
            ServeDir::new(&settings.web.banner_dir).not_found_service(not_found(&app)),
        )
        .nest_service(
            "/sdk",
            ServeDir::new(&settings.web.sdk_dir).not_found_service(not_found(&app)),
        );
    routes = if settings.web.demo {
        routes
            .route("/demo-config.js", get(web::demo_config))
            .fallback_service(
                ServeDir::new(&settings.web.demo_dir).not_found_service(not_found(&app)),
            )
    } else {
        routes.fallback(unknown_route::no_route)
    };
    routes.with_state(app)
}

/// The JSON `404` as a service, for the static file routes.
pub(crate) fn not_found(app: &App) -> axum::routing::MethodRouter {
    any(unknown_route::no_route).with_state(app.clone())
}

/// CORS for ingest. A preflight carries no write key, so it is answered for any origin that
/// some project allows; the request itself is then checked against its own project.
fn cors(app: App) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            app.projects.any_allows_origin(origin)
        }))
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static(ANONYMOUS_HEADER),
            HeaderName::from_static(SNOWPLOW_ANONYMOUS_HEADER),
            // analytics.js sets it on every retry.
            HeaderName::from_static("x-retry-count"),
        ])
        // A tracker on another origin must be able to read how long to back off.
        .expose_headers([header::RETRY_AFTER])
        .allow_credentials(true)
        .max_age(std::time::Duration::from_secs(24 * 60 * 60))
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] assent_nats::QueueError),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Countries(String),
}

/// Runs the collector on `listener` until `shutdown` resolves, then stops taking requests,
/// lets those in flight finish, and commits everything that was acknowledged.
pub async fn serve(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Collector::open(settings)?.serve(listener, shutdown).await
}

/// A collector whose store is open: ready to serve as soon as it is given a listener.
pub struct Collector {
    settings: Settings,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    salts: Arc<VisitorSalts>,
    /// Keeps shared salts current while the collector runs.
    _salt_keeper: Option<assent_nats::salts::SaltKeeper>,
    countries: Option<Arc<geo::CountryDatabase>>,
}

impl Collector {
    /// Opens (or creates) the store, so that a failure is reported before any port is taken.
    pub fn open(settings: Settings) -> Result<Collector, ServeError> {
        let countries = match &settings.country_database {
            Some(path) => Some(Arc::new(
                geo::CountryDatabase::open(path).map_err(ServeError::Countries)?,
            )),
            None => None,
        };
        let metrics = Arc::new(Metrics::default());
        let on_commit = {
            let metrics = metrics.clone();
            Box::new(move |stats: &assent_store::CommitStats| metrics.committed(stats))
        };
        let mut store = stores::open(&settings, Some(on_commit), stores::Purpose::Collector)?;
        // With a queue, ingest goes to the log; everything else to the shared store.
        if let Some(queue) = &settings.queue {
            let events_waiting = settings.queue_capacity.saturating_mul(64);
            store = Arc::new(assent_nats::QueuedStore::open(
                queue,
                store,
                events_waiting,
            )?);
        }
        let salts = Arc::new(VisitorSalts::default());
        let salt_keeper = match &settings.visitor_salts {
            config::SaltsBackend::Memory => None,
            config::SaltsBackend::Nats { servers, replicas } => {
                let salts = salts.clone();
                Some(assent_nats::salts::start(
                    servers,
                    *replicas,
                    Arc::new(move |day, salt| salts.put(day, salt)),
                )?)
            }
        };
        Ok(Collector {
            settings,
            store,
            metrics,
            salts,
            _salt_keeper: salt_keeper,
            countries,
        })
    }

    /// Serves until `shutdown` resolves; see [`serve`].
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let salts = self.salts.clone();
        // Rotation drops yesterday's salt; a quiet day must not keep it alive until the next
        // request.
        let sweeper = tokio::spawn({
            let salts = salts.clone();
            async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
                loop {
                    every.tick().await;
                    salts.for_day(assent_core::visitor::day_of(now_ms()));
                }
            }
        });
        let retention = retention_sweeper::start(
            self.store.clone(),
            &self.settings.projects,
            self.settings.retention_sweep_minutes,
        );
        let ledger_status = Arc::new(stats::ledger_check::LedgerStatus::default());
        let ledger_check = stats::ledger_check::start(ledger_status.clone(), self.store.clone());
        let app = router_with(
            &self.settings,
            self.store.clone(),
            salts,
            self.metrics,
            Extras {
                countries: self.countries,
                ledger_status,
            },
        );
        // Deletions accepted before a crash or a stop are finished now.
        let unfinished = self.store.unfinished_deletions().await?;
        if !unfinished.is_empty() {
            tracing::info!(jobs = unfinished.len(), "resuming unfinished deletions");
        }
        for job in unfinished {
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.run_deletion(job.clone()).await {
                    tracing::warn!(error = %e, job, "a resumed deletion stopped");
                }
            });
        }
        let app = http_server::with_request_timeout(app, self.settings.http);
        http_server::serve(listener, app, self.settings.http, shutdown).await?;
        sweeper.abort();
        ledger_check.abort();
        if let Some(retention) = retention {
            retention.abort();
        }
        // Every handler has answered by now; commit whatever is still queued and stop the writer.
        self.store.close();
        tracing::info!("stopped; everything acknowledged is committed");
        Ok(())
    }
}

pub(crate) fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_millis() as i64
}

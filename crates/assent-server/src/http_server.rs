//! Accepting connections with limits, so that no client can hold the collector's sockets.
//!
//! `axum::serve` has no timers: a client that opens a socket and sends a header a byte at a
//! time (slowloris), or never sends anything, keeps its socket and file descriptor forever,
//! and a thousand of them starve every honest request. Here each connection is served by
//! hyper with a timer:
//!
//! - **header timeout**: a request head must arrive whole within this time of the connection
//!   opening, and of the previous answer on a kept-alive connection (so it is also the
//!   keep-alive idle timeout);
//! - **request timeout**: reading the body and answering must finish within this time, or the
//!   client gets a JSON `408` (a client that dribbles its body is cut off);
//! - **connection limit**: past it, new connections wait in the kernel's backlog until a slot
//!   frees, which the timeouts guarantee; the soft limit on open files is raised to the hard
//!   one at start, and the connection limit kept below it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The limits of the HTTP edge (`[http]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// File descriptors kept free of connections: the store's files, logs, the listener.
const RESERVED_FILES: u64 = 64;

/// Adds the request timeout to every route.
pub fn with_request_timeout(router: Router, limits: HttpLimits) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| answer_within(limits.request_timeout, req, next),
    ))
}

async fn answer_within(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => crate::api_error::ApiError::Timeout(limit).into_response(),
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets the
/// requests in flight finish, and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max_connections = connection_limit(limits.max_connections);
    let slots = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // neither is a reason to stop serving the others.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request)
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The configured limit, kept below what the process may open; the soft limit on open files
/// is first raised as far as the system allows.
fn connection_limit(configured: usize) -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => {
            let room = files.saturating_sub(RESERVED_FILES).max(1);
            let limit = configured.min(usize::try_from(room).unwrap_or(usize::MAX));
            if limit < configured {
                tracing::warn!(
                    configured,
                    limit,
                    open_files = files,
                    "max_connections is above what this process may open; using the lower limit"
                );
            }
            limit
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the limit on open files");
            configured
        }
    }
}

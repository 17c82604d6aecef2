//! Reading the visitor of every request: a `tower` layer, and an axum extractor for what it read.

use std::sync::Arc;
use std::task::{Context, Poll};

use crate::visitor::{Visitor, VisitorReader};

/// Reads each request's [`Visitor`] from its cookies and signals and puts it in the request's
/// extensions, where handlers (or the axum extractor) find it.
///
/// ```
/// use assent_sdk::{ConsentPolicy, Visitor, VisitorLayer, VisitorReader};
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let layer = VisitorLayer::new(VisitorReader::new("pk_demo", ConsentPolicy::default()));
/// let service = layer.layer(service_fn(|request: http::Request<()>| async move {
///     let visitor = request.extensions().get::<Visitor>().cloned().unwrap_or_default();
///     Ok::<_, std::convert::Infallible>(visitor.consent.get_signals().gpc)
/// }));
/// let request = http::Request::builder().header("sec-gpc", "1").body(()).unwrap();
/// assert!(service.oneshot(request).await.unwrap());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct VisitorLayer {
    reader: Arc<VisitorReader>,
}

impl VisitorLayer {
    /// A layer that reads visitors with `reader` (e.g. [`Client::visitor_reader`](crate::Client::visitor_reader)).
    pub fn new(reader: VisitorReader) -> VisitorLayer {
        VisitorLayer {
            reader: Arc::new(reader),
        }
    }
}

impl<S> tower_layer::Layer<S> for VisitorLayer {
    type Service = VisitorService<S>;

    fn layer(&self, inner: S) -> VisitorService<S> {
        VisitorService {
            inner,
            reader: self.reader.clone(),
        }
    }
}

/// The service [`VisitorLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct VisitorService<S> {
    inner: S,
    reader: Arc<VisitorReader>,
}

impl<S, B> tower_service::Service<http::Request<B>> for VisitorService<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> S::Future {
        let visitor = self.reader.read_headers(request.headers());
        request.extensions_mut().insert(visitor);
        self.inner.call(request)
    }
}

/// The rejection of the [`Visitor`] extractor when no [`VisitorLayer`] ran: a mistake in
/// the application's setup, answered `500` with a message saying so.
#[cfg(feature = "axum")]
#[derive(Debug, Clone, Copy)]
pub struct MissingVisitorLayer;

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for MissingVisitorLayer {
    fn into_response(self) -> axum_core::response::Response {
        (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "assent-sdk: the Visitor extractor needs VisitorLayer on the router",
        )
            .into_response()
    }
}

/// The visitor [`VisitorLayer`] read for this request.
#[cfg(feature = "axum")]
impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for Visitor {
    type Rejection = MissingVisitorLayer;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Visitor, MissingVisitorLayer> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or(MissingVisitorLayer)
    }
}

//! The client: one per collector and write key, shared by every task of the process.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::calls::Call;
use crate::consent::Consent;
use crate::delivery::{self, Config, Shared};
use crate::event::{Event, EventType};
use crate::options::Options;
use crate::stats::Stats;
use crate::visitor::VisitorReader;
use crate::Error;

/// Sends events to an Assent collector, with each visitor's consent applied before anything
/// leaves the process. Cheap to clone: clones share one queue and one delivery task.
///
/// ```no_run
/// use std::time::Duration;
/// use assent_sdk::{Client, Consent, Options};
///
/// # async fn run() -> Result<(), assent_sdk::Error> {
/// let client = Client::new("http://127.0.0.1:8080", "pk_demo", Options::default())?;
/// let consent = Consent::new().id("6b1c0d3e-8a43-4c43-a3b0-7b6b1e4a2f10").grant("analytics");
/// client
///     .track("Order Completed")
///     .consent(&consent)
///     .user_id("u-42")
///     .property("total", 42.5)
///     .send()
///     .await?;
/// client.shutdown(Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    /// The last handle is gone: the delivery task sends what is queued, then ends.
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl Client {
    /// A client for the collector at `endpoint` (its base URL, e.g. `https://collect.example`)
    /// with a project's write key. Must be called inside a tokio runtime, where the delivery
    /// task runs. With a spool, events an earlier process left there are queued at once.
    pub fn new(endpoint: &str, write_key: &str, options: Options) -> Result<Client, Error> {
        let url = batch_url(endpoint)?;
        if write_key.is_empty() {
            return Err(Error::WriteKey {
                problem: "is empty",
            });
        }
        if write_key.chars().any(char::is_control) {
            return Err(Error::WriteKey {
                problem: "contains control characters",
            });
        }
        options.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .pool_max_idle_per_host(options.max_in_flight)
            // Before the collector's keep-alive limit (10 s) closes one under a request.
            .pool_idle_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| Error::Endpoint {
                endpoint: endpoint.to_string(),
                problem: format!("no HTTP client: {e}"),
            })?;
        let shared = Arc::new(Shared::new(Config {
            url,
            write_key: write_key.to_string(),
            http,
            options,
        })?);
        let worker = runtime.spawn(delivery::run(shared.clone()));
        Ok(Client {
            inner: Arc::new(Inner {
                shared,
                worker: Mutex::new(Some(worker)),
            }),
        })
    }

    fn call(&self, kind: EventType) -> Call<'_> {
        Call::new(self, Event::new(kind))
    }

    /// A `track` call: something the visitor did.
    pub fn track(&self, event: impl Into<String>) -> Call<'_> {
        let mut call = self.call(EventType::Track);
        call.event_mut().event = Some(event.into());
        call
    }

    /// A `page` call: a page view (name it with [`Call::name`]).
    pub fn page(&self) -> Call<'_> {
        self.call(EventType::Page)
    }

    /// A `screen` call: a screen view in an app.
    pub fn screen(&self) -> Call<'_> {
        self.call(EventType::Screen)
    }

    /// An `identify` call: who the visitor is, with [`Call::traits`].
    pub fn identify(&self, user_id: impl Into<String>) -> Call<'_> {
        self.call(EventType::Identify).user_id(user_id)
    }

    /// A `group` call: the visitor belongs to `group_id` (an account, a team).
    pub fn group(&self, group_id: impl Into<String>) -> Call<'_> {
        let mut call = self.call(EventType::Group);
        call.event_mut().group_id = Some(group_id.into());
        call
    }

    /// An `alias` call: `user_id` is the same person as the earlier id given with
    /// [`Call::previous_id`] (by default the call's anonymousId).
    pub fn alias(&self, user_id: impl Into<String>) -> Call<'_> {
        self.call(EventType::Alias).user_id(user_id)
    }

    /// A `consent` call: records the visitor's choice in the collector's consent ledger.
    /// Sent whatever the choice, with identifiers only when it allows them.
    pub fn consent(&self, consent: &Consent) -> Call<'_> {
        self.call(EventType::Consent).consent(consent)
    }

    /// Reads visitors from requests with this client's write key and consent policy.
    pub fn visitor_reader(&self) -> VisitorReader {
        let config = &self.inner.shared.config;
        VisitorReader::new(&config.write_key, config.options.policy.clone())
    }

    /// Sends everything queued before the call, full batches or not, and waits until the
    /// collector acknowledged (or refused) all of it, at most `timeout`.
    pub async fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.inner.shared.flush(timeout).await
    }

    /// Takes no more events and delivers everything queued, within `timeout`. Then the
    /// delivery task ends. With a spool, what could not be delivered in time stays on disk.
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        let shared = &self.inner.shared;
        shared.close();
        let delivered = shared.flush(timeout).await;
        shared.stop();
        let worker = self
            .inner
            .worker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        if delivered.is_ok() {
            shared.clean_spool();
        }
        delivered
    }

    /// What the client did with the events so far.
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats()
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }
}

/// `POST {endpoint}/v1/batch`.
fn batch_url(endpoint: &str) -> Result<String, Error> {
    let bad = |problem: &str| Error::Endpoint {
        endpoint: endpoint.to_string(),
        problem: problem.to_string(),
    };
    let url = reqwest::Url::parse(endpoint).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "http" => {}
        "https" if cfg!(feature = "rustls") => {}
        "https" => return Err(bad("https needs the `rustls` feature of assent-sdk")),
        _ => return Err(bad("only http and https are supported")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL takes no query or fragment"));
    }
    Ok(format!("{}/v1/batch", url.as_str().trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::batch_url;

    #[test]
    fn the_endpoint_is_a_base_url() {
        assert_eq!(
            batch_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/v1/batch"
        );
        assert_eq!(
            batch_url("http://h.example/collect/").unwrap(),
            "http://h.example/collect/v1/batch"
        );
        for bad in [
            "",
            "127.0.0.1:8080",
            "ftp://h.example",
            "http://h.example/?a=1",
        ] {
            assert!(batch_url(bad).is_err(), "{bad}");
        }
    }
}

//! One batch to the collector: the request, what its answer means, and the retries.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde::Deserialize;

use super::backoff;
use super::queue::{Batch, Item};
use super::Shared;
use crate::stats::Counters;

/// What one attempt came to.
enum Attempt {
    /// The collector has the events (`rejected` of them refused alone, with their reason).
    Delivered { rejected: usize, duplicates: usize },
    /// Worth trying again: no answer, 408, 429 or 5xx; `after` is the collector's wish.
    Retry { after: Option<std::time::Duration> },
    /// Refused as a whole (another 4xx): sending it again would be refused again.
    Refused,
}

/// Sends a batch until the collector acknowledges or refuses it, then settles it. Retries
/// carry the same events with the same `messageId`s: the collector stores each once.
pub(super) async fn deliver(shared: Arc<Shared>, batch: Batch) {
    let options = &shared.config.options;
    let counters = &shared.counters;
    let mut attempt = 0;
    loop {
        if let Some(until) = shared.paused_until() {
            tokio::time::sleep_until(until.into()).await;
        }
        match post(&shared, &batch).await {
            Attempt::Delivered {
                rejected,
                duplicates,
            } => {
                Counters::add(&counters.delivered, batch.items.len() - rejected);
                Counters::add(&counters.duplicates, duplicates);
                Counters::add(&counters.rejected, rejected);
                return shared.settle(&batch);
            }
            Attempt::Refused => {
                Counters::add(&counters.rejected, batch.items.len());
                return shared.settle(&batch);
            }
            Attempt::Retry { after } => {
                attempt += 1;
                Counters::add(&counters.retries, 1);
                let wait = match after {
                    Some(after) => {
                        // Every request is asked to wait, not only this one.
                        let after = after.min(options.retry_max);
                        shared.pause_until(Instant::now() + after);
                        after
                    }
                    None => backoff::delay(attempt, options.retry_base, options.retry_max),
                };
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// `{"sentAt": now, "batch": [...]}`, made again for each attempt so that the collector's
/// clock-skew correction measures the real sending time.
fn body(items: &[Item]) -> Vec<u8> {
    let size: usize = items.iter().map(|i| i.json.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 64);
    let _ = write!(
        out,
        "{{\"sentAt\":\"{:.3}\",\"batch\":[",
        jiff::Timestamp::now()
    );
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&item.json);
    }
    out.extend_from_slice(b"]}");
    out
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    rejected: Vec<serde_json::Value>,
    #[serde(default)]
    duplicates: usize,
}

async fn post(shared: &Shared, batch: &Batch) -> Attempt {
    let config = &shared.config;
    let mut request = config
        .http
        .post(&config.url)
        .basic_auth(&config.write_key, Some(""))
        .header(CONTENT_TYPE, "application/json")
        .body(body(&batch.items));
    if batch.anonymity.anonymous_request() {
        request = request.header("x-assent-anonymous", "1");
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            shared.counters.failed(format!(
                "no answer from {}: {}",
                config.url,
                error_chain(&e)
            ));
            return Attempt::Retry { after: None };
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| backoff::retry_after(v, jiff::Timestamp::now()));
    let text = response.bytes().await.unwrap_or_default();
    if (200..300).contains(&status) {
        // The events are durable once the collector answers 200; an answer we cannot read
        // changes nothing about that.
        let answer: Option<Answer> = serde_json::from_slice(&text).ok();
        let rejected = answer.as_ref().map_or(0, |a| a.rejected.len());
        if rejected > 0 {
            shared.counters.failed(format!(
                "the collector rejected {rejected} events: {}",
                String::from_utf8_lossy(&text)
            ));
        }
        return Attempt::Delivered {
            rejected: rejected.min(batch.items.len()),
            duplicates: answer.map_or(0, |a| a.duplicates),
        };
    }
    shared.counters.failed(format!(
        "the collector answered {status}: {}",
        String::from_utf8_lossy(&text[..text.len().min(500)])
    ));
    if backoff::is_retryable(status) {
        Attempt::Retry { after: retry_after }
    } else {
        Attempt::Refused
    }
}

/// An error with its causes: reqwest's own message rarely says what failed.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::queue::Anonymity;

    #[test]
    fn the_body_is_the_collector_s_batch_envelope() {
        let items: Vec<Item> = (0..2)
            .map(|n| Item {
                seq: n,
                json: format!(r#"{{"type":"track","event":"E{n}"}}"#).into_bytes(),
                anonymity: Anonymity::Identified,
                segment: None,
            })
            .collect();
        let body: serde_json::Value = serde_json::from_slice(&body(&items)).unwrap();
        assert_eq!(body["batch"][1]["event"], "E1");
        let sent_at: jiff::Timestamp = body["sentAt"].as_str().unwrap().parse().unwrap();
        assert!((jiff::Timestamp::now() - sent_at).get_seconds() < 5);
    }
}

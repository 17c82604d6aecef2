//! Wire bytes → canonical [`Event`]s, or precise errors.
//!
//! Two levels of failure are kept apart on purpose. A body that cannot be read at all (not
//! JSON, too large, no `batch`) is a [`BodyError`] and fails the request with `400`/`413`. An
//! event that is wrong on its own is a [`Rejection`] in its slot of the batch: the rest of the
//! batch is still accepted, and the client learns the index and the reason.
//!
//! Every field is first captured as raw JSON and only then interpreted, so each mistake can be
//! reported with the name of the field it is in, rather than serde's position in the text.

use std::borrow::Cow;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::{Event, EventType, Limits};

pub mod amplitude;
mod client_ip;
pub mod free_form;
mod json_build;
pub mod segment;
pub mod snowplow;

pub use client_ip::ClientIp;

/// A decoded request: one slot per event sent, in order.
#[derive(Debug)]
pub struct Batch {
    pub events: Vec<Result<Event, Rejection>>,
    /// The write key when it came in the body rather than in the `Authorization` header.
    pub write_key: Option<String>,
}

/// Why a whole request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BodyError {
    #[error("the {what} exceeds the limit of {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    #[error("`{field}` is required")]
    Missing { field: &'static str },
    #[error("`{field}` must be {expected}")]
    Invalid {
        field: &'static str,
        expected: &'static str,
    },
}

impl BodyError {
    /// The field at fault, for the JSON error body.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            BodyError::Missing { field } | BodyError::Invalid { field, .. } => Some(field),
            BodyError::TooLarge { .. } | BodyError::NotJson(_) => None,
        }
    }
}

/// Why one event of a batch was refused; the others are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    #[error("the event is {size} bytes, over the limit of {limit} bytes for one event")]
    TooLarge { size: usize, limit: usize },
    #[error("the event is not a JSON object")]
    NotAnObject,
    #[error("`{field}` is required for {kind} events")]
    Missing {
        field: &'static str,
        kind: EventType,
    },
    #[error("`{field}` {problem}")]
    Invalid {
        field: &'static str,
        problem: Cow<'static, str>,
    },
}

impl Rejection {
    /// A stable, low-cardinality name for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Rejection::TooLarge { .. } => "too_large",
            Rejection::NotAnObject => "not_an_object",
            Rejection::Missing { .. } => "missing_field",
            Rejection::Invalid { .. } => "invalid_field",
        }
    }

    fn invalid(field: &'static str, problem: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::Invalid {
            field,
            problem: problem.into(),
        }
    }
}

/// Decodes `POST /v1/batch`: `{"batch": [...], "sentAt": "...", "writeKey": "..."}`.
///
/// ```
/// use assent_core::{decode, Limits};
/// let body = br#"{"batch":[{"type":"page","messageId":"a"},{"type":"nope"}]}"#;
/// let batch = decode::batch(body, &Limits::default()).unwrap();
/// assert!(batch.events[0].is_ok());
/// assert_eq!(
///     batch.events[1].as_ref().unwrap_err().to_string(),
///     "`type` must be one of track, page, screen, identify, group, alias, consent (got \"nope\")"
/// );
/// ```
pub fn batch(body: &[u8], limits: &Limits) -> Result<Batch, BodyError> {
    check_body_size(body, limits)?;
    // The common case in one pass over the body: the envelope and the slice of every event.
    // Only a body that fails it is read again, slowly, to say exactly what is wrong.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope<'a> {
        #[serde(borrow)]
        batch: Option<Vec<&'a RawValue>>,
        #[serde(borrow)]
        sent_at: Option<&'a RawValue>,
        #[serde(borrow)]
        write_key: Option<&'a RawValue>,
    }
    let envelope: Envelope = match parse_object(body) {
        Ok(envelope) => envelope,
        Err(e) => return Err(explain_bad_batch(body).unwrap_or(e)),
    };
    let items = envelope
        .batch
        .ok_or(BodyError::Missing { field: "batch" })?;
    let batch_bytes = items.iter().map(|raw| raw.get().len() + 1).sum::<usize>() + 1;
    if batch_bytes > limits.batch_bytes {
        return Err(BodyError::TooLarge {
            what: "batch",
            size: batch_bytes,
            limit: limits.batch_bytes,
        });
    }
    let sent_at = match envelope.sent_at {
        None => None,
        Some(raw) => Some(timestamp(raw, "sentAt").map_err(|_| BodyError::Invalid {
            field: "sentAt",
            expected: "an ISO-8601 timestamp with a time zone, or milliseconds since 1970",
        })?),
    };
    let write_key = envelope.write_key.map(body_write_key).transpose()?;
    let events = items
        .into_iter()
        .map(|raw| event(raw, None, sent_at, limits))
        .collect();
    Ok(Batch { events, write_key })
}

/// Why a body that is valid JSON failed the fast path: `batch` is there but not an array.
fn explain_bad_batch(body: &[u8]) -> Option<BodyError> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        batch: Option<&'a RawValue>,
    }
    let envelope: Envelope = parse_object(body).ok()?;
    envelope.batch.map(|_| BodyError::Invalid {
        field: "batch",
        expected: "an array of events",
    })
}

/// Decodes one event posted to `POST /v1/{track,page,…}`; the path decides its type.
///
/// ```
/// use assent_core::{decode, EventType, Limits};
/// let body = br#"{"event":"Clicked","userId":42,"writeKey":"pk_demo"}"#;
/// let batch = decode::single(body, EventType::Track, &Limits::default()).unwrap();
/// assert_eq!(batch.write_key.as_deref(), Some("pk_demo"));
/// assert_eq!(batch.events[0].as_ref().unwrap().user_id.as_deref(), Some("42"));
/// ```
pub fn single(body: &[u8], kind: EventType, limits: &Limits) -> Result<Batch, BodyError> {
    check_body_size(body, limits)?;
    let raw: &RawValue = parse_object(body)?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Key<'a> {
        #[serde(borrow)]
        write_key: Option<&'a RawValue>,
    }
    let key: Key =
        serde_json::from_str(raw.get()).map_err(|e| BodyError::NotJson(e.to_string()))?;
    let write_key = key.write_key.map(body_write_key).transpose()?;
    Ok(Batch {
        events: vec![event(raw, Some(kind), None, limits)],
        write_key,
    })
}

fn check_body_size(body: &[u8], limits: &Limits) -> Result<(), BodyError> {
    if body.len() > limits.body_bytes {
        return Err(BodyError::TooLarge {
            what: "request body",
            size: body.len(),
            limit: limits.body_bytes,
        });
    }
    Ok(())
}

fn parse_object<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, BodyError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| BodyError::NotJson(format!("it is not UTF-8 ({e})")))?;
    if !text.trim_start().starts_with('{') {
        return Err(BodyError::NotJson("expected a JSON object".into()));
    }
    serde_json::from_str(text).map_err(|e| BodyError::NotJson(e.to_string()))
}

fn body_write_key(raw: &RawValue) -> Result<String, BodyError> {
    serde_json::from_str(raw.get()).map_err(|_| BodyError::Invalid {
        field: "writeKey",
        expected: "a string",
    })
}

/// The fields Assent reads, each captured raw so that errors can name them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields<'a> {
    #[serde(borrow)]
    message_id: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    kind: Option<&'a RawValue>,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    properties: Option<&'a RawValue>,
    #[serde(borrow)]
    traits: Option<&'a RawValue>,
    #[serde(borrow)]
    anonymous_id: Option<&'a RawValue>,
    #[serde(borrow)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow)]
    group_id: Option<&'a RawValue>,
    #[serde(borrow)]
    previous_id: Option<&'a RawValue>,
    #[serde(borrow)]
    session_id: Option<&'a RawValue>,
    #[serde(borrow)]
    sequence: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    sent_at: Option<&'a RawValue>,
    #[serde(borrow)]
    context: Option<&'a RawValue>,
}

/// Decodes one event. `kind` is set when the endpoint already says what the event is.
fn event(
    raw: &RawValue,
    kind: Option<EventType>,
    batch_sent_at: Option<Timestamp>,
    limits: &Limits,
) -> Result<Event, Rejection> {
    let text = event_text(raw, limits)?;
    let f: Fields =
        serde_json::from_str(text).map_err(|e| Rejection::invalid("event", e.to_string()))?;
    let kind = match kind {
        Some(kind) => kind,
        None => {
            let raw = f
                .kind
                .ok_or_else(|| Rejection::invalid("type", "is required"))?;
            let name = string(raw, "type", limits)?;
            EventType::parse(&name).ok_or_else(|| {
                let all: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                Rejection::invalid(
                    "type",
                    format!("must be one of {} (got {name:?})", all.join(", ")),
                )
            })?
        }
    };
    let opt_string =
        |raw: Option<&RawValue>, field| raw.map(|r| string(r, field, limits)).transpose();
    let opt_id = |raw: Option<&RawValue>, field| raw.map(|r| id(r, field, limits)).transpose();
    let ev = Event {
        message_id: opt_id(f.message_id, "messageId")?.unwrap_or_default(),
        kind,
        event: opt_string(f.event, "event")?,
        name: opt_string(f.name, "name")?,
        properties: f.properties.map(|r| object(r, "properties")).transpose()?,
        traits: f.traits.map(|r| object(r, "traits")).transpose()?,
        anonymous_id: opt_id(f.anonymous_id, "anonymousId")?,
        user_id: opt_id(f.user_id, "userId")?,
        group_id: opt_id(f.group_id, "groupId")?,
        previous_id: opt_id(f.previous_id, "previousId")?,
        session_id: f.session_id.map(|r| integer(r, "sessionId")).transpose()?,
        sequence: f.sequence.map(|r| integer(r, "sequence")).transpose()?,
        timestamp: f.timestamp.map(|r| timestamp(r, "timestamp")).transpose()?,
        sent_at: match f.sent_at {
            Some(r) => Some(timestamp(r, "sentAt")?),
            None => batch_sent_at,
        },
        context: f.context.map(|r| object(r, "context")).transpose()?,
    };
    require_fields(&ev)?;
    free_form::check_event(&ev)?;
    Ok(ev)
}

/// One event's JSON text, if it is an object within the size limit: the first check of every
/// format's decoder, so that each event of a batch fails alone.
pub(crate) fn event_text<'a>(raw: &'a RawValue, limits: &Limits) -> Result<&'a str, Rejection> {
    let text = raw.get();
    if text.len() > limits.event_bytes {
        return Err(Rejection::TooLarge {
            size: text.len(),
            limit: limits.event_bytes,
        });
    }
    if !text.starts_with('{') {
        return Err(Rejection::NotAnObject);
    }
    Ok(text)
}

/// What each type needs to mean anything. Identifiers are deliberately *not* required in
/// general: a fully anonymous event, with none, is a first-class citizen in Assent.
fn require_fields(ev: &Event) -> Result<(), Rejection> {
    let missing = |field| {
        Err(Rejection::Missing {
            field,
            kind: ev.kind,
        })
    };
    match ev.kind {
        EventType::Track if ev.event.as_deref().is_none_or(str::is_empty) => missing("event"),
        EventType::Identify if ev.user_id.is_none() && ev.anonymous_id.is_none() => {
            missing("userId")
        }
        EventType::Group if ev.group_id.is_none() => missing("groupId"),
        EventType::Alias if ev.user_id.is_none() => missing("userId"),
        EventType::Alias if ev.previous_id.is_none() => missing("previousId"),
        _ => Ok(()),
    }
}

fn string(raw: &RawValue, field: &'static str, limits: &Limits) -> Result<String, Rejection> {
    let s: String = serde_json::from_str(raw.get())
        .map_err(|_| Rejection::invalid(field, "must be a string"))?;
    if s.chars().count() > limits.id_chars.max(1024) {
        return Err(Rejection::invalid(field, "is longer than 1024 characters"));
    }
    Ok(s)
}

/// Identifiers are strings; numbers are accepted and kept as their decimal text, as Segment
/// does, because many back ends use numeric user ids.
fn id(raw: &RawValue, field: &'static str, limits: &Limits) -> Result<String, Rejection> {
    let text = raw.get();
    let id = if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|_| Rejection::invalid(field, "must be a string"))?
    } else {
        match serde_json::from_str::<serde_json::Number>(text) {
            Ok(n) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => return Err(Rejection::invalid(field, "must be a string or an integer")),
        }
    };
    if id.is_empty() {
        return Err(Rejection::invalid(field, "must not be empty"));
    }
    if id.chars().count() > limits.id_chars {
        return Err(Rejection::invalid(
            field,
            format!("is longer than {} characters", limits.id_chars),
        ));
    }
    Ok(id)
}

fn object(raw: &RawValue, field: &'static str) -> Result<Box<RawValue>, Rejection> {
    if raw.get().starts_with('{') {
        Ok(raw.to_owned())
    } else {
        Err(Rejection::invalid(field, "must be a JSON object"))
    }
}

fn integer(raw: &RawValue, field: &'static str) -> Result<i64, Rejection> {
    serde_json::from_str(raw.get()).map_err(|_| Rejection::invalid(field, "must be an integer"))
}

/// ISO-8601 with a zone (`2026-11-22T10:00:00.000Z`), or milliseconds since 1970.
fn timestamp(raw: &RawValue, field: &'static str) -> Result<Timestamp, Rejection> {
    let bad = || {
        Rejection::invalid(
            field,
            "must be an ISO-8601 timestamp with a time zone, or milliseconds since 1970",
        )
    };
    let text = raw.get();
    if text.starts_with('"') {
        let s: Cow<str> = serde_json::from_str(text).map_err(|_| bad())?;
        s.parse().map_err(|_| bad())
    } else {
        let ms: i64 = serde_json::from_str(text).map_err(|_| bad())?;
        Timestamp::from_millisecond(ms).map_err(|_| bad())
    }
}

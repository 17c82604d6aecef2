//! Adds what only the server knows: when an event arrived, when it really happened, where from.

use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::decode::{Batch, Rejection};
use crate::{Event, EventType, IpPolicy};

/// The facts of one request, shared by every event in it.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub at: Timestamp,
    /// The client's address as seen by the server, before any policy.
    pub ip: Option<IpAddr>,
    /// The cookieless visitor hash of the request (see [`crate::visitor`]).
    pub visitor: Option<u128>,
    /// The country of the client's full address, looked up before the address is truncated
    /// or dropped (the only thing about the address that outlives the policy).
    pub country: Option<Country>,
    /// Privacy signals the request carried (`Sec-GPC`, `DNT`), recorded with its events for
    /// the dashboard's consent analytics.
    pub gpc: bool,
    pub dnt: bool,
}

/// An ISO 3166-1 alpha-2 country code, upper case (`FR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// Reads a two-letter code; anything else is `None`.
    ///
    /// ```
    /// use assent_core::enrich::Country;
    /// assert_eq!(Country::parse("fr").unwrap().as_str(), "FR");
    /// assert!(Country::parse("FRA").is_none());
    /// ```
    pub fn parse(code: &str) -> Option<Country> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("two ASCII letters")
    }
}

impl Received {
    pub fn now(ip: Option<IpAddr>) -> Received {
        // Millisecond precision, like every other time Assent stores.
        let now = Timestamp::now().as_millisecond();
        Received {
            at: Timestamp::from_millisecond(now).expect("now is a valid time"),
            ip,
            visitor: None,
            country: None,
            gpc: false,
            dnt: false,
        }
    }
}

/// An event as it is stored: indexed columns plus the canonical JSON `payload`.
///
/// It serialises (serde) so that a collector can hand processed events to another process
/// (the ingest log of a scaled-out deployment) exactly as it would have stored them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredEvent {
    pub message_id: String,
    pub kind: EventType,
    /// The `track` event name, or the `page`/`screen` name.
    pub name: Option<String>,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    /// An `alias` event's former id. Kept in `payload` only; here so the store can link it to
    /// `user_id` in the identity graph.
    pub previous_id: Option<String>,
    pub session_id: Option<i64>,
    pub sequence: Option<i64>,
    /// Skew-corrected, in milliseconds since 1970.
    pub timestamp_ms: i64,
    /// The client's own `timestamp`, unchanged, when it sent one. A retry carries it again
    /// exactly (unlike `sentAt`), so with the `messageId` it finds the first copy of an event.
    pub original_timestamp_ms: Option<i64>,
    pub sent_at_ms: Option<i64>,
    pub received_at_ms: i64,
    /// Shared by the events of a request that keep the same address: made once.
    pub ip: Option<Arc<str>>,
    /// The day's cookieless visitor pseudonym, 32 hex digits, shared by a request's events.
    pub visitor_hash: Option<Arc<str>>,
    /// For a `consent` event that carries a consent id: its entry for the consent ledger.
    pub consent: Option<crate::ledger::Entry>,
    /// JSON of what has no column: `properties`, `traits`, `context`, `previousId`, the
    /// client's own `originalTimestamp`, and the request's `country` and `privacySignals`.
    /// The `events_json` view joins it back to the columns.
    pub payload: String,
}

impl StoredEvent {
    /// The identity-graph links the event reveals, as `(other id, user id)`: its
    /// `anonymousId` with its `userId`, and for an `alias` its `previousId` with its `userId`.
    ///
    /// ```
    /// use assent_core::{decode, enrich, IpPolicy, Limits, Received};
    /// let body = br#"{"batch":[{"type":"identify","messageId":"m1","anonymousId":"a1","userId":"u1"}]}"#;
    /// let batch = decode::batch(body, &Limits::default()).unwrap();
    /// let (events, _) = enrich::batch(batch, &Received::now(None), IpPolicy::Truncate);
    /// assert_eq!(events[0].identity_links().collect::<Vec<_>>(), [("a1", "u1")]);
    /// ```
    pub fn identity_links(&self) -> impl Iterator<Item = (&str, &str)> {
        let previous = match self.kind {
            crate::EventType::Alias => self.previous_id.as_deref(),
            _ => None,
        };
        let user_id = self.user_id.as_deref();
        [self.anonymous_id.as_deref(), previous]
            .into_iter()
            .flatten()
            .filter_map(move |other| Some((other, user_id.filter(|u| *u != other)?)))
    }
}

/// A rejected event and its position in the request, as the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedRejection {
    pub index: usize,
    pub rejection: Rejection,
}

/// Enriches the accepted events of a batch and lists the rejected ones with their index.
pub fn batch(
    batch: Batch,
    received: &Received,
    ip_policy: IpPolicy,
) -> (Vec<StoredEvent>, Vec<IndexedRejection>) {
    let mut text = RequestText::default();
    let mut stored = Vec::with_capacity(batch.events.len());
    let mut rejected = Vec::new();
    for (index, decoded) in batch.events.into_iter().enumerate() {
        match decoded {
            Ok(ev) => stored.push(one_of_request(ev, received, ip_policy, &mut text)),
            Err(rejection) => rejected.push(IndexedRejection { index, rejection }),
        }
    }
    (stored, rejected)
}

/// Enriches one event that the policy let through, keeping what `ip_policy` allows of the
/// request's address.
pub fn one(event: Event, received: &Received, ip_policy: IpPolicy) -> StoredEvent {
    one_of_request(event, received, ip_policy, &mut RequestText::default())
}

/// Like [`one`], for one of several events of a request: the text every event of the request
/// shares (its address under a policy, its visitor hash) is made once, in `text`.
pub fn one_of_request(
    event: Event,
    received: &Received,
    ip_policy: IpPolicy,
    text: &mut RequestText,
) -> StoredEvent {
    let ip = text.ip(received.ip, ip_policy);
    let visitor_hash = text.visitor_hash(received.visitor);
    self::event(event, received, ip, visitor_hash)
}

/// The text a request's events share, made the first time one needs it.
#[derive(Debug, Default)]
pub struct RequestText {
    ip: Option<(IpAddr, IpPolicy, Option<Arc<str>>)>,
    visitor: Option<(u128, Arc<str>)>,
}

impl RequestText {
    fn ip(&mut self, ip: Option<IpAddr>, policy: IpPolicy) -> Option<Arc<str>> {
        let ip = ip?;
        match &self.ip {
            Some((i, p, text)) if *i == ip && *p == policy => text.clone(),
            _ => {
                let text: Option<Arc<str>> = policy.apply(ip).map(|kept| kept.to_string().into());
                self.ip = Some((ip, policy, text.clone()));
                text
            }
        }
    }

    fn visitor_hash(&mut self, visitor: Option<u128>) -> Option<Arc<str>> {
        let visitor = visitor?;
        match &self.visitor {
            Some((v, text)) if *v == visitor => Some(text.clone()),
            _ => {
                let text: Arc<str> = format!("{visitor:032x}").into();
                self.visitor = Some((visitor, text.clone()));
                Some(text)
            }
        }
    }
}

/// The time an event happened by the server's clock: the client's own clock is trusted only
/// for the interval between the event and its sending, so a phone set to 1970 still lands
/// on the right day (`receivedAt - (sentAt - timestamp)`, as Segment computes it).
///
/// ```
/// use assent_core::enrich::corrected_timestamp;
/// // The client's clock is an hour behind; the event happened 5 s before it was sent.
/// assert_eq!(corrected_timestamp(Some(1_000), Some(6_000), 3_606_000), 3_601_000);
/// assert_eq!(corrected_timestamp(None, Some(6_000), 3_606_000), 3_606_000);
/// assert_eq!(corrected_timestamp(Some(1_000), None, 3_606_000), 1_000);
/// ```
pub fn corrected_timestamp(
    timestamp_ms: Option<i64>,
    sent_at_ms: Option<i64>,
    received_ms: i64,
) -> i64 {
    match (timestamp_ms, sent_at_ms) {
        (Some(ts), Some(sent)) => received_ms.saturating_sub(sent.saturating_sub(ts)),
        (Some(ts), None) => ts,
        (None, _) => received_ms,
    }
}

fn event(
    ev: Event,
    received: &Received,
    ip: Option<Arc<str>>,
    visitor_hash: Option<Arc<str>>,
) -> StoredEvent {
    let received_at = received.at;
    let received_at_ms = received_at.as_millisecond();
    let original_ms = ev.timestamp.map(|t| t.as_millisecond());
    let sent_at_ms = ev.sent_at.map(|t| t.as_millisecond());
    let timestamp_ms = corrected_timestamp(original_ms, sent_at_ms, received_at_ms);
    // A client that sent no messageId cannot retry safely; the server's own id at least keeps
    // the stored event addressable.
    let message_id = if ev.message_id.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        ev.message_id
    };
    let consent = match ev.kind {
        EventType::Consent => {
            crate::ledger::Entry::of_consent_event(ev.context.as_deref(), timestamp_ms, &message_id)
        }
        _ => None,
    };
    let payload = serde_json::to_string(&Payload {
        properties: ev.properties.as_deref(),
        traits: ev.traits.as_deref(),
        context: ev.context.as_deref(),
        previous_id: ev.previous_id.as_deref(),
        original_timestamp: ev.timestamp,
        country: received.country.as_ref().map(Country::as_str),
        privacy_signals: PrivacySignals {
            gpc: received.gpc,
            dnt: received.dnt,
        },
    })
    .expect("serialising strings, numbers and already-valid JSON cannot fail");
    StoredEvent {
        message_id,
        kind: ev.kind,
        name: ev.event.or(ev.name),
        anonymous_id: ev.anonymous_id,
        user_id: ev.user_id,
        group_id: ev.group_id,
        previous_id: ev.previous_id,
        session_id: ev.session_id,
        sequence: ev.sequence,
        timestamp_ms,
        original_timestamp_ms: original_ms,
        sent_at_ms,
        received_at_ms,
        ip,
        visitor_hash,
        consent,
        payload,
    }
}

/// The parts of an event that have no column of their own. Nothing is stored twice: an
/// identifier lives in its column only, so removing it there removes it everywhere.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    traits: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_timestamp: Option<Timestamp>,
    /// From the client's address before the policy, never more precise than a country.
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "PrivacySignals::none")]
    privacy_signals: PrivacySignals,
}

/// The request's privacy signals, kept so that their share can be reported.
#[derive(Serialize)]
struct PrivacySignals {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    gpc: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dnt: bool,
}

impl PrivacySignals {
    fn none(&self) -> bool {
        !self.gpc && !self.dnt
    }
}

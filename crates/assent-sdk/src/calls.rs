//! The builder every call returns: fields first, then `send()`.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::client::Client;
use crate::consent::Consent;
use crate::delivery::Anonymity;
use crate::event::{AnonymousLevel, Event, EventType};
use crate::policy::{self, Verdict};
use crate::stats::Counters;
use crate::visitor::Visitor;
use crate::Error;

/// The tracker's session timeout: a visitor's session older than this has ended.
const SESSION_TIMEOUT_MS: i64 = 30 * 60 * 1000;

/// What became of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The event's `messageId`, when it was queued; `None` when the consent policy
    /// withheld it (see `verdict`).
    pub message_id: Option<Uuid>,
    /// What the consent policy did.
    pub verdict: Verdict,
}

/// A call being built: [`Client::track`], [`Client::page`], [`Client::identify`], … Set its
/// fields, then [`send`](Call::send) it. Nothing is sent until then.
#[must_use = "a call does nothing until it is sent"]
pub struct Call<'c> {
    client: &'c Client,
    event: Event,
    /// The first mistake made while building; `send` returns it.
    error: Option<Error>,
}

/// A JSON object, or the field's error.
fn object(field: &'static str, value: Value) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Error::field(
            field,
            format!("must be a JSON object (got {})", kind_of(&other)),
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'c> Call<'c> {
    pub(crate) fn new(client: &'c Client, event: Event) -> Call<'c> {
        Call {
            client,
            event,
            error: None,
        }
    }

    pub(crate) fn event_mut(&mut self) -> &mut Event {
        &mut self.event
    }

    fn fail(mut self, error: Error) -> Self {
        self.error.get_or_insert(error);
        self
    }

    /// The visitor's consent. Without one, nothing that identifies anybody is sent.
    pub fn consent(mut self, consent: &Consent) -> Self {
        self.event.consent = Some(consent.clone());
        self
    }

    /// The visitor as read from their request: consent, anonymousId, userId and the session
    /// id (while the session lasts). Fields set afterwards win.
    pub fn visitor(mut self, visitor: &Visitor) -> Self {
        let e = &mut self.event;
        e.consent = Some(visitor.consent.clone());
        e.anonymous_id = visitor.anonymous_id.clone().or(e.anonymous_id.take());
        e.user_id = visitor.user_id.clone().or(e.user_id.take());
        let now = e.timestamp.as_millisecond();
        if let Some(session) = &visitor.session {
            if now - session.last < SESSION_TIMEOUT_MS && now >= session.id {
                e.session_id = Some(session.id);
            }
        }
        self
    }

    /// The user's id in your system (sent only when the consent allows identifiers).
    pub fn user_id(mut self, id: impl Into<String>) -> Self {
        self.event.user_id = Some(id.into());
        self
    }

    /// The device's id, as the browser tracker made it (sent only when the consent allows).
    pub fn anonymous_id(mut self, id: impl Into<String>) -> Self {
        self.event.anonymous_id = Some(id.into());
        self
    }

    /// The earlier id of an `alias` call.
    pub fn previous_id(mut self, id: impl Into<String>) -> Self {
        self.event.previous_id = Some(id.into());
        self
    }

    /// The browser session this event belongs to (its start time in ms, as the tracker
    /// keeps it).
    pub fn session_id(mut self, id: i64) -> Self {
        self.event.session_id = Some(id);
        self
    }

    /// The page or screen name of a `page`/`screen` call.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.event.name = Some(name.into());
        self
    }

    /// Adds one property.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.event
            .properties
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// Sets every property at once: a JSON object.
    pub fn properties(mut self, properties: Value) -> Self {
        match object("properties", properties) {
            Ok(map) => self.event.properties = Some(map),
            Err(e) => return self.fail(e),
        }
        self
    }

    /// The traits of an `identify` or `group` call: a JSON object.
    pub fn traits(mut self, traits: Value) -> Self {
        match object("traits", traits) {
            Ok(map) => self.event.traits = Some(map),
            Err(e) => return self.fail(e),
        }
        self
    }

    /// Adds one entry to `context` (`page`, `userAgent`, `locale`, `ip`, …). `consent`,
    /// `anonymous` and `library` are the SDK's own and cannot be set.
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.event
            .context
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// When it happened (default: when the call was made).
    pub fn timestamp(mut self, at: jiff::Timestamp) -> Self {
        self.event.timestamp = at;
        self
    }

    /// Replaces the `messageId` made for the call, e.g. with a UUID v5 of a webhook's own id
    /// so that a webhook delivered twice is stored once.
    pub fn message_id(mut self, id: Uuid) -> Self {
        self.event.message_id = id;
        self
    }

    /// Sends the event without identifiers at an anonymous level, as the browser tracker's
    /// `enableAnonymous` does. `identify`, `group` and `alias` calls are then not sent.
    pub fn anonymous(mut self, level: AnonymousLevel) -> Self {
        self.event.anonymous = Some(level);
        self
    }

    /// Applies the consent policy and queues the event; under
    /// [`WhenFull::Wait`](crate::WhenFull::Wait) waits for room in the queue.
    pub async fn send(self) -> Result<Receipt, Error> {
        let client = self.client;
        let prepared = self.prepare()?;
        if let Some((json, anonymity)) = prepared.queue {
            client.shared().enqueue(json, anonymity).await?;
        }
        Ok(prepared.receipt)
    }

    /// Like [`send`](Call::send), without ever waiting: a full queue under
    /// [`WhenFull::Wait`](crate::WhenFull::Wait) is [`Error::QueueFull`].
    pub fn try_send(self) -> Result<Receipt, Error> {
        let client = self.client;
        let prepared = self.prepare()?;
        if let Some((json, anonymity)) = prepared.queue {
            client.shared().try_enqueue(json, anonymity)?;
        }
        Ok(prepared.receipt)
    }

    fn prepare(self) -> Result<Prepared, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let shared = self.client.shared();
        let policy = &shared.config.options.policy;
        let mut event = self.event;
        if event.kind == EventType::Alias && event.previous_id.is_none() {
            event.previous_id = event.anonymous_id.clone();
        }
        if event.kind == EventType::Consent {
            record_choice(&mut event, policy.mode)?;
        }
        event.validate()?;
        let verdict = policy::apply(&mut event, policy);
        let counters = &shared.counters;
        if verdict.withheld.is_some() {
            Counters::add(&counters.withheld, 1);
            let receipt = Receipt {
                message_id: None,
                verdict,
            };
            return Ok(Prepared {
                receipt,
                queue: None,
            });
        }
        if verdict.identifiers_removed.is_some() {
            Counters::add(&counters.anonymised, 1);
        }
        let json = event.to_json(policy.mode)?;
        let receipt = Receipt {
            message_id: Some(event.message_id),
            verdict,
        };
        Ok(Prepared {
            receipt,
            queue: Some((json, Anonymity::of(event.anonymous))),
        })
    }
}

/// A call the policy judged: what to tell the caller, and what to queue, if anything.
struct Prepared {
    receipt: Receipt,
    queue: Option<(Vec<u8>, Anonymity)>,
}

/// A consent event's properties, as the tracker sends them: the choice itself.
fn record_choice(event: &mut Event, mode: crate::ConsentMode) -> Result<(), Error> {
    let Some(consent) = &event.consent else {
        return Err(Error::field("consent", "is required for a consent call"));
    };
    let Some(id) = consent.consent_id() else {
        return Err(Error::field(
            "consent.id",
            "is required for a consent call: it is the record's key in the consent ledger",
        ));
    };
    let mut state = Map::new();
    state.insert("necessary".into(), "granted".into());
    for (category, value) in consent.states() {
        state.insert(category.into(), value.as_str().into());
    }
    let properties = event.properties.get_or_insert_with(Map::new);
    properties.insert("consentId".into(), id.into());
    properties.insert("state".into(), Value::Object(state));
    properties.insert(
        "revision".into(),
        serde_json::to_value(consent.get_revision()).unwrap_or(Value::Null),
    );
    properties.insert(
        "source".into(),
        consent.get_source().unwrap_or("default").into(),
    );
    properties.insert("mode".into(), mode.as_str().into());
    if consent.is_opted_out() {
        properties.insert("optOut".into(), true.into());
    }
    Ok(())
}

//! The event a call builds, and its wire form: a Segment-Spec event as `POST /v1/batch` takes it.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::consent::{Consent, ConsentMode};
use crate::Error;

/// The collector refuses events over 32 KB; refusing them at the call tells the caller.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// The collector's limit for identifiers (longer ones are refused, never truncated).
const MAX_ID_CHARS: usize = 256;
/// The collector's limit for names (`event`, `name`).
const MAX_NAME_CHARS: usize = 1024;

/// The Segment Spec's event types, plus Assent's `consent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Something the visitor did.
    Track,
    /// A page view.
    Page,
    /// A screen view in an app.
    Screen,
    /// Who the visitor is.
    Identify,
    /// A group (account, team) the visitor belongs to.
    Group,
    /// Two ids of one person.
    Alias,
    /// The visitor's consent choice, for the collector's ledger.
    Consent,
}

impl EventType {
    /// The type's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Track => "track",
            EventType::Page => "page",
            EventType::Screen => "screen",
            EventType::Identify => "identify",
            EventType::Group => "group",
            EventType::Alias => "alias",
            EventType::Consent => "consent",
        }
    }

    /// Calls that are nothing but the link or profile they record.
    pub(crate) fn is_about_identity(self) -> bool {
        matches!(
            self,
            EventType::Identify | EventType::Group | EventType::Alias
        )
    }
}

/// How anonymous an event is, as in the browser tracker: `Full` carries no identifier at all,
/// `Session` only the session id, `Server` is `Full` and asks the collector to keep no
/// address (`X-Assent-Anonymous: 1`). Events of different levels never share a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnonymousLevel {
    /// No identifier at all.
    Full,
    /// Only the session id.
    Session,
    /// No identifier, and no address kept by the collector.
    Server,
}

impl AnonymousLevel {
    /// The level's name in `context.anonymous`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnonymousLevel::Full => "full",
            AnonymousLevel::Session => "session",
            AnonymousLevel::Server => "server",
        }
    }
}

/// One event as a call built it, before and after the consent policy.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub message_id: Uuid,
    pub kind: EventType,
    pub event: Option<String>,
    pub name: Option<String>,
    pub properties: Option<Map<String, Value>>,
    pub traits: Option<Map<String, Value>>,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub previous_id: Option<String>,
    pub session_id: Option<i64>,
    pub timestamp: jiff::Timestamp,
    pub context: Option<Map<String, Value>>,
    pub consent: Option<Consent>,
    /// `None`: identified.
    pub anonymous: Option<AnonymousLevel>,
}

/// Identifiers some trackers put inside `context`.
const CONTEXT_IDENTIFIERS: &[&str] = &["traits", "ip", "externalIds", "groupId"];
const DEVICE_IDENTIFIERS: &[&str] = &["id", "advertisingId", "adTrackingEnabled"];

impl Event {
    pub fn new(kind: EventType) -> Event {
        let now = jiff::Timestamp::now();
        Event {
            message_id: crate::message_id::new(now),
            kind,
            event: None,
            name: None,
            properties: None,
            traits: None,
            anonymous_id: None,
            user_id: None,
            group_id: None,
            previous_id: None,
            session_id: None,
            timestamp: now,
            context: None,
            consent: None,
            anonymous: None,
        }
    }

    /// Removes user-level identifiers and traits (the session id too unless `keep_session`);
    /// returns whether anything identifying was there. A consent id counts (`consent_id`):
    /// outside a consent event it would link anonymous events to each other, so the wire form
    /// leaves it out of anonymous events.
    pub fn strip_identifiers(&mut self, keep_session: bool, consent_id: bool) -> bool {
        let mut removed = false;
        for field in [
            &mut self.user_id,
            &mut self.anonymous_id,
            &mut self.group_id,
            &mut self.previous_id,
        ] {
            removed |= field.take().is_some();
        }
        if !keep_session {
            removed |= self.session_id.take().is_some();
        }
        removed |= self.traits.take().is_some();
        if let Some(context) = &mut self.context {
            for key in CONTEXT_IDENTIFIERS {
                removed |= context.remove(*key).is_some();
            }
            if let Some(Value::Object(device)) = context.get_mut("device") {
                for key in DEVICE_IDENTIFIERS {
                    removed |= device.remove(*key).is_some();
                }
            }
        }
        removed | (consent_id && self.kind != EventType::Consent)
    }

    /// The checks the collector would make, made before the event is queued so that the
    /// caller, not a log line, learns about a mistake.
    pub fn validate(&self) -> Result<(), Error> {
        let missing = |field| Err(Error::field(field, "is required for this call"));
        match self.kind {
            EventType::Track if self.event.as_deref().is_none_or(str::is_empty) => {
                return missing("event")
            }
            EventType::Group if self.group_id.is_none() => return missing("groupId"),
            EventType::Alias if self.user_id.is_none() => return missing("userId"),
            EventType::Alias if self.previous_id.is_none() => return missing("previousId"),
            EventType::Identify if self.user_id.is_none() && self.anonymous_id.is_none() => {
                return missing("userId")
            }
            _ => {}
        }
        for (field, value) in [
            ("anonymousId", &self.anonymous_id),
            ("userId", &self.user_id),
            ("groupId", &self.group_id),
            ("previousId", &self.previous_id),
        ] {
            if let Some(id) = value {
                check_length(field, id, MAX_ID_CHARS, true)?;
            }
        }
        for (field, value) in [("event", &self.event), ("name", &self.name)] {
            if let Some(text) = value {
                check_length(field, text, MAX_NAME_CHARS, false)?;
            }
        }
        Ok(())
    }

    /// The event as JSON, as the collector takes it in a batch.
    pub fn to_json(&self, mode: ConsentMode) -> Result<Vec<u8>, Error> {
        // Most events with their consent snapshot fit; growing the buffer would copy it.
        let mut out = Vec::with_capacity(768);
        serde_json::to_writer(&mut out, &Wire { event: self, mode })
            .map_err(|e| Error::field("event", format!("cannot be written as JSON: {e}")))?;
        if out.len() > MAX_EVENT_BYTES {
            return Err(Error::TooLarge {
                size: out.len(),
                limit: MAX_EVENT_BYTES,
            });
        }
        Ok(out)
    }
}

fn check_length(field: &'static str, text: &str, limit: usize, id: bool) -> Result<(), Error> {
    if id && text.is_empty() {
        return Err(Error::field(field, "must not be empty"));
    }
    if text.len() > limit && text.chars().count() > limit {
        return Err(Error::field(
            field,
            format!("is longer than {limit} characters"),
        ));
    }
    Ok(())
}

/// The wire form. `context` is the caller's, plus what the SDK owns there: the consent
/// snapshot, the anonymity level and the library.
struct Wire<'a> {
    event: &'a Event,
    mode: ConsentMode,
}

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.event;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", e.kind.as_str())?;
        let mut id = Uuid::encode_buffer();
        map.serialize_entry("messageId", e.message_id.hyphenated().encode_lower(&mut id))?;
        let optional_strings = [
            ("event", &e.event),
            ("name", &e.name),
            ("anonymousId", &e.anonymous_id),
            ("userId", &e.user_id),
            ("groupId", &e.group_id),
            ("previousId", &e.previous_id),
        ];
        for (key, value) in optional_strings {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        if let Some(session) = e.session_id {
            map.serialize_entry("sessionId", &session)?;
        }
        if let Some(properties) = &e.properties {
            map.serialize_entry("properties", properties)?;
        }
        if let Some(traits) = &e.traits {
            map.serialize_entry("traits", traits)?;
        }
        map.serialize_entry("timestamp", &Millis(e.timestamp))?;
        map.serialize_entry(
            "context",
            &Context {
                event: e,
                mode: self.mode,
            },
        )?;
        map.end()
    }
}

/// Keys of `context` the SDK writes itself.
const OWN_CONTEXT_KEYS: &[&str] = &["consent", "anonymous", "library"];

struct Context<'a> {
    event: &'a Event,
    mode: ConsentMode,
}

impl Serialize for Context<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.event;
        let mut map = serializer.serialize_map(None)?;
        if let Some(context) = &e.context {
            for (key, value) in context {
                if !OWN_CONTEXT_KEYS.contains(&key.as_str()) {
                    map.serialize_entry(key, value)?;
                }
            }
        }
        if let Some(consent) = &e.consent {
            // A stable consent id on anonymous events would link them to each other; only the
            // consent event, which is the record of the choice, keeps it.
            let with_id = e.anonymous.is_none() || e.kind == EventType::Consent;
            map.serialize_entry("consent", consent.wire(self.mode, with_id))?;
        }
        match e.anonymous {
            None => map.serialize_entry("anonymous", &false)?,
            Some(level) => map.serialize_entry("anonymous", level.as_str())?,
        }
        map.serialize_entry("library", &Library)?;
        map.end()
    }
}

struct Library;

impl Serialize for Library {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("name", "assent-sdk")?;
        map.serialize_entry("version", env!("CARGO_PKG_VERSION"))?;
        map.end()
    }
}

/// RFC 3339 with milliseconds, as the browser tracker writes it (`toISOString()`).
pub(crate) struct Millis(pub jiff::Timestamp);

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{:.3}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(event: &Event) -> Value {
        serde_json::from_slice(&event.to_json(ConsentMode::OptIn).unwrap()).unwrap()
    }

    #[test]
    fn a_track_event_has_the_segment_shape_and_the_sdk_context() {
        let mut e = Event::new(EventType::Track);
        e.event = Some("Order Completed".into());
        e.user_id = Some("u1".into());
        e.properties = Some(json!({"total": 42}).as_object().unwrap().clone());
        e.context = Some(
            json!({"locale": "fr-FR", "library": "theirs"})
                .as_object()
                .unwrap()
                .clone(),
        );
        e.timestamp = "2026-11-30T10:00:00.123456Z".parse().unwrap();
        e.consent = Some(Consent::new().id("c1").grant("analytics"));
        let w = wire(&e);
        assert_eq!(w["type"], "track");
        assert_eq!(w["messageId"], e.message_id.to_string());
        assert_eq!(w["event"], "Order Completed");
        assert_eq!(w["userId"], "u1");
        assert_eq!(w["properties"], json!({"total": 42}));
        assert_eq!(w["timestamp"], "2026-11-30T10:00:00.123Z");
        assert_eq!(w["context"]["locale"], "fr-FR");
        assert_eq!(w["context"]["anonymous"], false);
        assert_eq!(w["context"]["library"]["name"], "assent-sdk");
        assert_eq!(w["context"]["consent"]["id"], "c1");
        assert_eq!(w["context"]["consent"]["state"]["analytics"], "granted");
        assert!(w.get("anonymousId").is_none() && w.get("traits").is_none());
    }

    #[test]
    fn anonymous_events_carry_no_consent_id_but_consent_events_do() {
        let mut e = Event::new(EventType::Page);
        e.consent = Some(Consent::new().id("c1"));
        e.anonymous = Some(AnonymousLevel::Server);
        assert_eq!(wire(&e)["context"]["anonymous"], "server");
        assert!(wire(&e)["context"]["consent"].get("id").is_none());
        e.kind = EventType::Consent;
        assert_eq!(wire(&e)["context"]["consent"]["id"], "c1");
    }

    #[test]
    fn stripping_removes_every_identifier_the_collector_would() {
        let mut e = Event::new(EventType::Track);
        e.user_id = Some("u".into());
        e.anonymous_id = Some("a".into());
        e.session_id = Some(5);
        e.traits = Some(Map::new());
        e.context = Some(
            json!({"traits": {"email": "a@b.c"}, "ip": "1.2.3.4", "device": {"id": "d", "model": "X"}})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert!(e.strip_identifiers(false, false));
        let w = wire(&e);
        for field in ["userId", "anonymousId", "sessionId", "traits"] {
            assert!(w.get(field).is_none(), "{field}");
        }
        assert_eq!(w["context"]["device"], json!({"model": "X"}));
        assert!(w["context"].get("traits").is_none() && w["context"].get("ip").is_none());
        assert!(!e.strip_identifiers(false, false), "nothing left to remove");
        assert!(
            e.strip_identifiers(false, true),
            "a consent id is an identifier too"
        );
    }

    #[test]
    fn an_event_over_32_kb_is_refused_with_its_size() {
        let mut e = Event::new(EventType::Track);
        e.event = Some("Big".into());
        e.properties = Some(
            json!({"blob": "x".repeat(40_000)})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert!(matches!(
            e.to_json(ConsentMode::OptIn),
            Err(Error::TooLarge { limit: 32768, .. })
        ));
    }

    #[test]
    fn the_collector_s_required_fields_are_checked() {
        let e = Event::new(EventType::Track);
        assert_eq!(
            e.validate().unwrap_err().to_string(),
            "`event` is required for this call"
        );
        let mut e = Event::new(EventType::Identify);
        e.user_id = Some("x".repeat(257));
        assert_eq!(
            e.validate().unwrap_err().to_string(),
            "`userId` is longer than 256 characters"
        );
        e.user_id = Some(String::new());
        assert_eq!(
            e.validate().unwrap_err().to_string(),
            "`userId` must not be empty"
        );
    }
}

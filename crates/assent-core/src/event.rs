use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// What an event records, as in the Segment Spec, plus `consent`, which records a visitor's
/// consent choice (docs/architecture.md, "Consent model").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Track,
    Page,
    Screen,
    Identify,
    Group,
    Alias,
    Consent,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::Track,
        EventType::Page,
        EventType::Screen,
        EventType::Identify,
        EventType::Group,
        EventType::Alias,
        EventType::Consent,
    ];

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

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical event: one shape for every tracker Assent accepts.
///
/// Free-form parts (`properties`, `traits`, `context`) are kept as the raw JSON the client sent:
/// they are validated as JSON objects but not rebuilt, which keeps ingest cheap and stores them
/// byte for byte. Stages that must change them (policy) parse them on their own slow path.
#[derive(Debug, Clone)]
pub struct Event {
    pub message_id: String,
    pub kind: EventType,
    /// The name of a `track` event.
    pub event: Option<String>,
    /// The name of a `page` or `screen` view.
    pub name: Option<String>,
    pub properties: Option<Box<RawValue>>,
    pub traits: Option<Box<RawValue>>,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub previous_id: Option<String>,
    /// The client's session: the session start as a millisecond timestamp.
    pub session_id: Option<i64>,
    /// The device's event counter.
    pub sequence: Option<i64>,
    /// When the event happened, by the client's clock.
    pub timestamp: Option<Timestamp>,
    /// When the client sent it, by the same clock; with `timestamp` it corrects clock skew.
    pub sent_at: Option<Timestamp>,
    pub context: Option<Box<RawValue>>,
}

//! Reading the consent snapshot an event carries in `context.consent`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;

use super::ConsentMode;
use crate::Event;

/// One category's state as the client recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CategoryState {
    Granted,
    Denied,
    /// Not decided yet, or not said at all.
    #[default]
    Pending,
}

impl CategoryState {
    /// Whether the category may be used under `mode`.
    pub fn allows(self, mode: ConsentMode) -> bool {
        match mode {
            ConsentMode::OptIn => self == CategoryState::Granted,
            ConsentMode::OptOut => self != CategoryState::Denied,
        }
    }
}

/// The states an event's snapshot records, by category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentSnapshot {
    states: HashMap<String, CategoryState>,
    /// The context could not be read: nothing is allowed, in any mode (the policy fails
    /// closed; in opt-out mode an unread snapshot must not count as "not refused").
    unreadable: bool,
}

#[derive(Deserialize)]
struct Context<'a> {
    #[serde(borrow)]
    consent: Option<Consent<'a>>,
}

#[derive(Deserialize)]
struct Consent<'a> {
    #[serde(borrow)]
    state: Option<HashMap<Cow<'a, str>, serde_json::Value>>,
}

impl ConsentSnapshot {
    /// `context.consent.state`, e.g. `{"analytics": "granted", "marketing": "denied"}`.
    /// Booleans are read as granted/denied; anything else, or no snapshot, as pending.
    pub fn of(event: &Event) -> ConsentSnapshot {
        let context = match event.context.as_ref() {
            None => None,
            Some(raw) => match serde_json::from_str::<Context>(raw.get()) {
                Ok(context) => Some(context),
                Err(_) => {
                    return ConsentSnapshot {
                        states: HashMap::new(),
                        unreadable: true,
                    }
                }
            },
        };
        let state = context
            .and_then(|c| c.consent)
            .and_then(|c| c.state)
            .unwrap_or_default();
        ConsentSnapshot::from_state(state)
    }

    /// Booleans are read as granted/denied; anything else as pending.
    fn from_state(state: HashMap<Cow<'_, str>, serde_json::Value>) -> ConsentSnapshot {
        let read = |value: &serde_json::Value| match value {
            serde_json::Value::String(s) => read_state(s),
            serde_json::Value::Bool(true) => CategoryState::Granted,
            serde_json::Value::Bool(false) => CategoryState::Denied,
            _ => CategoryState::Pending,
        };
        ConsentSnapshot {
            states: state
                .iter()
                .map(|(k, v)| (k.to_string(), read(v)))
                .collect(),
            unreadable: false,
        }
    }

    /// The snapshot of a consent object as trackers send it (`{"state": {...}, "id": …}`), e.g.
    /// the one a session-replay chunk carries. Unreadable text allows nothing.
    pub fn from_consent_json(text: &str) -> ConsentSnapshot {
        match serde_json::from_str::<Consent>(text) {
            Ok(consent) => ConsentSnapshot::from_state(consent.state.unwrap_or_default()),
            Err(_) => ConsentSnapshot {
                states: HashMap::new(),
                unreadable: true,
            },
        }
    }

    /// A snapshot from states as a consent record holds them (`"granted"`, `"denied"`, anything
    /// else pending), e.g. the one a session-replay chunk carries.
    pub fn from_states<'a>(
        states: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> ConsentSnapshot {
        ConsentSnapshot {
            states: states
                .into_iter()
                .map(|(category, state)| (category.to_string(), read_state(state)))
                .collect(),
            unreadable: false,
        }
    }

    pub fn state(&self, category: &str) -> CategoryState {
        self.states.get(category).copied().unwrap_or_default()
    }

    /// Whether `category` may be used under `mode`.
    pub fn allows(&self, category: &str, mode: ConsentMode) -> bool {
        !self.unreadable && self.state(category).allows(mode)
    }
}

fn read_state(state: &str) -> CategoryState {
    match state {
        "granted" => CategoryState::Granted,
        "denied" => CategoryState::Denied,
        _ => CategoryState::Pending,
    }
}

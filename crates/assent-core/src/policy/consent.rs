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
        let read = |value: &serde_json::Value| match value {
            serde_json::Value::String(s) if s == "granted" => CategoryState::Granted,
            serde_json::Value::String(s) if s == "denied" => CategoryState::Denied,
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

    pub fn state(&self, category: &str) -> CategoryState {
        self.states.get(category).copied().unwrap_or_default()
    }

    /// Whether `category` may be used under `mode`.
    pub fn allows(&self, category: &str, mode: ConsentMode) -> bool {
        !self.unreadable && self.state(category).allows(mode)
    }
}

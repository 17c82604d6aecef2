//! A visitor's consent: the state of each category, who recorded it, under which policy revision.
//!
//! The same record the browser tracker keeps and sends as `context.consent`, so an event sent
//! from the backend carries exactly the proof an event from the page would.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// One category's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CategoryState {
    /// The visitor has not decided (or was not asked).
    #[default]
    Pending,
    /// The visitor said yes.
    Granted,
    /// The visitor said no.
    Denied,
}

impl CategoryState {
    /// The state's name on the wire: `pending`, `granted` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            CategoryState::Pending => "pending",
            CategoryState::Granted => "granted",
            CategoryState::Denied => "denied",
        }
    }

    /// Reads a stored or sent state as the collector does: `"granted"`/`true` and
    /// `"denied"`/`false`; anything else is pending.
    pub fn from_json(value: &serde_json::Value) -> CategoryState {
        match value {
            serde_json::Value::String(s) if s == "granted" => CategoryState::Granted,
            serde_json::Value::String(s) if s == "denied" => CategoryState::Denied,
            serde_json::Value::Bool(true) => CategoryState::Granted,
            serde_json::Value::Bool(false) => CategoryState::Denied,
            _ => CategoryState::Pending,
        }
    }

    /// Whether the category may be used under `mode`.
    pub fn allows(self, mode: ConsentMode) -> bool {
        match mode {
            ConsentMode::OptIn => self == CategoryState::Granted,
            ConsentMode::OptOut => self != CategoryState::Denied,
        }
    }
}

/// How a pending choice counts: the project's model, the same for the browser, the SDK and
/// the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum ConsentMode {
    /// The EU model: nothing is allowed until the visitor says so.
    #[default]
    OptIn,
    /// The US model: allowed until the visitor refuses.
    OptOut,
}

impl ConsentMode {
    /// The mode's name in the tracker's configuration and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentMode::OptIn => "opt-in",
            ConsentMode::OptOut => "opt-out",
        }
    }
}

/// The policy revision a choice was made under: a number or a text, as the site configured
/// it (the browser tracker compares them strictly, so `3` and `"3"` differ).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Revision {
    /// A number, e.g. `3`.
    Number(i64),
    /// A text, e.g. `"2026-11"`.
    Text(String),
}

impl Default for Revision {
    /// The tracker's default revision, `1`.
    fn default() -> Self {
        Revision::Number(1)
    }
}

impl From<i64> for Revision {
    fn from(n: i64) -> Self {
        Revision::Number(n)
    }
}

impl From<i32> for Revision {
    fn from(n: i32) -> Self {
        Revision::Number(n.into())
    }
}

impl From<&str> for Revision {
    fn from(s: &str) -> Self {
        Revision::Text(s.to_string())
    }
}

impl From<String> for Revision {
    fn from(s: String) -> Self {
        Revision::Text(s)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revision::Number(n) => write!(f, "{n}"),
            Revision::Text(s) => f.write_str(s),
        }
    }
}

/// Privacy signals the visitor's browser sent with their request. They travel with the
/// consent because the SDK batches many visitors' events into one request to the collector,
/// which therefore cannot see each visitor's headers: the SDK applies them itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Signals {
    /// Global Privacy Control (`Sec-GPC: 1`).
    pub gpc: bool,
    /// Do-Not-Track (`DNT: 1`).
    pub dnt: bool,
}

impl Signals {
    /// Reads the signals from request headers; `header` looks a header up by lower-case name.
    ///
    /// ```
    /// use assent_sdk::Signals;
    /// let s = Signals::from_headers(|name| (name == "sec-gpc").then_some("1"));
    /// assert!(s.gpc && !s.dnt);
    /// ```
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Signals {
        let on = |name| {
            header(name).is_some_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"))
        };
        Signals {
            gpc: on("sec-gpc"),
            dnt: on("dnt"),
        }
    }
}

/// A visitor's consent, required to send anything that identifies them.
///
/// Cheap to clone (it is shared), so one value can go with every event of a request.
/// `necessary` is always granted; every other category is pending until set.
///
/// ```
/// use assent_sdk::{CategoryState, Consent, ConsentMode};
/// let consent = Consent::new()
///     .id("6b1c0d3e-8a43-4c43-a3b0-7b6b1e4a2f10")
///     .grant("analytics")
///     .deny("marketing")
///     .revision(3)
///     .source("banner");
/// assert!(consent.allows("analytics", ConsentMode::OptIn));
/// assert_eq!(consent.state("marketing"), CategoryState::Denied);
/// assert!(!consent.allows("functional", ConsentMode::OptIn), "pending is a no under opt-in");
/// assert!(consent.allows("functional", ConsentMode::OptOut), "and a yes under opt-out");
/// ```
#[derive(Clone, Default)]
pub struct Consent {
    inner: Arc<Record>,
}

#[derive(Clone, Default)]
struct Record {
    id: Option<String>,
    states: BTreeMap<String, CategoryState>,
    revision: Revision,
    source: Option<String>,
    timestamp_ms: Option<i64>,
    opted_out: bool,
    signals: Signals,
    /// `context.consent` as JSON, made once per record: by mode, with and without the id.
    wire: [OnceLock<Box<RawValue>>; 4],
}

impl Consent {
    /// Nothing decided yet: every category pending, no consent id.
    pub fn new() -> Consent {
        Consent::default()
    }

    fn edit(mut self, change: impl FnOnce(&mut Record)) -> Consent {
        let record = Arc::make_mut(&mut self.inner);
        record.wire = Default::default();
        change(record);
        self
    }

    /// The consent id (a UUID in the browser tracker): the key of the visitor's record in the
    /// collector's consent ledger.
    pub fn id(self, id: impl Into<String>) -> Consent {
        let id = id.into();
        self.edit(|r| r.id = (!id.is_empty()).then_some(id))
    }

    /// Sets one category's state. `necessary` cannot be changed.
    pub fn set(self, category: impl Into<String>, state: CategoryState) -> Consent {
        let category = category.into();
        if category == "necessary" {
            return self;
        }
        self.edit(|r| {
            r.states.insert(category, state);
        })
    }

    /// Sets `category` granted.
    pub fn grant(self, category: impl Into<String>) -> Consent {
        self.set(category, CategoryState::Granted)
    }

    /// Sets `category` denied.
    pub fn deny(self, category: impl Into<String>) -> Consent {
        self.set(category, CategoryState::Denied)
    }

    /// The policy revision the choice was made under (default `1`, as in the tracker).
    pub fn revision(self, revision: impl Into<Revision>) -> Consent {
        let revision = revision.into();
        self.edit(|r| r.revision = revision)
    }

    /// Who recorded the choice: `banner`, `api`, `tcf`, `gpc`, …
    pub fn source(self, source: impl Into<String>) -> Consent {
        let source = source.into();
        self.edit(|r| r.source = Some(source))
    }

    /// When the choice was made, in milliseconds since 1970. A consent without it is
    /// "not decided yet" (the tracker's `decided: false`).
    pub fn decided_at(self, timestamp_ms: i64) -> Consent {
        self.edit(|r| r.timestamp_ms = Some(timestamp_ms))
    }

    /// The visitor opted out: only consent events, stripped to the consent id, are sent.
    pub fn opted_out(self, opted_out: bool) -> Consent {
        self.edit(|r| r.opted_out = opted_out)
    }

    /// The privacy signals of the visitor's request (see [`Signals`]).
    pub fn signals(self, signals: Signals) -> Consent {
        self.edit(|r| r.signals = signals)
    }

    /// The consent id, if there is one.
    pub fn consent_id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// The state of `category`: pending unless set (`necessary` is always granted).
    pub fn state(&self, category: &str) -> CategoryState {
        if category == "necessary" {
            return CategoryState::Granted;
        }
        self.inner.states.get(category).copied().unwrap_or_default()
    }

    /// Whether `category` may be used under `mode`.
    pub fn allows(&self, category: &str, mode: ConsentMode) -> bool {
        self.state(category).allows(mode)
    }

    /// Every category with a recorded state.
    pub fn states(&self) -> impl Iterator<Item = (&str, CategoryState)> {
        self.inner.states.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The policy revision the choice was made under.
    pub fn get_revision(&self) -> &Revision {
        &self.inner.revision
    }

    /// Who recorded the choice, if known.
    pub fn get_source(&self) -> Option<&str> {
        self.inner.source.as_deref()
    }

    /// When the choice was made (ms since 1970); `None` while undecided.
    pub fn decided_at_ms(&self) -> Option<i64> {
        self.inner.timestamp_ms
    }

    /// Whether the visitor opted out.
    pub fn is_opted_out(&self) -> bool {
        self.inner.opted_out
    }

    /// The privacy signals of the visitor's request.
    pub fn get_signals(&self) -> Signals {
        self.inner.signals
    }

    /// Denies `category` because a browser signal says so, whatever the visitor granted (the
    /// tracker's rule for GPC and `marketing`). Overriding a grant the visitor made is a change
    /// of their consent, made by `source` at `now_ms`; an undecided consent takes the source.
    pub(crate) fn force_deny(
        self,
        category: &str,
        mode: ConsentMode,
        source: &str,
        now_ms: i64,
    ) -> Consent {
        let decided = self.inner.timestamp_ms.is_some();
        let overrode = self.allows(category, mode) && decided;
        let consent = self.deny(category);
        match (overrode, decided) {
            (true, _) => consent.source(source).decided_at(now_ms),
            (false, false) => consent.source(source),
            (false, true) => consent,
        }
    }

    /// `context.consent` as the tracker sends it, with or without the consent id.
    pub(crate) fn wire(&self, mode: ConsentMode, with_id: bool) -> &RawValue {
        let slot = usize::from(mode == ConsentMode::OptOut) * 2 + usize::from(with_id);
        self.inner.wire[slot].get_or_init(|| {
            let snapshot = Snapshot {
                record: &self.inner,
                mode,
                with_id,
            };
            serde_json::value::to_raw_value(&snapshot).unwrap_or_default()
        })
    }
}

impl fmt::Debug for Consent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.inner;
        f.debug_struct("Consent")
            .field("id", &r.id)
            .field("states", &r.states)
            .field("revision", &r.revision)
            .field("source", &r.source)
            .field("timestamp_ms", &r.timestamp_ms)
            .field("opted_out", &r.opted_out)
            .field("signals", &r.signals)
            .finish()
    }
}

impl PartialEq for Consent {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.inner, &other.inner);
        a.id == b.id
            && a.states == b.states
            && a.revision == b.revision
            && a.source == b.source
            && a.timestamp_ms == b.timestamp_ms
            && a.opted_out == b.opted_out
            && a.signals == b.signals
    }
}

/// The browser tracker's `ConsentSnapshot`: `{id, state, revision, source, mode, decided,
/// timestamp}`; `necessary` is always listed as granted.
struct Snapshot<'a> {
    record: &'a Record,
    mode: ConsentMode,
    with_id: bool,
}

impl Serialize for Snapshot<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.record;
        let mut map = serializer.serialize_map(None)?;
        if let (true, Some(id)) = (self.with_id, &r.id) {
            map.serialize_entry("id", id)?;
        }
        map.serialize_entry("state", &States(&r.states))?;
        map.serialize_entry("revision", &r.revision)?;
        map.serialize_entry("source", r.source.as_deref().unwrap_or("default"))?;
        map.serialize_entry("mode", self.mode.as_str())?;
        map.serialize_entry("decided", &r.timestamp_ms.is_some())?;
        if let Some(ms) = r.timestamp_ms {
            map.serialize_entry("timestamp", &ms)?;
        }
        map.end()
    }
}

struct States<'a>(&'a BTreeMap<String, CategoryState>);

impl Serialize for States<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("necessary", "granted")?;
        for (category, state) in self.0 {
            map.serialize_entry(category, state.as_str())?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_has_the_shape_the_tracker_sends() {
        let consent = Consent::new()
            .id("c1")
            .grant("analytics")
            .revision("2026-11")
            .source("banner")
            .decided_at(1_764_000_000_000);
        let with: serde_json::Value =
            serde_json::from_str(consent.wire(ConsentMode::OptIn, true).get()).unwrap();
        assert_eq!(
            with,
            serde_json::json!({"id": "c1", "state": {"necessary": "granted", "analytics": "granted"},
                "revision": "2026-11", "source": "banner", "mode": "opt-in", "decided": true,
                "timestamp": 1_764_000_000_000i64})
        );
        let without: serde_json::Value =
            serde_json::from_str(consent.wire(ConsentMode::OptIn, false).get()).unwrap();
        assert_eq!(without.get("id"), None);
    }

    #[test]
    fn a_change_made_after_a_snapshot_is_seen_in_the_next_one() {
        let consent = Consent::new().grant("analytics");
        let _ = consent.wire(ConsentMode::OptIn, true);
        let changed = consent.clone().deny("analytics");
        assert!(changed
            .wire(ConsentMode::OptIn, true)
            .get()
            .contains("\"analytics\":\"denied\""));
        assert!(consent
            .wire(ConsentMode::OptIn, true)
            .get()
            .contains("\"analytics\":\"granted\""));
    }

    #[test]
    fn necessary_is_always_granted() {
        let consent = Consent::new().deny("necessary");
        assert_eq!(consent.state("necessary"), CategoryState::Granted);
    }
}

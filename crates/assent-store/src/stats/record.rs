//! One stored event reduced to what the statistics need, read from a partition's row: every
//! text interned into the day's table of strings, the user agent parsed once per distinct
//! string, the referrer named, the campaign read from the page's query.

use std::borrow::Cow;
use std::collections::HashMap;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::sources;

/// An index into a day's [`Strings`]; 0 is the empty string (nothing).
pub(crate) type Sym = u32;
pub(crate) const NONE: Sym = 0;

/// A day's strings, each stored once.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Strings {
    pub list: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, Sym>,
}

impl Strings {
    pub fn new() -> Strings {
        let mut s = Strings::default();
        s.intern("");
        s
    }

    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(&sym) = self.index.get(text) {
            return sym;
        }
        let sym = self.list.len() as Sym;
        self.list.push(text.to_string());
        self.index.insert(text.to_string(), sym);
        sym
    }

    pub fn get(&self, sym: Sym) -> &str {
        &self.list[sym as usize]
    }

    /// The symbol of `text`, if the day has it.
    pub fn find(&self, text: &str) -> Option<Sym> {
        self.index.get(text).copied()
    }

    /// Rebuilds the lookup after deserialising.
    pub fn reindex(&mut self) {
        self.index = self
            .list
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as Sym))
            .collect();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Page,
    Track,
    Consent,
    /// identify, group, alias: part of a visit, neither a pageview nor a custom event.
    Other,
}

/// A category's state as stored in the statistics (absent from a snapshot: unknown).
pub(crate) const NOT_ANSWERED: u8 = 1;
pub(crate) const GRANTED: u8 = 2;
pub(crate) const DENIED: u8 = 3;

/// What a `consent` event chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Outcome {
    AcceptAll,
    RejectAll,
    Custom,
    OptOut,
    OptIn,
}

#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub outcome: Outcome,
    pub source: Sym,
    pub revision: Sym,
    /// (category, GRANTED or DENIED).
    pub states: Vec<(Sym, u8)>,
}

/// The visit-level attributes an event carries (the visit takes its first event's).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Origin {
    pub referrer: Sym,
    pub source: Sym,
    pub utm: [Sym; 3],
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Agent {
    pub browser: Sym,
    pub os: Sym,
    pub device: Sym,
}

#[derive(Debug, Clone)]
pub(crate) struct EventRecord {
    pub id: i64,
    pub project: Sym,
    pub ts: i64,
    pub kind: Kind,
    /// The page's path, or the custom event's name.
    pub name: Sym,
    /// anonymousId, else userId (in the reader's own table of identifiers).
    pub stable: Sym,
    /// The visitor hash (same table).
    pub hash: Sym,
    /// Carries no anonymousId, userId, groupId or sessionId.
    pub without_identifiers: bool,
    /// None when the event had no page context (server-side events).
    pub origin: Option<Origin>,
    pub agent: Option<Agent>,
    pub country: Sym,
    /// The consent snapshot: (category, state); `None` when the event carried none.
    pub consent: Option<Vec<(Sym, u8)>>,
    pub gpc: bool,
    pub dnt: bool,
    pub properties: Vec<(Sym, Sym)>,
    pub choice: Option<Choice>,
}

/// The columns of one stored event the statistics read, as any engine has them.
#[derive(Debug, Clone, Copy)]
pub struct StatsRow<'a> {
    /// Orders a day's events as they were stored.
    pub id: i64,
    pub project: &'a str,
    /// `track`, `page`, `screen`, `consent`, …
    pub kind: &'a str,
    /// The event name or the page/screen name column.
    pub name: Option<&'a str>,
    pub anonymous_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub group_id: Option<&'a str>,
    pub session_id: Option<i64>,
    /// The skew-corrected time the event happened.
    pub timestamp_ms: i64,
    pub visitor_hash: Option<&'a str>,
    /// The stored payload (JSON).
    pub payload: &'a str,
}

/// The most properties of one event that are counted, and the longest value kept.
const MAX_PROPERTIES: usize = 25;
const MAX_VALUE_CHARS: usize = 120;

fn column_text<'r>(row: &'r rusqlite::Row, i: usize) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(i)?.as_str()?)
}

fn column_optional_text<'r>(row: &'r rusqlite::Row, i: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(i)?.as_str_or_null()?)
}

/// Reads rows into records, keeping the parsed user agents across calls.
pub(crate) struct Reader {
    agents: HashMap<String, Agent>,
    /// Identifiers (stable ids, visitor hashes) are interned apart: they tell visitors apart
    /// while a digest is built, and are never part of it.
    ids: Strings,
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            agents: HashMap::new(),
            ids: Strings::new(),
        }
    }

    /// The records of the rows of `conn` (a partition) with an id above `after`, in id order.
    pub fn read_after(
        &mut self,
        conn: &Connection,
        after: i64,
        strings: &mut Strings,
        out: &mut Vec<EventRecord>,
    ) -> rusqlite::Result<()> {
        let mut query = conn.prepare_cached(
            "SELECT id, project, type, event, anonymous_id, user_id, group_id, session_id,
                    timestamp, visitor_hash, payload
             FROM events WHERE id > ?1 ORDER BY id",
        )?;
        let mut rows = query.query([after])?;
        while let Some(row) = rows.next()? {
            // Borrowed from the row: no copy of the payload per event.
            let (text, optional) = (column_text, column_optional_text);
            let stats_row = StatsRow {
                id: row.get(0)?,
                project: text(row, 1)?,
                kind: text(row, 2)?,
                name: optional(row, 3)?,
                anonymous_id: optional(row, 4)?,
                user_id: optional(row, 5)?,
                group_id: optional(row, 6)?,
                session_id: row.get(7)?,
                timestamp_ms: row.get(8)?,
                visitor_hash: optional(row, 9)?,
                payload: text(row, 10)?,
            };
            out.push(self.record(&stats_row, strings));
        }
        Ok(())
    }

    /// The record of one stored event, whichever engine read it.
    pub fn record(&mut self, row: &StatsRow, strings: &mut Strings) -> EventRecord {
        let kind = match row.kind {
            "page" | "screen" => Kind::Page,
            "track" => Kind::Track,
            "consent" => Kind::Consent,
            _ => Kind::Other,
        };
        let payload: Payload = serde_json::from_str(row.payload).unwrap_or_default();
        let mut record = EventRecord {
            id: row.id,
            project: strings.intern(row.project),
            ts: row.timestamp_ms,
            kind,
            name: NONE,
            stable: self
                .ids
                .intern(row.anonymous_id.or(row.user_id).unwrap_or_default()),
            hash: self.ids.intern(row.visitor_hash.unwrap_or_default()),
            without_identifiers: row.anonymous_id.is_none()
                && row.user_id.is_none()
                && row.group_id.is_none()
                && row.session_id.is_none(),
            origin: None,
            agent: None,
            country: NONE,
            consent: None,
            gpc: false,
            dnt: false,
            properties: Vec::new(),
            choice: None,
        };
        self.fill(&mut record, row.name, &payload, strings);
        record
    }

    fn fill(
        &mut self,
        record: &mut EventRecord,
        name: Option<&str>,
        payload: &Payload,
        strings: &mut Strings,
    ) {
        let context = payload.context.as_ref();
        let page = context.and_then(|c| c.page.as_ref());
        let properties = payload
            .properties
            .and_then(|p| serde_json::from_str::<Properties>(p.get()).ok());
        record.name = match record.kind {
            Kind::Page => {
                let path = page
                    .and_then(|p| p.path.as_deref())
                    .or_else(|| properties.as_ref().and_then(|p| p.path()))
                    .or(name)
                    .unwrap_or("(unnamed)");
                strings.intern(path)
            }
            Kind::Track => strings.intern(name.unwrap_or("(unnamed)")),
            _ => NONE,
        };
        if let Some(page) = page {
            let search = page
                .search
                .as_deref()
                .or_else(|| {
                    page.url
                        .as_deref()
                        .and_then(|u| u.split_once('?').map(|(_, q)| q))
                })
                .unwrap_or_default();
            let campaign = context.and_then(|c| c.campaign.as_ref());
            record.origin = Some(origin(page, search, campaign, strings));
        }
        if let Some(agent) = context.and_then(|c| c.user_agent.as_deref()) {
            record.agent = Some(self.agent(agent, strings));
        }
        record.country = strings.intern(payload.country.as_deref().unwrap_or("(unknown)"));
        if let Some(signals) = &payload.privacy_signals {
            record.gpc = signals.gpc;
            record.dnt = signals.dnt;
        }
        if let Some(consent) = context.and_then(|c| c.consent.as_ref()) {
            record.consent = Some(consent.states(strings));
        }
        match record.kind {
            Kind::Track => {
                if let Some(properties) = properties {
                    record.properties = properties.scalars(strings);
                }
            }
            Kind::Consent => {
                record.choice = Some(choice(
                    context.and_then(|c| c.consent.as_ref()),
                    properties.as_ref(),
                    record.gpc,
                    strings,
                ));
            }
            _ => {}
        }
    }

    fn agent(&mut self, user_agent: &str, strings: &mut Strings) -> Agent {
        if let Some(agent) = self.agents.get(user_agent) {
            return *agent;
        }
        let parsed = woothee::parser::Parser::new().parse(user_agent);
        let (browser, os, device) = match &parsed {
            Some(r) => {
                let device = match r.category {
                    "pc" => "Desktop",
                    "smartphone" if r.os == "iPad" || user_agent.contains("Tablet") => "Tablet",
                    "smartphone" | "mobilephone" => "Mobile",
                    "crawler" => "Bot",
                    _ => "Other",
                };
                (named(r.name), named(r.os), device)
            }
            None => ("(unknown)", "(unknown)", "Other"),
        };
        let agent = Agent {
            browser: strings.intern(browser),
            os: strings.intern(os),
            device: strings.intern(device),
        };
        self.agents.insert(user_agent.to_string(), agent);
        agent
    }
}

fn named(name: &str) -> &str {
    if name.is_empty() || name == "UNKNOWN" {
        "(unknown)"
    } else {
        name
    }
}

fn origin(page: &Page, search: &str, campaign: Option<&Campaign>, strings: &mut Strings) -> Origin {
    let mut utm: [Option<Cow<str>>; 3] = [None, None, None];
    for (key, value) in form_urlencoded::parse(search.trim_start_matches('?').as_bytes()) {
        let slot = match key.as_ref() {
            "utm_source" => 0,
            "utm_medium" => 1,
            "utm_campaign" => 2,
            _ => continue,
        };
        if !value.is_empty() {
            utm[slot] = Some(value);
        }
    }
    if let Some(c) = campaign {
        for (slot, value) in [&c.source, &c.medium, &c.name].into_iter().enumerate() {
            if utm[slot].is_none() {
                utm[slot] = value.clone();
            }
        }
    }
    let own_host = page.url.as_deref().and_then(sources::host);
    let referrer = page
        .referrer
        .as_deref()
        .filter(|r| !r.is_empty())
        .filter(|r| sources::host(r) != own_host || own_host.is_none());
    let source = match (&utm[0], referrer) {
        (Some(s), _) => sources::known(s).unwrap_or(s).to_string(),
        (None, Some(r)) => sources::name(r),
        (None, None) => "Direct / none".to_string(),
    };
    let value = |v: &Option<Cow<str>>| clip(v.as_deref().unwrap_or("(none)"));
    Origin {
        referrer: strings.intern(
            &referrer
                .map(sources::page)
                .unwrap_or_else(|| "(none)".into()),
        ),
        source: strings.intern(&clip(&source)),
        utm: [
            strings.intern(&value(&utm[0])),
            strings.intern(&value(&utm[1])),
            strings.intern(&value(&utm[2])),
        ],
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_VALUE_CHARS).collect()
}

fn choice(
    consent: Option<&ConsentSnapshot>,
    properties: Option<&Properties>,
    gpc: bool,
    strings: &mut Strings,
) -> Choice {
    let flag = |name: &str| {
        properties
            .and_then(|p| p.0.get(name))
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let states: Vec<(Sym, u8)> = consent
        .map(|c| c.states(strings))
        .unwrap_or_default()
        .into_iter()
        .filter(|(c, s)| strings.get(*c) != "necessary" && (*s == GRANTED || *s == DENIED))
        .collect();
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "(none)".to_string(),
        Some(other) => other.to_string(),
    };
    let source = text(consent.and_then(|c| c.source.as_ref()));
    let revision = text(consent.and_then(|c| c.revision.as_ref()));
    let granted = |c: &(Sym, u8)| c.1 == GRANTED;
    // Under GPC the banner records `marketing: denied` with Accept all: still an acceptance.
    let forced = |c: &(Sym, u8)| gpc && strings.get(c.0) == "marketing";
    let outcome = if flag("optOut") {
        Outcome::OptOut
    } else if flag("optIn") {
        Outcome::OptIn
    } else if !states.is_empty() && states.iter().all(|c| granted(c) || forced(c)) {
        Outcome::AcceptAll
    } else if !states.is_empty() && states.iter().all(|c| !granted(c)) {
        Outcome::RejectAll
    } else {
        Outcome::Custom
    };
    Choice {
        outcome,
        source: strings.intern(&clip(&source)),
        revision: strings.intern(&clip(&revision)),
        states,
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(borrow)]
    properties: Option<&'a RawValue>,
    #[serde(borrow)]
    context: Option<Context<'a>>,
    #[serde(borrow)]
    country: Option<Cow<'a, str>>,
    privacy_signals: Option<PrivacySignals>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Context<'a> {
    #[serde(borrow)]
    page: Option<Page<'a>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
    consent: Option<ConsentSnapshot>,
    #[serde(borrow)]
    campaign: Option<Campaign<'a>>,
}

#[derive(Deserialize, Default)]
struct Page<'a> {
    #[serde(borrow)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    referrer: Option<Cow<'a, str>>,
    #[serde(borrow)]
    search: Option<Cow<'a, str>>,
    #[serde(borrow)]
    url: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct Campaign<'a> {
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    medium: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct PrivacySignals {
    #[serde(default)]
    gpc: bool,
    #[serde(default)]
    dnt: bool,
}

#[derive(Deserialize, Default)]
struct ConsentSnapshot {
    state: Option<serde_json::Map<String, serde_json::Value>>,
    decided: Option<bool>,
    revision: Option<serde_json::Value>,
    source: Option<serde_json::Value>,
}

impl ConsentSnapshot {
    fn states(&self, strings: &mut Strings) -> Vec<(Sym, u8)> {
        let Some(state) = &self.state else {
            return Vec::new();
        };
        state
            .iter()
            .map(|(category, value)| {
                let state = match (self.decided, value.as_str()) {
                    (Some(false), _) => NOT_ANSWERED,
                    (_, Some("granted")) => GRANTED,
                    (_, Some("denied")) => DENIED,
                    _ => NOT_ANSWERED,
                };
                (strings.intern(&clip(category)), state)
            })
            .collect()
    }
}

#[derive(Deserialize)]
struct Properties(serde_json::Map<String, serde_json::Value>);

impl Properties {
    fn path(&self) -> Option<&str> {
        self.0.get("path").and_then(|v| v.as_str())
    }

    /// Scalar properties as text (objects and arrays are not counted).
    fn scalars(&self, strings: &mut Strings) -> Vec<(Sym, Sym)> {
        self.0
            .iter()
            .filter_map(|(key, value)| {
                let text = match value {
                    serde_json::Value::String(s) => clip(s),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((strings.intern(&clip(key)), strings.intern(&text)))
            })
            .take(MAX_PROPERTIES)
            .collect()
    }
}

//! The server's own consent policy: what may be stored of an event, whoever sent it.
//!
//! The collector never trusts the browser alone. A tracker may be misconfigured, old, or not
//! ours; so every event is held against its own consent snapshot, the request's privacy
//! signals and the project's rules before anything is stored. [`apply`] is a pure function of
//! those three, and every change it makes is returned as an [`Action`] with its reason, so
//! each decision can be counted and tested. `spec/policy-vectors.json` pins the rules as data.

mod click_ids;
mod consent;
mod replay;
mod strip;

use serde::Deserialize;

pub use consent::{CategoryState, ConsentSnapshot};
pub use replay::replay;

use crate::{Event, EventType, IpPolicy};

/// How a missing or pending choice counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentMode {
    /// The EU model: nothing is granted until the visitor says so.
    #[default]
    OptIn,
    /// The US model: granted until the visitor refuses.
    OptOut,
}

/// What `Sec-GPC: 1` (Global Privacy Control) means for a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GpcRule {
    /// CCPA's reading: a refusal of sale and sharing, i.e. of `marketing`.
    #[default]
    DenyMarketing,
    /// A refusal of everything: events are not stored at all (consent events are, stripped).
    OptOut,
}

/// What `DNT: 1` means for a project. Browsers send it by default in some configurations, so
/// it is ignored unless the project decides otherwise (as analytics.js and Snowplow do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DntRule {
    #[default]
    Ignore,
    /// Treated as `analytics` not granted: events are kept without identifiers.
    DenyAnalytics,
    /// Treated as an opt-out: events are not stored.
    OptOut,
}

/// The CNIL's exemption from consent for audience measurement, as a preset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CnilExempt {
    /// `track` events kept besides page and screen views.
    pub allowed_events: Vec<String>,
}

/// A project's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: ConsentMode,
    /// Categories that must all be allowed for identifiers, traits and the IP to be kept.
    pub required: Vec<String>,
    pub ip: IpPolicy,
    pub gpc: GpcRule,
    pub dnt: DntRule,
    pub cnil_exempt: Option<CnilExempt>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: ConsentMode::default(),
            required: vec!["analytics".to_string()],
            ip: IpPolicy::default(),
            gpc: GpcRule::default(),
            dnt: DntRule::default(),
            cnil_exempt: None,
        }
    }
}

/// What the request says about privacy, from its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signals {
    /// `X-Assent-Anonymous` or Snowplow's `SP-Anonymous`.
    pub anonymous: bool,
    /// `Sec-GPC: 1`.
    pub gpc: bool,
    /// `DNT: 1`.
    pub dnt: bool,
}

impl Signals {
    /// Reads the signals from request headers; `header` looks a header up by lower-case name.
    ///
    /// ```
    /// use assent_core::policy::Signals;
    /// let s = Signals::from_headers(|name| (name == "sec-gpc").then_some("1"));
    /// assert!(s.gpc && !s.dnt && !s.anonymous);
    /// ```
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Signals {
        let on = |name| {
            header(name).is_some_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"))
        };
        Signals {
            anonymous: header("x-assent-anonymous").is_some() || header("sp-anonymous").is_some(),
            gpc: on("sec-gpc"),
            dnt: on("dnt"),
        }
    }
}

/// Why the policy acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A category in [`Policy::required`] (by default `analytics`) is not allowed.
    ConsentNotGranted,
    MarketingNotGranted,
    GlobalPrivacyControl,
    DoNotTrack,
    AnonymousRequest,
    CnilExempt,
    /// A session replay without an explicit `replay` grant.
    ReplayNotGranted,
}

impl Reason {
    pub fn label(self) -> &'static str {
        match self {
            Reason::ConsentNotGranted => "consent_not_granted",
            Reason::MarketingNotGranted => "marketing_not_granted",
            Reason::GlobalPrivacyControl => "global_privacy_control",
            Reason::DoNotTrack => "do_not_track",
            Reason::AnonymousRequest => "anonymous_request",
            Reason::CnilExempt => "cnil_exempt",
            Reason::ReplayNotGranted => "replay_not_granted",
        }
    }
}

/// One thing the policy did to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The event is not stored.
    Drop(Reason),
    /// User-level identifiers and traits were removed.
    StripIdentifiers(Reason),
    /// Ad click ids and cross-domain ids were removed from URLs.
    StripClickIds(Reason),
    /// The client's address is not stored.
    DropIp(Reason),
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Drop(_) => "drop",
            Action::StripIdentifiers(_) => "strip_identifiers",
            Action::StripClickIds(_) => "strip_click_ids",
            Action::DropIp(_) => "drop_ip",
        }
    }

    pub fn reason(self) -> Reason {
        match self {
            Action::Drop(r)
            | Action::StripIdentifiers(r)
            | Action::StripClickIds(r)
            | Action::DropIp(r) => r,
        }
    }
}

/// The policy's verdict on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What may be kept of the client's address (`Drop` when nothing).
    pub ip: IpPolicy,
    pub actions: Vec<Action>,
}

impl Verdict {
    pub fn dropped(&self) -> bool {
        self.actions.iter().any(|a| matches!(a, Action::Drop(_)))
    }
}

/// Holds one event against its consent snapshot, the request's signals and the project's
/// policy, changing it in place. A dropped event must not be stored (see [`Verdict::dropped`]).
///
/// ```
/// use assent_core::policy::{self, Policy, Signals};
/// use assent_core::{decode, Limits};
///
/// // No consent snapshot, and the default opt-in mode: nothing that identifies may be kept.
/// let body = br#"{"batch":[{"type":"track","event":"Viewed","userId":"u1","traits":{"a":1}}]}"#;
/// let mut event = decode::batch(body, &Limits::default()).unwrap().events.remove(0).unwrap();
/// let verdict = policy::apply(&mut event, &Signals::default(), &Policy::default());
/// assert!(!verdict.dropped());
/// assert!(event.user_id.is_none() && event.traits.is_none());
/// assert_eq!(verdict.ip, assent_core::IpPolicy::Drop);
/// ```
pub fn apply(event: &mut Event, signals: &Signals, policy: &Policy) -> Verdict {
    let consent = ConsentSnapshot::of(event);
    let mut actions = Vec::new();
    let is_consent = event.kind == EventType::Consent;

    // Refusals of everything: the event goes, but the proof of the choice stays.
    let opt_out = if signals.gpc && policy.gpc == GpcRule::OptOut {
        Some(Reason::GlobalPrivacyControl)
    } else if signals.dnt && policy.dnt == DntRule::OptOut {
        Some(Reason::DoNotTrack)
    } else {
        None
    };
    if let (Some(reason), false) = (opt_out, is_consent) {
        return dropped(reason);
    }
    if let Some(preset) = &policy.cnil_exempt {
        let measured = match event.kind {
            EventType::Page | EventType::Screen | EventType::Consent => true,
            EventType::Track => event
                .event
                .as_ref()
                .is_some_and(|e| preset.allowed_events.contains(e)),
            _ => false,
        };
        if !measured {
            return dropped(Reason::CnilExempt);
        }
    }

    let analytics_refusal = if let Some(reason) = opt_out {
        Some(reason)
    } else if policy.cnil_exempt.is_some() {
        Some(Reason::CnilExempt)
    } else if signals.dnt && policy.dnt == DntRule::DenyAnalytics {
        Some(Reason::DoNotTrack)
    } else if !policy
        .required
        .iter()
        .all(|c| consent.allows(c, policy.mode))
    {
        Some(Reason::ConsentNotGranted)
    } else {
        None
    };
    if let Some(reason) = analytics_refusal {
        // An identify, group or alias is nothing but the link it records.
        if matches!(
            event.kind,
            EventType::Identify | EventType::Group | EventType::Alias
        ) {
            return dropped(reason);
        }
        if strip::identifiers(event) {
            actions.push(Action::StripIdentifiers(reason));
        }
    }

    let marketing_refusal = if policy.cnil_exempt.is_some() {
        Some(Reason::CnilExempt)
    } else if signals.gpc {
        Some(Reason::GlobalPrivacyControl)
    } else if !consent.allows("marketing", policy.mode) {
        Some(Reason::MarketingNotGranted)
    } else {
        None
    };
    if let Some(reason) = marketing_refusal {
        if click_ids::strip(event) {
            actions.push(Action::StripClickIds(reason));
        }
    }

    let ip_refusal = if signals.anonymous {
        Some(Reason::AnonymousRequest)
    } else if policy.cnil_exempt.is_some() {
        Some(Reason::CnilExempt)
    } else {
        analytics_refusal
    };
    let ip = match ip_refusal {
        Some(reason) => {
            actions.push(Action::DropIp(reason));
            IpPolicy::Drop
        }
        None => policy.ip,
    };
    Verdict { ip, actions }
}

fn dropped(reason: Reason) -> Verdict {
    Verdict {
        ip: IpPolicy::Drop,
        actions: vec![Action::Drop(reason)],
    }
}

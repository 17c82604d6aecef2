//! The consent rules, applied in the process before an event is queued.
//!
//! The same rules as the browser tracker's and the collector's: without the required
//! categories (by default `analytics`) identifiers and traits are removed, or the event is
//! not sent; an opted-out visitor sends only consent events, stripped to the consent id;
//! without `marketing`, ad click ids leave the URLs; Global Privacy Control, Do-Not-Track and
//! the CNIL exemption preset work as the project configures them at the collector.
//! `spec/policy-vectors.json` pins the agreement with the collector.

mod click_ids;
#[cfg(test)]
mod vectors;

use std::time::Duration;

use crate::consent::{CategoryState, Consent, ConsentMode, Revision};
use crate::event::{AnonymousLevel, Event, EventType};

/// What to send while the required categories are not granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fallback {
    /// Send the event without any identifier, and ask the collector to keep no address
    /// (the `server` anonymous level). `identify`, `group` and `alias` are not sent.
    #[default]
    Anonymous,
    /// Send nothing (consent events excepted: they are the record of the choice).
    Drop,
}

/// What a visitor's Global Privacy Control signal means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpcRule {
    /// CCPA's reading: a refusal of sale and sharing, i.e. of `marketing`.
    #[default]
    DenyMarketing,
    /// A refusal of everything: only consent events are sent, stripped.
    OptOut,
}

/// What a visitor's Do-Not-Track signal means. Ignored by default, as analytics.js and
/// Snowplow do: browsers send it by default in some configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DntRule {
    /// The signal changes nothing.
    #[default]
    Ignore,
    /// Treated as `analytics` not granted.
    DenyAnalytics,
    /// Treated as an opt-out.
    OptOut,
}

/// How long a recorded choice stays valid before the visitor must be asked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// A choice that grants any category (default 395 days, about 13 months).
    pub granted: Duration,
    /// A choice that grants nothing (default 182 days, about 6 months).
    pub denied: Duration,
}

impl Default for Expiry {
    fn default() -> Self {
        const DAY: u64 = 86_400;
        Expiry {
            granted: Duration::from_secs(395 * DAY),
            denied: Duration::from_secs(182 * DAY),
        }
    }
}

/// The project's consent settings: the same values as the browser tracker's `consent`
/// options and the collector's project policy.
///
/// ```
/// use assent_sdk::{ConsentMode, ConsentPolicy, Fallback};
/// let policy = ConsentPolicy {
///     mode: ConsentMode::OptOut,
///     on_deny: Fallback::Drop,
///     ..ConsentPolicy::default()
/// };
/// assert_eq!(policy.required, ["analytics"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPolicy {
    /// How a pending choice counts (default opt-in).
    pub mode: ConsentMode,
    /// Categories that must all be allowed for identifiers and traits to be sent.
    pub required: Vec<String>,
    /// What to send while a required category is pending.
    pub while_pending: Fallback,
    /// What to send once a required category is denied.
    pub on_deny: Fallback,
    /// What Global Privacy Control means (default: a denial of `marketing`).
    pub gpc: GpcRule,
    /// What Do-Not-Track means (default: nothing).
    pub dnt: DntRule,
    /// The CNIL's exemption for audience measurement: page and screen views, consent events
    /// and these `track` events only, never with an identifier.
    pub cnil_exempt: Option<Vec<String>>,
    /// The revision of the site's consent policy; a choice made under another one is void.
    pub revision: Revision,
    /// How long a recorded choice lasts.
    pub expiry: Expiry,
}

impl Default for ConsentPolicy {
    fn default() -> Self {
        ConsentPolicy {
            mode: ConsentMode::OptIn,
            required: vec!["analytics".to_string()],
            while_pending: Fallback::Anonymous,
            on_deny: Fallback::Anonymous,
            gpc: GpcRule::DenyMarketing,
            dnt: DntRule::Ignore,
            cnil_exempt: None,
            revision: Revision::default(),
            expiry: Expiry::default(),
        }
    }
}

impl ConsentPolicy {
    /// Whether `consent` allows identifiers under this policy, signals aside.
    pub(crate) fn allows_identifiers(&self, consent: &Consent) -> bool {
        self.required.iter().all(|c| consent.allows(c, self.mode))
    }
}

/// Why the policy changed or withheld an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No [`Consent`] was given, or a required category is not allowed.
    ConsentNotGranted,
    /// `marketing` is not allowed.
    MarketingNotGranted,
    /// The visitor's browser sent Global Privacy Control.
    GlobalPrivacyControl,
    /// The visitor's browser sent Do-Not-Track.
    DoNotTrack,
    /// The project uses the CNIL exemption preset.
    CnilExempt,
    /// The visitor opted out.
    OptedOut,
    /// The call asked for an anonymous level.
    AnonymousLevel,
}

impl Reason {
    /// The collector's label for the same reason (`consent_not_granted`, …).
    pub fn label(self) -> &'static str {
        match self {
            Reason::ConsentNotGranted => "consent_not_granted",
            Reason::MarketingNotGranted => "marketing_not_granted",
            Reason::GlobalPrivacyControl => "global_privacy_control",
            Reason::DoNotTrack => "do_not_track",
            Reason::CnilExempt => "cnil_exempt",
            Reason::OptedOut => "opted_out",
            Reason::AnonymousLevel => "anonymous_level",
        }
    }
}

/// What the policy did to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    /// The event is not sent.
    pub withheld: Option<Reason>,
    /// Identifiers and traits were removed.
    pub identifiers_removed: Option<Reason>,
    /// Ad click ids and cross-domain ids were removed from URLs.
    pub click_ids_removed: Option<Reason>,
}

impl Verdict {
    fn withheld(reason: Reason) -> Verdict {
        Verdict {
            withheld: Some(reason),
            ..Verdict::default()
        }
    }
}

/// Holds one event against the visitor's consent and the project's policy, changing it in
/// place: what may not be sent is removed, and the event's anonymity level says how it goes.
pub(crate) fn apply(event: &mut Event, policy: &ConsentPolicy) -> Verdict {
    // Taken out while the event changes, put back before any return.
    let consent = event.consent.take();
    let verdict = judge(event, consent.as_ref(), policy);
    event.consent = consent;
    verdict
}

fn judge(event: &mut Event, consent: Option<&Consent>, policy: &ConsentPolicy) -> Verdict {
    let signals = consent.map(Consent::get_signals).unwrap_or_default();
    let is_consent = event.kind == EventType::Consent;

    // Refusals of everything: the event goes, but the proof of the choice stays.
    let opt_out = if consent.is_some_and(Consent::is_opted_out) {
        Some(Reason::OptedOut)
    } else if signals.gpc && policy.gpc == GpcRule::OptOut {
        Some(Reason::GlobalPrivacyControl)
    } else if signals.dnt && policy.dnt == DntRule::OptOut {
        Some(Reason::DoNotTrack)
    } else {
        None
    };
    if let (Some(reason), false) = (opt_out, is_consent) {
        return Verdict::withheld(reason);
    }
    if let Some(allowed) = &policy.cnil_exempt {
        let measured = match event.kind {
            EventType::Page | EventType::Screen | EventType::Consent => true,
            EventType::Track => event.event.as_ref().is_some_and(|e| allowed.contains(e)),
            _ => false,
        };
        if !measured {
            return Verdict::withheld(Reason::CnilExempt);
        }
    }

    let refusal = if let Some(reason) = opt_out {
        Some(reason)
    } else if policy.cnil_exempt.is_some() {
        Some(Reason::CnilExempt)
    } else if signals.dnt && policy.dnt == DntRule::DenyAnalytics {
        Some(Reason::DoNotTrack)
    } else if !consent.is_some_and(|c| policy.allows_identifiers(c)) {
        Some(Reason::ConsentNotGranted)
    } else {
        None
    };
    let mut verdict = Verdict::default();
    let level = match (refusal, event.anonymous) {
        (None, None) => None,
        (None, Some(level)) => {
            if event.kind.is_about_identity() {
                return Verdict::withheld(Reason::AnonymousLevel);
            }
            strip(event, consent, level, Reason::AnonymousLevel, &mut verdict);
            Some(level)
        }
        (Some(reason), _) => {
            // An identify, group or alias is nothing but the link it records.
            if event.kind.is_about_identity() {
                return Verdict::withheld(reason);
            }
            if reason == Reason::ConsentNotGranted
                && !is_consent
                && fallback(consent, policy) == Fallback::Drop
            {
                return Verdict::withheld(reason);
            }
            strip(event, consent, AnonymousLevel::Server, reason, &mut verdict);
            Some(AnonymousLevel::Server)
        }
    };
    event.anonymous = level;

    let marketing_refusal = if policy.cnil_exempt.is_some() {
        Some(Reason::CnilExempt)
    } else if signals.gpc {
        Some(Reason::GlobalPrivacyControl)
    } else if !consent.is_some_and(|c| c.allows("marketing", policy.mode)) {
        Some(Reason::MarketingNotGranted)
    } else {
        None
    };
    if let Some(reason) = marketing_refusal {
        if click_ids::strip(event) {
            verdict.click_ids_removed = Some(reason);
        }
    }
    verdict
}

fn strip(
    event: &mut Event,
    consent: Option<&Consent>,
    level: AnonymousLevel,
    reason: Reason,
    verdict: &mut Verdict,
) {
    let consent_id = consent.and_then(Consent::consent_id).is_some();
    if event.strip_identifiers(level == AnonymousLevel::Session, consent_id) {
        verdict.identifiers_removed = Some(reason);
    }
}

/// `while_pending` or `on_deny`, by the state of the required categories.
fn fallback(consent: Option<&Consent>, policy: &ConsentPolicy) -> Fallback {
    let denied = consent.is_some_and(|c| {
        policy
            .required
            .iter()
            .any(|category| c.state(category) == CategoryState::Denied)
    });
    if denied {
        policy.on_deny
    } else {
        policy.while_pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::Signals;

    fn track(consent: Option<Consent>) -> Event {
        let mut e = Event::new(EventType::Track);
        e.event = Some("Order Completed".into());
        e.user_id = Some("u1".into());
        e.anonymous_id = Some("a1".into());
        e.consent = consent;
        e
    }

    #[test]
    fn without_a_consent_value_nothing_identified_is_sent_even_under_opt_out() {
        let policy = ConsentPolicy {
            mode: ConsentMode::OptOut,
            ..ConsentPolicy::default()
        };
        let mut e = track(None);
        let verdict = apply(&mut e, &policy);
        assert_eq!(verdict.identifiers_removed, Some(Reason::ConsentNotGranted));
        assert_eq!(
            (e.user_id, e.anonymous),
            (None, Some(AnonymousLevel::Server))
        );

        let mut e = track(Some(Consent::new()));
        assert_eq!(apply(&mut e, &policy), Verdict::default());
        assert_eq!(
            e.user_id.as_deref(),
            Some("u1"),
            "undecided counts as yes under opt-out"
        );
    }

    #[test]
    fn an_opted_out_visitor_sends_only_their_consent_event_stripped_to_the_consent_id() {
        let consent = Consent::new().id("c1").opted_out(true);
        let mut e = track(Some(consent.clone()));
        assert_eq!(
            apply(&mut e, &ConsentPolicy::default()).withheld,
            Some(Reason::OptedOut)
        );

        let mut e = track(Some(consent));
        e.kind = EventType::Consent;
        let verdict = apply(&mut e, &ConsentPolicy::default());
        assert_eq!(verdict.withheld, None);
        assert_eq!(verdict.identifiers_removed, Some(Reason::OptedOut));
        assert_eq!(e.anonymous, Some(AnonymousLevel::Server));
        let wire: serde_json::Value =
            serde_json::from_slice(&e.to_json(ConsentMode::OptIn).unwrap()).unwrap();
        assert_eq!(wire["context"]["consent"]["id"], "c1");
        assert!(wire.get("userId").is_none() && wire.get("anonymousId").is_none());
    }

    #[test]
    fn the_fallbacks_decide_between_anonymous_and_nothing() {
        let policy = ConsentPolicy {
            while_pending: Fallback::Anonymous,
            on_deny: Fallback::Drop,
            ..ConsentPolicy::default()
        };
        let mut pending = track(Some(Consent::new()));
        assert_eq!(apply(&mut pending, &policy).withheld, None);
        assert_eq!(pending.anonymous, Some(AnonymousLevel::Server));
        let mut denied = track(Some(Consent::new().deny("analytics")));
        assert_eq!(
            apply(&mut denied, &policy).withheld,
            Some(Reason::ConsentNotGranted)
        );
        let mut consent_event = track(Some(Consent::new().id("c").deny("analytics")));
        consent_event.kind = EventType::Consent;
        assert_eq!(
            apply(&mut consent_event, &policy).withheld,
            None,
            "the proof goes"
        );
    }

    #[test]
    fn an_anonymous_level_asked_by_the_call_keeps_what_the_level_allows() {
        let consent = Consent::new().grant("analytics");
        let mut e = track(Some(consent.clone()));
        e.session_id = Some(1_764_000_000_000);
        e.anonymous = Some(AnonymousLevel::Session);
        let verdict = apply(&mut e, &ConsentPolicy::default());
        assert_eq!(verdict.identifiers_removed, Some(Reason::AnonymousLevel));
        assert_eq!((e.user_id, e.session_id), (None, Some(1_764_000_000_000)));

        let mut identify = Event::new(EventType::Identify);
        identify.user_id = Some("u1".into());
        identify.consent = Some(consent);
        identify.anonymous = Some(AnonymousLevel::Full);
        assert_eq!(
            apply(&mut identify, &ConsentPolicy::default()).withheld,
            Some(Reason::AnonymousLevel)
        );
    }

    #[test]
    fn gpc_denies_click_ids_even_with_marketing_granted() {
        let consent = Consent::new()
            .grant("analytics")
            .grant("marketing")
            .signals(Signals {
                gpc: true,
                dnt: false,
            });
        let mut e = track(Some(consent));
        e.properties = serde_json::json!({"url": "https://s.example/?gclid=1&a=2"})
            .as_object()
            .cloned();
        let verdict = apply(&mut e, &ConsentPolicy::default());
        assert_eq!(
            verdict.click_ids_removed,
            Some(Reason::GlobalPrivacyControl)
        );
        assert_eq!(e.properties.unwrap()["url"], "https://s.example/?a=2");
        assert_eq!(e.user_id.as_deref(), Some("u1"));
    }
}

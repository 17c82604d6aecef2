//! The visitor of a request: their consent and ids, as the browser tracker stored them.

use crate::consent::{CategoryState, Consent, Revision, Signals};
use crate::policy::{ConsentPolicy, DntRule, GpcRule};
use crate::tracker_cookies::{self, StoredConsent};

/// The tracker's built-in categories besides `necessary`.
const CATEGORIES: &[&str] = &["analytics", "functional", "marketing", "replay"];

/// The visitor's browser session, as the tracker keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The session's start, in ms since 1970: the `sessionId` its events carry.
    pub id: i64,
    /// The visitor's last event, in ms.
    pub last: i64,
    /// Events the device has sent.
    pub seq: i64,
}

/// Who made a request, as far as their consent lets anyone know: their consent always,
/// their ids only when the consent allows them (as in the tracker, which never reads ids it
/// may not use).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Visitor {
    /// Their consent, with their request's privacy signals.
    pub consent: Consent,
    /// The tracker's anonymousId for their device.
    pub anonymous_id: Option<String>,
    /// The userId the tracker was given (`identify`).
    pub user_id: Option<String>,
    /// The groupId the tracker was given (`group`).
    pub group_id: Option<String>,
    /// Their browser session.
    pub session: Option<Session>,
}

/// Reads visitors from their requests: the cookies the browser tracker wrote for one write
/// key, and the privacy signals of the request.
///
/// ```
/// use assent_sdk::{ConsentMode, ConsentPolicy, Signals, VisitorReader};
///
/// let reader = VisitorReader::new("pk_demo", ConsentPolicy::default());
/// let cookie = "ast_pk_demo_consent=%7B%22id%22%3A%22c-1%22%2C%22state%22%3A%7B%22analytics%22%3A%22granted%22%7D%2C%22revision%22%3A1%2C%22source%22%3A%22banner%22%2C%22timestamp%22%3A1764500000000%7D; ast_pk_demo_aid=a-1";
/// let at = "2026-11-30T12:00:00Z".parse().unwrap();
/// let visitor = reader.read_at(cookie, Signals::default(), at);
/// assert!(visitor.consent.allows("analytics", ConsentMode::OptIn));
/// assert_eq!(visitor.consent.consent_id(), Some("c-1"));
/// assert_eq!(visitor.anonymous_id.as_deref(), Some("a-1"));
/// ```
#[derive(Debug, Clone)]
pub struct VisitorReader {
    prefix: String,
    policy: ConsentPolicy,
}

impl VisitorReader {
    /// For the tracker configured with `write_key`, under the project's consent `policy`
    /// (its mode, revision and expiry decide what a stored choice is still worth).
    pub fn new(write_key: &str, policy: ConsentPolicy) -> VisitorReader {
        VisitorReader {
            prefix: tracker_cookies::prefix(write_key),
            policy,
        }
    }

    /// The visitor of a request with this `Cookie` header and these signals, now.
    pub fn read(&self, cookie_header: &str, signals: Signals) -> Visitor {
        self.read_at(cookie_header, signals, jiff::Timestamp::now())
    }

    /// The visitor as the tracker would see them at `now`: a choice made under another
    /// policy revision or expired counts as not made; an opted-out visitor has every category
    /// denied; Global Privacy Control denies `marketing`, even over an earlier grant (the rule
    /// the tracker and the collector share, `gpc` in `spec/policy-vectors.json`).
    pub fn read_at(&self, cookie_header: &str, signals: Signals, now: jiff::Timestamp) -> Visitor {
        let policy = &self.policy;
        let stored = tracker_cookies::read(cookie_header, &self.prefix);
        let mut consent = Consent::new().signals(signals);
        let opted_out = stored.opt_out.is_some();
        if let Some(id) = &stored.opt_out {
            consent = consent.id(id.as_str());
        }
        if let Some(record) = &stored.consent {
            consent = consent.id(record.id.as_str());
            if self.still_valid(record, now.as_millisecond()) {
                for (category, state) in &record.states {
                    consent = consent.set(category.as_str(), *state);
                }
                if let Some(source) = &record.source {
                    consent = consent.source(source.as_str());
                }
                if let Some(at) = record.timestamp_ms {
                    consent = consent.decided_at(at);
                }
            }
        }
        let signal_opt_out = (signals.gpc && policy.gpc == GpcRule::OptOut)
            || (signals.dnt && policy.dnt == DntRule::OptOut);
        if signals.gpc && policy.gpc == GpcRule::DenyMarketing {
            consent = consent.force_deny("marketing", policy.mode, "gpc", now.as_millisecond());
        }
        if opted_out || signal_opt_out {
            consent = deny_all(consent, &policy.required)
                .source(if opted_out { "api" } else { "signal" })
                .decided_at(now.as_millisecond())
                .opted_out(opted_out);
        }
        let dnt_refuses = signals.dnt && policy.dnt == DntRule::DenyAnalytics;
        let refused = opted_out || signal_opt_out || dnt_refuses;
        if refused || !policy.allows_identifiers(&consent) {
            return Visitor {
                consent,
                ..Visitor::default()
            };
        }
        Visitor {
            consent,
            anonymous_id: stored.anonymous_id,
            user_id: stored.user_id,
            group_id: stored.group_id,
            session: stored.session.map(|s| Session {
                id: s.id,
                last: s.last,
                seq: s.seq,
            }),
        }
    }

    /// Same revision, not expired. A record without a time is treated as expired: the
    /// tracker always writes one, so its absence means the cookie was not the tracker's.
    fn still_valid(&self, record: &StoredConsent, now_ms: i64) -> bool {
        let same_revision = match &self.policy.revision {
            Revision::Number(n) => record.revision.as_f64() == Some(*n as f64),
            Revision::Text(s) => record.revision.as_str() == Some(s.as_str()),
        };
        let Some(decided) = record.timestamp_ms else {
            return false;
        };
        let granted_any = record
            .states
            .iter()
            .any(|(c, s)| c != "necessary" && *s == CategoryState::Granted);
        let expiry = self.policy.expiry;
        let lasts = if granted_any {
            expiry.granted
        } else {
            expiry.denied
        };
        let lasts_ms = i64::try_from(lasts.as_millis()).unwrap_or(i64::MAX);
        same_revision && now_ms < decided.saturating_add(lasts_ms)
    }

    /// The visitor of a request, from its `Cookie` headers and its `Sec-GPC` and `DNT`.
    #[cfg(feature = "tower")]
    pub fn read_headers(&self, headers: &http::HeaderMap) -> Visitor {
        let cookies: Vec<&str> = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let signals = Signals::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()));
        self.read(&cookies.join("; "), signals)
    }
}

/// What opting out means: every category denied, `necessary` aside.
fn deny_all(consent: Consent, required: &[String]) -> Consent {
    let recorded: Vec<String> = consent.states().map(|(c, _)| c.to_string()).collect();
    let all = CATEGORIES
        .iter()
        .map(|c| c.to_string())
        .chain(recorded)
        .chain(required.iter().cloned());
    all.fold(consent, |consent, category| consent.deny(category))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentMode;

    const AT: &str = "2026-11-30T12:00:00Z";

    fn record(json: &str) -> String {
        format!(
            "ast_pk_consent={}; ast_pk_aid=a-1; ast_pk_uid=u-1",
            percent_encoding::utf8_percent_encode(json, percent_encoding::NON_ALPHANUMERIC)
        )
    }

    fn read(policy: ConsentPolicy, header: &str, signals: Signals) -> Visitor {
        VisitorReader::new("pk", policy).read_at(header, signals, AT.parse().unwrap())
    }

    const GRANTED: &str = r#"{"id":"c1","state":{"necessary":"granted","analytics":"granted","marketing":"pending"},"revision":1,"source":"banner","timestamp":1764500000000}"#;

    #[test]
    fn a_valid_choice_gives_the_consent_and_the_ids() {
        let v = read(
            ConsentPolicy::default(),
            &record(GRANTED),
            Signals::default(),
        );
        assert_eq!(v.consent.state("analytics"), CategoryState::Granted);
        assert_eq!(v.consent.get_source(), Some("banner"));
        assert_eq!(v.consent.decided_at_ms(), Some(1_764_500_000_000));
        assert_eq!(
            (v.anonymous_id.as_deref(), v.user_id.as_deref()),
            (Some("a-1"), Some("u-1"))
        );
    }

    #[test]
    fn another_revision_or_an_expired_choice_counts_as_not_made_and_hides_the_ids() {
        let revised = ConsentPolicy {
            revision: Revision::Number(2),
            ..ConsentPolicy::default()
        };
        let v = read(revised, &record(GRANTED), Signals::default());
        assert_eq!(v.consent.state("analytics"), CategoryState::Pending);
        assert_eq!(
            v.consent.consent_id(),
            Some("c1"),
            "the id carries on, as in the tracker"
        );
        assert_eq!(v.anonymous_id, None);

        let old = GRANTED.replace("1764500000000", "1700000000000"); // 2023: over 13 months
        let v = read(ConsentPolicy::default(), &record(&old), Signals::default());
        assert_eq!(v.consent.state("analytics"), CategoryState::Pending);
        assert_eq!(v.user_id, None);

        let text_revision = ConsentPolicy {
            revision: Revision::Text("1".into()),
            ..ConsentPolicy::default()
        };
        let v = read(text_revision, &record(GRANTED), Signals::default());
        assert_eq!(
            v.consent.state("analytics"),
            CategoryState::Pending,
            "1 is not \"1\""
        );
    }

    #[test]
    fn an_opted_out_visitor_has_everything_denied_and_no_ids() {
        let header = format!("{}; ast_pk_optout=c-out", record(GRANTED));
        let v = read(ConsentPolicy::default(), &header, Signals::default());
        assert!(v.consent.is_opted_out());
        assert_eq!(
            v.consent.consent_id(),
            Some("c1"),
            "the record's id, as the tracker restores it"
        );
        for c in CATEGORIES {
            assert_eq!(v.consent.state(c), CategoryState::Denied, "{c}");
        }
        assert_eq!(v.anonymous_id, None);
        let v = read(
            ConsentPolicy::default(),
            "ast_pk_optout=c-out",
            Signals::default(),
        );
        assert_eq!(v.consent.consent_id(), Some("c-out"));
    }

    #[test]
    fn gpc_denies_a_pending_marketing_or_opts_out_as_configured() {
        let gpc = Signals {
            gpc: true,
            dnt: false,
        };
        let v = read(ConsentPolicy::default(), &record(GRANTED), gpc);
        assert_eq!(v.consent.state("marketing"), CategoryState::Denied);
        assert!(v.consent.get_signals().gpc);
        assert_eq!(v.anonymous_id.as_deref(), Some("a-1"));

        let opt_out = ConsentPolicy {
            gpc: GpcRule::OptOut,
            ..ConsentPolicy::default()
        };
        let v = read(opt_out, &record(GRANTED), gpc);
        assert_eq!(v.consent.state("analytics"), CategoryState::Denied);
        assert_eq!(v.consent.get_source(), Some("signal"));
        assert_eq!(v.anonymous_id, None);
    }

    #[test]
    fn without_a_choice_opt_out_mode_reads_the_ids_and_opt_in_does_not() {
        let header = "ast_pk_aid=a-1";
        assert_eq!(
            read(ConsentPolicy::default(), header, Signals::default()).anonymous_id,
            None
        );
        let us = ConsentPolicy {
            mode: ConsentMode::OptOut,
            ..ConsentPolicy::default()
        };
        assert_eq!(
            read(us, header, Signals::default()).anonymous_id.as_deref(),
            Some("a-1")
        );
    }
}

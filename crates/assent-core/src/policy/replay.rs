//! Whether a session-replay chunk may be stored: the same project rules as for events, and a
//! replay-specific one on top.
//!
//! A replay shows everything a visitor did on a page, so nothing less than what would let an
//! event keep its identifiers will do, and then some: the request must not be anonymous, the
//! project must not be under the CNIL-exempt preset (audience measurement only), no GPC or DNT
//! rule of the project may refuse it, every required category must be allowed under the
//! project's mode, and `replay` itself must be explicitly granted — in opt-out mode too.

use super::{ConsentSnapshot, DntRule, GpcRule, Policy, Reason, Signals};
use crate::policy::CategoryState;

/// Refuses a replay chunk with the reason, or lets it be stored.
///
/// ```
/// use assent_core::policy::{self, ConsentSnapshot, Policy, Reason, Signals};
/// let granted = ConsentSnapshot::from_states([("analytics", "granted"), ("replay", "granted")]);
/// assert_eq!(policy::replay(&granted, &Signals::default(), &Policy::default()), Ok(()));
/// let no_replay = ConsentSnapshot::from_states([("analytics", "granted")]);
/// assert_eq!(
///     policy::replay(&no_replay, &Signals::default(), &Policy::default()),
///     Err(Reason::ReplayNotGranted)
/// );
/// ```
pub fn replay(consent: &ConsentSnapshot, signals: &Signals, policy: &Policy) -> Result<(), Reason> {
    if signals.anonymous {
        return Err(Reason::AnonymousRequest);
    }
    if policy.cnil_exempt.is_some() {
        return Err(Reason::CnilExempt);
    }
    if signals.gpc && policy.gpc == GpcRule::OptOut {
        return Err(Reason::GlobalPrivacyControl);
    }
    if signals.dnt && policy.dnt != DntRule::Ignore {
        return Err(Reason::DoNotTrack);
    }
    if !policy
        .required
        .iter()
        .all(|c| consent.allows(c, policy.mode))
    {
        return Err(Reason::ConsentNotGranted);
    }
    if consent.state("replay") != CategoryState::Granted || !consent.allows("replay", policy.mode) {
        return Err(Reason::ReplayNotGranted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{CnilExempt, ConsentMode};

    fn both() -> ConsentSnapshot {
        ConsentSnapshot::from_states([("analytics", "granted"), ("replay", "granted")])
    }

    #[test]
    fn each_project_rule_can_refuse_a_replay() {
        let signals = Signals::default();
        let cases = [
            (
                Policy {
                    cnil_exempt: Some(CnilExempt::default()),
                    ..Policy::default()
                },
                signals,
                Reason::CnilExempt,
            ),
            (
                Policy {
                    gpc: GpcRule::OptOut,
                    ..Policy::default()
                },
                Signals {
                    gpc: true,
                    ..signals
                },
                Reason::GlobalPrivacyControl,
            ),
            (
                Policy {
                    dnt: DntRule::DenyAnalytics,
                    ..Policy::default()
                },
                Signals {
                    dnt: true,
                    ..signals
                },
                Reason::DoNotTrack,
            ),
            (
                Policy {
                    required: vec!["analytics".into(), "functional".into()],
                    ..Policy::default()
                },
                signals,
                Reason::ConsentNotGranted,
            ),
            (
                Policy::default(),
                Signals {
                    anonymous: true,
                    ..signals
                },
                Reason::AnonymousRequest,
            ),
        ];
        for (policy, signals, reason) in cases {
            assert_eq!(replay(&both(), &signals, &policy), Err(reason));
        }
        // GPC under the default rule refuses sale and sharing, which a replay is not.
        let gpc = Signals {
            gpc: true,
            ..signals
        };
        assert_eq!(replay(&both(), &gpc, &Policy::default()), Ok(()));
    }

    #[test]
    fn replay_needs_an_explicit_grant_even_in_opt_out_mode() {
        let opt_out = Policy {
            mode: ConsentMode::OptOut,
            ..Policy::default()
        };
        let silent = ConsentSnapshot::from_states([]);
        assert_eq!(
            replay(&silent, &Signals::default(), &opt_out),
            Err(Reason::ReplayNotGranted)
        );
        let analytics_denied =
            ConsentSnapshot::from_states([("analytics", "denied"), ("replay", "granted")]);
        assert_eq!(
            replay(&analytics_denied, &Signals::default(), &opt_out),
            Err(Reason::ConsentNotGranted)
        );
    }
}

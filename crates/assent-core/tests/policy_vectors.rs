//! Runs `spec/policy-vectors.json`: the policy rules as data, through decode → policy → enrich,
//! and the Global Privacy Control table the tracker runs too (sdk/browser/test/gpc-rule.test.ts).

use assent_core::policy::{self, CnilExempt, ConsentMode, DntRule, GpcRule, Policy, Signals};
use assent_core::{decode, enrich, IpPolicy, Limits, Received, StoredEvent};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
    gpc: GpcTable,
}

#[derive(Deserialize)]
struct GpcTable {
    cases: Vec<GpcCase>,
}

/// One case of the GPC rule: the visitor's consent, the signal, and what may be kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GpcCase {
    name: String,
    rule: GpcRule,
    mode: ConsentMode,
    gpc: bool,
    state: Map<String, Value>,
    outcome: GpcOutcome,
}

#[derive(Deserialize, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct GpcOutcome {
    stored: bool,
    identifiers: bool,
    marketing: bool,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    policy: PolicyData,
    headers: Map<String, Value>,
    ip: String,
    event: Value,
    expected: Option<Map<String, Value>>,
    actions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyData {
    mode: ConsentMode,
    required: Option<Vec<String>>,
    #[serde(default)]
    ip: IpPolicy,
    #[serde(default)]
    gpc: GpcRule,
    #[serde(default)]
    dnt: DntRule,
    cnil_exempt: Option<CnilData>,
}

#[derive(Deserialize)]
struct CnilData {
    allowed_events: Vec<String>,
}

/// The stored event as the `events_json` view shows it: columns joined with the payload.
fn as_stored(e: &StoredEvent) -> Map<String, Value> {
    let mut out: Map<String, Value> = serde_json::from_str(&e.payload).unwrap();
    let name_field = if e.kind == assent_core::EventType::Track {
        "event"
    } else {
        "name"
    };
    let columns = [
        ("type", Some(json!(e.kind.as_str()))),
        ("messageId", Some(json!(e.message_id))),
        (name_field, e.name.as_ref().map(|v| json!(v))),
        ("anonymousId", e.anonymous_id.as_ref().map(|v| json!(v))),
        ("userId", e.user_id.as_ref().map(|v| json!(v))),
        ("groupId", e.group_id.as_ref().map(|v| json!(v))),
        ("sessionId", e.session_id.map(|v| json!(v))),
        ("sequence", e.sequence.map(|v| json!(v))),
        ("ip", e.ip.as_deref().map(|v| json!(v))),
    ];
    for (key, value) in columns {
        if let Some(value) = value {
            out.insert(key.to_string(), value);
        }
    }
    out
}

fn read_vectors() -> Vectors {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/policy-vectors.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_gpc_rule_shared_with_the_tracker_holds() {
    let cases = read_vectors().gpc.cases;
    assert!(cases.len() >= 8);
    for c in cases {
        // An event that carries all three things the rule decides about: an identifier, a click
        // id and a cross-domain id.
        let event = json!({"batch": [{"type": "track", "event": "Viewed", "anonymousId": "a1",
            "context": {"consent": {"id": "c1", "state": c.state},
                        "page": {"url": "https://shop.example/?gclid=G1&ast_xd=a9.1700000000&x=1"}}}]});
        let mut event = decode::batch(event.to_string().as_bytes(), &Limits::default())
            .unwrap()
            .events
            .remove(0)
            .unwrap();
        let signals = Signals::from_headers(|name| (c.gpc && name == "sec-gpc").then_some("1"));
        let policy = Policy {
            mode: c.mode,
            gpc: c.rule,
            ..Policy::default()
        };
        let verdict = policy::apply(&mut event, &signals, &policy);
        let page = event.context.as_ref().map(|c| c.get()).unwrap_or_default();
        let seen = GpcOutcome {
            stored: !verdict.dropped(),
            identifiers: !verdict.dropped() && event.anonymous_id.is_some(),
            marketing: !verdict.dropped() && page.contains("gclid=G1") && page.contains("ast_xd"),
        };
        assert_eq!(seen, c.outcome, "{}", c.name);
    }
}

#[test]
fn every_policy_vector_holds() {
    let vectors = read_vectors();
    assert!(vectors.vectors.len() >= 15);
    for v in vectors.vectors {
        let policy = Policy {
            mode: v.policy.mode,
            required: v
                .policy
                .required
                .unwrap_or_else(|| vec!["analytics".into()]),
            ip: v.policy.ip,
            gpc: v.policy.gpc,
            dnt: v.policy.dnt,
            cnil_exempt: v.policy.cnil_exempt.map(|c| CnilExempt {
                allowed_events: c.allowed_events,
            }),
        };
        let headers: Vec<(String, String)> = v
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_string()))
            .collect();
        let signals = Signals::from_headers(|name| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        });
        let body = json!({"batch": [v.event]}).to_string();
        let mut event = decode::batch(body.as_bytes(), &Limits::default())
            .unwrap()
            .events
            .remove(0)
            .unwrap();

        let verdict = policy::apply(&mut event, &signals, &policy);

        let actions: Vec<String> = verdict
            .actions
            .iter()
            .map(|a| format!("{}:{}", a.label(), a.reason().label()))
            .collect();
        assert_eq!(actions, v.actions, "{}: actions", v.name);
        match v.expected {
            None => assert!(verdict.dropped(), "{}: must not be stored", v.name),
            Some(expected) => {
                assert!(!verdict.dropped(), "{}: must be stored", v.name);
                let received = Received::now(Some(v.ip.parse().unwrap()));
                let stored = as_stored(&enrich::one(event, &received, verdict.ip));
                for (field, want) in expected {
                    let got = stored.get(&field).cloned().unwrap_or(Value::Null);
                    assert_eq!(
                        got,
                        want,
                        "{}: field {field} in {}",
                        v.name,
                        Value::Object(stored.clone())
                    );
                }
            }
        }
    }
}

//! Runs `spec/policy-vectors.json`, the collector's rules as data, through the SDK's policy.
//!
//! Each vector is an event, the request's headers and a project's policy, with what the
//! collector must store and the actions it reports. The SDK sees the same inputs from another
//! side: the headers are the visitor's signals, carried by their consent; the anonymous
//! headers are the SDK's own `server` level. What only the collector decides (the IP address
//! and its policy) becomes one check: every vector in which the collector drops the address,
//! the SDK sends as an anonymous request, which makes any collector keep none.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{apply, ConsentPolicy, DntRule, GpcRule};
use crate::consent::{CategoryState, Consent, ConsentMode, Signals};
use crate::event::{AnonymousLevel, Event, EventType};

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
    /// The Global Privacy Control rule the tracker and the collector share, as cases.
    gpc: Option<GpcTable>,
}

#[derive(Deserialize)]
struct GpcTable {
    cases: Vec<GpcCase>,
}

#[derive(Deserialize)]
struct GpcCase {
    name: String,
    rule: String,
    mode: String,
    gpc: bool,
    state: Map<String, Value>,
    outcome: GpcOutcome,
}

#[derive(Deserialize, Debug, PartialEq)]
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
    event: Map<String, Value>,
    expected: Option<Map<String, Value>>,
    actions: Vec<String>,
}

#[derive(Deserialize)]
struct PolicyData {
    mode: String,
    required: Option<Vec<String>>,
    gpc: Option<String>,
    dnt: Option<String>,
    cnil_exempt: Option<CnilData>,
}

#[derive(Deserialize)]
struct CnilData {
    allowed_events: Vec<String>,
}

fn policy(data: &PolicyData) -> ConsentPolicy {
    ConsentPolicy {
        mode: match data.mode.as_str() {
            "opt-out" => ConsentMode::OptOut,
            _ => ConsentMode::OptIn,
        },
        required: data
            .required
            .clone()
            .unwrap_or_else(|| vec!["analytics".into()]),
        gpc: match data.gpc.as_deref() {
            Some("opt-out") => GpcRule::OptOut,
            _ => GpcRule::DenyMarketing,
        },
        dnt: match data.dnt.as_deref() {
            Some("deny-analytics") => DntRule::DenyAnalytics,
            Some("opt-out") => DntRule::OptOut,
            _ => DntRule::Ignore,
        },
        cnil_exempt: data.cnil_exempt.as_ref().map(|c| c.allowed_events.clone()),
        ..ConsentPolicy::default()
    }
}

fn header(headers: &Map<String, Value>, name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str().map(str::to_string))
}

/// The vector's event as a call would have built it. A vector without a consent snapshot
/// becomes an undecided [`Consent`]: the SDK always sends one with identified events, and
/// "not decided" is what a missing snapshot means to the collector.
fn event(v: &Vector) -> Event {
    let e = &v.event;
    let text = |field: &str| e.get(field).and_then(Value::as_str).map(str::to_string);
    let object = |field: &str| e.get(field).and_then(Value::as_object).cloned();
    let kind = match e["type"].as_str() {
        Some("track") => EventType::Track,
        Some("page") => EventType::Page,
        Some("identify") => EventType::Identify,
        Some("consent") => EventType::Consent,
        other => panic!("{}: add type {other:?} to the runner", v.name),
    };
    let mut event = Event::new(kind);
    event.event = text("event");
    event.name = text("name");
    event.user_id = text("userId");
    event.anonymous_id = text("anonymousId");
    event.group_id = text("groupId");
    event.previous_id = text("previousId");
    event.session_id = e.get("sessionId").and_then(Value::as_i64);
    event.properties = object("properties");
    event.traits = object("traits");
    let mut context = object("context").unwrap_or_default();
    let snapshot = context.remove("consent");
    if let Some(level) = context.remove("anonymous") {
        event.anonymous = match level.as_str() {
            Some("full") => Some(AnonymousLevel::Full),
            Some("session") => Some(AnonymousLevel::Session),
            Some("server") => Some(AnonymousLevel::Server),
            _ => None,
        };
    }
    let on = |name| header(&v.headers, name).is_some_and(|v| v == "1");
    if header(&v.headers, "X-Assent-Anonymous").is_some()
        || header(&v.headers, "SP-Anonymous").is_some()
    {
        event.anonymous = Some(AnonymousLevel::Server);
    }
    let mut consent = Consent::new().signals(Signals {
        gpc: on("Sec-GPC"),
        dnt: on("DNT"),
    });
    if let Some(snapshot) = snapshot {
        if let Some(id) = snapshot.get("id").and_then(Value::as_str) {
            consent = consent.id(id);
        }
        for (category, state) in snapshot["state"].as_object().into_iter().flatten() {
            consent = consent.set(category.clone(), CategoryState::from_json(state));
        }
    }
    event.consent = Some(consent);
    event.context = (!context.is_empty()).then_some(context);
    event
}

/// `context.consent` as expected: the id present or absent, and the listed states.
fn check_consent(name: &str, got: &Value, want: &Value) {
    assert_eq!(got.get("id"), want.get("id"), "{name}: context.consent.id");
    for (category, state) in want["state"].as_object().into_iter().flatten() {
        assert_eq!(
            &got["state"][category], state,
            "{name}: context.consent.state.{category}"
        );
    }
}

fn check_context(name: &str, got: &Value, want: &Map<String, Value>) {
    for (key, want) in want {
        match key.as_str() {
            "consent" => check_consent(name, &got["consent"], want),
            _ => assert_eq!(&got[key], want, "{name}: context.{key}"),
        }
    }
    for key in got.as_object().into_iter().flatten().map(|(k, _)| k) {
        assert!(
            want.contains_key(key) || ["consent", "anonymous", "library"].contains(&key.as_str()),
            "{name}: context.{key} should not be there"
        );
    }
}

/// `spec/policy-vectors.json`, or the file `ASSENT_POLICY_VECTORS` names (to check the SDK
/// against vectors changed elsewhere before they are merged).
fn vectors() -> Vectors {
    let path = std::env::var("ASSENT_POLICY_VECTORS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../spec/policy-vectors.json"
        )
        .to_string()
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("the vectors parse")
}

/// Each case of the shared GPC rule, on both sides of the SDK: the policy that decides what
/// an event carries, and the reader that gives the consent of a visitor whose browser has the
/// signal and who stored `state`.
#[test]
fn the_shared_gpc_rule_holds_in_the_sdk() {
    let Some(table) = vectors().gpc else {
        // Vectors from before the shared rule was written down; the rule itself is then
        // pinned by the `Sec-GPC` vectors, which the test below runs.
        return;
    };
    assert!(!table.cases.is_empty());
    for case in table.cases {
        let policy = policy(&PolicyData {
            mode: case.mode.clone(),
            required: None,
            gpc: Some(case.rule.clone()),
            dnt: None,
            cnil_exempt: None,
        });
        let signals = Signals {
            gpc: case.gpc,
            dnt: false,
        };
        let now = jiff::Timestamp::now().as_millisecond();
        let consent = case
            .state
            .iter()
            .fold(
                Consent::new().id("c1").decided_at(now),
                |c, (category, state)| c.set(category.clone(), CategoryState::from_json(state)),
            )
            .signals(signals);
        let url = "https://shop.example/?gclid=G&x=1";
        let mut event = Event::new(EventType::Page);
        event.anonymous_id = Some("a1".into());
        event.context = serde_json::json!({"page": {"url": url}})
            .as_object()
            .cloned();
        event.consent = Some(consent);
        let verdict = apply(&mut event, &policy);
        let sent = GpcOutcome {
            stored: verdict.withheld.is_none(),
            identifiers: verdict.withheld.is_none() && event.anonymous_id.is_some(),
            marketing: verdict.withheld.is_none()
                && event.context.as_ref().unwrap()["page"]["url"] == url,
        };
        assert_eq!(sent, case.outcome, "{}: what the SDK sends", case.name);

        // The same visitor as the reader sees them from the tracker's cookie.
        let record = serde_json::json!({"v": 2, "id": "c1", "state": case.state,
            "revision": 1, "timestamp": now});
        let encoded: String = record
            .to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        let header = format!("ast_pk_consent={encoded}; ast_pk_aid=a1");
        let reader = crate::visitor::VisitorReader::new("pk", policy.clone());
        let visitor = reader.read(&header, signals);
        let read = GpcOutcome {
            stored: !(case.gpc && policy.gpc == GpcRule::OptOut),
            identifiers: visitor.anonymous_id.is_some(),
            marketing: visitor.consent.allows("marketing", policy.mode),
        };
        assert_eq!(
            read, case.outcome,
            "{}: the visitor read from cookies",
            case.name
        );
    }
}

#[test]
fn every_policy_vector_holds_in_the_sdk() {
    let vectors = vectors();
    assert!(vectors.vectors.len() >= 15);
    for v in &vectors.vectors {
        let policy = policy(&v.policy);
        let mut event = event(v);

        let verdict = apply(&mut event, &policy);

        let mut actions = Vec::new();
        if let Some(reason) = verdict.withheld {
            actions.push(format!("drop:{}", reason.label()));
        }
        if let Some(reason) = verdict.identifiers_removed {
            actions.push(format!("strip_identifiers:{}", reason.label()));
        }
        if let Some(reason) = verdict.click_ids_removed {
            actions.push(format!("strip_click_ids:{}", reason.label()));
        }
        let (ip_actions, collector_actions): (Vec<&String>, Vec<&String>) =
            v.actions.iter().partition(|a| a.starts_with("drop_ip:"));
        let collector_actions: Vec<&str> = collector_actions.iter().map(|a| a.as_str()).collect();
        assert_eq!(actions, collector_actions, "{}: actions", v.name);

        let Some(expected) = &v.expected else {
            assert!(verdict.withheld.is_some(), "{}: must not be sent", v.name);
            continue;
        };
        assert!(verdict.withheld.is_none(), "{}: must be sent", v.name);
        assert_eq!(
            event.anonymous == Some(AnonymousLevel::Server),
            !ip_actions.is_empty(),
            "{}: sent as an anonymous request exactly when the collector drops the address",
            v.name
        );
        let wire: Value = serde_json::from_slice(&event.to_json(policy.mode).unwrap()).unwrap();
        for (field, want) in expected {
            match field.as_str() {
                "ip" => {}
                "context" => check_context(&v.name, &wire["context"], want.as_object().unwrap()),
                _ => assert_eq!(&wire[field], want, "{}: field {field} in {wire}", v.name),
            }
        }
    }
}

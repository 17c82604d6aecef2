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

#[test]
fn every_policy_vector_holds_in_the_sdk() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/policy-vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("spec/policy-vectors.json");
    let vectors: Vectors = serde_json::from_str(&text).expect("the vectors parse");
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

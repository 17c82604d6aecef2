//! The consent policy fails closed, whatever the input: for any request the decoders accept, an
//! event without consent is stored with none of the identifier values that were sent.
//!
//! Every format is sent events that carry identifiers everywhere a tracker puts them (the
//! Segment fields, `context.traits`, `context.ip`, device and consent ids, ad click ids,
//! Amplitude's groups and user properties, Snowplow's session ids and entities), each a
//! recognisable sentinel, mixed with the values that used to blind the policy: lone
//! surrogates, numbers no float holds, nesting past a parser's limit, keys sent twice (one of
//! them granting consent). Whatever is accepted is pushed through the policy and enrichment,
//! and the bytes that would be stored are searched for every sentinel, as sent and as any
//! reader would decode them.

use assent_core::decode::{self, amplitude, snowplow, ClientIp};
use assent_core::pipeline::{self, Processed};
use assent_core::policy::{ConsentMode, Policy, Signals};
use assent_core::{Event, EventType, Limits, Received, StoredEvent};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Identifier values: each is searched for in what is stored.
const ANONYMOUS_ID: &str = "sentinel-anonymous-7f3a";
const USER_ID: &str = "sentinel-user-ada@example.org";
const GROUP_ID: &str = "sentinel-group-acme";
const PREVIOUS_ID: &str = "sentinel-previous-9c1d";
const TRAIT: &str = "sentinel-trait-ada.lovelace@example.org";
const CONTEXT_TRAIT: &str = "sentinel-context-trait-555-0100";
const DEVICE_ID: &str = "sentinel-device-0d4e";
const ADVERTISING_ID: &str = "sentinel-advertising-idfa";
const CONSENT_ID: &str = "sentinel-consent-c0c0";
const CLICK_ID: &str = "sentinel-gclid-G1";
const SESSION_ID: &str = "sentinel-session-5e55";
/// The client's address, sent in `context.ip` and seen on the request.
const IP: &str = "198.51.100.77";

const SENTINELS: &[&str] = &[
    ANONYMOUS_ID,
    USER_ID,
    GROUP_ID,
    PREVIOUS_ID,
    TRAIT,
    CONTEXT_TRAIT,
    DEVICE_ID,
    ADVERTISING_ID,
    CONSENT_ID,
    CLICK_ID,
    SESSION_ID,
    IP,
];

/// A JSON string literal of `text`, sometimes with a letter escaped (`\u0065`), which a reader
/// decodes to the same text but a search of the raw bytes would miss.
fn string_literal(text: &str, escape: bool) -> String {
    let quoted = serde_json::to_string(text).unwrap();
    if escape {
        quoted.replacen('e', "\\u0065", 1)
    } else {
        quoted
    }
}

/// Values that used to make a parser give up, so the policy saw nothing to strip.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(r#""Sale \ud83d""#.to_string()),
        1 => Just(r#""\udc00 tail""#.to_string()),
        1 => Just("1e999".to_string()),
        1 => Just("-1e400".to_string()),
        1 => (60usize..140).prop_map(|depth| format!("{}1{}", "[".repeat(depth), "]".repeat(depth))),
        1 => (60usize..140).prop_map(|depth| format!("{}{{}}{}", r#"{"n":"#.repeat(depth), "}".repeat(depth))),
        1 => Just(r#"{"k":1,"k":2}"#.to_string()),
        // Harmless values as often as all hostile ones together, so that many events are
        // accepted and reach the policy.
        7 => prop::sample::select(vec![r#""plain text""#, "42", "[1,2,3]", r#"{"k":{"j":null}}"#])
            .prop_map(str::to_string),
    ]
}

/// A consent state that does not grant `analytics` (and `marketing`) to a careful reader,
/// though a careless one might think it does.
fn unconsented_state() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(r#"{"analytics":"denied","marketing":"denied"}"#.to_string())),
        Just(Some(r#"{"analytics":"pending"}"#.to_string())),
        Just(Some(r#"{"analytics":"denied","analytics":"granted","marketing":"granted","marketing":"denied"}"#.to_string())),
        Just(Some(r#"{"analytics":"denied","analytic\u0073":"granted"}"#.to_string())),
        Just(Some(r#"{"analytics":false,"marketing":false}"#.to_string())),
        Just(Some(r#"{"analytics":"granted","marketing":"granted","x":1e999}"#.to_string())),
        Just(Some(r#"{"analytics":"granted","marketing":"granted","x":"\ud800"}"#.to_string())),
    ]
}

/// Builds an object from `(key, value JSON)` pairs, in order, duplicates and all.
fn object(pairs: &[(String, String)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Inserts each extra pair at a position chosen by its index.
fn mixed(mut pairs: Vec<(String, String)>, extras: &[(usize, String, String)]) -> String {
    for (at, key, value) in extras {
        let at = at % (pairs.len() + 1);
        pairs.insert(at, (key.clone(), value.clone()));
    }
    object(&pairs)
}

fn noise() -> impl Strategy<Value = Vec<(usize, String, String)>> {
    prop::collection::vec(
        (
            any::<usize>(),
            prop::sample::select(vec![
                "title", "note", "traits", "consent", "ip", "state", "x",
            ]),
            hostile_value(),
        ),
        0..3,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(i, k, val)| (i, k.to_string(), val))
            .collect()
    })
}

/// One native (Segment Spec) event, full of sentinels.
fn native_event() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec![
        "track", "page", "screen", "identify", "group", "alias", "consent",
    ]);
    (
        kinds,
        unconsented_state(),
        any::<bool>(),
        noise(),
        noise(),
        noise(),
    )
        .prop_map(
            |(kind, state, escape, context_noise, page_noise, props_noise)| {
                let lit = |t: &str| string_literal(t, escape);
                let page = mixed(
                    vec![
                        (
                            "url".into(),
                            lit(&format!("https://shop.example/p?gclid={CLICK_ID}&a=1")),
                        ),
                        ("title".into(), lit("Home")),
                    ],
                    &page_noise,
                );
                let mut consent = vec![("id".to_string(), lit(CONSENT_ID))];
                if let Some(state) = state {
                    consent.push(("state".into(), state));
                }
                let device = object(&[
                    ("id".into(), lit(DEVICE_ID)),
                    ("advertisingId".into(), lit(ADVERTISING_ID)),
                ]);
                let context = mixed(
                    vec![
                        (
                            "traits".into(),
                            object(&[("phone".into(), lit(CONTEXT_TRAIT))]),
                        ),
                        ("ip".into(), lit(IP)),
                        ("device".into(), device),
                        ("consent".into(), object(&consent)),
                        ("page".into(), page),
                    ],
                    &context_noise,
                );
                let properties = mixed(
                    vec![(
                        "url".into(),
                        lit(&format!("https://shop.example/?gclid={CLICK_ID}")),
                    )],
                    &props_noise,
                );
                object(&[
                    ("type".into(), lit(kind)),
                    ("event".into(), lit("Ordered")),
                    ("messageId".into(), lit("m-1")),
                    ("anonymousId".into(), lit(ANONYMOUS_ID)),
                    ("userId".into(), lit(USER_ID)),
                    ("groupId".into(), lit(GROUP_ID)),
                    ("previousId".into(), lit(PREVIOUS_ID)),
                    ("traits".into(), object(&[("email".into(), lit(TRAIT))])),
                    ("properties".into(), properties),
                    ("context".into(), context),
                ])
            },
        )
}

/// One Amplitude event, full of sentinels.
fn amplitude_event() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec![
        "Played",
        "$identify",
        "$groupidentify",
        "[Amplitude] Page Viewed",
    ]);
    (kinds, any::<bool>(), noise(), any::<bool>()).prop_map(
        |(kind, escape, props_noise, operations)| {
            let lit = |t: &str| string_literal(t, escape);
            let traits = object(&[("email".into(), lit(TRAIT))]);
            let user_properties = if operations {
                object(&[
                    ("$set".into(), traits),
                    (
                        "$add".into(),
                        object(&[("phone".into(), lit(CONTEXT_TRAIT))]),
                    ),
                ])
            } else {
                traits
            };
            let properties = mixed(
                vec![(
                    "url".into(),
                    lit(&format!("https://s.example/?gclid={CLICK_ID}")),
                )],
                &props_noise,
            );
            object(&[
                ("event_type".into(), lit(kind)),
                ("device_id".into(), lit(ANONYMOUS_ID)),
                ("user_id".into(), lit(USER_ID)),
                ("insert_id".into(), lit("i-1")),
                ("ip".into(), lit(IP)),
                ("event_properties".into(), properties),
                ("user_properties".into(), user_properties),
                (
                    "groups".into(),
                    object(&[("company".into(), lit(GROUP_ID))]),
                ),
                (
                    "group_properties".into(),
                    object(&[("$set".into(), object(&[("owner".into(), lit(PREVIOUS_ID))]))]),
                ),
            ])
        },
    )
}

/// One Snowplow event's parameters, full of sentinels.
fn snowplow_event() -> impl Strategy<Value = Vec<(String, String)>> {
    let kinds = prop::sample::select(vec!["pv", "pp", "se", "ue"]);
    (kinds, hostile_value()).prop_map(|(kind, hostile)| {
        let session = format!(
            r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[
                {{"schema":"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
                  "data":{{"userId":"{ANONYMOUS_ID}","sessionId":"{SESSION_ID}","sessionIndex":2}}}}]}}"#
        );
        let custom = format!(
            r#"{{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
                 "data":{{"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":{{"v":{hostile}}}}}}}"#
        );
        [
            ("e", kind.to_string()),
            ("eid", "e-1".to_string()),
            ("aid", "shop".to_string()),
            ("duid", ANONYMOUS_ID.to_string()),
            ("uid", USER_ID.to_string()),
            ("sid", SESSION_ID.to_string()),
            ("vid", "2".to_string()),
            ("ip", IP.to_string()),
            ("url", format!("https://shop.example/?gclid={CLICK_ID}")),
            ("se_ac", "play".to_string()),
            ("cx", URL_SAFE_NO_PAD.encode(session)),
            ("ue_px", URL_SAFE_NO_PAD.encode(custom)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    })
}

fn received() -> Received {
    Received::now(Some(IP.parse().unwrap()))
}

/// The policies under which none of these events is consented: opt-in (the snapshots never
/// grant), and opt-out with an explicit refusal signal.
fn policies() -> Vec<(Policy, Signals)> {
    vec![
        (Policy::default(), Signals::default()),
        (
            Policy {
                mode: ConsentMode::OptOut,
                dnt: assent_core::policy::DntRule::DenyAnalytics,
                ..Policy::default()
            },
            Signals {
                dnt: true,
                gpc: true,
                anonymous: false,
            },
        ),
    ]
}

/// Every byte that would be stored for an event: each column, and the payload both as sent
/// and as a reader decodes it.
fn stored_text(event: &StoredEvent) -> String {
    let decoded = serde_json::from_str::<serde_json::Value>(&event.payload)
        .map(|v| v.to_string())
        .unwrap_or_default();
    format!("{event:?}\n{}\n{decoded}", event.payload)
}

/// Asserts that nothing identifying was kept; returns how many events were stored.
fn check(processed: Processed) -> Result<usize, TestCaseError> {
    for event in &processed.events {
        let text = stored_text(event);
        for sentinel in SENTINELS {
            // A consent event keeps its consent id: it is the ledger's key for the choice.
            if *sentinel == CONSENT_ID && event.kind == EventType::Consent {
                continue;
            }
            prop_assert!(
                !text.contains(sentinel),
                "{sentinel} was stored for a {} event: {text}",
                event.kind
            );
        }
    }
    Ok(processed.events.len())
}

fn native(events: &[String]) -> Result<usize, TestCaseError> {
    let body = format!(r#"{{"batch":[{}]}}"#, events.join(","));
    let mut stored = 0;
    for (policy, signals) in policies() {
        let Ok(batch) = decode::batch(body.as_bytes(), &Limits::default()) else {
            continue;
        };
        stored += check(pipeline::process(batch, &received(), &signals, &policy))?;
        for event in events {
            if let Ok(batch) =
                decode::single(event.as_bytes(), EventType::Track, &Limits::default())
            {
                stored += check(pipeline::process(batch, &received(), &signals, &policy))?;
            }
        }
    }
    Ok(stored)
}

/// Runs the events that `decode` gives (with the address each asks for) through every policy.
fn check_each_policy(
    decode: impl Fn() -> Option<Vec<(Event, ClientIp)>>,
) -> Result<usize, TestCaseError> {
    let mut stored = 0;
    for (policy, signals) in policies() {
        let Some(events) = decode() else { continue };
        stored += check(pipeline::process_addressed(
            events,
            Vec::new(),
            &received(),
            &signals,
            &policy,
        ))?;
    }
    Ok(stored)
}

fn amplitude(events: &[String]) -> Result<usize, TestCaseError> {
    let body = format!(r#"{{"api_key":"k","events":[{}]}}"#, events.join(","));
    check_each_policy(|| {
        let upload = amplitude::upload(body.as_bytes(), &Limits::default()).ok()?;
        Some(
            upload
                .events
                .into_iter()
                .filter_map(Result::ok)
                .map(|d| (d.event, d.ip))
                .collect(),
        )
    })
}

fn snowplow(events: &[Vec<(String, String)>]) -> Result<usize, TestCaseError> {
    let data: Vec<serde_json::Value> = events
        .iter()
        .map(|params| {
            serde_json::Value::Object(
                params
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        })
        .collect();
    let body = serde_json::json!({
        "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
        "data": data,
    })
    .to_string();
    let request = snowplow::Request {
        anonymous: false,
        user_agent: Some("Mozilla/5.0"),
    };
    check_each_policy(|| {
        let decoded = snowplow::post(body.as_bytes(), &request, &Limits::default()).ok()?;
        Some(
            decoded
                .into_iter()
                .filter_map(Result::ok)
                .map(|d| (d.event, d.ip))
                .collect(),
        )
    })
}

/// How many generated requests each format gets; the closing figure is their sum.
const CASES: u32 = 2000;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn native_and_segment_events(events in prop::collection::vec(native_event(), 1..4)) {
        native(&events)?;
    }

    #[test]
    fn amplitude_events(events in prop::collection::vec(amplitude_event(), 1..4)) {
        amplitude(&events)?;
    }

    #[test]
    fn snowplow_events(events in prop::collection::vec(snowplow_event(), 1..3)) {
        snowplow(&events)?;
    }
}

/// The generators must produce events that are accepted and stored, or the properties above
/// would hold vacuously.
#[test]
fn the_generated_events_are_often_stored() {
    let mut runner = TestRunner::deterministic();
    let (mut native_stored, mut amplitude_stored, mut snowplow_stored) = (0, 0, 0);
    for _ in 0..200 {
        let events = vec![native_event().new_tree(&mut runner).unwrap().current()];
        native_stored += native(&events).unwrap();
        let events = vec![amplitude_event().new_tree(&mut runner).unwrap().current()];
        amplitude_stored += amplitude(&events).unwrap();
        let events = vec![snowplow_event().new_tree(&mut runner).unwrap().current()];
        snowplow_stored += snowplow(&events).unwrap();
    }
    assert!(
        native_stored > 30,
        "only {native_stored} native events stored"
    );
    assert!(
        amplitude_stored > 50,
        "only {amplitude_stored} Amplitude events stored"
    );
    assert!(
        snowplow_stored > 50,
        "only {snowplow_stored} Snowplow events stored"
    );
}

//! Fuzzing, run briefly with every `cargo test`: no input makes a decoder panic.
//!
//! Random bytes alone rarely get past the first `{`, so each format is also fed JSON built
//! from its own field names and from values chosen to reach deep paths (base64 of JSON, ids,
//! huge numbers, `$remote`, nested objects). A decoder may refuse anything; it may not panic.

use assent_core::decode::{self, amplitude, snowplow, ClientIp};
use assent_core::pipeline;
use assent_core::policy::{ConsentMode, Policy, Signals};
use assent_core::{EventType, Limits, Received};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Small limits so the size checks are crossed often, too.
fn limits() -> Limits {
    Limits {
        event_bytes: 2048,
        batch_bytes: 8192,
        body_bytes: 16384,
        id_chars: 64,
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Leaves worth trying in any field.
fn leaf() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(1_795_600_000_000_i64)),
        any::<String>().prop_map(Value::String),
        prop::sample::select(vec![
            "",
            "$remote",
            "203.0.113.9",
            "::1",
            "$identify",
            "$groupidentify",
            "[Amplitude] Page Viewed",
            "pv",
            "pp",
            "se",
            "ue",
            "1280x720",
            "x",
            "1-0-4",
            "iglu:com.acme/e/jsonschema/1-0-0",
            "2026-11-22T10:00:00Z",
            "-1",
            "1e400",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn value(keys: &'static [&'static str]) -> impl Strategy<Value = Value> + Clone {
    leaf().prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

const AMPLITUDE_KEYS: &[&str] = &[
    "event_type",
    "user_id",
    "device_id",
    "insert_id",
    "session_id",
    "event_id",
    "time",
    "event_properties",
    "user_properties",
    "groups",
    "group_properties",
    "ip",
    "library",
    "user_agent",
    "language",
    "platform",
    "os_name",
    "app_version",
    "version_name",
    "price",
    "quantity",
    "revenue",
    "productId",
    "revenueType",
    "$set",
    "$setOnce",
    "$add",
    "company",
];

const SNOWPLOW_KEYS: &[&str] = &[
    "e", "eid", "aid", "dtm", "stm", "ttm", "duid", "uid", "sid", "vid", "url", "page", "refr",
    "ue_pr", "ue_px", "co", "cx", "se_ca", "se_ac", "se_la", "se_pr", "se_va", "pp_mix", "pp_max",
    "pp_miy", "pp_may", "tv", "tna", "p", "lang", "tz", "res", "ua", "ip", "nuid",
];

/// A Snowplow parameter value: plain, or self-describing JSON (encoded or not), as trackers send.
fn snowplow_param() -> impl Strategy<Value = String> {
    let json_value = value(&["schema", "data", "id", "userId", "sessionId"]);
    prop_oneof![
        leaf().prop_map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        }),
        json_value.clone().prop_map(|data| {
            json!({"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
                   "data": {"schema": "iglu:com.acme/e/jsonschema/1-0-0", "data": data}})
            .to_string()
        }),
        json_value.clone().prop_map(|data| URL_SAFE_NO_PAD.encode(json!({
            "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
            "data": [{"schema": "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2", "data": data}]
        }).to_string())),
        json_value.prop_map(|v| STANDARD.encode(v.to_string())),
    ]
}

fn snowplow_params() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    prop::collection::vec(
        (prop::sample::select(SNOWPLOW_KEYS), snowplow_param()),
        0..14,
    )
}

/// A valid event of one format with a few fields replaced by anything (or removed), so that
/// most inputs get past validation and the mapping itself is fuzzed.
fn mutated(base: Value, keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (prop::sample::select(keys), prop::option::of(value(keys))),
        0..3,
    )
    .prop_map(move |changes| {
        let mut event = base.clone();
        for (key, change) in changes {
            match change {
                Some(v) => event[key] = v,
                None => {
                    event.as_object_mut().unwrap().remove(key);
                }
            }
        }
        event
    })
}

fn amplitude_event() -> impl Strategy<Value = Value> {
    let kinds = [
        "Played",
        "$identify",
        "$groupidentify",
        "[Amplitude] Page Viewed",
    ];
    prop::sample::select(kinds.to_vec()).prop_flat_map(|kind| {
        mutated(
            json!({"event_type": kind, "device_id": "d-1", "user_id": "u-1", "insert_id": "i-1",
                   "time": 1_795_600_000_000_i64, "session_id": 1_795_600_000_000_i64, "event_id": 3,
                   "ip": "$remote", "event_properties": {"k": 1}, "library": "amplitude-ts/2.46.0",
                   "user_properties": {"$set": {"a": 1}, "$add": {"n": 1}},
                   "groups": {"company": "Acme"}, "group_properties": {"$setOnce": {"b": 2}},
                   "price": 1.5, "productId": "p"}),
            AMPLITUDE_KEYS,
        )
    })
}

fn snowplow_event() -> impl Strategy<Value = Vec<(String, String)>> {
    let kinds = ["pv", "pp", "se", "ue"];
    let ue = URL_SAFE_NO_PAD.encode(
        json!({"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
               "data": {"schema": "iglu:com.acme/e/jsonschema/1-0-0", "data": {"a": 1}}})
        .to_string(),
    );
    (prop::sample::select(kinds.to_vec()), snowplow_params()).prop_map(move |(kind, changes)| {
        let mut params: Vec<(String, String)> = changes
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        // The first of a repeated name wins, so the valid base goes last.
        for (k, v) in [
            ("e", kind),
            ("eid", "e-1"),
            ("aid", "shop"),
            ("dtm", "1795600000000"),
            ("stm", "1795600000100"),
            ("duid", "d-1"),
            ("sid", "s-1"),
            ("vid", "2"),
            ("se_ac", "play"),
            ("se_va", "1.5"),
            ("ue_px", ue.as_str()),
            ("res", "10x20"),
        ] {
            params.push((k.to_string(), v.to_string()));
        }
        params
    })
}

/// Whatever decodes must also pass the policy and enrich without panicking: that is where it
/// goes next. Both the permissive and the strictest policy are tried.
fn enrich_all(events: Vec<assent_core::Event>) {
    let received = Received::now(Some("203.0.113.9".parse().unwrap()));
    let signals = Signals {
        anonymous: false,
        gpc: true,
        dnt: true,
    };
    let strict = Policy {
        cnil_exempt: Some(Default::default()),
        ..Policy::default()
    };
    let open = Policy {
        mode: ConsentMode::OptOut,
        ..Policy::default()
    };
    for policy in [&strict, &open] {
        let addressed = events.iter().cloned().map(|ev| (ev, ClientIp::Request));
        let processed =
            pipeline::process_addressed(addressed, Vec::new(), &received, &signals, policy);
        for stored in processed.events {
            serde_json::from_str::<Value>(&stored.payload).expect("the payload is JSON");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let limits = limits();
        let _ = decode::batch(&bytes, &limits);
        let _ = decode::single(&bytes, EventType::Track, &limits);
        let _ = amplitude::upload(&bytes, &limits);
        let _ = snowplow::post(&bytes, &snowplow::Request::default(), &limits);
        let _ = snowplow::get(&String::from_utf8_lossy(&bytes), &snowplow::Request::default(), &limits);
    }

    #[test]
    fn segment_shaped_json(batch in prop::collection::vec(value(&[
        "type", "event", "name", "messageId", "userId", "anonymousId", "groupId", "previousId",
        "properties", "traits", "context", "timestamp", "sentAt", "sessionId", "sequence", "writeKey",
    ]), 0..6), sent_at in leaf()) {
        let limits = limits();
        let body = json!({"batch": batch, "sentAt": sent_at, "writeKey": "pk"}).to_string();
        if let Ok(decoded) = decode::batch(body.as_bytes(), &limits) {
            enrich_all(decoded.events.into_iter().filter_map(Result::ok).collect());
        }
        for event in &batch {
            let _ = decode::single(event.to_string().as_bytes(), EventType::Identify, &limits);
        }
    }

    #[test]
    fn amplitude_shaped_json(events in prop::collection::vec(prop_oneof![value(AMPLITUDE_KEYS), amplitude_event()], 0..6),
                             api_key in leaf(), upload_time in leaf()) {
        let body = json!({"api_key": api_key, "events": events, "client_upload_time": upload_time});
        if let Ok(upload) = amplitude::upload(body.to_string().as_bytes(), &limits()) {
            enrich_all(upload.events.into_iter().filter_map(Result::ok).map(|d| d.event).collect());
        }
    }

    #[test]
    fn snowplow_shaped_requests(events in prop::collection::vec(prop_oneof![
        snowplow_params().prop_map(|p| p.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Vec<_>>()),
        snowplow_event(),
    ], 0..4),
                                anonymous in any::<bool>()) {
        let limits = limits();
        let request = snowplow::Request { anonymous, user_agent: Some("fuzz") };
        let data: Vec<Value> = events
            .iter()
            .map(|params| Value::Object(params.iter().rev().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>()))
            .collect();
        let body = json!({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", "data": data});
        if let Ok(decoded) = snowplow::post(body.to_string().as_bytes(), &request, &limits) {
            enrich_all(decoded.into_iter().filter_map(Result::ok).map(|d| d.event).collect());
        }
        for params in &events {
            let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
            if let Ok(d) = snowplow::get(&query, &request, &limits) {
                if anonymous {
                    prop_assert!(d.event.anonymous_id.is_none() && d.event.user_id.is_none());
                }
                enrich_all(vec![d.event]);
            }
        }
    }
}

/// The structured inputs must get past the envelope and be decoded often, or the tests above
/// would only ever fuzz the first check of each decoder.
#[test]
fn structured_inputs_reach_the_event_mapping() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut amplitude_ok, mut snowplow_ok) = (0, 0);
    for _ in 0..300 {
        let events = prop::collection::vec(amplitude_event(), 1..4)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let body = json!({"api_key": "k", "events": events}).to_string();
        let upload = amplitude::upload(body.as_bytes(), &Limits::default()).unwrap();
        amplitude_ok += upload.events.iter().filter(|e| e.is_ok()).count();

        let params = snowplow_event().new_tree(&mut runner).unwrap().current();
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        snowplow_ok += usize::from(
            snowplow::get(&query, &snowplow::Request::default(), &Limits::default()).is_ok(),
        );
    }
    assert!(
        amplitude_ok > 10,
        "only {amplitude_ok} Amplitude events decoded"
    );
    assert!(
        snowplow_ok > 10,
        "only {snowplow_ok} Snowplow events decoded"
    );
}

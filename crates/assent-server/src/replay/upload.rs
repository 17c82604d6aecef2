//! Reading one uploaded replay chunk: a `CompressionStream` (gzip or deflate) body that
//! inflates to
//!
//! ```json
//! {"writeKey": "pk_…", "sessionId": 1764500000000, "seq": 0, "anonymousId": "…",
//!  "userId": "…", "consent": {"state": {"replay": "granted", …}, …},
//!  "events": [{"type": 4, "data": {…}, "timestamp": 1764500000123}, …]}
//! ```
//!
//! Pure: no I/O. The bytes are kept as they came; only the metadata is taken out.

use assent_core::decode::free_form;
use assent_core::policy::ConsentSnapshot;
use assent_store::{inflate_chunk, ChunkEncoding, InflateError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::error::ReplayError;

/// A compressed chunk may be at most this big (the browser keeps its chunks well under).
pub const MAX_CHUNK_BYTES: usize = 512 * 1024;
/// … and inflate to at most this much.
pub const MAX_INFLATED_BYTES: usize = 8 * 1024 * 1024;
/// Identifiers are refused past this length, as for events.
const MAX_ID_CHARS: usize = 256;

/// What the collector needs to know about a chunk before storing it.
#[derive(Debug)]
pub struct Upload {
    pub write_key: Option<String>,
    pub session_id: i64,
    pub seq: i64,
    pub anonymous_id: String,
    pub user_id: Option<String>,
    /// The consent snapshot the chunk was recorded under (none at all counts as pending).
    pub consent: ConsentSnapshot,
    pub first_timestamp: i64,
    pub last_timestamp: i64,
    pub encoding: ChunkEncoding,
    /// What the chunk inflates to.
    pub inflated_bytes: u64,
}

/// The deepest nesting the consent object of a chunk may have (it is a flat record).
const CONSENT_MAX_DEPTH: usize = 4;

/// The fields read from the inflated JSON; `events` is only walked for its timestamps.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    write_key: Option<Value>,
    session_id: Option<Value>,
    seq: Option<Value>,
    anonymous_id: Option<Value>,
    user_id: Option<Value>,
    consent: Option<Box<RawValue>>,
    events: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct EventHead {
    timestamp: Option<Value>,
}

pub fn read(bytes: &[u8]) -> Result<Upload, ReplayError> {
    if bytes.len() > MAX_CHUNK_BYTES {
        return Err(ReplayError::TooLarge {
            size: bytes.len(),
            limit: MAX_CHUNK_BYTES,
        });
    }
    let (encoding, inflated) = inflate_chunk(bytes, MAX_INFLATED_BYTES).map_err(|e| match e {
        InflateError::TooLarge { limit } => ReplayError::InflatesTooLarge { limit },
        other => ReplayError::invalid(
            "body",
            format!("{other}; compress it with CompressionStream('gzip')"),
        ),
    })?;
    let body: Body = serde_json::from_slice(&inflated).map_err(|e| {
        ReplayError::invalid(
            "body",
            format!("the inflated chunk is not a JSON object of the expected shape: {e}"),
        )
    })?;

    let session_id = positive_integer(body.session_id.as_ref(), "sessionId")?;
    let seq = body
        .seq
        .as_ref()
        .and_then(Value::as_i64)
        .filter(|s| (0..=1_000_000).contains(s))
        .ok_or_else(|| ReplayError::invalid("seq", "seq must be an integer from 0 to 1000000"))?;
    let anonymous_id = identifier(body.anonymous_id.as_ref(), "anonymousId")?.ok_or_else(|| {
        ReplayError::invalid(
            "anonymousId",
            "anonymousId is required: replays are recorded only for identified sessions",
        )
    })?;
    let user_id = identifier(body.user_id.as_ref(), "userId")?;
    let write_key = match body.write_key {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k),
        Some(_) => {
            return Err(ReplayError::invalid(
                "writeKey",
                "writeKey must be a string",
            ))
        }
    };
    // Read by the policy, so held to the rule of every object the policy reads: one reading
    // only (no key twice, no value a parser gives up on).
    let consent = match &body.consent {
        None => ConsentSnapshot::from_states([]),
        Some(raw) => {
            free_form::check(raw, "consent", CONSENT_MAX_DEPTH)
                .map_err(|e| ReplayError::invalid("consent", e.to_string()))?;
            ConsentSnapshot::from_consent_json(raw.get())
        }
    };

    // Only the timestamps are read: the events themselves are the player's business.
    let events: Vec<EventHead> = body
        .events
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .filter(|e: &Vec<EventHead>| !e.is_empty())
        .ok_or_else(|| {
            ReplayError::invalid(
                "events",
                "events must be a non-empty array of rrweb event objects",
            )
        })?;
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    for (i, event) in events.iter().enumerate() {
        let t = event
            .timestamp
            .as_ref()
            .and_then(Value::as_i64)
            .filter(|t| *t > 0)
            .ok_or_else(|| {
                ReplayError::invalid(
                    "events",
                    format!("events[{i}].timestamp must be a positive integer (ms)"),
                )
            })?;
        first = first.min(t);
        last = last.max(t);
    }

    Ok(Upload {
        write_key,
        session_id,
        seq,
        anonymous_id,
        user_id,
        consent,
        first_timestamp: first,
        last_timestamp: last,
        encoding,
        inflated_bytes: inflated.len() as u64,
    })
}

fn positive_integer(value: Option<&Value>, field: &'static str) -> Result<i64, ReplayError> {
    value
        .and_then(Value::as_i64)
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            ReplayError::invalid(
                field,
                format!("{field} must be a positive integer (the tracker's session id)"),
            )
        })
}

/// An identifier: a non-empty string or an integer (stored as its decimal text, like events).
fn identifier(value: Option<&Value>, field: &'static str) -> Result<Option<String>, ReplayError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(_) => {
            return Err(ReplayError::invalid(
                field,
                format!("{field} must be a string or an integer"),
            ))
        }
    };
    if text.is_empty() || text.chars().count() > MAX_ID_CHARS {
        return Err(ReplayError::invalid(
            field,
            format!("{field} must have 1 to {MAX_ID_CHARS} characters"),
        ));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;
    use serde_json::json;

    use super::*;

    fn gzip(v: &Value) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(v.to_string().as_bytes()).unwrap();
        e.finish().unwrap()
    }

    fn chunk() -> Value {
        json!({"writeKey": "pk", "sessionId": 1000, "seq": 2, "anonymousId": "a1", "userId": 42,
               "consent": {"state": {"replay": "granted"}},
               "events": [{"type": 4, "timestamp": 1500}, {"type": 2, "timestamp": 1200}]})
    }

    fn field_of(v: Value) -> &'static str {
        match read(&gzip(&v)).unwrap_err() {
            ReplayError::Invalid { field, .. } => field,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn metadata_and_time_range_are_read() {
        let u = read(&gzip(&chunk())).unwrap();
        assert_eq!(
            (u.session_id, u.seq, u.anonymous_id.as_str()),
            (1000, 2, "a1")
        );
        assert_eq!(u.user_id.as_deref(), Some("42"));
        assert_eq!((u.first_timestamp, u.last_timestamp), (1200, 1500));
        assert_eq!(
            u.consent.state("replay"),
            assent_core::policy::CategoryState::Granted
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut v = chunk();
        v["sessionId"] = json!("yesterday");
        assert_eq!(field_of(v), "sessionId");
        let mut v = chunk();
        v["seq"] = json!(-1);
        assert_eq!(field_of(v), "seq");
        let mut v = chunk();
        v.as_object_mut().unwrap().remove("anonymousId");
        assert_eq!(field_of(v), "anonymousId");
        let mut v = chunk();
        v["events"] = json!([]);
        assert_eq!(field_of(v), "events");
        let mut v = chunk();
        v["events"][1]["timestamp"] = json!("soon");
        assert_eq!(field_of(v), "events");
        let mut v = chunk();
        v["events"] = json!("many");
        assert_eq!(field_of(v), "events");
    }

    #[test]
    fn a_consent_read_two_ways_is_refused() {
        let twice = r#"{"writeKey":"pk","sessionId":1000,"seq":0,"anonymousId":"a1",
            "consent":{"state":{"replay":"denied","replay":"granted"}},
            "events":[{"type":4,"timestamp":1500}]}"#;
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(twice.as_bytes()).unwrap();
        match read(&e.finish().unwrap()).unwrap_err() {
            ReplayError::Invalid { field, message } => {
                assert_eq!(field, "consent");
                assert!(message.contains("appears twice"), "{message}");
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn uncompressed_and_oversized_bodies_are_refused() {
        assert!(matches!(
            read(chunk().to_string().as_bytes()),
            Err(ReplayError::Invalid { field: "body", .. })
        ));
        assert!(matches!(
            read(&vec![0x1f; MAX_CHUNK_BYTES + 1]),
            Err(ReplayError::TooLarge { .. })
        ));
    }

    mod fuzz {
        //! Run briefly with every `cargo test`: no upload makes the reader panic, and a chunk
        //! is let through the policy only when its consent grants `replay` one way.

        use super::*;
        use assent_core::policy::{self, Policy, Signals};
        use proptest::prelude::*;

        fn consent() -> impl Strategy<Value = String> {
            prop::sample::select(vec![
                r#"{"state":{"replay":"granted","analytics":"granted"}}"#,
                r#"{"state":{"replay":"denied","replay":"granted","analytics":"granted"}}"#,
                r#"{"state":{"replay":"granted","analytics":"granted","x":1e999}}"#,
                r#"{"state":{"replay":"gr\u0061nted","analytics":"granted"}}"#,
                r#"{"state":{"replay":"granted","analytics":"granted","t":"\ud83d"}}"#,
                r#"{"state":{"replay":true,"analytics":true}}"#,
                r#"{"state":{"replay":"pending","analytics":"granted"}}"#,
                r#"{"state":"granted"}"#,
                r#"{"state":{"analytics":"granted"},"state":{"replay":"granted","analytics":"granted"}}"#,
                r#"[[[[[[[[[[1]]]]]]]]]]"#,
                "null",
            ])
            .prop_map(str::to_string)
        }

        /// Whether a careful reader sees `replay` and `analytics` granted, once each.
        fn grants_once(consent: &str) -> bool {
            matches!(
                consent,
                r#"{"state":{"replay":"granted","analytics":"granted"}}"#
                    | r#"{"state":{"replay":"gr\u0061nted","analytics":"granted"}}"#
                    | r#"{"state":{"replay":true,"analytics":true}}"#
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), zip in any::<bool>()) {
                let body = if zip { gzip_bytes(&bytes) } else { bytes };
                let _ = read(&body);
            }

            #[test]
            fn only_a_consent_read_one_way_lets_a_chunk_through(
                consent in consent(),
                seq in -2i64..3,
                depth in 0usize..200,
            ) {
                let events = format!(
                    r#"[{{"type":2,"timestamp":1500,"data":{}1{}}}]"#,
                    "[".repeat(depth),
                    "]".repeat(depth)
                );
                let text = format!(
                    r#"{{"sessionId":1000,"seq":{seq},"anonymousId":"a1","consent":{consent},"events":{events}}}"#
                );
                let mut e = GzEncoder::new(Vec::new(), Compression::default());
                e.write_all(text.as_bytes()).unwrap();
                if let Ok(upload) = read(&e.finish().unwrap()) {
                    let allowed = policy::replay(&upload.consent, &Signals::default(), &Policy::default());
                    prop_assert_eq!(allowed.is_ok(), grants_once(&consent), "{}", consent);
                }
            }
        }

        fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
    }
}

//! Removing what identifies a visitor from an event.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::{Event, EventType};

/// Identifiers some trackers put inside `context`.
const CONTEXT_IDENTIFIERS: &[&str] = &["traits", "ip", "externalIds", "groupId"];

/// Identifiers kept in objects inside `context`: the object's key, then the keys to remove.
const NESTED_IDENTIFIERS: &[(&str, &[&str])] = &[
    ("device", &["id", "advertisingId", "adTrackingEnabled"]),
    // Amplitude's group memberships and the operations on user and group properties are
    // group ids and traits under other names.
    (
        "amplitude",
        &[
            "groups",
            "groupProperties",
            "userPropertyOperations",
            "groupPropertyOperations",
        ],
    ),
    // Snowplow's session: a random id per browser session and the visitor's session count.
    ("snowplow", &["domainSessionId", "domainSessionIndex"]),
];

/// Snowplow entities (`context.snowplow.entities`) that identify a visitor or a device, by the
/// start of their schema: the session (visitor and session ids), mobile ad and vendor ids,
/// precise location, and Google Analytics' own cookie ids.
const IDENTIFYING_ENTITIES: &[&str] = &[
    "iglu:com.snowplowanalytics.snowplow/client_session/",
    "iglu:com.snowplowanalytics.snowplow/mobile_context/",
    "iglu:com.snowplowanalytics.snowplow/geolocation_context/",
    "iglu:com.google.analytics/cookies/",
    "iglu:com.google.ga4/cookies/",
];

/// Removes user-level identifiers, traits and the device's event counter; returns whether
/// anything was there to remove. A consent event keeps its consent id: it is the record's key
/// in the ledger, and says nothing beyond the choice it records.
pub fn identifiers(event: &mut Event) -> bool {
    let mut removed = false;
    for field in [
        &mut event.user_id,
        &mut event.anonymous_id,
        &mut event.group_id,
        &mut event.previous_id,
    ] {
        removed |= field.take().is_some();
    }
    removed |= event.session_id.take().is_some();
    removed |= event.sequence.take().is_some();
    removed |= event.traits.take().is_some();
    let keep_consent_id = event.kind == EventType::Consent;
    removed |= edit_object(&mut event.context, |context| {
        let mut changed = false;
        for key in CONTEXT_IDENTIFIERS {
            changed |= context.remove(*key).is_some();
        }
        for (object, keys) in NESTED_IDENTIFIERS {
            if let Some(Value::Object(inner)) = context.get_mut(*object) {
                for key in *keys {
                    changed |= inner.remove(*key).is_some();
                }
            }
        }
        if let Some(Value::Object(snowplow)) = context.get_mut("snowplow") {
            changed |= remove_identifying_entities(snowplow);
        }
        if !keep_consent_id {
            if let Some(Value::Object(consent)) = context.get_mut("consent") {
                changed |= consent.remove("id").is_some();
            }
        }
        changed
    });
    removed
}

fn remove_identifying_entities(snowplow: &mut Map<String, Value>) -> bool {
    let Some(Value::Array(entities)) = snowplow.get_mut("entities") else {
        return false;
    };
    let before = entities.len();
    entities.retain(|entity| {
        let schema = entity.get("schema").and_then(Value::as_str).unwrap_or("");
        !IDENTIFYING_ENTITIES.iter().any(|s| schema.starts_with(s))
    });
    let changed = entities.len() != before;
    if entities.is_empty() {
        snowplow.remove("entities");
    }
    changed
}

/// Parses a raw JSON object, lets `edit` change it, and stores it back if it did.
///
/// Fails closed: an object that cannot be parsed cannot be inspected, so it is removed whole
/// (and reported as a change). Decoding already refuses such objects; this is the second lock
/// on the same door, so that no decoder's oversight can store identifiers unseen.
pub(super) fn edit_object(
    raw: &mut Option<Box<RawValue>>,
    edit: impl FnOnce(&mut Map<String, Value>) -> bool,
) -> bool {
    let Some(text) = raw.as_ref() else {
        return false;
    };
    let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(text.get()) else {
        *raw = None;
        return true;
    };
    if !edit(&mut object) {
        return false;
    }
    // A map of parsed values always serialises; should it ever not, nothing is kept.
    *raw = serde_json::value::to_raw_value(&object).ok();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_that_cannot_be_parsed_is_removed_whole() {
        // Depth past serde_json's limit: the text is JSON, but no map can hold it.
        let deep = format!("{{\"traits\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let mut raw = Some(RawValue::from_string(deep).unwrap());
        assert!(edit_object(&mut raw, |_| false));
        assert!(raw.is_none());
    }
}

//! Removing what identifies a visitor from an event.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::{Event, EventType};

/// Identifiers some trackers put inside `context`.
const CONTEXT_IDENTIFIERS: &[&str] = &["traits", "ip", "externalIds", "groupId"];
const DEVICE_IDENTIFIERS: &[&str] = &["id", "advertisingId", "adTrackingEnabled"];

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
        if let Some(Value::Object(device)) = context.get_mut("device") {
            for key in DEVICE_IDENTIFIERS {
                changed |= device.remove(*key).is_some();
            }
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

/// Parses a raw JSON object, lets `edit` change it, and stores it back if it did.
pub(super) fn edit_object(
    raw: &mut Option<Box<RawValue>>,
    edit: impl FnOnce(&mut Map<String, Value>) -> bool,
) -> bool {
    let Some(text) = raw.as_ref() else {
        return false;
    };
    let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(text.get()) else {
        return false;
    };
    if !edit(&mut object) {
        return false;
    }
    let json = serde_json::to_string(&object).expect("a JSON map serialises");
    *raw = Some(RawValue::from_string(json).expect("serde_json wrote valid JSON"));
    true
}

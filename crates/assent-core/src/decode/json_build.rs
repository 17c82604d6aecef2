//! Building the JSON a compatibility decoder writes itself: Amplitude and Snowplow spread
//! what the Segment Spec keeps in `properties`, `traits` and `context` over other fields, so
//! those objects are assembled here rather than kept byte for byte as native ones are.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Sets `key` when there is a value, so absent fields stay absent rather than `null`.
pub(super) fn insert_some(
    map: &mut Map<String, Value>,
    key: &str,
    value: Option<impl Into<Value>>,
) {
    if let Some(v) = value {
        map.insert(key.into(), v.into());
    }
}

/// An object as the raw JSON [`Event`](crate::Event) keeps, or `None` when it is empty.
pub(super) fn raw_object(map: Map<String, Value>) -> Option<Box<RawValue>> {
    (!map.is_empty()).then(|| to_raw(&Value::Object(map)))
}

pub(super) fn to_raw(value: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("a serde_json Value always serialises")
}

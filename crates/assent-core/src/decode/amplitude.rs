//! Amplitude's HTTP V2 API, as `@amplitude/analytics-browser` and Amplitude's server SDKs
//! speak it: `POST /2/httpapi` or `POST /batch` with
//! `{"api_key": "...", "events": [...], "client_upload_time": "..."}`.
//!
//! Each Amplitude event becomes one canonical [`Event`]; `docs/compatibility.md` has the full
//! mapping table, including what is dropped and why. In short: `device_id` → `anonymousId`,
//! `user_id` → `userId`, `insert_id` → `messageId` (the idempotency key), `session_id` →
//! `sessionId`, `event_id` → `sequence`, `time` → `timestamp`, `event_properties` →
//! `properties`, `user_properties` → `traits`; `$identify` becomes an `identify`,
//! `$groupidentify` a `group`, `[Amplitude] Page Viewed` a `page`, anything else a `track`.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json_build::{insert_some, raw_object, to_raw};
use super::{check_body_size, id, integer, object, parse_object, string, timestamp, ClientIp};
use crate::{BodyError, Event, EventType, Limits, Rejection};

/// Amplitude's own name for its identify event.
pub const IDENTIFY: &str = "$identify";
/// Amplitude's own name for its group identify event.
pub const GROUP_IDENTIFY: &str = "$groupidentify";
/// The event Amplitude's browser SDK sends for a page view.
pub const PAGE_VIEWED: &str = "[Amplitude] Page Viewed";

/// A decoded upload: the API key (matched against the projects' write keys) and one slot per
/// event sent, in order.
#[derive(Debug)]
pub struct Upload {
    pub api_key: String,
    pub events: Vec<Result<Decoded, Rejection>>,
}

/// One Amplitude event, canonical, with the address it asks for.
#[derive(Debug)]
pub struct Decoded {
    pub event: Event,
    pub ip: ClientIp,
}

/// Decodes an Amplitude upload body.
///
/// ```
/// use assent_core::decode::{amplitude, ClientIp};
/// use assent_core::{EventType, Limits};
/// let body = br#"{"api_key":"pk_demo","client_upload_time":"2026-11-22T10:00:01.000Z","events":[
///   {"event_type":"Song Played","device_id":"d-1","user_id":"u-1","insert_id":"i-1",
///    "session_id":1795600000000,"time":1795600000500,"ip":"$remote","event_properties":{"genre":"jazz"}},
///   {"event_type":"$identify","device_id":"d-1","user_properties":{"$set":{"plan":"pro"}}}]}"#;
/// let upload = amplitude::upload(body, &Limits::default()).unwrap();
/// assert_eq!(upload.api_key, "pk_demo");
/// let played = upload.events[0].as_ref().unwrap();
/// assert_eq!(played.event.kind, EventType::Track);
/// assert_eq!(played.event.message_id, "i-1");
/// assert_eq!(played.event.anonymous_id.as_deref(), Some("d-1"));
/// assert_eq!(played.ip, ClientIp::Request);
/// let identify = &upload.events[1].as_ref().unwrap().event;
/// assert_eq!(identify.kind, EventType::Identify);
/// assert_eq!(identify.traits.as_ref().unwrap().get(), r#"{"plan":"pro"}"#);
/// ```
pub fn upload(body: &[u8], limits: &Limits) -> Result<Upload, BodyError> {
    check_body_size(body, limits)?;
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        api_key: Option<&'a RawValue>,
        #[serde(borrow)]
        events: Option<&'a RawValue>,
        #[serde(borrow)]
        client_upload_time: Option<&'a RawValue>,
    }
    let envelope: Envelope = parse_object(body)?;
    let api_key: String = match envelope.api_key {
        None => return Err(BodyError::Missing { field: "api_key" }),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|_| BodyError::Invalid {
            field: "api_key",
            expected: "a string",
        })?,
    };
    let raw_events = envelope
        .events
        .ok_or(BodyError::Missing { field: "events" })?;
    if raw_events.get().len() > limits.batch_bytes {
        return Err(BodyError::TooLarge {
            what: "events",
            size: raw_events.get().len(),
            limit: limits.batch_bytes,
        });
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(raw_events.get()).map_err(|_| BodyError::Invalid {
            field: "events",
            expected: "an array of events",
        })?;
    let sent_at = match envelope.client_upload_time {
        None => None,
        Some(raw) => {
            Some(
                timestamp(raw, "client_upload_time").map_err(|_| BodyError::Invalid {
                    field: "client_upload_time",
                    expected: "an ISO-8601 timestamp with a time zone",
                })?,
            )
        }
    };
    let events = items
        .into_iter()
        .map(|raw| event(raw, sent_at, limits))
        .collect();
    Ok(Upload { api_key, events })
}

/// The fields Assent reads, each captured raw so that errors can name them. Anything else an
/// Amplitude event carries is dropped (see `docs/compatibility.md`).
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    event_type: Option<&'a RawValue>,
    #[serde(borrow)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow)]
    device_id: Option<&'a RawValue>,
    #[serde(borrow)]
    insert_id: Option<&'a RawValue>,
    #[serde(borrow)]
    session_id: Option<&'a RawValue>,
    #[serde(borrow)]
    event_id: Option<&'a RawValue>,
    #[serde(borrow)]
    time: Option<&'a RawValue>,
    #[serde(borrow)]
    event_properties: Option<&'a RawValue>,
    #[serde(borrow)]
    user_properties: Option<&'a RawValue>,
    #[serde(borrow)]
    groups: Option<&'a RawValue>,
    #[serde(borrow)]
    group_properties: Option<&'a RawValue>,
    #[serde(borrow)]
    ip: Option<&'a RawValue>,
    #[serde(borrow)]
    library: Option<&'a RawValue>,
    #[serde(borrow)]
    user_agent: Option<&'a RawValue>,
    #[serde(borrow)]
    language: Option<&'a RawValue>,
    #[serde(borrow)]
    platform: Option<&'a RawValue>,
    #[serde(borrow)]
    os_name: Option<&'a RawValue>,
    #[serde(borrow)]
    os_version: Option<&'a RawValue>,
    #[serde(borrow)]
    device_brand: Option<&'a RawValue>,
    #[serde(borrow)]
    device_manufacturer: Option<&'a RawValue>,
    #[serde(borrow)]
    device_model: Option<&'a RawValue>,
    #[serde(borrow)]
    app_version: Option<&'a RawValue>,
    #[serde(borrow)]
    version_name: Option<&'a RawValue>,
    #[serde(borrow)]
    price: Option<&'a RawValue>,
    #[serde(borrow)]
    quantity: Option<&'a RawValue>,
    #[serde(borrow)]
    revenue: Option<&'a RawValue>,
    #[serde(rename = "productId", borrow)]
    product_id: Option<&'a RawValue>,
    #[serde(rename = "revenueType", borrow)]
    revenue_type: Option<&'a RawValue>,
}

fn event(
    raw: &RawValue,
    sent_at: Option<jiff::Timestamp>,
    limits: &Limits,
) -> Result<Decoded, Rejection> {
    let text = super::event_text(raw, limits)?;
    let f: Fields =
        serde_json::from_str(text).map_err(|e| Rejection::invalid("event", e.to_string()))?;
    let opt_string =
        |raw: Option<&RawValue>, field| raw.map(|r| string(r, field, limits)).transpose();
    let opt_id = |raw: Option<&RawValue>, field| raw.map(|r| id(r, field, limits)).transpose();

    let event_type = opt_string(f.event_type, "event_type")?
        .filter(|t| !t.is_empty())
        .ok_or(Rejection::Missing {
            field: "event_type",
            kind: EventType::Track,
        })?;
    let kind = match event_type.as_str() {
        IDENTIFY => EventType::Identify,
        GROUP_IDENTIFY => EventType::Group,
        PAGE_VIEWED => EventType::Page,
        _ => EventType::Track,
    };
    let mut amplitude = Map::new();
    let user_properties = f
        .user_properties
        .map(|r| UserProperties::read(r, "user_properties"))
        .transpose()?;
    let mut traits = None;
    if let Some(up) = user_properties {
        traits = up.traits;
        if let Some(ops) = up.operations {
            amplitude.insert("userPropertyOperations".into(), ops);
        }
    }
    let mut group_id = None;
    if kind == EventType::Group {
        let (group_type, name) = single_group(f.groups, limits)?;
        amplitude.insert("groupType".into(), Value::String(group_type));
        group_id = Some(name);
        // A group identify describes the group, not the user.
        traits = None;
        if let Some(gp) = f
            .group_properties
            .map(|r| UserProperties::read(r, "group_properties"))
            .transpose()?
        {
            traits = gp.traits;
            if let Some(ops) = gp.operations {
                amplitude.insert("groupPropertyOperations".into(), ops);
            }
        }
    } else {
        if let Some(groups) = f.groups {
            amplitude.insert("groups".into(), json_object(groups, "groups")?);
        }
        if let Some(gp) = f.group_properties {
            amplitude.insert(
                "groupProperties".into(),
                json_object(gp, "group_properties")?,
            );
        }
    }
    if let Some(platform) = opt_string(f.platform, "platform")? {
        amplitude.insert("platform".into(), Value::String(platform));
    }

    let mut context = Map::new();
    if let Some(library) = opt_string(f.library, "library")? {
        // "amplitude-ts/2.46.0" → name and version, as Segment's context.library has them.
        let mut lib = Map::new();
        match library.split_once('/') {
            Some((name, version)) => {
                lib.insert("name".into(), name.into());
                lib.insert("version".into(), version.into());
            }
            None => {
                lib.insert("name".into(), library.into());
            }
        }
        context.insert("library".into(), Value::Object(lib));
    }
    insert_some(
        &mut context,
        "userAgent",
        opt_string(f.user_agent, "user_agent")?,
    );
    insert_some(&mut context, "locale", opt_string(f.language, "language")?);
    let os = section([
        ("name", opt_string(f.os_name, "os_name")?),
        ("version", opt_string(f.os_version, "os_version")?),
    ]);
    insert_some(&mut context, "os", os);
    let device = section([
        ("brand", opt_string(f.device_brand, "device_brand")?),
        (
            "manufacturer",
            opt_string(f.device_manufacturer, "device_manufacturer")?,
        ),
        ("model", opt_string(f.device_model, "device_model")?),
    ]);
    insert_some(&mut context, "device", device);
    let app_version = match opt_string(f.app_version, "app_version")? {
        Some(v) => Some(v),
        None => opt_string(f.version_name, "version_name")?,
    };
    insert_some(&mut context, "app", section([("version", app_version)]));
    if !amplitude.is_empty() {
        context.insert("amplitude".into(), Value::Object(amplitude));
    }

    let properties = properties(&f, limits)?;
    let name = match kind {
        EventType::Track => Some(event_type),
        _ => None,
    };
    let ev = Event {
        message_id: opt_id(f.insert_id, "insert_id")?.unwrap_or_default(),
        kind,
        event: name,
        name: None,
        properties,
        traits,
        anonymous_id: opt_id(f.device_id, "device_id")?,
        user_id: opt_id(f.user_id, "user_id")?,
        group_id,
        previous_id: None,
        // Amplitude sends -1 for "no session".
        session_id: f
            .session_id
            .map(|r| integer(r, "session_id"))
            .transpose()?
            .filter(|&s| s >= 0),
        sequence: f.event_id.map(|r| integer(r, "event_id")).transpose()?,
        timestamp: f
            .time
            .map(|r| {
                let ms = integer(r, "time")?;
                jiff::Timestamp::from_millisecond(ms)
                    .map_err(|_| Rejection::invalid("time", "is out of range"))
            })
            .transpose()?,
        sent_at,
        context: raw_object(context),
    };
    if kind == EventType::Identify && ev.user_id.is_none() && ev.anonymous_id.is_none() {
        return Err(Rejection::Missing {
            field: "user_id",
            kind,
        });
    }
    super::free_form::check_event(&ev)?;
    let ip = match f.ip {
        None => ClientIp::Unknown,
        Some(raw) => {
            let ip = string(raw, "ip", limits)?;
            if ip == "$remote" {
                ClientIp::Request
            } else {
                ClientIp::Given(ip.parse().map_err(|_| {
                    Rejection::invalid("ip", "must be \"$remote\" or an IP address")
                })?)
            }
        }
    };
    Ok(Decoded { event: ev, ip })
}

/// `event_properties`, plus the top-level revenue fields of Amplitude's HTTP API, which in
/// the Segment Spec are properties of the event. Without revenue fields the client's JSON is
/// kept byte for byte.
fn properties(f: &Fields, limits: &Limits) -> Result<Option<Box<RawValue>>, Rejection> {
    let raw = f
        .event_properties
        .map(|r| object(r, "event_properties"))
        .transpose()?;
    let numbers = [
        ("price", f.price),
        ("quantity", f.quantity),
        ("revenue", f.revenue),
    ];
    let strings = [
        ("productId", f.product_id, "productId"),
        ("revenueType", f.revenue_type, "revenueType"),
    ];
    if numbers.iter().all(|(_, r)| r.is_none()) && strings.iter().all(|(_, r, _)| r.is_none()) {
        return Ok(raw);
    }
    let mut map: Map<String, Value> = match &raw {
        Some(r) => serde_json::from_str(r.get())
            .map_err(|_| Rejection::invalid("event_properties", "must be a JSON object"))?,
        None => Map::new(),
    };
    for (name, value) in numbers {
        if let Some(v) = value {
            let n: serde_json::Number = serde_json::from_str(v.get())
                .map_err(|_| Rejection::invalid(name, "must be a number"))?;
            map.insert(name.into(), Value::Number(n));
        }
    }
    for (name, value, field) in strings {
        if let Some(v) = value {
            map.insert(name.into(), Value::String(string(v, field, limits)?));
        }
    }
    Ok(Some(to_raw(&Value::Object(map))))
}

/// Amplitude user (or group) properties, split into what the Segment Spec calls traits and
/// the operations that have no equivalent there.
struct UserProperties {
    traits: Option<Box<RawValue>>,
    operations: Option<Value>,
}

impl UserProperties {
    /// `{"$set": {...}, "$setOnce": {...}, "$add": {...}}` gives traits from `$setOnce`
    /// overridden by `$set` (what a profile shows afterwards) and keeps the other operations
    /// aside; a plain object (the HTTP API allows one) is the traits themselves.
    fn read(raw: &RawValue, field: &'static str) -> Result<UserProperties, Rejection> {
        let map: Map<String, Value> = serde_json::from_str(raw.get())
            .map_err(|_| Rejection::invalid(field, "must be a JSON object"))?;
        if !map.keys().any(|k| k.starts_with('$')) {
            return Ok(UserProperties {
                traits: (!map.is_empty()).then(|| raw.to_owned()),
                operations: None,
            });
        }
        let mut traits = Map::new();
        let mut operations = Map::new();
        let mut set_once = None;
        let mut set = None;
        for (key, value) in map {
            match key.as_str() {
                "$setOnce" => set_once = Some(value),
                "$set" => set = Some(value),
                op if op.starts_with('$') => {
                    operations.insert(key, value);
                }
                _ => {
                    traits.insert(key, value);
                }
            }
        }
        for value in [set_once, set].into_iter().flatten() {
            match value {
                Value::Object(values) => traits.extend(values),
                _ => {
                    return Err(Rejection::invalid(
                        field,
                        "has a $set or $setOnce that is not a JSON object",
                    ))
                }
            }
        }
        Ok(UserProperties {
            traits: raw_object(traits),
            operations: (!operations.is_empty()).then_some(Value::Object(operations)),
        })
    }
}

/// A `$groupidentify` names exactly one group: `{"company": "Acme"}` (or `["Acme"]`).
fn single_group(raw: Option<&RawValue>, limits: &Limits) -> Result<(String, String), Rejection> {
    let missing = Rejection::Missing {
        field: "groups",
        kind: EventType::Group,
    };
    let bad = || {
        Rejection::invalid(
            "groups",
            "must name exactly one group, e.g. {\"company\": \"Acme\"}",
        )
    };
    let map: Map<String, Value> =
        serde_json::from_str(raw.ok_or(missing)?.get()).map_err(|_| bad())?;
    let mut entries = map.into_iter();
    let (group_type, value) = entries.next().ok_or_else(bad)?;
    if entries.next().is_some() {
        return Err(bad());
    }
    let name = match value {
        Value::String(s) => s,
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Array(mut names) if names.len() == 1 => match names.pop() {
            Some(Value::String(s)) => s,
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    if name.is_empty() || name.chars().count() > limits.id_chars {
        return Err(bad());
    }
    Ok((group_type, name))
}

fn json_object(raw: &RawValue, field: &'static str) -> Result<Value, Rejection> {
    match serde_json::from_str(raw.get()) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(Rejection::invalid(field, "must be a JSON object")),
    }
}

/// An object of the values that are present, or `None` when none is.
fn section<const N: usize>(fields: [(&str, Option<String>); N]) -> Option<Value> {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), Value::String(v))))
        .collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(events: Value) -> Vec<Result<Decoded, Rejection>> {
        let body = json!({"api_key": "pk_demo", "events": events}).to_string();
        upload(body.as_bytes(), &Limits::default()).unwrap().events
    }

    fn one(event: Value) -> Result<Decoded, Rejection> {
        decode(json!([event])).pop().unwrap()
    }

    fn json_of(raw: &Option<Box<RawValue>>) -> Value {
        serde_json::from_str(raw.as_ref().expect("present").get()).unwrap()
    }

    /// What `@amplitude/analytics-browser` 2.46 sends for `track('Song Played', {...})`.
    #[test]
    fn a_browser_sdk_event_maps_every_field() {
        let body = br#"{"api_key":"pk_demo","events":[{"user_id":"user-1","device_id":"dev-1",
            "session_id":1795600000000,"time":1795600000500,"platform":"Web","language":"fr-FR",
            "ip":"$remote","insert_id":"ins-1","partner_id":null,"event_type":"Song Played",
            "event_properties":{"genre":"jazz"},"event_id":7,"library":"amplitude-ts/2.46.0",
            "user_agent":"Mozilla/5.0","app_version":"3.1","location_lat":48.85,"idfa":"ad-id"}],
            "options":{},"client_upload_time":"2026-11-22T10:00:01.000Z","request_metadata":{"sdk":{}}}"#;
        let upload = upload(body, &Limits::default()).unwrap();
        assert_eq!(upload.api_key, "pk_demo");
        let d = upload.events.into_iter().next().unwrap().unwrap();
        let ev = d.event;
        assert_eq!(d.ip, ClientIp::Request);
        assert_eq!(ev.kind, EventType::Track);
        assert_eq!(ev.event.as_deref(), Some("Song Played"));
        assert_eq!(ev.message_id, "ins-1");
        assert_eq!(ev.user_id.as_deref(), Some("user-1"));
        assert_eq!(ev.anonymous_id.as_deref(), Some("dev-1"));
        assert_eq!(ev.session_id, Some(1_795_600_000_000));
        assert_eq!(ev.sequence, Some(7));
        assert_eq!(ev.timestamp.unwrap().as_millisecond(), 1_795_600_000_500);
        assert_eq!(ev.sent_at.unwrap().to_string(), "2026-11-22T10:00:01Z");
        assert_eq!(ev.properties.as_ref().unwrap().get(), r#"{"genre":"jazz"}"#);
        assert_eq!(
            json_of(&ev.context),
            json!({"library": {"name": "amplitude-ts", "version": "2.46.0"},
                   "userAgent": "Mozilla/5.0", "locale": "fr-FR", "app": {"version": "3.1"},
                   "amplitude": {"platform": "Web"}}),
            "the precise location and the advertising id are dropped"
        );
    }

    #[test]
    fn special_event_types_become_identify_group_and_page() {
        let identify = one(json!({"event_type": "$identify", "user_id": "u-1",
            "user_properties": {"$setOnce": {"first": "a", "plan": "free"}, "$set": {"plan": "pro"},
                                "$add": {"logins": 1}}}))
        .unwrap()
        .event;
        assert_eq!(identify.kind, EventType::Identify);
        assert_eq!(
            json_of(&identify.traits),
            json!({"first": "a", "plan": "pro"})
        );
        assert_eq!(
            json_of(&identify.context),
            json!({"amplitude": {"userPropertyOperations": {"$add": {"logins": 1}}}})
        );

        let group = one(json!({"event_type": "$groupidentify", "device_id": "d-1",
            "groups": {"company": "Acme"}, "group_properties": {"$set": {"seats": 12}}}))
        .unwrap()
        .event;
        assert_eq!(group.kind, EventType::Group);
        assert_eq!(group.group_id.as_deref(), Some("Acme"));
        assert_eq!(json_of(&group.traits), json!({"seats": 12}));
        assert_eq!(
            json_of(&group.context),
            json!({"amplitude": {"groupType": "company"}})
        );

        let page = one(
            json!({"event_type": "[Amplitude] Page Viewed", "device_id": "d-1",
            "event_properties": {"[Amplitude] Page Path": "/"}}),
        )
        .unwrap()
        .event;
        assert_eq!(page.kind, EventType::Page);
        assert_eq!(page.event, None);
        assert_eq!(
            page.properties.unwrap().get(),
            r#"{"[Amplitude] Page Path": "/"}"#.replace(": ", ":")
        );
    }

    #[test]
    fn plain_user_properties_are_the_traits_themselves() {
        let ev = one(json!({"event_type": "Login", "device_id": "d-1",
            "user_properties": {"Cohort": "A"}}))
        .unwrap()
        .event;
        assert_eq!(ev.traits.unwrap().get(), r#"{"Cohort":"A"}"#);
    }

    #[test]
    fn the_address_is_the_requests_only_when_asked_for() {
        let ip = |v: Value| {
            let mut ev = json!({"event_type": "e", "device_id": "d-1"});
            if !v.is_null() {
                ev["ip"] = v;
            }
            one(ev).map(|d| d.ip)
        };
        assert_eq!(ip(json!("$remote")), Ok(ClientIp::Request));
        assert_eq!(
            ip(Value::Null),
            Ok(ClientIp::Unknown),
            "trackingOptions.ipAddress: false"
        );
        assert_eq!(
            ip(json!("198.51.100.4")),
            Ok(ClientIp::Given("198.51.100.4".parse().unwrap()))
        );
        assert_eq!(
            ip(json!("somewhere")).unwrap_err().to_string(),
            "`ip` must be \"$remote\" or an IP address"
        );
    }

    #[test]
    fn no_session_is_minus_one_and_revenue_fields_join_the_properties() {
        let ev = one(
            json!({"event_type": "Purchase", "device_id": "d-1", "session_id": -1,
            "event_properties": {"sku": "x"}, "price": 9.5, "quantity": 2, "productId": "p-1"}),
        )
        .unwrap()
        .event;
        assert_eq!(ev.session_id, None);
        assert_eq!(
            json_of(&ev.properties),
            json!({"sku": "x", "price": 9.5, "quantity": 2, "productId": "p-1"})
        );
    }

    #[test]
    fn each_bad_event_is_rejected_with_the_amplitude_field_at_fault() {
        let cases = [
            (
                json!({"device_id": "d"}),
                "`event_type` is required for track events",
            ),
            (
                json!({"event_type": ""}),
                "`event_type` is required for track events",
            ),
            (json!({"event_type": 3}), "`event_type` must be a string"),
            (
                json!({"event_type": "e", "time": "noon"}),
                "`time` must be an integer",
            ),
            (
                json!({"event_type": "e", "time": i64::MAX}),
                "`time` is out of range",
            ),
            (
                json!({"event_type": "e", "event_properties": [1]}),
                "`event_properties` must be a JSON object",
            ),
            (
                json!({"event_type": "e", "user_properties": "x"}),
                "`user_properties` must be a JSON object",
            ),
            (
                json!({"event_type": "e", "user_properties": {"$set": 1}}),
                "`user_properties` has a $set or $setOnce that is not a JSON object",
            ),
            (
                json!({"event_type": "e", "insert_id": ""}),
                "`insert_id` must not be empty",
            ),
            (
                json!({"event_type": "e", "device_id": {}}),
                "`device_id` must be a string or an integer",
            ),
            (
                json!({"event_type": "e", "session_id": 1.5}),
                "`session_id` must be an integer",
            ),
            (
                json!({"event_type": "e", "price": "free"}),
                "`price` must be a number",
            ),
            (
                json!({"event_type": "$identify"}),
                "`user_id` is required for identify events",
            ),
            (
                json!({"event_type": "$groupidentify", "device_id": "d"}),
                "`groups` is required for group events",
            ),
            (
                json!({"event_type": "$groupidentify", "groups": {"a": "x", "b": "y"}}),
                "`groups` must name exactly one group, e.g. {\"company\": \"Acme\"}",
            ),
            (json!("not an event"), "the event is not a JSON object"),
        ];
        for (event, reason) in cases {
            let err = one(event.clone()).expect_err(&event.to_string());
            assert_eq!(err.to_string(), reason, "{event}");
        }
    }

    #[test]
    fn a_body_that_cannot_be_read_fails_as_a_whole() {
        let limits = Limits::default();
        let err = |body: &str| upload(body.as_bytes(), &limits).unwrap_err();
        assert_eq!(
            err(r#"{"events":[]}"#),
            BodyError::Missing { field: "api_key" }
        );
        assert_eq!(
            err(r#"{"api_key":"k"}"#),
            BodyError::Missing { field: "events" }
        );
        assert_eq!(
            err(r#"{"api_key":1,"events":[]}"#),
            BodyError::Invalid {
                field: "api_key",
                expected: "a string"
            }
        );
        assert_eq!(
            err(r#"{"api_key":"k","events":{}}"#),
            BodyError::Invalid {
                field: "events",
                expected: "an array of events"
            }
        );
        assert!(matches!(err("[1]"), BodyError::NotJson(_)));
        let big = format!(
            r#"{{"api_key":"k","events":["{}"]}}"#,
            "x".repeat(limits.batch_bytes)
        );
        assert!(matches!(
            err(&big),
            BodyError::TooLarge { what: "events", .. }
        ));
    }
}

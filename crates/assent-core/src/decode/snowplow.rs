//! Snowplow's tracker protocol, as `@snowplow/browser-tracker` v4 speaks it: `POST
//! /com.snowplowanalytics.snowplow/tp2` with a `payload_data` envelope, or one event in the
//! query string of `GET /i`.
//!
//! Every value in the protocol is a string under a short name (`e`, `eid`, `duid`, …). Each
//! event becomes one canonical [`Event`]; `docs/compatibility.md` has the full mapping table,
//! including what is dropped and why. The project is chosen by the app id (`aid`), which is
//! therefore handed back beside the event.

use std::collections::BTreeMap;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json_build::{insert_some, raw_object};
use super::{check_body_size, parse_object, ClientIp};
use crate::{BodyError, Event, EventType, Limits, Rejection};

/// The schema every `POST …/tp2` body declares, any `1-0-*` revision.
pub const PAYLOAD_DATA: &str = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-";
const UNSTRUCT_EVENT: &str = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-";
const CONTEXTS: &str = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-";
/// The entity the tracker attaches with its session, which is full of identifiers.
const CLIENT_SESSION: &str = "iglu:com.snowplowanalytics.snowplow/client_session/";

/// What the request around the events says, beyond its body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The request carried `SP-Anonymous` (the tracker's server anonymisation): every
    /// identifier is dropped, whatever the events still carry.
    pub anonymous: bool,
    /// The `User-Agent` header: Snowplow trackers send the browser's own in the header only.
    pub user_agent: Option<&'a str>,
}

/// One Snowplow event, canonical, with the app id that chooses its project and the address
/// it asks for.
#[derive(Debug)]
pub struct Decoded {
    pub app_id: Option<String>,
    pub event: Event,
    pub ip: ClientIp,
}

/// Decodes a `POST /com.snowplowanalytics.snowplow/tp2` body: one slot per event, in order.
///
/// ```
/// use assent_core::decode::snowplow::{self, Request};
/// use assent_core::{EventType, Limits};
/// let body = br#"{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[
///   {"e":"pv","eid":"0b9e5b8e-0000-4000-8000-000000000001","aid":"shop-web","duid":"d-1",
///    "url":"https://shop.example/","page":"Home","dtm":"1795600000000","stm":"1795600000100"}]}"#;
/// let events = snowplow::post(body, &Request::default(), &Limits::default()).unwrap();
/// let pv = events[0].as_ref().unwrap();
/// assert_eq!(pv.app_id.as_deref(), Some("shop-web"));
/// assert_eq!(pv.event.kind, EventType::Page);
/// assert_eq!(pv.event.anonymous_id.as_deref(), Some("d-1"));
/// ```
pub fn post(
    body: &[u8],
    request: &Request,
    limits: &Limits,
) -> Result<Vec<Result<Decoded, Rejection>>, BodyError> {
    check_body_size(body, limits)?;
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        schema: Option<&'a RawValue>,
        #[serde(borrow)]
        data: Option<&'a RawValue>,
    }
    let envelope: Envelope = parse_object(body)?;
    let schema: String = serde_json::from_str(
        envelope
            .schema
            .ok_or(BodyError::Missing { field: "schema" })?
            .get(),
    )
    .map_err(|_| BodyError::Invalid {
        field: "schema",
        expected: "a string",
    })?;
    if !schema.starts_with(PAYLOAD_DATA) {
        return Err(BodyError::Invalid {
            field: "schema",
            expected: "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-*",
        });
    }
    let data = envelope.data.ok_or(BodyError::Missing { field: "data" })?;
    if data.get().len() > limits.batch_bytes {
        return Err(BodyError::TooLarge {
            what: "data",
            size: data.get().len(),
            limit: limits.batch_bytes,
        });
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(data.get()).map_err(|_| BodyError::Invalid {
            field: "data",
            expected: "an array of events",
        })?;
    Ok(items
        .into_iter()
        .map(|raw| {
            let text = super::event_text(raw, limits)?;
            let map: Map<String, Value> = serde_json::from_str(text)
                .map_err(|e| Rejection::invalid("event", e.to_string()))?;
            let mut params = Params::default();
            for (key, value) in map {
                let value = match value {
                    Value::String(s) => s,
                    // The protocol says strings; some trackers send numbers as numbers.
                    Value::Number(n) => n.to_string(),
                    Value::Null => continue,
                    _ => {
                        return Err(Rejection::invalid(
                            "event",
                            format!("has a value for {key:?} that is not a string"),
                        ))
                    }
                };
                params.0.entry(key).or_insert(value);
            }
            event(&params, request, limits)
        })
        .collect())
}

/// Decodes the query string of `GET /i` (without the `?`): one event.
///
/// ```
/// use assent_core::decode::snowplow::{self, Request};
/// use assent_core::{EventType, Limits};
/// let query = "e=se&se_ca=video&se_ac=play&se_va=12.5&aid=shop-web&eid=e-1&tv=js-4.10.1";
/// let se = snowplow::get(query, &Request::default(), &Limits::default()).unwrap();
/// assert_eq!(se.event.kind, EventType::Track);
/// assert_eq!(se.event.event.as_deref(), Some("play"));
/// assert_eq!(
///     se.event.properties.unwrap().get(),
///     r#"{"action":"play","category":"video","value":12.5}"#
/// );
/// ```
pub fn get(query: &str, request: &Request, limits: &Limits) -> Result<Decoded, Rejection> {
    if query.len() > limits.event_bytes {
        return Err(Rejection::TooLarge {
            size: query.len(),
            limit: limits.event_bytes,
        });
    }
    let mut params = Params::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        params
            .0
            .entry(key.into_owned())
            .or_insert(value.into_owned());
    }
    event(&params, request, limits)
}

/// One event's parameters; the first of a repeated name wins.
#[derive(Default)]
struct Params(BTreeMap<String, String>);

impl Params {
    /// A parameter, with an empty value counted as absent (trackers send `uid=` for none).
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn text(&self, key: &'static str) -> Result<Option<String>, Rejection> {
        match self.get(key) {
            Some(v) if v.chars().count() > 8192 => {
                Err(Rejection::invalid(key, "is longer than 8192 characters"))
            }
            v => Ok(v.map(str::to_string)),
        }
    }

    fn id(&self, key: &'static str, limits: &Limits) -> Result<Option<String>, Rejection> {
        match self.get(key) {
            Some(v) if v.chars().count() > limits.id_chars => Err(Rejection::invalid(
                key,
                format!("is longer than {} characters", limits.id_chars),
            )),
            v => Ok(v.map(str::to_string)),
        }
    }

    fn integer(&self, key: &'static str) -> Result<Option<i64>, Rejection> {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| Rejection::invalid(key, "must be an integer"))
            })
            .transpose()
    }

    fn number(&self, key: &'static str) -> Result<Option<serde_json::Number>, Rejection> {
        self.get(key)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .ok_or_else(|| Rejection::invalid(key, "must be a number"))
            })
            .transpose()
    }

    fn millis(&self, key: &'static str) -> Result<Option<Timestamp>, Rejection> {
        self.integer(key)?
            .map(|ms| {
                Timestamp::from_millisecond(ms)
                    .map_err(|_| Rejection::invalid(key, "must be milliseconds since 1970"))
            })
            .transpose()
    }

    /// A JSON parameter sent plain (`ue_pr`, `co`) or base64url-encoded (`ue_px`, `cx`).
    fn json(
        &self,
        plain: &'static str,
        encoded: &'static str,
    ) -> Result<Option<(&'static str, Value)>, Rejection> {
        if let Some(text) = self.get(plain) {
            let value = serde_json::from_str(text)
                .map_err(|_| Rejection::invalid(plain, "must be JSON"))?;
            return Ok(Some((plain, value)));
        }
        let Some(text) = self.get(encoded) else {
            return Ok(None);
        };
        let bytes = base64_any(text)
            .ok_or_else(|| Rejection::invalid(encoded, "must be base64url-encoded JSON"))?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|_| Rejection::invalid(encoded, "must be base64url-encoded JSON"))?;
        Ok(Some((encoded, value)))
    }
}

/// Snowplow trackers encode base64url without padding; older ones used the standard
/// alphabet. Both are accepted, with or without padding.
fn base64_any(text: &str) -> Option<Vec<u8>> {
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, config)
        .decode(text)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::STANDARD, config).decode(text))
        .ok()
}

fn event(p: &Params, request: &Request, limits: &Limits) -> Result<Decoded, Rejection> {
    let e = p
        .get("e")
        .ok_or_else(|| Rejection::invalid("e", "is required"))?;
    let mut snowplow = Map::new();
    let mut page = Map::new();
    insert_some(&mut page, "url", p.text("url")?);
    insert_some(&mut page, "title", p.text("page")?);
    insert_some(&mut page, "referrer", p.text("refr")?);

    let mut properties = Map::new();
    let (kind, name) = match e {
        "pv" => {
            properties.extend(page.clone());
            (EventType::Page, None)
        }
        "pp" => {
            properties.extend(page.clone());
            for (key, name) in [
                ("pp_mix", "minXOffset"),
                ("pp_max", "maxXOffset"),
                ("pp_miy", "minYOffset"),
                ("pp_may", "maxYOffset"),
            ] {
                insert_some(&mut properties, name, p.integer(key)?);
            }
            (EventType::Track, Some("Page Ping".to_string()))
        }
        "se" => {
            let action = p.text("se_ac")?.ok_or(Rejection::Missing {
                field: "se_ac",
                kind: EventType::Track,
            })?;
            insert_some(&mut properties, "category", p.text("se_ca")?);
            properties.insert("action".into(), Value::String(action.clone()));
            insert_some(&mut properties, "label", p.text("se_la")?);
            insert_some(&mut properties, "property", p.text("se_pr")?);
            insert_some(&mut properties, "value", p.number("se_va")?);
            (EventType::Track, Some(action))
        }
        "ue" => {
            let (field, value) = p.json("ue_pr", "ue_px")?.ok_or(Rejection::Missing {
                field: "ue_pr",
                kind: EventType::Track,
            })?;
            let (schema, data) = self_describing(value, field)?;
            let (inner_schema, inner_data) = match schema.starts_with(UNSTRUCT_EVENT) {
                true => self_describing(data, field)?,
                false => {
                    return Err(Rejection::invalid(
                        field,
                        "must be an unstruct_event self-describing JSON",
                    ))
                }
            };
            let name = schema_name(&inner_schema).ok_or_else(|| {
                Rejection::invalid(
                    field,
                    "has a schema that is not iglu:vendor/name/format/version",
                )
            })?;
            match inner_data {
                Value::Object(data) => properties.extend(data),
                _ => {
                    return Err(Rejection::invalid(
                        field,
                        "has data that is not a JSON object",
                    ))
                }
            }
            snowplow.insert("schema".into(), Value::String(inner_schema));
            (EventType::Track, Some(name))
        }
        other => {
            return Err(Rejection::invalid(
                "e",
                format!("must be one of pv, pp, se, ue (got {other:?})"),
            ))
        }
    };

    if let Some((field, value)) = p.json("co", "cx")? {
        let (schema, data) = self_describing(value, field)?;
        let Value::Array(mut entities) = data else {
            return Err(Rejection::invalid(field, "must hold an array of entities"));
        };
        if !schema.starts_with(CONTEXTS) {
            return Err(Rejection::invalid(
                field,
                "must be a contexts self-describing JSON",
            ));
        }
        if request.anonymous {
            // The session entity repeats the user and session ids the request asked to hide.
            entities.retain(|entity| {
                !entity
                    .get("schema")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.starts_with(CLIENT_SESSION))
            });
        }
        if !entities.is_empty() {
            snowplow.insert("entities".into(), Value::Array(entities));
        }
    }

    let app_id = p.id("aid", limits)?;
    insert_some(&mut snowplow, "appId", app_id.clone());
    insert_some(&mut snowplow, "platform", p.text("p")?);
    insert_some(&mut snowplow, "namespace", p.text("tna")?);

    let (anonymous_id, user_id, ip) = if request.anonymous {
        (None, None, ClientIp::Unknown)
    } else {
        insert_some(&mut snowplow, "domainSessionId", p.id("sid", limits)?);
        insert_some(&mut snowplow, "domainSessionIndex", p.integer("vid")?);
        let ip = match p.get("ip") {
            None => ClientIp::Request,
            Some(ip) => ClientIp::Given(
                ip.parse()
                    .map_err(|_| Rejection::invalid("ip", "must be an IP address"))?,
            ),
        };
        (p.id("duid", limits)?, p.id("uid", limits)?, ip)
    };

    let mut context = Map::new();
    if !page.is_empty() {
        context.insert("page".into(), Value::Object(page));
    }
    let user_agent = match p.text("ua")? {
        Some(ua) => Some(ua),
        None => request.user_agent.map(str::to_string),
    };
    insert_some(&mut context, "userAgent", user_agent);
    insert_some(&mut context, "locale", p.text("lang")?);
    insert_some(&mut context, "timezone", p.text("tz")?);
    if let Some(res) = p.get("res") {
        let screen = res
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
            .ok_or_else(|| Rejection::invalid("res", "must be WIDTHxHEIGHT"))?;
        context.insert(
            "screen".into(),
            serde_json::json!({"width": screen.0, "height": screen.1}),
        );
    }
    if let Some(tv) = p.text("tv")? {
        context.insert(
            "library".into(),
            serde_json::json!({"name": "snowplow", "version": tv}),
        );
    }
    if !snowplow.is_empty() {
        context.insert("snowplow".into(), Value::Object(snowplow));
    }

    // A true timestamp (`ttm`) is the time the event happened by a clock the sender vouches
    // for: it is kept as is, without the skew correction that `stm` would trigger.
    let (timestamp, sent_at) = match p.millis("ttm")? {
        Some(ttm) => (Some(ttm), None),
        None => (p.millis("dtm")?, p.millis("stm")?),
    };
    let event = Event {
        message_id: p.id("eid", limits)?.unwrap_or_default(),
        kind,
        event: name,
        name: None,
        properties: raw_object(properties),
        traits: None,
        anonymous_id,
        user_id,
        group_id: None,
        previous_id: None,
        session_id: None,
        sequence: None,
        timestamp,
        sent_at,
        context: raw_object(context),
    };
    super::free_form::check_event(&event)?;
    Ok(Decoded { app_id, event, ip })
}

/// `{"schema": "iglu:…", "data": …}`.
fn self_describing(value: Value, field: &'static str) -> Result<(String, Value), Rejection> {
    let Value::Object(mut map) = value else {
        return Err(Rejection::invalid(
            field,
            "must be a self-describing JSON object",
        ));
    };
    match (map.remove("schema"), map.remove("data")) {
        (Some(Value::String(schema)), Some(data)) => Ok((schema, data)),
        _ => Err(Rejection::invalid(
            field,
            "must have a string `schema` and a `data`",
        )),
    }
}

/// `iglu:com.acme/button_click/jsonschema/1-0-0` → `button_click`.
fn schema_name(schema: &str) -> Option<String> {
    let mut parts = schema.strip_prefix("iglu:")?.split('/');
    let (_vendor, name, _format, _version) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty() && parts.next().is_none()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    fn post_one(event: Value, request: &Request) -> Result<Decoded, Rejection> {
        let body = json!({"schema": format!("{PAYLOAD_DATA}4"), "data": [event]}).to_string();
        post(body.as_bytes(), request, &Limits::default())
            .unwrap()
            .pop()
            .unwrap()
    }

    fn json_of(raw: &Option<Box<RawValue>>) -> Value {
        serde_json::from_str(raw.as_ref().expect("present").get()).unwrap()
    }

    fn contexts() -> Value {
        json!({"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", "data": [
            {"schema": "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", "data": {"id": "pv-1"}},
            {"schema": "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
             "data": {"userId": "dom-1", "sessionId": "sess-1", "sessionIndex": 3}}]})
    }

    /// What `@snowplow/browser-tracker` 4.10 posts for `trackPageView()`.
    fn page_view() -> Value {
        json!({"e": "pv", "url": "http://www.shop.test/p?q=1", "page": "Shop", "refr": "http://other.test/",
            "eid": "7c0c5d9c-0e6b-4a43-9d0d-5ac6b2f3e3b1", "tv": "js-4.10.1", "tna": "sp", "aid": "shop-web",
            "p": "web", "cookie": "1", "cs": "UTF-8", "lang": "en-US", "res": "1280x720", "cd": "24",
            "tz": "Europe/Paris", "dtm": "1795600000000", "vp": "1280x720", "ds": "1280x2000",
            "vid": "3", "sid": "sess-1", "duid": "dom-1", "uid": "user-1", "stm": "1795600000250",
            "co": contexts().to_string()})
    }

    #[test]
    fn a_browser_tracker_page_view_maps_every_field() {
        let request = Request {
            anonymous: false,
            user_agent: Some("Mozilla/5.0 (X11)"),
        };
        let d = post_one(page_view(), &request).unwrap();
        assert_eq!(d.app_id.as_deref(), Some("shop-web"));
        assert_eq!(d.ip, ClientIp::Request);
        let ev = d.event;
        assert_eq!(ev.kind, EventType::Page);
        assert_eq!(ev.message_id, "7c0c5d9c-0e6b-4a43-9d0d-5ac6b2f3e3b1");
        assert_eq!(ev.anonymous_id.as_deref(), Some("dom-1"));
        assert_eq!(ev.user_id.as_deref(), Some("user-1"));
        assert_eq!(ev.timestamp.unwrap().as_millisecond(), 1_795_600_000_000);
        assert_eq!(ev.sent_at.unwrap().as_millisecond(), 1_795_600_000_250);
        let page = json!({"url": "http://www.shop.test/p?q=1", "title": "Shop", "referrer": "http://other.test/"});
        assert_eq!(json_of(&ev.properties), page);
        assert_eq!(
            json_of(&ev.context),
            json!({"page": page, "userAgent": "Mozilla/5.0 (X11)", "locale": "en-US",
                   "timezone": "Europe/Paris", "screen": {"width": 1280, "height": 720},
                   "library": {"name": "snowplow", "version": "js-4.10.1"},
                   "snowplow": {"appId": "shop-web", "platform": "web", "namespace": "sp",
                                "domainSessionId": "sess-1", "domainSessionIndex": 3,
                                "entities": contexts()["data"]}})
        );
    }

    #[test]
    fn server_anonymisation_drops_every_identifier() {
        let mut event = page_view();
        event["ip"] = json!("198.51.100.4");
        event["nuid"] = json!("net-1");
        let request = Request {
            anonymous: true,
            user_agent: None,
        };
        let d = post_one(event, &request).unwrap();
        assert_eq!(d.ip, ClientIp::Unknown);
        assert_eq!((d.event.anonymous_id, d.event.user_id), (None, None));
        let context = json_of(&d.event.context);
        let text = context.to_string();
        for id in ["dom-1", "user-1", "sess-1", "net-1", "198.51.100.4"] {
            assert!(!text.contains(id), "{id} survived in {text}");
        }
        assert_eq!(
            context["snowplow"]["entities"],
            json!([contexts()["data"][0]])
        );
    }

    #[test]
    fn self_describing_events_and_entities_may_be_base64url_encoded() {
        let ue = json!({"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
            "data": {"schema": "iglu:com.acme/button_click/jsonschema/1-0-0", "data": {"id": "buy", "n": 2}}});
        for (ue_field, co_field, encode) in [("ue_pr", "co", false), ("ue_px", "cx", true)] {
            let enc = |v: &Value| {
                let text = v.to_string();
                if encode {
                    URL_SAFE_NO_PAD.encode(text)
                } else {
                    text
                }
            };
            let event =
                json!({"e": "ue", ue_field: enc(&ue), co_field: enc(&contexts()), "aid": "a"});
            let ev = post_one(event, &Request::default()).unwrap().event;
            assert_eq!(ev.kind, EventType::Track);
            assert_eq!(ev.event.as_deref(), Some("button_click"));
            assert_eq!(json_of(&ev.properties), json!({"id": "buy", "n": 2}));
            let context = json_of(&ev.context);
            assert_eq!(
                context["snowplow"]["schema"],
                "iglu:com.acme/button_click/jsonschema/1-0-0"
            );
            assert_eq!(context["snowplow"]["entities"], contexts()["data"]);
        }
        // Padding and the standard alphabet, as older trackers sent them, are read too.
        let padded = base64::engine::general_purpose::STANDARD.encode(ue.to_string());
        let ev = post_one(json!({"e": "ue", "ue_px": padded}), &Request::default()).unwrap();
        assert_eq!(ev.event.event.as_deref(), Some("button_click"));
    }

    #[test]
    fn structured_events_page_pings_and_true_timestamps() {
        let se = get(
            "e=se&se_ca=shop&se_ac=add%20to%20cart&se_la=sku-1&se_pr=red&se_va=2",
            &Request::default(),
            &Limits::default(),
        )
        .unwrap()
        .event;
        assert_eq!(se.event.as_deref(), Some("add to cart"));
        assert_eq!(
            json_of(&se.properties),
            json!({"category": "shop", "action": "add to cart", "label": "sku-1", "property": "red", "value": 2.0})
        );

        let pp = get(
            "e=pp&pp_mix=0&pp_max=10&pp_miy=5&pp_may=400&url=http%3A%2F%2Fs.test%2F",
            &Request::default(),
            &Limits::default(),
        )
        .unwrap()
        .event;
        assert_eq!(pp.event.as_deref(), Some("Page Ping"));
        assert_eq!(
            json_of(&pp.properties),
            json!({"url": "http://s.test/", "minXOffset": 0, "maxXOffset": 10, "minYOffset": 5, "maxYOffset": 400})
        );

        let ttm = get(
            "e=pv&dtm=1000&stm=2000&ttm=1500",
            &Request::default(),
            &Limits::default(),
        )
        .unwrap()
        .event;
        assert_eq!(ttm.timestamp.unwrap().as_millisecond(), 1500);
        assert_eq!(ttm.sent_at, None, "a true timestamp is not skew-corrected");
    }

    #[test]
    fn each_bad_event_is_rejected_with_the_parameter_at_fault() {
        let cases = [
            ("aid=a", "`e` is required"),
            ("e=tr", "`e` must be one of pv, pp, se, ue (got \"tr\")"),
            ("e=pv&dtm=yesterday", "`dtm` must be an integer"),
            (
                "e=pv&stm=99999999999999999",
                "`stm` must be milliseconds since 1970",
            ),
            ("e=pv&res=big", "`res` must be WIDTHxHEIGHT"),
            ("e=pv&vid=x", "`vid` must be an integer"),
            ("e=pv&ip=home", "`ip` must be an IP address"),
            ("e=se&se_ca=c", "`se_ac` is required for track events"),
            ("e=se&se_ac=a&se_va=much", "`se_va` must be a number"),
            ("e=ue", "`ue_pr` is required for track events"),
            ("e=ue&ue_px=%%%", "`ue_px` must be base64url-encoded JSON"),
            (
                "e=ue&ue_pr=%7B%7D",
                "`ue_pr` must have a string `schema` and a `data`",
            ),
            (
                "e=ue&ue_pr=%7B%22schema%22%3A%22x%22%2C%22data%22%3A1%7D",
                "`ue_pr` must be an unstruct_event self-describing JSON",
            ),
            (
                "e=pv&co=%5B%5D",
                "`co` must be a self-describing JSON object",
            ),
        ];
        for (query, reason) in cases {
            let err = get(query, &Request::default(), &Limits::default()).expect_err(query);
            assert_eq!(err.to_string(), reason, "{query}");
        }
        let long_id = format!("e=pv&duid={}", "d".repeat(300));
        assert_eq!(
            get(&long_id, &Request::default(), &Limits::default())
                .unwrap_err()
                .to_string(),
            "`duid` is longer than 256 characters"
        );
        let not_string = post_one(json!({"e": "pv", "co": {"a": 1}}), &Request::default());
        assert_eq!(
            not_string.unwrap_err().to_string(),
            "`event` has a value for \"co\" that is not a string"
        );
    }

    #[test]
    fn a_body_that_cannot_be_read_fails_as_a_whole() {
        let err = |body: &str| {
            post(body.as_bytes(), &Request::default(), &Limits::default()).unwrap_err()
        };
        assert_eq!(
            err(r#"{"data":[]}"#),
            BodyError::Missing { field: "schema" }
        );
        assert!(matches!(
            err(r#"{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":[]}"#),
            BodyError::Invalid {
                field: "schema",
                ..
            }
        ));
        let schema = format!("{PAYLOAD_DATA}4");
        assert_eq!(
            err(&json!({"schema": schema}).to_string()),
            BodyError::Missing { field: "data" }
        );
        assert!(matches!(
            err(&json!({"schema": schema, "data": {}}).to_string()),
            BodyError::Invalid { field: "data", .. }
        ));
        // Numbers are accepted where the protocol says strings; one bad event spares the rest.
        let body = json!({"schema": schema, "data": [{"e": "pv", "dtm": 1000}, "x", {"e": "pv"}]});
        let events = post(
            body.to_string().as_bytes(),
            &Request::default(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            events[0]
                .as_ref()
                .unwrap()
                .event
                .timestamp
                .unwrap()
                .as_millisecond(),
            1000
        );
        assert_eq!(events[1].as_ref().unwrap_err(), &Rejection::NotAnObject);
        assert!(events[2].is_ok());
    }
}

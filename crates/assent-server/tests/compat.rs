//! Drop-in compatibility over real HTTP and SQLite: Segment, Amplitude and Snowplow requests
//! as their trackers send them, and the answers those trackers expect.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use support::{TestServer, ADMIN_TOKEN, WRITE_KEY};

const SNOWPLOW_APP: &str = "shop-web";

async fn server() -> TestServer {
    TestServer::start_with(
        "127.0.0.1:0",
        "",
        &format!(
            "snowplow_app_ids = [\"{SNOWPLOW_APP}\"]\nallowed_origins = [\"http://www.shop.test\"]"
        ),
    )
    .await
}

/// One stored row as JSON: the columns plus the payload, parsed.
fn row(server: &TestServer, message_id: &str) -> Value {
    server
        .db()
        .query_row(
            "SELECT json_object('type', type, 'event', event, 'anonymous_id', anonymous_id,
                    'user_id', user_id, 'group_id', group_id, 'session_id', session_id,
                    'sequence', sequence, 'timestamp', timestamp, 'sent_at', sent_at, 'ip', ip,
                    'payload', json(payload))
             FROM events WHERE message_id = ?1",
            [message_id],
            |r| r.get::<_, String>(0),
        )
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap_or_else(|e| panic!("no row for {message_id}: {e}"))
}

async fn send(
    server: &TestServer,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let body = body.to_string();
    server
        .post_raw(path, |mut r| {
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.body(body)
        })
        .await
}

// ---------------------------------------------------------------- Segment

#[tokio::test]
async fn segment_short_paths_take_text_plain_with_the_key_in_the_body_or_basic_auth() {
    let server = server().await;
    let text_plain = [
        ("content-type", "text/plain"),
        ("origin", "http://www.shop.test"),
    ];
    let cases = [
        (
            "t",
            json!({"event": "Clicked", "anonymousId": "a-1"}),
            "track",
        ),
        ("p", json!({"name": "Home", "anonymousId": "a-1"}), "page"),
        ("s", json!({"name": "Cart", "anonymousId": "a-1"}), "screen"),
        (
            "i",
            json!({"userId": "u-1", "traits": {"plan": "pro"}}),
            "identify",
        ),
        ("g", json!({"groupId": "g-1", "userId": "u-1"}), "group"),
        ("a", json!({"previousId": "a-1", "userId": "u-1"}), "alias"),
    ];
    for (short, mut body, kind) in cases {
        let id = format!("seg-{short}");
        body["messageId"] = id.clone().into();
        body["writeKey"] = WRITE_KEY.into();
        body["userId"] = body.get("userId").cloned().unwrap_or(Value::Null);
        let (status, answer) = send(&server, &format!("/v1/{short}"), &body, &text_plain).await;
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (200, Some(1)),
            "{short}: {answer}"
        );
        assert_eq!(row(&server, &id)["type"], kind);
    }
    // A retry of the same message is acknowledged and stored once.
    let body = json!({"event": "Clicked", "messageId": "seg-t", "writeKey": WRITE_KEY});
    let (status, answer) = send(&server, "/v1/t", &body, &text_plain).await;
    assert_eq!((status, answer["duplicates"].as_u64()), (200, Some(1)));
    assert_eq!(server.count("SELECT count(*) FROM events"), 6);

    // analytics.js sends the key as Basic auth too; without it in the body that is enough.
    let (status, _) = server
        .post("/v1/t", &json!({"event": "Auth", "messageId": "seg-auth"}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn segment_batches_are_accepted_at_b_and_v1_b() {
    let server = server().await;
    for path in ["/v1/b", "/b"] {
        let id = format!("batch{}", path.replace('/', "-"));
        let body = json!({"writeKey": WRITE_KEY, "sentAt": "2026-11-22T10:00:00Z",
            "batch": [{"type": "track", "event": "E", "messageId": id}]});
        let (status, answer) = send(&server, path, &body, &[("content-type", "text/plain")]).await;
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (200, Some(1)),
            "{path}"
        );
    }
    assert_eq!(server.count("SELECT count(*) FROM events"), 2);
}

#[tokio::test]
async fn segment_preflights_allow_authorization_and_the_retry_count_header() {
    let server = server().await;
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/t", server.url))
        .header("origin", "http://www.shop.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-retry-count",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for name in ["authorization", "content-type", "x-retry-count"] {
        assert!(allowed.contains(name), "{allowed}");
    }
}

#[tokio::test]
async fn segment_settings_send_analytics_js_back_to_the_collector() {
    let server = server().await;
    let res = server
        .get(&format!("/v1/projects/{WRITE_KEY}/settings"))
        .await;
    assert_eq!(res.status(), 200);
    let settings: Value = res.json().await.unwrap();
    assert_eq!(
        settings["integrations"],
        json!({"Segment.io": {"apiKey": WRITE_KEY, "apiHost": format!("{}/v1", server.addr), "protocol": "http"}})
    );
    assert_eq!(
        settings["metrics"]["sampleRate"], 0,
        "Segment's own telemetry is off"
    );

    let behind_tls = server
        .http
        .get(format!("{}/v1/projects/{WRITE_KEY}/settings", server.url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let settings: Value = behind_tls.json().await.unwrap();
    assert_eq!(settings["integrations"]["Segment.io"]["protocol"], "https");

    for key in ["pk_unknown", ADMIN_TOKEN] {
        let res = server.get(&format!("/v1/projects/{key}/settings")).await;
        assert_eq!(res.status(), 401, "{key}");
        let answer: Value = res.json().await.unwrap();
        assert_eq!(answer["error"], "unauthorized");
    }
}

// ---------------------------------------------------------------- Amplitude

fn amplitude_event(insert_id: &str) -> Value {
    json!({"event_type": "Song Played", "device_id": "dev-1", "user_id": "user-1",
           "insert_id": insert_id, "session_id": 1_795_600_000_000_i64, "event_id": 4,
           "time": 1_795_600_000_500_i64, "ip": "$remote", "platform": "Web",
           "library": "amplitude-ts/2.46.0", "event_properties": {"genre": "jazz"}})
}

#[tokio::test]
async fn amplitude_uploads_are_stored_and_answered_in_amplitudes_shape() {
    let server = server().await;
    let mut no_ip = amplitude_event("amp-2");
    no_ip.as_object_mut().unwrap().remove("ip");
    let identify = json!({"event_type": "$identify", "device_id": "dev-1", "user_id": "user-1",
        "insert_id": "amp-3", "user_properties": {"$set": {"plan": "pro"}}});
    let body = json!({"api_key": WRITE_KEY, "client_upload_time": "2026-11-22T10:00:00.000Z",
        "events": [amplitude_event("amp-1"), no_ip, identify]});
    let headers = [
        ("content-type", "application/json"),
        ("origin", "http://www.shop.test"),
    ];
    let (status, answer) = send(&server, "/2/httpapi", &body, &headers).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["code"], 200);
    assert_eq!(answer["events_ingested"], 3);
    assert_eq!(answer["payload_size_bytes"], body.to_string().len());
    assert!(answer["server_upload_time"].as_i64().unwrap() > 1_700_000_000_000);

    let played = row(&server, "amp-1");
    assert_eq!(
        (
            &played["type"],
            &played["event"],
            &played["anonymous_id"],
            &played["user_id"]
        ),
        (
            &json!("track"),
            &json!("Song Played"),
            &json!("dev-1"),
            &json!("user-1")
        )
    );
    assert_eq!(
        (&played["session_id"], &played["sequence"]),
        (&json!(1_795_600_000_000_i64), &json!(4))
    );
    assert_eq!(
        played["ip"], "127.0.0.0",
        "$remote is the request's address, truncated"
    );
    assert_eq!(played["payload"]["properties"], json!({"genre": "jazz"}));
    assert_eq!(
        row(&server, "amp-2")["ip"],
        Value::Null,
        "no ip field: none stored"
    );
    let identified = row(&server, "amp-3");
    assert_eq!(identified["type"], "identify");
    assert_eq!(identified["payload"]["traits"], json!({"plan": "pro"}));

    // The SDK retries a batch whose answer it lost: acknowledged, stored once. `/batch` is
    // the same API.
    let (status, answer) = send(&server, "/batch", &body, &headers).await;
    assert_eq!((status, &answer["events_ingested"]), (200, &json!(3)));
    assert_eq!(server.count("SELECT count(*) FROM events"), 3);
}

#[tokio::test]
async fn amplitude_refusals_use_the_fields_its_sdk_reads() {
    let server = server().await;
    let headers = [("content-type", "application/json")];
    // An invalid event: its index under its field; nothing stored, so the SDK resends the rest.
    let mut bad_time = amplitude_event("bad-1");
    bad_time["time"] = json!("noon");
    let body = json!({"api_key": WRITE_KEY, "events": [amplitude_event("ok-1"), bad_time, {"device_id": "d"}]});
    let (status, answer) = send(&server, "/2/httpapi", &body, &headers).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["code"], 400);
    assert_eq!(answer["events_with_invalid_fields"], json!({"time": [1]}));
    assert_eq!(
        answer["events_with_missing_fields"],
        json!({"event_type": [2]})
    );
    assert_eq!(answer["reasons"][0]["reason"], "`time` must be an integer");
    assert_eq!(server.count("SELECT count(*) FROM events"), 0);

    let (status, answer) = send(&server, "/2/httpapi", &json!({"events": []}), &headers).await;
    assert_eq!(
        (status, answer),
        (
            400,
            json!({"code": 400, "error": "Request missing required field", "missing_field": "api_key"})
        )
    );

    for key in ["pk_unknown", ADMIN_TOKEN] {
        let body = json!({"api_key": key, "events": [amplitude_event("k-1")]});
        let (status, answer) = send(&server, "/2/httpapi", &body, &headers).await;
        assert_eq!(status, 400);
        let error = answer["error"].as_str().unwrap();
        assert!(error.starts_with("Invalid API key"), "{error}");
        assert!(!error.contains(ADMIN_TOKEN), "a secret is never echoed");
    }

    let mut big = amplitude_event("big-1");
    big["event_properties"] = json!({"blob": "x".repeat(40_000)});
    let body = json!({"api_key": WRITE_KEY, "events": [big]});
    let (status, answer) = send(&server, "/2/httpapi", &body, &headers).await;
    assert_eq!((status, &answer["code"]), (413, &json!(413)), "{answer}");

    let (status, answer) = send(
        &server,
        "/2/httpapi",
        &json!({"api_key": WRITE_KEY, "events": [amplitude_event("o-1")]}),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!((status, &answer["code"]), (403, &json!(403)));
    assert_eq!(server.count("SELECT count(*) FROM events"), 0);
}

#[tokio::test]
async fn amplitude_remote_config_gets_a_harmless_answer() {
    let server = server().await;
    let res = server
        .get(&format!("/config/{WRITE_KEY}?config_group=browser"))
        .await;
    assert_eq!(res.status(), 200);
    let config: Value = res.json().await.unwrap();
    assert_eq!(
        config["configs"]["diagnostics"]["browserSDK"]["enabled"],
        false
    );
    assert!(
        config["configs"].get("analyticsSDK").is_none(),
        "no setting of the page is changed"
    );
    assert_eq!(server.get("/config/pk_unknown").await.status(), 401);
}

#[tokio::test]
async fn anonymous_requests_store_no_address_in_any_format() {
    let server = server().await;
    let body = json!({"api_key": WRITE_KEY, "events": [amplitude_event("anon-amp")]});
    let (status, _) = send(&server, "/2/httpapi", &body, &[("x-assent-anonymous", "1")]).await;
    assert_eq!(status, 200);
    assert_eq!(row(&server, "anon-amp")["ip"], Value::Null);
}

// ---------------------------------------------------------------- Snowplow

fn payload_data(events: Value) -> Value {
    json!({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", "data": events})
}

fn snowplow_page_view(eid: &str) -> Value {
    json!({"e": "pv", "eid": eid, "aid": SNOWPLOW_APP, "tv": "js-4.10.1", "p": "web",
           "url": "http://www.shop.test/", "page": "Shop", "duid": "dom-1", "uid": "user-1",
           "sid": "sess-1", "vid": "2", "dtm": "1795600000000", "stm": "1795600000100"})
}

#[tokio::test]
async fn snowplow_posts_are_mapped_stored_once_and_chosen_by_app_id() {
    let server = server().await;
    let ue = json!({"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": {"schema": "iglu:com.acme/add_to_cart/jsonschema/1-0-0", "data": {"sku": "s-1"}}});
    let body = payload_data(json!([
        snowplow_page_view("sp-1"),
        {"e": "ue", "eid": "sp-2", "aid": SNOWPLOW_APP, "ue_px": URL_SAFE_NO_PAD.encode(ue.to_string())},
        {"e": "se", "eid": "sp-3", "aid": "someone-else", "se_ca": "c", "se_ac": "a"},
        {"e": "zz", "eid": "sp-4", "aid": SNOWPLOW_APP},
    ]));
    let headers = [
        ("content-type", "application/json; charset=UTF-8"),
        ("origin", "http://www.shop.test"),
        ("user-agent", "Mozilla/5.0 (compat test)"),
    ];
    let path = "/com.snowplowanalytics.snowplow/tp2";
    let (status, answer) = send(&server, path, &body, &headers).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 2);
    let reasons: Vec<(u64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0].0, 2);
    assert!(
        reasons[0]
            .1
            .starts_with("`aid` \"someone-else\" is not an app id"),
        "{}",
        reasons[0].1
    );
    assert_eq!(
        reasons[1],
        (3, "`e` must be one of pv, pp, se, ue (got \"zz\")")
    );

    let pv = row(&server, "sp-1");
    assert_eq!(
        (&pv["type"], &pv["anonymous_id"], &pv["user_id"]),
        (&json!("page"), &json!("dom-1"), &json!("user-1"))
    );
    assert_eq!(pv["ip"], "127.0.0.0");
    assert_eq!(
        pv["payload"]["context"]["userAgent"],
        "Mozilla/5.0 (compat test)"
    );
    assert_eq!(
        pv["payload"]["context"]["snowplow"]["domainSessionId"],
        "sess-1"
    );
    let ue_row = row(&server, "sp-2");
    assert_eq!(
        (&ue_row["event"], &ue_row["payload"]["properties"]),
        (&json!("add_to_cart"), &json!({"sku": "s-1"}))
    );

    // The tracker retries what it never heard back about: acknowledged, stored once.
    let (status, answer) = send(
        &server,
        path,
        &payload_data(json!([snowplow_page_view("sp-1")])),
        &headers,
    )
    .await;
    assert_eq!((status, &answer["duplicates"]), (200, &json!(1)));
    assert_eq!(server.count("SELECT count(*) FROM events"), 2);
}

#[tokio::test]
async fn snowplow_server_anonymisation_stores_no_identifier_and_no_address() {
    let server = server().await;
    let mut event = snowplow_page_view("sp-anon");
    event["co"] = Value::String(
        json!({"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
        "data": [{"schema": "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
                  "data": {"userId": "dom-1", "sessionId": "sess-1"}}]})
        .to_string(),
    );
    let (status, _) = send(
        &server,
        "/com.snowplowanalytics.snowplow/tp2",
        &payload_data(json!([event])),
        &[("sp-anonymous", "*")],
    )
    .await;
    assert_eq!(status, 200);
    let stored = row(&server, "sp-anon");
    assert_eq!(
        (&stored["anonymous_id"], &stored["user_id"], &stored["ip"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    let text = stored.to_string();
    for id in ["dom-1", "user-1", "sess-1", "127.0.0"] {
        assert!(!text.contains(id), "{id} is stored: {text}");
    }
}

#[tokio::test]
async fn snowplow_get_i_answers_a_gif_or_a_json_error() {
    let server = server().await;
    let res = server
        .get(&format!("/i?e=se&se_ca=video&se_ac=play&eid=sp-get&aid={SNOWPLOW_APP}&url=http%3A%2F%2Fwww.shop.test%2F"))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/gif");
    let gif = res.bytes().await.unwrap();
    assert!(gif.starts_with(b"GIF89a") && gif.len() == 43);
    assert_eq!(row(&server, "sp-get")["event"], "play");

    let cases = [
        ("/i?e=pv&aid=nobody", 401, "aid"),
        ("/i?e=pv", 401, "aid"),
        ("/i?e=pv&aid=shop-web&dtm=soon", 400, "dtm"),
        ("/i", 400, "e"),
    ];
    for (path, status, field) in cases {
        let res = server.get(path).await;
        assert_eq!(res.status(), status, "{path}");
        let answer: Value = res.json().await.unwrap();
        assert_eq!(answer["field"], field, "{path}: {answer}");
    }
}

#[tokio::test]
async fn snowplow_bodies_that_cannot_be_read_name_the_field() {
    let server = server().await;
    let path = "/com.snowplowanalytics.snowplow/tp2";
    let cases = [
        (
            json!({"schema": "iglu:com.acme/x/jsonschema/1-0-0", "data": []}),
            400,
            "schema",
        ),
        (
            json!({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"}),
            400,
            "data",
        ),
        (
            payload_data(json!([{"e": "pv", "aid": "unknown-app"}])),
            401,
            "aid",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = send(&server, path, &body, &[]).await;
        assert_eq!((got, &answer["field"]), (status, &json!(field)), "{answer}");
    }
}

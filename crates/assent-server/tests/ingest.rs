//! Native ingest, as a tracker or a developer with curl sees it: real HTTP, real SQLite.

mod support;

use serde_json::json;
use support::{track, TestServer, ADMIN_TOKEN, WRITE_KEY};

#[tokio::test]
async fn a_batch_is_stored_once_and_a_retry_adds_nothing() {
    let server = TestServer::start().await;
    let batch = json!({"batch": [track("m-1"), track("m-2")], "sentAt": "2026-01-01T00:00:00Z"});

    let (status, answer) = server.post("/v1/batch", &batch).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"accepted": 2, "rejected": [], "duplicates": 0, "withoutIdentifiers": 0})
    );

    // The client never saw the answer and sends the batch again.
    let (status, answer) = server.post("/v1/batch", &batch).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"accepted": 2, "rejected": [], "duplicates": 2, "withoutIdentifiers": 0})
    );

    assert_eq!(server.count("SELECT count(*) FROM events"), 2);
    let (kind, name, anon, props): (String, String, String, String) = server
        .db()
        .query_row(
            "SELECT type, event, anonymous_id, json_extract(payload, '$.properties') FROM events WHERE message_id = 'm-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (kind.as_str(), name.as_str(), anon.as_str()),
        ("track", "Order Completed", "anon-1")
    );
    assert_eq!(props, r#"{"total":42.5}"#);
}

#[tokio::test]
async fn one_bad_event_never_sinks_its_batch() {
    let server = TestServer::start().await;
    let batch = json!({"batch": [
        track("ok-1"),
        {"type": "track", "messageId": "no-name"},
        {"type": "teleport", "messageId": "bad-type"},
        {"type": "identify", "messageId": "bad-traits", "userId": "u1", "traits": [1, 2]},
        "not an event",
        track("ok-2"),
    ]});
    let (status, answer) = server.post("/v1/batch", &batch).await;
    assert_eq!(status, 200);
    assert_eq!(answer["accepted"], 2);
    let rejected: Vec<(u64, String)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(rejected.len(), 4);
    assert_eq!(
        rejected[0],
        (1, "`event` is required for track events".to_string())
    );
    assert_eq!(rejected[1].0, 2);
    assert!(
        rejected[1]
            .1
            .starts_with("`type` must be one of track, page"),
        "{}",
        rejected[1].1
    );
    assert_eq!(
        rejected[2],
        (3, "`traits` must be a JSON object".to_string())
    );
    assert_eq!(
        rejected[3],
        (4, "the event is not a JSON object".to_string())
    );
    assert_eq!(server.count("SELECT count(*) FROM events"), 2);

    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("assent_events_rejected_total{reason=\"missing_field\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("assent_events_rejected_total{reason=\"invalid_field\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_malformed_body_gets_a_400_that_names_the_field() {
    let server = TestServer::start().await;
    let cases = [
        (r#"{"batch": {}}"#, "invalid_body", Some("batch")),
        (r#"{"events": []}"#, "invalid_body", Some("batch")),
        (
            r#"{"batch": [], "sentAt": "yesterday"}"#,
            "invalid_body",
            Some("sentAt"),
        ),
        (
            r#"{"batch": [], "writeKey": 5}"#,
            "invalid_body",
            Some("writeKey"),
        ),
        (r#"{"batch": [}"#, "invalid_json", None),
        ("[]", "invalid_json", None),
    ];
    for (body, code, field) in cases {
        let (status, answer) = server
            .post_raw("/v1/batch", |r| {
                r.basic_auth(WRITE_KEY, Some("")).body(body)
            })
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"], code, "{body}");
        assert_eq!(answer["field"].as_str(), field, "{body}");
        assert!(answer["message"].as_str().unwrap().len() > 10, "{body}");
    }
}

#[tokio::test]
async fn single_event_endpoints_take_their_type_from_the_path() {
    let server = TestServer::start().await;
    for (path, body) in [
        ("/v1/track", json!({"event": "Clicked", "messageId": "t"})),
        ("/v1/page", json!({"name": "Home", "messageId": "p"})),
        ("/v1/screen", json!({"name": "Settings", "messageId": "s"})),
        (
            "/v1/identify",
            json!({"userId": 42, "traits": {"plan": "pro"}, "messageId": "i"}),
        ),
        (
            "/v1/group",
            json!({"userId": "u", "groupId": "g", "messageId": "g"}),
        ),
        (
            "/v1/alias",
            json!({"userId": "u", "previousId": "a", "messageId": "a"}),
        ),
    ] {
        let (status, answer) = server.post(path, &body).await;
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (200, Some(1)),
            "{path}: {answer}"
        );
    }
    let types: Vec<String> = {
        let db = server.db();
        let mut q = db
            .prepare("SELECT type || ':' || message_id FROM events ORDER BY id")
            .unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        types,
        [
            "track:t",
            "page:p",
            "screen:s",
            "identify:i",
            "group:g",
            "alias:a"
        ]
    );
    assert_eq!(
        server.count("SELECT count(*) FROM events WHERE user_id = '42'"),
        1
    );

    // With one event there is nothing else to save: its rejection is the answer.
    let (status, answer) = server.post("/v1/alias", &json!({"userId": "u"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        (answer["error"].as_str(), answer["field"].as_str()),
        (Some("missing_field"), Some("previousId"))
    );
}

#[tokio::test]
async fn the_write_key_comes_from_basic_auth_or_the_body_and_nothing_else_works() {
    let server = TestServer::start().await;
    let event = || json!({"batch": [track("k")]});

    let (status, _) = server
        .post_raw("/v1/batch", |r| {
            r.body(json!({"writeKey": WRITE_KEY, "batch": [track("body-key")]}).to_string())
        })
        .await;
    assert_eq!(status, 200);

    let (status, answer) = server.post_raw("/v1/batch", |r| r.json(&event())).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("unauthorized"))
    );
    assert!(answer["message"].as_str().unwrap().contains("no write key"));

    let (status, answer) = server
        .post_raw("/v1/batch", |r| {
            r.basic_auth("pk_unknown", Some("")).json(&event())
        })
        .await;
    assert_eq!(status, 401);
    assert_eq!(answer["message"], "unknown write key");

    // The admin token is a secret: it must never double as a write key.
    let (status, answer) = server
        .post_raw("/v1/batch", |r| {
            r.basic_auth(ADMIN_TOKEN, Some("")).json(&event())
        })
        .await;
    assert_eq!(status, 401);
    assert!(answer["message"].as_str().unwrap().contains("admin token"));
    assert_eq!(server.count("SELECT count(*) FROM events"), 1);
}

#[tokio::test]
async fn browsers_may_send_text_plain_and_preflights_are_answered() {
    let server = TestServer::start_with(
        "127.0.0.1:0",
        "",
        r#"allowed_origins = ["https://shop.example"]"#,
    )
    .await;
    let body = json!({"writeKey": WRITE_KEY, "batch": [track("plain")]}).to_string();
    let (status, _) = server
        .post_raw("/v1/batch", |r| {
            r.header("content-type", "text/plain;charset=UTF-8")
                .header("origin", "https://shop.example")
                .body(body.clone())
        })
        .await;
    assert_eq!(status, 200);

    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/batch", server.url))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-assent-anonymous",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://shop.example");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in ["authorization", "content-type", "x-assent-anonymous"] {
        assert!(allowed.contains(name), "{allowed}");
    }

    // A page on another origin is refused, with the reason.
    let (status, answer) = server
        .post_raw("/v1/batch", |r| {
            r.header("origin", "https://evil.example")
                .body(body.clone())
        })
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("origin_not_allowed"))
    );
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/batch", server.url))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn limits_are_enforced_with_413_and_a_json_error() {
    let server = TestServer::start().await;
    let padding = |bytes: usize| "x".repeat(bytes);

    // One event over 32 KB is rejected in its slot; its neighbours are stored.
    let big_event = json!({"type": "track", "event": "Big", "messageId": "big", "properties": {"p": padding(33 * 1024)}});
    let (status, answer) = server
        .post("/v1/batch", &json!({"batch": [track("small"), big_event]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["rejected"][0]["index"], 1);
    assert!(answer["rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("32768"));

    // The same event alone on a single-event endpoint is the request's error: 413.
    let (status, answer) = server
        .post(
            "/v1/track",
            &json!({"event": "Big", "properties": {"p": padding(33 * 1024)}}),
        )
        .await;
    assert_eq!((status, answer["error"].as_str()), (413, Some("too_large")));

    // A batch over 500 KB, made of events that are each fine.
    let many: Vec<_> = (0..20)
        .map(|i| json!({"type": "track", "event": "E", "messageId": format!("b{i}"), "properties": {"p": padding(30 * 1024)}}))
        .collect();
    let (status, answer) = server.post("/v1/batch", &json!({"batch": many})).await;
    assert_eq!(status, 413);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("batch exceeds the limit of 512000"),
        "{answer}"
    );

    // A body over 1 MB is cut off while it is read.
    let (status, answer) = server
        .post_raw("/v1/batch", |r| {
            r.basic_auth(WRITE_KEY, Some(""))
                .body(padding(1024 * 1024 + 10))
        })
        .await;
    assert_eq!(status, 413);
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("request body exceeds the limit of 1048576"));

    assert_eq!(server.count("SELECT count(*) FROM events"), 1);
}

#[tokio::test]
async fn the_server_corrects_the_clients_clock_and_truncates_its_address() {
    let server = TestServer::start().await;
    // The device's clock is far behind; the event happened 5 s before the batch was sent.
    let batch = json!({"sentAt": "2000-01-01T00:00:10Z", "batch": [
        {"type": "page", "messageId": "skewed", "timestamp": "2000-01-01T00:00:05Z"}]});
    server.post("/v1/batch", &batch).await;
    let (timestamp, received_at, ip, original): (i64, i64, String, String) = server
        .db()
        .query_row(
            "SELECT timestamp, received_at, ip, json_extract(payload, '$.originalTimestamp') FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(received_at - timestamp, 5_000);
    assert_eq!(original, "2000-01-01T00:00:05Z");
    // The default IP policy keeps the /24 only.
    assert_eq!(ip, "127.0.0.0");
}

#[tokio::test]
async fn ipv6_clients_keep_only_their_48_bit_prefix() {
    let Ok(probe) = std::net::TcpListener::bind("[::1]:0") else {
        panic!("this machine has no IPv6 loopback; the test needs one");
    };
    drop(probe);
    let server = TestServer::start_with("[::1]:0", "", "").await;
    server
        .post("/v1/batch", &json!({"batch": [track("v6")]}))
        .await;
    let ip: String = server
        .db()
        .query_row("SELECT ip FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ip, "::");
}

#[tokio::test]
async fn an_ip_policy_of_drop_stores_no_address() {
    let server = TestServer::start_with("127.0.0.1:0", "", r#"ip = "drop""#).await;
    server
        .post("/v1/batch", &json!({"batch": [track("no-ip")]}))
        .await;
    assert_eq!(
        server.count("SELECT count(*) FROM events WHERE ip IS NULL"),
        1
    );
    assert_eq!(
        server.count("SELECT count(*) FROM events WHERE payload LIKE '%127.0.0%'"),
        0
    );
}

#[tokio::test]
async fn an_anonymous_request_stores_no_address_at_all() {
    let server = TestServer::start().await;
    for (i, header) in ["x-assent-anonymous", "sp-anonymous"]
        .into_iter()
        .enumerate()
    {
        let (status, _) = server
            .post_raw("/v1/batch", |r| {
                r.basic_auth(WRITE_KEY, Some(""))
                    .header(header, "1")
                    .json(&json!({"batch": [track(&format!("anon-{i}"))]}))
            })
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        server.count("SELECT count(*) FROM events WHERE ip IS NULL"),
        2
    );
    assert_eq!(
        server.count("SELECT count(*) FROM events WHERE payload LIKE '%127.0.0%'"),
        0
    );
}

#[tokio::test]
async fn a_tracker_on_another_origin_can_read_retry_after() {
    let server = TestServer::start().await;
    let res = server
        .http
        .post(format!("{}/v1/batch", server.url))
        .header("origin", "https://shop.example")
        .basic_auth(WRITE_KEY, Some(""))
        .json(&json!({"batch": []}))
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
}

#[tokio::test]
async fn the_events_json_view_gives_back_each_event_whole() {
    let server = TestServer::start().await;
    let sent = json!({"type": "identify", "messageId": "whole", "userId": "u-7", "anonymousId": "a-7",
        "traits": {"plan": "pro"}, "context": {"locale": "fr-FR"}, "sessionId": 1763800000000i64,
        "sequence": 3, "timestamp": "2026-11-22T10:00:00.000Z"});
    server.post("/v1/batch", &json!({"batch": [sent]})).await;
    let text: String = server
        .db()
        .query_row(
            "SELECT event FROM events_json WHERE project = 'demo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    for field in [
        "type",
        "messageId",
        "userId",
        "anonymousId",
        "traits",
        "context",
        "sessionId",
        "sequence",
    ] {
        assert_eq!(stored[field], sent[field], "{field} in {stored}");
    }
    assert_eq!(stored["originalTimestamp"], "2026-11-22T10:00:00Z");
    assert_eq!(stored["ip"], "127.0.0.0");
    assert!(stored["receivedAt"].as_str().unwrap().ends_with('Z'));
    assert!(
        stored.get("groupId").is_none(),
        "absent columns are left out: {stored}"
    );
}

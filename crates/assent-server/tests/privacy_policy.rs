//! The server-side policy at work over real HTTP: what a default (opt-in) project stores when
//! trackers send more than visitors agreed to. The rules themselves are pinned case by case in
//! spec/policy-vectors.json; these tests prove they are wired into ingest.

mod support;

use serde_json::{json, Value};
use support::{TestServer, WRITE_KEY};

const OPT_IN: &str = "mode = \"opt-in\"";

fn stored(server: &TestServer, message_id: &str) -> Value {
    let text: String = server
        .db()
        .query_row(
            "SELECT e.event FROM events_json e JOIN events USING (id) WHERE events.message_id = ?1",
            [message_id],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn event(message_id: &str, analytics: &str) -> Value {
    json!({"type": "page", "messageId": message_id, "userId": "u-1", "anonymousId": "a-1",
           "traits": {"email": "ada@example.com"},
           "context": {"consent": {"id": "consent-1", "state": {"analytics": analytics, "marketing": "denied"}},
                       "page": {"url": "https://shop.example/?gclid=CLICK&sku=3"}}})
}

#[tokio::test]
async fn without_analytics_consent_no_identifier_and_no_address_is_stored() {
    let server = TestServer::start_with("127.0.0.1:0", "", OPT_IN).await;
    let (status, answer) = server
        .post(
            "/v1/batch",
            &json!({"batch": [event("granted", "granted"), event("pending", "pending"),
            {"type": "identify", "messageId": "link", "userId": "u-1", "anonymousId": "a-1"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (answer["accepted"].as_u64(), answer["discarded"].as_u64()),
        (Some(3), Some(1))
    );

    let kept = stored(&server, "granted");
    assert_eq!(
        (kept["userId"].as_str(), kept["ip"].as_str()),
        (Some("u-1"), Some("127.0.0.0"))
    );
    assert_eq!(
        kept["context"]["page"]["url"], "https://shop.example/?sku=3",
        "marketing denied: no click id"
    );

    let stripped = stored(&server, "pending");
    for field in ["userId", "anonymousId", "traits", "ip"] {
        assert!(
            stripped.get(field).is_none(),
            "{field} must be gone: {stripped}"
        );
    }
    assert!(stripped["context"]["consent"].get("id").is_none());
    assert_eq!(
        server.count("SELECT count(*) FROM events WHERE message_id = 'link'"),
        0
    );

    let metrics = server.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"assent_policy_actions_total{action="strip_identifiers",reason="consent_not_granted"} 1"#,
        r#"assent_policy_actions_total{action="drop",reason="consent_not_granted"} 1"#,
        r#"assent_policy_actions_total{action="strip_click_ids",reason="marketing_not_granted"} 2"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line} in\n{metrics}"
        );
    }
}

#[tokio::test]
async fn global_privacy_control_is_a_marketing_denial_or_an_opt_out() {
    let server = TestServer::start_with("127.0.0.1:0", "", OPT_IN).await;
    let mut e = event("gpc", "granted");
    e["context"]["consent"]["state"]["marketing"] = json!("granted");
    let (status, _) = server
        .post_raw("/v1/batch", |r| {
            r.basic_auth(WRITE_KEY, Some(""))
                .header("sec-gpc", "1")
                .json(&json!({"batch": [e]}))
        })
        .await;
    assert_eq!(status, 200);
    let kept = stored(&server, "gpc");
    assert_eq!(kept["userId"], "u-1");
    assert_eq!(
        kept["context"]["page"]["url"],
        "https://shop.example/?sku=3"
    );

    let strict =
        TestServer::start_with("127.0.0.1:0", "", "mode = \"opt-in\"\ngpc = \"opt-out\"").await;
    let (_, answer) = strict
        .post_raw("/v1/batch", |r| {
            r.basic_auth(WRITE_KEY, Some(""))
                .header("sec-gpc", "1")
                .json(&json!({"batch": [event("gone", "granted"), {"type": "consent", "messageId": "proof",
                    "context": {"consent": {"id": "consent-1", "state": {"analytics": "granted"}}}}]}))
        })
        .await;
    assert_eq!(answer["discarded"], 1);
    assert_eq!(
        strict.count("SELECT count(*) FROM events"),
        1,
        "only the consent event, the proof"
    );
}

#[tokio::test]
async fn an_anonymous_request_leaves_no_byte_of_the_address_cookie_or_forwarded_for() {
    let server = TestServer::start_config(
        "listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"127.0.0.1\"]",
        "",
        "mode = \"opt-out\"\nip = \"keep\"",
    )
    .await;
    for (i, header) in ["x-assent-anonymous", "sp-anonymous"]
        .into_iter()
        .enumerate()
    {
        let (status, _) = server
            .post_raw("/v1/batch", |r| {
                r.basic_auth(WRITE_KEY, Some(""))
                    .header(header, "1")
                    .header("x-forwarded-for", "203.0.113.199")
                    .header("cookie", "ast_id=cookie-secret-value")
                    .json(&json!({"batch": [{"type": "page", "messageId": format!("anon-{i}")}]}))
            })
            .await;
        assert_eq!(status, 200);
    }
    let dir = server.stop().await;
    // Every file the store wrote, main database and WAL alike, byte by byte.
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue; // the keys directory
        }
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        for needle in [
            "203.0.113.199",
            "203.0.113.",
            "127.0.0.1",
            "127.0.0.0",
            "cookie-secret-value",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} found in {}",
                path.display()
            );
        }
    }
    assert!(files >= 1);
    let db = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
    assent_store::partition::attach_all(&db, dir.path()).unwrap();
    let rows: i64 = db
        .query_row("SELECT count(*) FROM events WHERE ip IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn forwarded_for_is_believed_from_trusted_proxies_only() {
    let trusting = TestServer::start_config(
        "listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"127.0.0.0/8\"]",
        "",
        "ip = \"keep\"",
    )
    .await;
    async fn send(server: &TestServer, id: &str) {
        let body = json!({"batch": [{"type": "page", "messageId": id}]});
        server
            .post_raw("/v1/batch", |r| {
                r.basic_auth(WRITE_KEY, Some(""))
                    .header("x-forwarded-for", "198.51.100.23, 127.0.0.9")
                    .json(&body)
            })
            .await;
    }
    send(&trusting, "via-proxy").await;
    let ip: String = trusting
        .db()
        .query_row("SELECT ip FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ip, "198.51.100.23");

    let wary = TestServer::start_with("127.0.0.1:0", "", "ip = \"keep\"").await;
    send(&wary, "spoofed").await;
    let ip: String = wary
        .db()
        .query_row("SELECT ip FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        ip, "127.0.0.1",
        "a header from an untrusted peer is ignored"
    );
}

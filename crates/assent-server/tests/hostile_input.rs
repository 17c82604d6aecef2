//! What an attacker found, kept as regressions: requests built to slip identifiers past the
//! consent policy, over real HTTP into a real store. Each must be refused by index with a
//! reason, or stored without what the visitor did not consent to; never stored as sent.

mod support;

use serde_json::{json, Value};
use support::{TestServer, WRITE_KEY};

const OPT_IN: &str = "mode = \"opt-in\"";

/// Everything stored, as text: every column of every event and the consent ledger.
fn everything_stored(server: &TestServer) -> String {
    let db = server.db();
    let mut all = String::new();
    for sql in [
        "SELECT event FROM events_json",
        "SELECT coalesce(anonymous_id, '') || coalesce(user_id, '') || entry FROM consent_ledger",
    ] {
        let mut query = db.prepare(sql).unwrap();
        let rows = query.query_map([], |r| r.get::<_, String>(0)).unwrap();
        for row in rows {
            all.push_str(&row.unwrap());
            all.push('\n');
        }
    }
    all
}

async fn post_text(server: &TestServer, path: &str, body: &str) -> (u16, Value) {
    server
        .post_raw(path, |r| {
            r.basic_auth(WRITE_KEY, Some(""))
                .header("content-type", "application/json")
                .body(body.to_string())
        })
        .await
}

/// The attacker's request: a page title cut in the middle of an emoji used to blind the policy,
/// and the traits, IP and click id were stored without consent.
#[tokio::test]
async fn a_value_the_policy_cannot_read_never_lets_identifiers_through() {
    let server = TestServer::start_with("127.0.0.1:0", "", OPT_IN).await;
    let bodies = [
        r#"{"name":"Home","messageId":"m1","anonymousId":"a","context":{"traits":{"email":"ada@example.org"},"ip":"9.9.9.9","page":{"title":"Sale \ud83d","url":"https://shop.example/?gclid=G1"}}}"#.to_string(),
        r#"{"name":"Home","messageId":"m2","anonymousId":"a","context":{"traits":{"email":"ada@example.org"},"ip":"9.9.9.9","screen":{"width":1e999}}}"#.to_string(),
        format!(
            r#"{{"name":"Home","messageId":"m3","anonymousId":"a","context":{{"traits":{{"email":"ada@example.org"}},"ip":"9.9.9.9","deep":{}1{}}}}}"#,
            "[".repeat(130),
            "]".repeat(130)
        ),
    ];
    for body in &bodies {
        let (status, answer) = post_text(&server, "/v1/page", body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["field"], "context", "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .starts_with("`context` cannot be read at `"),
            "{answer}"
        );
    }
    // In a batch, the event is refused by index and the rest is stored, without identifiers.
    let batch = format!(
        r#"{{"batch":[{},{{"type":"page","messageId":"ok","anonymousId":"a","context":{{"traits":{{"email":"ada@example.org"}},"ip":"9.9.9.9"}}}}]}}"#,
        bodies[0].replacen('{', r#"{"type":"page","#, 1)
    );
    let (status, answer) = post_text(&server, "/v1/batch", &batch).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rejected"][0]["index"], 0);
    assert_eq!(answer["accepted"], 1);
    let stored = everything_stored(&server);
    for secret in ["ada@example.org", "9.9.9.9", "G1"] {
        assert!(!stored.contains(secret), "{secret} was stored: {stored}");
    }
    assert_eq!(server.count("SELECT count(*) FROM events"), 1);
}

/// `"analytics"` twice: the policy read one, SQLite's `json_extract` the other.
#[tokio::test]
async fn a_key_sent_twice_is_refused_wherever_the_policy_reads() {
    let server = TestServer::start_with("127.0.0.1:0", "", OPT_IN).await;
    let twice = r#"{"batch":[
        {"type":"page","messageId":"m1","userId":"ada","context":{"consent":{"id":"c1","state":{"analytics":"denied","analytics":"granted"}}}},
        {"type":"page","messageId":"m2","userId":"ada","context":{"consent":{"id":"c1","state":{"analytics":"granted"}},"page":{"url":"https://s.example/?gclid=G1","url":"https://s.example/"}}},
        {"type":"page","messageId":"m3","userId":"ada","properties":{"url":"a","url":"b"}}]}"#;
    let (status, answer) = post_text(&server, "/v1/batch", twice).await;
    assert_eq!(status, 200, "{answer}");
    let reasons: Vec<(u64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (0, "`context` cannot be read at `consent.state.analytics`: the same key appears twice in one object; send each key once"),
            (1, "`context` cannot be read at `page.url`: the same key appears twice in one object; send each key once"),
            (2, "`properties` cannot be read at `url`: the same key appears twice in one object; send each key once"),
        ]
    );
    assert_eq!(server.count("SELECT count(*) FROM events"), 0);
}

/// An anonymous request gets no visitor hash: an equal hash would link it to the identified
/// requests the same browser makes that day.
#[tokio::test]
async fn anonymous_requests_get_no_visitor_hash() {
    let server = TestServer::start_with("127.0.0.1:0", "", OPT_IN).await;
    for (id, header) in [
        ("plain", None),
        ("anon", Some("x-assent-anonymous")),
        ("sp", Some("sp-anonymous")),
    ] {
        let (status, _) = server
            .post_raw("/v1/batch", |r| {
                let r = r
                    .basic_auth(WRITE_KEY, Some(""))
                    .json(&json!({"batch": [{"type": "page", "messageId": id}]}));
                match header {
                    Some(h) => r.header(h, "1"),
                    None => r,
                }
            })
            .await;
        assert_eq!(status, 200);
    }
    let hashed: Vec<(String, Option<String>)> = {
        let db = server.db();
        let mut q = db
            .prepare("SELECT message_id, visitor_hash FROM events ORDER BY id")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(hashed.len(), 3);
    assert!(hashed[0].1.is_some(), "a plain request is counted");
    assert_eq!(hashed[1].1, None);
    assert_eq!(hashed[2].1, None);
}

/// A copy of the data directory is what a backup or a stolen disk gives. With it, an attacker
/// holding a stored `visitor_hash` tries every 16 bytes of every file as the salt, with the
/// address and user agent they guess: none may reproduce the hash.
#[tokio::test]
async fn a_copy_of_the_data_directory_cannot_test_a_guessed_address() {
    let server = TestServer::start_with("127.0.0.1:0", "", OPT_IN).await;
    let agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156";
    let (status, _) = server
        .post_raw("/v1/batch", |r| {
            r.basic_auth(WRITE_KEY, Some(""))
                .header("user-agent", agent)
                .json(&json!({"batch": [{"type": "page", "messageId": "m1"}]}))
        })
        .await;
    assert_eq!(status, 200);
    let hash: String = server
        .db()
        .query_row("SELECT visitor_hash FROM events", [], |r| r.get(0))
        .unwrap();
    let ip = "127.0.0.1".parse().unwrap();
    let mut tried = 0usize;
    for entry in std::fs::read_dir(server.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for window in bytes.windows(16) {
            let salt: [u8; 16] = window.try_into().unwrap();
            let guess = format!(
                "{:032x}",
                assent_core::visitor::hash(&salt, "demo", ip, agent)
            );
            assert_ne!(guess, hash, "the salt was found in {}", path.display());
            tried += 1;
        }
    }
    assert!(
        tried > 10_000,
        "only {tried} candidate salts: the files are missing"
    );
}

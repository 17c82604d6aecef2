//! The HTTP edge against clients that misbehave on purpose: slow or idle sockets are closed
//! after their timeout without delaying anyone else, and every mistake is answered in JSON.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{TestServer, WRITE_KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Waits until the server closes `socket` (EOF or reset); false if it is still open at `limit`.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let read_to_end = async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(limit, read_to_end).await.is_ok()
}

async fn server_with(http: &str) -> TestServer {
    TestServer::start_config(&format!("listen = \"127.0.0.1:0\"\n[http]\n{http}"), "", "").await
}

fn batch() -> Value {
    serde_json::json!({"batch": [support::track("m-1")]})
}

#[tokio::test]
async fn a_slowloris_neither_keeps_its_sockets_nor_delays_anyone() {
    let server = server_with("header_timeout_ms = 1000").await;
    // 200 clients that each send half a request head and then a header line now and then,
    // never finishing it.
    let mut attackers = Vec::new();
    for _ in 0..200 {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        socket
            .write_all(b"POST /v1/batch HTTP/1.1\r\nHost: collector\r\n")
            .await
            .unwrap();
        attackers.push(socket);
    }
    for socket in &mut attackers {
        socket.write_all(b"X-Slow: 1\r\n").await.unwrap();
    }

    // Meanwhile an honest client is served as usual.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for i in 0..20 {
        let res = http
            .post(format!("{}/v1/batch", server.url))
            .basic_auth(WRITE_KEY, Some(""))
            .json(&serde_json::json!({"batch": [support::track(&format!("h-{i}"))]}))
            .send()
            .await
            .expect("an honest request is answered during the attack");
        assert_eq!(res.status(), 200);
    }

    // And every attacker's socket is closed soon after the header timeout.
    let mut still_open = 0;
    for socket in &mut attackers {
        if !closed_within(socket, Duration::from_secs(5)).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "sockets held past the header timeout");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_timeout() {
    let server = server_with("header_timeout_ms = 1000").await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: collector\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    socket.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    // Kept alive, and then idle: closed, not held.
    assert!(closed_within(&mut socket, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn past_the_connection_limit_a_new_client_waits_for_a_slot() {
    let server = server_with("header_timeout_ms = 2000\nmax_connections = 8").await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // Give the server a moment to accept all eight.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = TcpStream::connect(server.addr).await.unwrap();
    ninth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: collector\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), ninth.read(&mut first)).await;
    assert!(
        early.is_err(),
        "the ninth connection was served while eight were held: the limit does not hold"
    );
    // The idle eight time out, a slot frees, and the ninth is answered.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), ninth.read_to_end(&mut answer))
        .await
        .expect("the ninth connection is answered once a slot frees")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_body_that_never_arrives_whole_gets_a_json_408() {
    let server = server_with("request_timeout_ms = 1000").await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let auth = base64_basic(WRITE_KEY);
    socket
        .write_all(
            format!(
                "POST /v1/batch HTTP/1.1\r\nHost: collector\r\nAuthorization: Basic {auth}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"batch\":"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap_or(0);
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || answer.ends_with(b"}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to a dribbled body");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"request_timeout""#), "{answer}");
}

fn base64_basic(user: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:"))
}

/// Every answer is JSON of one shape, whatever went wrong.
#[tokio::test]
async fn every_mistake_is_answered_in_json_naming_what_to_fix() {
    let server = TestServer::start().await;
    let json = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|_| panic!("not JSON: {text:?}"))
    };

    let res = server.get("/v1/id?writeKey=a&writeKey=b").await;
    assert_eq!(res.status(), 400);
    let body = json(&res.text().await.unwrap());
    assert_eq!(
        (body["error"].as_str(), body["field"].as_str()),
        (Some("invalid_query"), Some("writeKey"))
    );

    let res = server
        .http
        .get(format!("{}/v1/admin/replays?limit=-1", server.url))
        .bearer_auth(support::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = json(&res.text().await.unwrap());
    assert_eq!(
        (body["error"].as_str(), body["field"].as_str()),
        (Some("invalid_query"), Some("limit"))
    );

    let (status, body) = server.post("/v1/trakc", &batch()).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("did you mean /v1/track?"), "{message}");
    assert!(message.contains("POST /v1/batch"), "{message}");

    let res = server
        .http
        .delete(format!("{}/v1/batch", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(
        json(&res.text().await.unwrap())["error"],
        "method_not_allowed"
    );

    for path in ["/no-such-page.html", "/sdk/no-such-file.js"] {
        let res = server.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(json(&res.text().await.unwrap())["error"], "not_found");
    }
}

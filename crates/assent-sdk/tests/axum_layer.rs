//! The `tower` layer and the axum extractor in a real axum server: each request's visitor is
//! read from its cookies and signals, and the events a handler sends carry what they allow.

mod support;

use std::time::Duration;

use assent_sdk::{Client, Options, Visitor, VisitorLayer};
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use support::{Collector, WRITE_KEY};

/// The README's handler: track the order for whoever the visitor is allowed to be.
async fn checkout(State(client): State<Client>, visitor: Visitor) -> String {
    let receipt = client
        .track("Order Completed")
        .visitor(&visitor)
        .context(
            "page",
            serde_json::json!({"url": "https://shop.example/done?gclid=G"}),
        )
        .send()
        .await
        .unwrap();
    receipt
        .message_id
        .map(|id| id.to_string())
        .unwrap_or_default()
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn cookie(state: &str) -> String {
    let record = format!(
        r#"{{"id":"c-web","state":{{"analytics":"{state}","marketing":"granted"}},"revision":1,"source":"banner","timestamp":{}}}"#,
        jiff::Timestamp::now().as_millisecond()
    );
    let encoded: String = record
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("ast_pk_demo_consent={encoded}; ast_pk_demo_aid=a-web; ast_pk_demo_uid=u-web")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_s_visitor_decides_what_its_events_carry() {
    let collector = Collector::start();
    let client = Client::new(&collector.url, WRITE_KEY, Options::default()).unwrap();
    let app = Router::new()
        .route("/checkout", post(checkout))
        .layer(VisitorLayer::new(client.visitor_reader()))
        .with_state(client.clone());
    let site = serve(app).await;
    let http = reqwest::Client::new();
    let order = |cookie: Option<String>, gpc: bool| {
        let mut request = http.post(format!("{site}/checkout"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        if gpc {
            request = request.header("sec-gpc", "1");
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };

    let granted = order(Some(cookie("granted")), false).await;
    let denied = order(Some(cookie("denied")), false).await;
    let stranger = order(None, false).await;
    let with_gpc = order(Some(cookie("granted")), true).await;
    client.shutdown(Duration::from_secs(10)).await.unwrap();

    let e = collector.event(&granted);
    assert_eq!(
        (e["anonymousId"].as_str(), e["userId"].as_str()),
        (Some("a-web"), Some("u-web"))
    );
    assert_eq!(
        e["context"]["page"]["url"], "https://shop.example/done?gclid=G",
        "marketing granted"
    );
    for id in [&denied, &stranger] {
        let e = collector.event(id);
        assert_eq!((e.get("anonymousId"), e.get("userId")), (None, None));
        assert_eq!(e["context"]["anonymous"], "server");
    }
    let e = collector.event(&with_gpc);
    assert_eq!(e["userId"], "u-web");
    assert_eq!(
        e["context"]["page"]["url"], "https://shop.example/done",
        "GPC: no click id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_layer_the_extractor_says_what_is_missing() {
    let client = Client::new("http://127.0.0.1:9", WRITE_KEY, Options::default()).unwrap();
    let app = Router::new()
        .route("/checkout", post(checkout))
        .with_state(client);
    let site = serve(app).await;
    let answer = reqwest::Client::new()
        .post(format!("{site}/checkout"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 500);
    assert!(answer.text().await.unwrap().contains("needs VisitorLayer"));
}

//! Cookieless unique visitors: counted by a daily pseudonym, with nothing stored on the device.

mod support;

use serde_json::json;
use support::{TestServer, WRITE_KEY};

#[tokio::test]
async fn the_same_browser_counts_once_a_day_without_any_identifier() {
    let server = TestServer::start_with("127.0.0.1:0", "", "mode = \"opt-in\"").await;
    for (id, agent) in [
        ("m1", "Firefox/140"),
        ("m2", "Firefox/140"),
        ("m3", "Chrome/156"),
    ] {
        // No consent, so no identifier and no IP is stored; the pseudonym still counts visits.
        let (status, _) = server
            .post_raw("/v1/batch", |r| {
                r.basic_auth(WRITE_KEY, Some(""))
                    .header("user-agent", agent)
                    .json(&json!({"batch": [{"type": "page", "messageId": id}]}))
            })
            .await;
        assert_eq!(status, 200);
    }
    let db = server.db();
    let (uniques, events, ips): (i64, i64, i64) = db
        .query_row(
            "SELECT count(DISTINCT visitor_hash), count(*), count(ip) FROM events WHERE project = 'demo'
             AND date(received_at / 1000, 'unixepoch') = date('now')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((uniques, events, ips), (2, 3, 0));
    let hash: String = db
        .query_row("SELECT visitor_hash FROM events LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hash.len(), 32);
}

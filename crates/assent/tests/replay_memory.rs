//! Whatever a session's replay holds, playing it back costs the collector one chunk of memory,
//! not the session: the chunks are inflated and sent one at a time.

mod support;

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;
use support::Collector;

const SESSION: i64 = 1_764_500_000_000;

fn gzip(text: &str) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn playing_back_a_full_session_holds_one_chunk_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("assent.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[[projects]]\nid = \"demo\"\nmode = \"opt-out\"\n\
             write_keys = [\"pk_demo\"]\nadmin_tokens = [\"sk_demo\"]\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let collector = Collector::start(&config);

    // Nine chunks of 7 MiB each once inflated, a few kilobytes each on the wire: the most a
    // session may hold (64 MiB).
    let padding = "A".repeat(7 * 1024 * 1024);
    for seq in 0..9 {
        let chunk = json!({
            "writeKey": "pk_demo", "sessionId": SESSION, "seq": seq, "anonymousId": "anon-1",
            "consent": {"state": {"analytics": "granted", "replay": "granted"}},
            "events": [{"type": 3, "data": {"padding": padding}, "timestamp": SESSION + seq}],
        });
        let res = collector
            .http
            .post(format!("{}/v1/replay", collector.url))
            .body(gzip(&chunk.to_string()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    let before = collector.peak_memory();
    let res = collector
        .http
        .get(format!("{}/v1/admin/replays/{SESSION}", collector.url))
        .bearer_auth("sk_demo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    assert!(
        body.len() > 9 * 7 * 1024 * 1024,
        "the whole session is played"
    );
    let grew = collector.peak_memory().saturating_sub(before);
    eprintln!(
        "playing back {} MiB raised the peak memory by {} KiB",
        body.len() / 1024 / 1024,
        grew / 1024
    );
    // Holding the session whole (as events, then as the answer) would take over 120 MiB.
    assert!(
        grew < 32 * 1024 * 1024,
        "playing back 63 MiB raised the peak memory by {} MiB",
        grew / 1024 / 1024
    );
}

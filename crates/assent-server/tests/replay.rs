//! `POST /v1/replay` and the replay admin API, over real HTTP against a real collector and a
//! real `replays.db`.

mod support;

use std::io::Write;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use serde_json::{json, Value};
use support::{answer, TestServer, ADMIN_TOKEN, WRITE_KEY};

const OTHER_PROJECT: &str =
    "[[projects]]\nid = \"other\"\nwrite_keys = [\"pk_other\"]\nadmin_tokens = [\"sk_other\"]\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn chunk(write_key: &str, session: i64, seq: i64, replay: &str) -> Value {
    json!({
        "writeKey": write_key, "sessionId": session, "seq": seq, "anonymousId": "anon-1",
        "consent": {"id": "c-1", "state": {"analytics": "granted", "replay": replay}},
        "events": [
            {"type": 4, "data": {"href": "http://shop.test/", "width": 800, "height": 600}, "timestamp": session + seq * 10 + 1},
            {"type": 3, "data": {"source": 1, "positions": []}, "timestamp": session + seq * 10 + 5},
        ],
    })
}

async fn upload(server: &TestServer, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, Value) {
    server
        .post_raw("/v1/replay", |mut req| {
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            req.header("content-type", "text/plain").body(body)
        })
        .await
}

fn replays_db(server: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open(server.dir.path().join("replays.db")).unwrap()
}

fn chunk_count(server: &TestServer) -> i64 {
    replays_db(server)
        .query_row("SELECT count(*) FROM replay_chunks", [], |r| r.get(0))
        .unwrap()
}

async fn admin_get(server: &TestServer, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = server.http.get(format!("{}{path}", server.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    answer(req.send().await.unwrap()).await
}

#[tokio::test]
async fn a_chunk_is_stored_compressed_once_and_a_retry_adds_nothing() {
    let server = TestServer::start().await;
    let body = gzip(
        chunk(WRITE_KEY, 1_764_500_000_000, 0, "granted")
            .to_string()
            .as_bytes(),
    );

    let (status, answer) = upload(&server, body.clone(), &[]).await;
    assert_eq!(
        (status, answer),
        (200, json!({"accepted": 1, "duplicates": 0, "discarded": 0}))
    );
    let (status, answer) = upload(&server, body.clone(), &[]).await;
    assert_eq!(
        (status, answer),
        (200, json!({"accepted": 1, "duplicates": 1, "discarded": 0}))
    );

    assert_eq!(chunk_count(&server), 1);
    let (project, session, anon, first, last, encoding, data): (String, i64, String, i64, i64, String, Vec<u8>) = replays_db(&server)
        .query_row(
            "SELECT project, session_id, anonymous_id, first_timestamp, last_timestamp, encoding, data FROM replay_chunks",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap();
    assert_eq!(
        (project.as_str(), session, anon.as_str()),
        ("demo", 1_764_500_000_000, "anon-1")
    );
    assert_eq!((first, last), (1_764_500_000_001, 1_764_500_000_005));
    assert_eq!(encoding, "gzip");
    assert_eq!(data, body, "stored exactly as received, still compressed");
    // Not in the events file: replays have their own.
    assert_eq!(server.count("SELECT count(*) FROM events"), 0);
}

#[tokio::test]
async fn zlib_deflate_and_basic_auth_are_accepted_too() {
    let server = TestServer::start().await;
    let mut v = chunk(WRITE_KEY, 1_000, 3, "granted");
    v.as_object_mut().unwrap().remove("writeKey");
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(v.to_string().as_bytes()).unwrap();
    let (status, _) = server
        .post_raw("/v1/replay", |req| {
            req.basic_auth(WRITE_KEY, Some(""))
                .body(z.finish().unwrap())
        })
        .await;
    assert_eq!(status, 200);
    let encoding: String = replays_db(&server)
        .query_row("SELECT encoding FROM replay_chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(encoding, "deflate");
}

#[tokio::test]
async fn a_bad_key_is_401_and_an_admin_token_is_no_write_key() {
    let server = TestServer::start().await;
    for key in ["pk_nobody", ADMIN_TOKEN] {
        let (status, answer) = upload(
            &server,
            gzip(chunk(key, 1_000, 0, "granted").to_string().as_bytes()),
            &[],
        )
        .await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["error"], "unauthorized");
    }
    assert_eq!(chunk_count(&server), 0);
}

#[tokio::test]
async fn anonymous_requests_and_chunks_without_replay_consent_are_refused() {
    let server = TestServer::start().await;
    let granted = gzip(chunk(WRITE_KEY, 1_000, 0, "granted").to_string().as_bytes());
    for header in ["X-Assent-Anonymous", "SP-Anonymous"] {
        let (status, answer) = upload(&server, granted.clone(), &[(header, "1")]).await;
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["error"], "anonymous_replay_refused");
        assert_eq!(answer["field"], header.to_lowercase());
    }
    for state in ["pending", "denied"] {
        let (status, answer) = upload(
            &server,
            gzip(chunk(WRITE_KEY, 1_000, 0, state).to_string().as_bytes()),
            &[],
        )
        .await;
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["error"], "replay_not_consented");
        assert_eq!(answer["field"], "consent.state.replay");
    }
    let mut no_consent = chunk(WRITE_KEY, 1_000, 0, "granted");
    no_consent.as_object_mut().unwrap().remove("consent");
    let (status, _) = upload(&server, gzip(no_consent.to_string().as_bytes()), &[]).await;
    assert_eq!(status, 403);
    assert_eq!(chunk_count(&server), 0);
}

#[tokio::test]
async fn bad_chunks_get_a_400_naming_the_field() {
    let server = TestServer::start().await;
    let plain = chunk(WRITE_KEY, 1_000, 0, "granted")
        .to_string()
        .into_bytes();
    let (status, answer) = upload(&server, plain, &[]).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("body")),
        "{answer}"
    );

    let cases: [(&str, Value); 4] = [
        ("sessionId", json!("today")),
        ("seq", json!(1.5)),
        ("anonymousId", json!("")),
        ("events", json!([{"type": 2}])),
    ];
    for (field, value) in cases {
        let mut v = chunk(WRITE_KEY, 1_000, 0, "granted");
        v[field] = value;
        let (status, answer) = upload(&server, gzip(v.to_string().as_bytes()), &[]).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert_eq!(answer["error"], "invalid_chunk");
        assert_eq!(answer["field"], field, "{answer}");
    }
    assert_eq!(chunk_count(&server), 0);
}

#[tokio::test]
async fn oversized_chunks_and_inflation_bombs_get_413() {
    let server = TestServer::start().await;
    // Incompressible bytes behind a gzip header: over 512 KB on the wire.
    let mut big = vec![0x1f, 0x8b, 0x08];
    big.extend((0..600_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    let (status, answer) = upload(&server, big, &[]).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        (answer["error"].as_str(), answer["field"].as_str()),
        (Some("too_large"), Some("body"))
    );

    let bomb = gzip(&vec![b' '; 20 * 1024 * 1024]);
    assert!(bomb.len() < 512 * 1024);
    let (status, answer) = upload(&server, bomb, &[]).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(chunk_count(&server), 0);
}

#[tokio::test]
async fn uploads_answer_cors_like_ingest() {
    let server = TestServer::start().await;
    let res = server
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/replay", server.url),
        )
        .header("origin", "http://shop.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-assent-anonymous",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("x-assent-anonymous"), "{allowed}");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://shop.test"
    );
}

#[tokio::test]
async fn the_admin_api_needs_an_admin_token_of_the_project() {
    let server = TestServer::start_with("127.0.0.1:0", "", OTHER_PROJECT).await;
    for seq in [1, 0] {
        let (status, _) = upload(
            &server,
            gzip(
                chunk(WRITE_KEY, 5_000, seq, "granted")
                    .to_string()
                    .as_bytes(),
            ),
            &[],
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, _) = upload(
        &server,
        gzip(
            chunk("pk_other", 9_000, 0, "granted")
                .to_string()
                .as_bytes(),
        ),
        &[],
    )
    .await;
    assert_eq!(status, 200);

    for token in [
        None,
        Some(WRITE_KEY),
        Some("sk_demo_secreT"),
        Some("sk_demo_secret_"),
    ] {
        for path in ["/v1/admin/replays", "/v1/admin/replays/5000"] {
            let (status, answer) = admin_get(&server, path, token).await;
            assert_eq!(status, 401, "{path} with {token:?}: {answer}");
            assert_eq!(answer["error"], "unauthorized");
        }
    }

    let (status, list) = admin_get(&server, "/v1/admin/replays", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200);
    let replays = list["replays"].as_array().unwrap();
    assert_eq!(replays.len(), 1, "only this project's sessions: {list}");
    assert_eq!(replays[0]["sessionId"], 5_000);
    assert_eq!(replays[0]["chunks"], 2);
    assert_eq!(replays[0]["anonymousId"], "anon-1");

    let (status, replay) = admin_get(&server, "/v1/admin/replays/5000", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200);
    let times: Vec<i64> = replay["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert_eq!(
        times,
        vec![5_001, 5_005, 5_011, 5_015],
        "inflated, in chunk order"
    );

    // Another project's token sees its own session only.
    let (status, _) = admin_get(&server, "/v1/admin/replays/5000", Some("sk_other")).await;
    assert_eq!(status, 404);
    let (_, other) = admin_get(&server, "/v1/admin/replays", Some("sk_other")).await;
    assert_eq!(other["replays"][0]["sessionId"], 9_000);

    let (status, answer) =
        admin_get(&server, "/v1/admin/replays/yesterday", Some(ADMIN_TOKEN)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("session")));

    // Watching a replay is reading personal data: the audit trail says who, without ids.
    let (status, audit) = admin_get(&server, "/v1/admin/audit", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200);
    let entry = &audit["entries"][0];
    assert_eq!(entry["action"], "replay_view", "{audit}");
    assert_eq!(entry["counts"], json!({"chunks": 2}));
    assert_eq!(entry["subjectHash"].as_str().unwrap().len(), 64);
    assert!(!audit.to_string().contains("anon-1"));
}

/// Every byte of `replays.db` and its WAL and shared-memory files.
fn replay_file_bytes(server: &TestServer) -> Vec<u8> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            std::fs::read(server.dir.path().join(format!("replays.db{suffix}"))).ok()
        })
        .flatten()
        .collect()
}

#[tokio::test]
async fn a_forgotten_subject_loses_their_replays_which_their_export_carried_and_later_chunks_are_dropped(
) {
    let server = TestServer::start().await;
    let identified = |seq: i64| {
        let mut c = chunk(WRITE_KEY, 7_000, seq, "granted");
        c["anonymousId"] = json!("anon-replay-5d1c");
        c["userId"] = json!("grace.hopper@example.org");
        gzip(c.to_string().as_bytes())
    };
    for seq in [0, 1] {
        assert_eq!(upload(&server, identified(seq), &[]).await.0, 200);
    }
    let (status, _) = upload(
        &server,
        gzip(chunk(WRITE_KEY, 8_000, 0, "granted").to_string().as_bytes()),
        &[],
    )
    .await;
    assert_eq!(status, 200);

    let (status, export) = admin_get(
        &server,
        "/v1/admin/subjects/grace.hopper@example.org/export",
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    let replays = export["replays"].as_array().unwrap();
    assert_eq!(replays.len(), 2, "{export}");
    assert_eq!(replays[0]["sessionId"], 7_000);
    assert_eq!(replays[1]["chunk"]["events"][0]["timestamp"], 7_011);

    let res = server
        .http
        .delete(format!("{}/v1/admin/subjects/anon-replay-5d1c", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let (status, job) = answer(res).await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["counts"]["replays"], 2, "{job}");
    assert_eq!(chunk_count(&server), 1, "another visitor's replay stays");

    // The browser still holds a chunk of the forgotten visitor: accepted, never stored.
    let (status, body) = upload(&server, identified(2), &[]).await;
    assert_eq!(
        (status, body["discarded"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(chunk_count(&server), 1);
    let bytes = replay_file_bytes(&server);
    for id in ["anon-replay-5d1c", "grace.hopper@example.org"] {
        assert!(
            !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
            "{id} is still in replays.db"
        );
    }
}

#[tokio::test]
async fn the_playback_page_is_served_and_never_framed() {
    let server = TestServer::start().await;
    let res = server.get("/replay/").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("assent-replay-player.min.js"));
    // The tracker's own bundle path still belongs to the tracker.
    let res = server.get("/sdk/assent.min.js").await;
    assert_ne!(res.status(), 500);
}

/// A replay goes through the project's policy like an event: the preset, the GPC and DNT rules
/// and the required categories can each refuse it, whatever the chunk's own consent says.
#[tokio::test]
async fn the_project_policy_refuses_replays_like_it_refuses_identifiers() {
    let cases = [
        (
            "preset = \"cnil-exempt\"",
            vec![],
            "replay_refused_by_policy",
        ),
        (
            "gpc = \"opt-out\"",
            vec![("sec-gpc", "1")],
            "replay_refused_by_policy",
        ),
        (
            "dnt = \"deny-analytics\"",
            vec![("dnt", "1")],
            "replay_refused_by_policy",
        ),
        (
            "mode = \"opt-in\"\nrequired_categories = [\"analytics\", \"functional\"]",
            vec![],
            "replay_not_consented",
        ),
    ];
    for (project, headers, code) in cases {
        let server = TestServer::start_with("127.0.0.1:0", "", project).await;
        let body = gzip(
            chunk(WRITE_KEY, 1_764_500_000_000, 0, "granted")
                .to_string()
                .as_bytes(),
        );
        let (status, answer) = upload(&server, body, &headers).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (403, Some(code)),
            "{project}: {answer}"
        );
        assert_eq!(chunk_count(&server), 0, "{project}");
    }
    // In opt-out mode a replay still needs its explicit grant.
    let server = TestServer::start_with("127.0.0.1:0", "", "mode = \"opt-out\"").await;
    let mut silent = chunk(WRITE_KEY, 1_764_500_000_000, 0, "granted");
    silent["consent"] = json!({"id": "c-1", "state": {"analytics": "granted"}});
    let (status, answer) = upload(&server, gzip(silent.to_string().as_bytes()), &[]).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (403, Some("consent.state.replay"))
    );
}

/// A session's chunks may inflate to 64 MiB together: 8 KB of gzip each could otherwise buy
/// gigabytes of playback.
#[tokio::test]
async fn a_session_past_its_inflated_cap_gets_413() {
    let server = TestServer::start().await;
    let padding = "A".repeat(7 * 1024 * 1024);
    let mut refused_at = None;
    for seq in 0..12 {
        let mut body = chunk(WRITE_KEY, 1_764_500_000_000, seq, "granted");
        body["events"][0]["data"]["padding"] = json!(padding);
        let compressed = gzip(body.to_string().as_bytes());
        assert!(compressed.len() < 64 * 1024, "the bomb is small compressed");
        let (status, answer) = upload(&server, compressed, &[]).await;
        if status == 413 {
            assert_eq!(answer["error"], "session_too_large");
            refused_at = Some(seq);
            break;
        }
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(
        refused_at,
        Some(9),
        "9 chunks of 7 MiB fit in 64 MiB, the 10th does not"
    );
}

/// Real rrweb snapshots of a deep DOM nest past a tree parser's limit: export and playback
/// send them as stored, and nothing panics.
#[tokio::test]
async fn a_chunk_nested_deeper_than_a_parser_allows_is_exported_and_played_whole() {
    let server = TestServer::start().await;
    let mut body = chunk(WRITE_KEY, 1_764_500_000_000, 0, "granted");
    // A serde_json::Value this deep cannot be built or printed: the text is made by hand.
    let snapshot = deep_text(300);
    body["events"][0]["data"]["node"] = json!("PLACEHOLDER");
    let text = body.to_string().replace("\"PLACEHOLDER\"", &snapshot);
    let (status, answer) = upload(&server, gzip(text.as_bytes()), &[]).await;
    assert_eq!(status, 200, "{answer}");

    let export = server
        .http
        .get(format!("{}/v1/admin/subjects/anon-1/export", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let text = export.text().await.expect("the export arrives whole");
    assert!(serde_json::from_str::<&serde_json::value::RawValue>(&text).is_ok());
    assert!(text.contains(&snapshot), "the chunk is exported as stored");

    let playback = server
        .http
        .get(format!("{}/v1/admin/replays/1764500000000", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(playback.status(), 200);
    let text = playback.text().await.expect("the playback arrives whole");
    assert!(
        text.starts_with(r#"{"sessionId":1764500000000,"events":[{"#),
        "{}",
        &text[..80]
    );
    assert!(text.contains(&snapshot));
}

/// `depth` nested DOM nodes as JSON text.
fn deep_text(depth: usize) -> String {
    let mut text = r#"{"type":3,"textContent":"leaf"}"#.to_string();
    for id in 0..depth {
        text = format!(r#"{{"type":2,"id":{id},"tagName":"div","childNodes":[{text}]}}"#);
    }
    text
}

//! Privacy operations from the command line, as a site owner runs them next to (or instead
//! of) the running collector: `assent forget`, `assent export`, `assent retention run`.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use support::{assent, Collector};

const USER: &str = "grace.hopper@example.org";
const ANON: &str = "anon-grace-51c0ffee";

fn run(args: &[&str], config: &Path) -> Output {
    let out = assent()
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "assent {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Posts events to a running collector and returns its answer.
async fn send(server: &Collector, events: Value) -> Value {
    let res = server
        .http
        .post(format!("{}/v1/batch", server.url))
        .basic_auth("pk_demo", Some(""))
        .json(&json!({ "batch": events }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn count(config_dir: &Path, sql: &str) -> i64 {
    support::store_db(&config_dir.join("data"))
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn forget_on_the_command_line_while_the_server_runs_and_the_server_drops_what_comes_later() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::demo_config(dir.path(), "");
    let server = Collector::start(&config);
    send(
        &server,
        json!([
            {"type": "page", "messageId": "p-1", "anonymousId": ANON, "name": "Docs"},
            {"type": "identify", "messageId": "i-1", "anonymousId": ANON, "userId": USER},
            {"type": "track", "messageId": "t-1", "userId": USER, "event": "Compiled"},
            {"type": "page", "messageId": "p-2", "anonymousId": "someone-else", "name": "Docs"},
        ]),
    )
    .await;

    let out = run(
        &[
            "export",
            "--subject",
            ANON,
            "--out",
            dir.path().join("grace.json").to_str().unwrap(),
        ],
        &config,
    );
    assert!(stdout(&out).contains("events: 3"), "{}", stdout(&out));
    let export: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("grace.json")).unwrap()).unwrap();
    let ids: Vec<&str> = export["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p-1", "i-1", "t-1"]);
    assert_eq!(export["identityLinks"][0]["userId"], USER);

    let out = run(&["forget", "--subject", USER], &config);
    let text = stdout(&out);
    assert!(
        text.contains("events: 3") && text.contains("suppressed_ids: 2"),
        "{text}"
    );
    assert_eq!(count(dir.path(), "SELECT count(*) FROM events"), 1);

    // The running server learns of the deletion before its next commit.
    let answer = send(
        &server,
        json!([{"type": "track", "messageId": "t-2", "anonymousId": ANON, "event": "Back"}]),
    )
    .await;
    assert_eq!(answer["accepted"], 1);
    assert_eq!(count(dir.path(), "SELECT count(*) FROM events"), 1);

    let actors = count(
        dir.path(),
        "SELECT count(*) FROM audit_log WHERE actor = 'cli' AND action IN ('export', 'deletion')",
    );
    assert_eq!(actors, 2);
}

#[tokio::test]
async fn retention_dry_run_says_what_would_go_then_the_run_deletes_it_and_gives_the_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::demo_config(
        dir.path(),
        "[projects.retention]\nevents_days = 30\nconsent_days = 30\n",
    );
    let server = Collector::start(&config);
    // Old consent choices (their time is the client's, having no sentAt) and a bulk of events.
    let old = |n: u32| {
        json!({"type": "consent", "messageId": format!("old-consent-{n}"), "anonymousId": ANON,
        "timestamp": "2024-01-01T00:00:00Z",
        "context": {"consent": {"id": "c-grace", "state": {"analytics": "granted"}, "source": "banner"}}})
    };
    send(&server, json!([old(1), old(2)])).await;
    let padding = "x".repeat(4000);
    for batch in 0..4 {
        let events: Vec<Value> = (0..50)
            .map(|i| {
                json!({"type": "track", "messageId": format!("e-{batch}-{i}"), "anonymousId": ANON,
                            "event": "Old", "properties": {"padding": padding}})
            })
            .collect();
        send(&server, Value::Array(events)).await;
    }
    drop(server);
    // Those 202 events were received 40 days ago: their day's partition is made older behind
    // the collector's back.
    let data = dir.path().join("data");
    support::age_partitions(&data, 40);
    let old = assent_store::partition::list(&data)[0];
    let server = Collector::start(&config);
    send(
        &server,
        json!([{"type": "track", "messageId": "fresh", "anonymousId": ANON, "event": "New"}]),
    )
    .await;
    drop(server);

    let out = run(&["retention", "run", "--dry-run"], &config);
    assert_eq!(
        stdout(&out).trim(),
        "demo: would delete 2 consent, 202 events, 0 identity_links, 0 replays"
    );
    assert_eq!(count(dir.path(), "SELECT count(*) FROM events"), 203);

    let out = run(&["retention", "run"], &config);
    assert_eq!(
        stdout(&out).trim(),
        "demo: deleted 2 consent, 202 events, 0 identity_links, 0 replays"
    );
    assert_eq!(count(dir.path(), "SELECT count(*) FROM events"), 1);
    assert_eq!(count(dir.path(), "SELECT count(*) FROM consent_ledger"), 0);
    // The expired day went whole: its file, and so its disk space, is gone.
    assert!(!old.path(&data).exists());
    // The chain now starts after the removed entries, and still verifies.
    let out = run(&["consent", "verify"], &config);
    assert!(
        stdout(&out).contains("consent ledger OK"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM audit_log WHERE action = 'retention' AND actor = 'cli'"
        ),
        1
    );
}

#[test]
fn forget_needs_a_project_when_the_configuration_has_several() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assent.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = {:?}\n[[projects]]\nid = \"a\"\nwrite_keys = [\"pk_a\"]\n[[projects]]\nid = \"b\"\nwrite_keys = [\"pk_b\"]\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let out = assent()
        .args(["forget", "--subject", "x", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--project (a, b)"));
    run(&["forget", "--subject", "x", "--project", "b"], &path);
}

/// One event cannot sabotage an access request: ingest refuses nesting past 64 levels, and an
/// export writes every stored row as it is, even one stored deeper before that limit existed.
#[tokio::test]
async fn one_deeply_nested_event_cannot_break_a_subject_export() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::demo_config(dir.path(), "");
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth - 1), "]".repeat(depth - 1));
    let server = Collector::start(&config);
    let body = format!(
        r#"{{"batch":[
            {{"type":"track","event":"Ok","messageId":"shallow","userId":"{USER}","properties":{{"n":{}}}}},
            {{"type":"track","event":"Deep","messageId":"deep","userId":"{USER}","properties":{{"n":{}}}}}]}}"#,
        nested(60),
        nested(70)
    );
    let res = server
        .http
        .post(format!("{}/v1/batch", server.url))
        .basic_auth("pk_demo", Some(""))
        .body(body)
        .send()
        .await
        .unwrap();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["accepted"], 1);
    assert_eq!(answer["rejected"][0]["index"], 1);
    assert!(
        answer["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .ends_with("nests deeper than 64 levels"),
        "{answer}"
    );
    drop(server);

    // A row stored before the limit, nested past what SQLite's JSON functions read.
    let data = dir.path().join("data");
    let today = assent_store::partition::list(&data)[0];
    rusqlite::Connection::open(today.path(&data))
        .unwrap()
        .execute(
            "INSERT INTO events (project, message_id, dedupe_ts, type, event, user_id, timestamp, received_at, payload)
             VALUES ('demo', 'legacy', 0, 'track', 'Deep', ?1, 0, 0, ?2)",
            [USER.to_string(), format!(r#"{{"properties":{{"n":{}}}}}"#, nested(1100))],
        )
        .unwrap();

    let file = dir.path().join("export.json");
    run(
        &["export", "--subject", USER, "--out", file.to_str().unwrap()],
        &config,
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(serde_json::from_str::<&serde_json::value::RawValue>(&text).is_ok());
    assert!(text.contains(r#""messageId":"legacy""#) && text.contains(r#""messageId":"shallow""#));
    assert!(!dir.path().join("export.json.partial").exists());

    let server = Collector::start(&config);
    let res = server
        .http
        .get(format!("{}/v1/admin/subjects/{USER}/export", server.url))
        .bearer_auth("sk_demo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("the export arrives whole");
    assert!(serde_json::from_str::<&serde_json::value::RawValue>(&text).is_ok());
    assert!(text.contains(r#""messageId":"legacy""#));
}

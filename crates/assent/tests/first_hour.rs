//! A newcomer's first hour: `assent serve` with no configuration, then every other command with
//! no more arguments than its own, against the same development store; `check-config` listing
//! every mistake; logs that a file or a pipe can read.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::{json, Value};

fn assent(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_assent"));
    c.current_dir(cwd)
        .env_remove("ASSENT_CONFIG")
        .env_remove("ASSENT_DATA_DIR")
        .env_remove("NO_COLOR")
        .env("ASSENT_LISTEN", "127.0.0.1:0");
    c
}

/// A collector started by a test, stopped when the test ends, even by a failed assertion.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `assent serve` without a configuration, until it listens: its URL and its write key.
fn serve(mut command: Command) -> (Running, String, String) {
    let mut child = command
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut key = String::new();
    let mut url = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(k) = line.strip_prefix("  write key:   ") {
            key = k.to_string();
        }
        if let Some(u) = line.strip_prefix("assent listening on ") {
            url = u.to_string();
            break;
        }
    }
    (Running(child), url, key)
}

fn succeeds(mut command: Command, args: &[&str]) -> String {
    let out: Output = command.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "assent {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn send(url: &str, key: &str) -> Value {
    let event = json!({"type": "track", "event": "First Hour", "messageId": "fh-1", "anonymousId": "a-1",
                       "context": {"consent": {"id": "c-1", "state": {"analytics": "granted"}}}});
    reqwest::Client::new()
        .post(format!("{url}/v1/batch"))
        .basic_auth(key, Some(""))
        .json(&json!({ "batch": [event] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every command but `serve`, with only its own arguments, as a newcomer types them.
fn every_command_works(cwd: &Path, with_env: impl Fn(&mut Command)) {
    let command = || {
        let mut c = assent(cwd);
        with_env(&mut c);
        c
    };
    let visitors = succeeds(command(), &["visitors"]);
    assert!(visitors.contains("dev "), "{visitors}");
    assert!(succeeds(command(), &["consent", "verify"]).contains("consent ledger OK"));
    let out = cwd.join("a-1.json");
    succeeds(
        command(),
        &["export", "--subject", "a-1", "--out", out.to_str().unwrap()],
    );
    let export: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(export["events"][0]["messageId"], "fh-1");
    succeeds(command(), &["retention", "run", "--dry-run"]);
    assert!(succeeds(command(), &["check-config"]).contains("OK (1 project"));
    assert!(succeeds(command(), &["forget", "--subject", "a-1"]).contains("deleted subject"));
}

#[tokio::test]
async fn after_serve_without_a_config_every_command_needs_no_more_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let (_collector, url, key) = serve(assent(dir.path()));
    let answer = send(&url, &key).await;
    assert_eq!(answer["accepted"], 1, "{answer}");

    let kept = std::fs::read_to_string(dir.path().join("data/development.toml")).unwrap();
    assert!(
        kept.contains("data_dir = \"./data\""),
        "the file says where its data is: {kept}"
    );
    every_command_works(dir.path(), |_| {});
}

#[tokio::test]
async fn every_command_honours_assent_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("elsewhere");
    let (collector, url, key) = serve({
        let mut c = assent(dir.path());
        c.env("ASSENT_DATA_DIR", &data);
        c
    });
    send(&url, &key).await;
    drop(collector);
    assert!(data.join("events.db").exists());

    // From another directory, told only where the data is.
    let other = tempfile::tempdir().unwrap();
    every_command_works(other.path(), |c| {
        c.env("ASSENT_DATA_DIR", &data);
    });

    // A configuration file given explicitly yields to ASSENT_DATA_DIR too.
    let config = other.path().join("assent.toml");
    std::fs::write(
        &config,
        "data_dir = \"/nonexistent\"\n[[projects]]\nid = \"dev\"\nwrite_keys = [\"pk_x\"]\n",
    )
    .unwrap();
    let mut c = assent(other.path());
    c.env("ASSENT_DATA_DIR", &data);
    assert!(succeeds(
        c,
        &["consent", "verify", "--config", config.to_str().unwrap()]
    )
    .contains("consent ledger OK"));
}

#[test]
fn without_a_development_project_the_commands_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = assent(dir.path()).arg("visitors").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("no --config given, and no development project"),
        "{text}"
    );
    assert!(text.contains("run `assent serve`"), "{text}");
}

#[test]
fn check_config_lists_every_mistake_each_with_its_line_and_a_specific_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assent.toml");
    std::fs::write(
        &path,
        "listen = 8080\n[[projects]]\nid = \"demo\"\nwrite_keys = [\"pk_demo\"]\nip = \"trunc\"\n\
         allowed_origins = [\"https://shop.example/\"]\n",
    )
    .unwrap();
    let out = assent(dir.path())
        .arg("check-config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("3 problems"), "{text}");
    for expected in [
        "line 1: invalid type: integer `8080`, expected a string",
        "fix: write the value in double quotes: listen = \"8080\"",
        "line 5: unknown variant `trunc`, expected one of `truncate`, `drop`, `keep`",
        "fix: expected one of truncate, drop, keep: write ip = \"truncate\"",
        "line 6: origin \"https://shop.example/\" ends with '/'",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn logs_are_plain_text_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (mut collector, _, _) = serve(assent(dir.path()));
    collector.0.kill().unwrap();
    collector.0.wait().unwrap();
    let mut log = String::new();
    collector
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("collector started"), "{log}");
    assert!(!log.contains('\u{1b}'), "no ANSI escape codes: {log:?}");
}

//! The `assent` command as a user meets it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn assent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assent"))
}

#[test]
fn check_config_accepts_the_documented_example() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assent.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:8080\"\ndata_dir = \"./data\"\n[[projects]]\nid = \"demo\"\n\
         write_keys = [\"pk_demo\"]\nadmin_tokens = [\"sk_demo\"]\nallowed_origins = [\"*\"]\n",
    )
    .unwrap();
    let out = assent().arg("check-config").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("OK (1 project, listening on 127.0.0.1:8080")
    );
}

#[test]
fn check_config_explains_every_mistake_with_its_line_and_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assent.toml");
    std::fs::write(
        &path,
        "listen = \"localhost:80\"\n[[projects]]\nid = \"demo\"\nwrite_keys = [\"pk_demo\"]\n\
         allowed_origins = [\"https://shop.example/\"]\n",
    )
    .unwrap();
    let out = assent().arg("check-config").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("2 problems"), "{text}");
    assert!(
        text.contains("line 1: `listen = \"localhost:80\"` is not an IP address and port"),
        "{text}"
    );
    assert!(
        text.contains("line 5: origin \"https://shop.example/\" ends with '/'"),
        "{text}"
    );
    assert_eq!(text.matches("fix:").count(), 2, "{text}");

    std::fs::write(&path, "[[projects]]\nid = \"demo\"\nwrite_key = [\"pk\"]\n").unwrap();
    let text = String::from_utf8_lossy(
        &assent()
            .arg("check-config")
            .arg(&path)
            .output()
            .unwrap()
            .stderr,
    )
    .to_string();
    assert!(text.contains("line 3: unknown field `write_key`"), "{text}");
    assert!(text.contains("did you mean `write_keys`?"), "{text}");
}

#[test]
fn serve_without_a_config_makes_a_development_project_and_prints_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = assent()
        .arg("serve")
        .current_dir(dir.path())
        .env("ASSENT_LISTEN", "127.0.0.1:0")
        .env_remove("ASSENT_CONFIG")
        .env_remove("ASSENT_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("assent listening on http://127.0.0.1:") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(printed.contains("write key:   pk_dev_"), "{printed}");
    assert!(printed.contains("admin token: sk_dev_"), "{printed}");
    assert!(
        printed.contains("assent listening on http://127.0.0.1:"),
        "{printed}"
    );
    // The keys are kept, so they survive a restart.
    let kept = std::fs::read_to_string(dir.path().join("data/development.toml")).unwrap();
    let key = printed
        .lines()
        .find_map(|l| l.strip_prefix("  write key:   "))
        .unwrap();
    assert!(kept.contains(key));
    assert!(dir.path().join("data/events.db").exists());
}

#[test]
fn a_bad_listen_variable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = assent()
        .arg("serve")
        .current_dir(dir.path())
        .env("ASSENT_LISTEN", "everywhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("ASSENT_LISTEN=\"everywhere\" is not an address and port"));
}

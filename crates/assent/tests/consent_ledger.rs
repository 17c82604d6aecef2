//! The consent ledger as a site owner relies on it: every consent event is recorded in a hash
//! chain, and an edit made behind the collector's back is found by `assent consent verify`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;

fn assent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assent"))
}

#[tokio::test]
async fn verify_finds_the_entry_that_was_edited_behind_the_servers_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("assent.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[[projects]]\nid = \"shop\"\nwrite_keys = [\"pk_shop\"]\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let mut server = assent()
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .find_map(|l| l.strip_prefix("assent listening on ").map(str::to_string))
        .unwrap();

    // A visitor accepts, narrows the choice, then withdraws: three recorded choices.
    let choice = |n: u32, analytics: &str| {
        json!({"type": "consent", "messageId": format!("consent-{n}"), "anonymousId": "a-1",
               "context": {"consent": {"id": "c-1", "state": {"analytics": analytics, "marketing": "denied"},
                                       "revision": 3, "source": "banner"}}})
    };
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{url}/v1/batch"))
        .basic_auth("pk_shop", Some(""))
        .json(&json!({"batch": [choice(1, "granted"), choice(2, "granted"), choice(3, "denied")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.kill().unwrap();
    server.wait().unwrap();

    let out = assent()
        .args(["consent", "verify", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("consent ledger OK: 3 entries"));

    let db = rusqlite::Connection::open(dir.path().join("data/events.db")).unwrap();
    let (states, revision): (String, String) = db
        .query_row(
            "SELECT json_extract(entry, '$.states'), json_extract(entry, '$.revision') FROM consent_ledger WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (states.as_str(), revision.as_str()),
        (r#"{"analytics":"granted","marketing":"denied"}"#, "3")
    );

    // Through SQLite, the ledger refuses edits outright…
    let refused = db.execute(
        "UPDATE consent_ledger SET entry = replace(entry, 'granted', 'denied') WHERE id = 2",
        [],
    );
    assert!(refused.unwrap_err().to_string().contains("append-only"));

    // …and whoever goes around that (dropping the trigger) is caught by the chain.
    db.execute_batch(
        "DROP TRIGGER consent_ledger_is_append_only;
         UPDATE consent_ledger SET entry = replace(entry, 'granted', 'denied') WHERE id = 2;",
    )
    .unwrap();
    drop(db);
    let out = assent()
        .args(["consent", "verify", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("consent ledger BROKEN: entry 1 (id 2)"),
        "{text}"
    );
}

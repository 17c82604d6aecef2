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

/// The ledger's digests are keyed with a secret kept apart from the database: a copy of the
/// database cannot confirm a guessed address, the key's holder still can, and rotating the key
/// keeps the chain whole.
#[tokio::test]
async fn the_ledger_file_alone_confirms_no_guessed_identifier() {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("assent.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[store]\nkeys_dir = {:?}\n\
             [[projects]]\nid = \"shop\"\nwrite_keys = [\"pk_shop\"]\n",
            dir.path().join("data").display().to_string(),
            dir.path().join("secrets").display().to_string()
        ),
    )
    .unwrap();
    let email = "ada.lovelace@example.org";
    let choice = |n: u32| {
        json!({"type": "consent", "messageId": format!("consent-{n}"), "userId": email,
               "context": {"consent": {"id": "c-1", "state": {"analytics": "granted"}, "source": "banner"}}})
    };
    let send = |n: u32| {
        let config = config.clone();
        async move {
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
            let res = reqwest::Client::new()
                .post(format!("{url}/v1/batch"))
                .basic_auth("pk_shop", Some(""))
                .json(&json!({"batch": [choice(n)]}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            server.kill().unwrap();
            server.wait().unwrap();
        }
    };
    send(1).await;

    let digest_of = |id: i64| -> (String, String) {
        rusqlite::Connection::open(dir.path().join("data/events.db"))
            .unwrap()
            .query_row(
                "SELECT json_extract(entry, '$.user_id_digest'), json_extract(entry, '$.digest_key')
                 FROM consent_ledger WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    let (digest, key_id) = digest_of(1);
    let sha256 = format!("{:x}", Sha256::digest(email.as_bytes()));
    assert_ne!(digest, sha256, "an unkeyed digest confirms any guess");
    let keyed = |key: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(sha256.as_bytes());
        format!("{:x}", mac.finalize().into_bytes())
    };
    // Whoever has only the data directory tries every 32 bytes of it as the key.
    let mut tried = 0;
    for entry in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            for window in std::fs::read(&path).unwrap().windows(32) {
                assert_ne!(keyed(window), digest, "the key is in {}", path.display());
                tried += 1;
            }
        }
    }
    assert!(tried > 10_000);
    // Whoever holds the key can still match the subject.
    let keys = std::fs::read_to_string(dir.path().join("secrets/ledger.keys")).unwrap();
    let line = keys.lines().find(|l| l.starts_with("shop ")).unwrap();
    let secret: Vec<u8> = (0..32)
        .map(|i| {
            u8::from_str_radix(&line.split(' ').nth(2).unwrap()[2 * i..2 * i + 2], 16).unwrap()
        })
        .collect();
    assert_eq!((keyed(&secret), key_id.as_str()), (digest.clone(), "k1"));

    // A rotation: later entries use the new key, the chain still verifies.
    let out = assent()
        .args(["consent", "rotate-key", "--project", "shop", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    send(2).await;
    let (second, second_key) = digest_of(2);
    assert_eq!(second_key, "k2");
    assert_ne!(second, digest);
    let out = assent()
        .args(["consent", "verify", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("consent ledger OK: 2 entries"));
}

//! A store whose consent ledger was written with unkeyed digests (which anyone holding the
//! file could test guesses against) has them keyed in place when it is opened, and the chain
//! still verifies.

use assent_core::ledger::{Entry, GENESIS};
use assent_store::keyring::Keyring;
use assent_store::{verify_ledger, SqliteStore, StoreOptions};
use sha2::{Digest, Sha256};

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[test]
fn unkeyed_digests_are_keyed_and_the_chain_linked_again() {
    let dir = tempfile::tempdir().unwrap();
    SqliteStore::open(dir.path(), StoreOptions::default())
        .unwrap()
        .close();
    // Three entries as the previous version wrote them.
    {
        let db = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
        let mut previous = GENESIS.to_string();
        for n in 0..3 {
            let entry = Entry {
                consent_id: format!("c{n}"),
                anonymous_id_digest: Some(sha256("anon-1")),
                user_id_digest: (n == 2).then(|| sha256("ada@example.org")),
                states: r#"{"analytics":"granted"}"#.into(),
                revision: None,
                source: Some("banner".into()),
                at_ms: n,
                message_id: format!("m{n}"),
                digest_key: None,
            };
            let hash = entry.hash("shop", &previous);
            db.execute(
                "INSERT INTO consent_ledger (project, consent_id, entry, previous_hash, hash)
                 VALUES ('shop', ?1, ?2, ?3, ?4)",
                [
                    entry.consent_id.clone(),
                    serde_json::to_string(&entry).unwrap(),
                    previous.clone(),
                    hash.clone(),
                ],
            )
            .unwrap();
            previous = hash;
        }
        assert_eq!(verify_ledger(&db).unwrap(), 3);
    }

    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let db = store.reader().unwrap();
    assert_eq!(verify_ledger(&db).unwrap(), 3, "the chain is whole again");
    let key = Keyring::open(&dir.path().join("keys"))
        .unwrap()
        .current_ledger_key("shop")
        .unwrap();
    let (user_digest, key_id): (String, String) = db
        .query_row(
            "SELECT json_extract(entry, '$.user_id_digest'), json_extract(entry, '$.digest_key')
             FROM consent_ledger WHERE consent_id = 'c2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(user_digest, key.digest("ada@example.org"));
    assert_eq!(key_id, key.id);
    // No unkeyed digest is left in any byte of the files.
    store.close();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert!(
                !text.contains(&sha256("ada@example.org")),
                "{}",
                path.display()
            );
        }
    }
}

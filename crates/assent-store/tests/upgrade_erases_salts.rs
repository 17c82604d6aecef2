//! A store written before the visitor salts left it is upgraded in place, and no byte of an old
//! salt survives in its files.

use assent_store::{SqliteStore, StoreOptions};

#[test]
fn opening_an_older_store_erases_its_visitor_salts() {
    let dir = tempfile::tempdir().unwrap();
    // The store as version 4 of the schema left it, with a day's salt in its table.
    let salt: [u8; 16] = *b"\x13\x37salt-of-monday";
    {
        let mut db = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
        db.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .unwrap();
        db.pragma_update(None, "journal_mode", "WAL").unwrap();
        assent_store::schema::migrate_up_to(&mut db, 4).unwrap();
        db.execute(
            "INSERT INTO visitor_salts (day, salt) VALUES (20000, ?1)",
            [salt.as_slice()],
        )
        .unwrap();
        db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let holds_salt = || {
        std::fs::read_dir(dir.path()).unwrap().any(|entry| {
            let path = entry.unwrap().path();
            path.is_file() && std::fs::read(path).unwrap().windows(16).any(|w| w == salt)
        })
    };
    assert!(holds_salt(), "the fixture must hold the salt");

    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let tables: i64 = store
        .reader()
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'visitor_salts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
    assert!(!holds_salt(), "the salt survives in the files");
    store.close();
    assert!(!holds_salt(), "the salt survives in the files");
}

//! A day's salt is stable within the day and across restarts, and is gone two days later.

use assent_store::{SqliteStore, StoreOptions};

#[test]
fn salts_live_48_hours_and_then_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let salts = store.visitor_salts().unwrap();
    let monday = salts.for_day(20_000).unwrap();
    assert_eq!(
        salts.for_day(20_000).unwrap(),
        monday,
        "stable within the day"
    );
    // A restart the same day finds the same salt.
    assert_eq!(
        store.visitor_salts().unwrap().for_day(20_000).unwrap(),
        monday
    );

    let tuesday = salts.for_day(20_001).unwrap();
    assert_ne!(tuesday, monday, "a new day, a new random salt");
    let days = |store: &SqliteStore| -> Vec<i64> {
        let db = store.reader().unwrap();
        let mut q = db
            .prepare("SELECT day FROM visitor_salts ORDER BY day")
            .unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        days(&store),
        [20_000, 20_001],
        "yesterday's salt covers visits across midnight"
    );

    salts.for_day(20_002).unwrap();
    assert_eq!(
        days(&store),
        [20_001, 20_002],
        "Monday's salt is destroyed on Wednesday"
    );
    store.close();
    // Overwritten, not merely unlinked: Monday's salt is in no byte of the files.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(16).any(|w| w == monday),
            "Monday's salt survives on disk"
        );
    }
}

//! `messageId`s: made once, when the call is made, so that every retry carries the same one
//! and the collector stores the event once.

use uuid::{Builder, Uuid};

/// A UUID v7: time-ordered, so that new ids land next to each other in the collector's
/// dedupe index instead of all over it (what random v4 ids cost is in `bench/RESULTS.md`).
/// Its 74 random bits come from a per-thread generator seeded by the OS once, not from a
/// system call per id (which was a tenth of a `track()` call); ids need to be unique, not
/// secret.
pub(crate) fn new(now: jiff::Timestamp) -> Uuid {
    let millis = now.as_millisecond().max(0) as u64;
    let random = fastrand::u128(..).to_le_bytes();
    let mut bits = [0u8; 10];
    bits.copy_from_slice(&random[..10]);
    Builder::from_unix_timestamp_millis(millis, &bits).into_uuid()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn ids_are_version_7_ordered_by_time_and_unique() {
        let first = super::new(jiff::Timestamp::now());
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = super::new(jiff::Timestamp::now());
        assert_eq!(first.get_version_num(), 7);
        assert_eq!(first.get_variant(), uuid::Variant::RFC4122);
        assert!(second > first);
        let many: HashSet<_> = (0..100_000)
            .map(|_| super::new(jiff::Timestamp::now()))
            .collect();
        assert_eq!(many.len(), 100_000);
    }
}

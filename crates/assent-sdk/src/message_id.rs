//! `messageId`s: made once, when the call is made, so that every retry carries the same one
//! and the collector stores the event once.

use uuid::Uuid;

/// A UUID v7: time-ordered, so that new ids land next to each other in the collector's
/// dedupe index instead of all over it (what random v4 ids cost is in `bench/RESULTS.md`).
pub(crate) fn new() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_version_7_and_ordered_by_time() {
        let first = super::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = super::new();
        assert_eq!(first.get_version_num(), 7);
        assert!(second > first);
    }
}

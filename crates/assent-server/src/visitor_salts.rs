//! The daily salt behind cookieless visitor hashes: random, in this process's memory only,
//! replaced when the day changes.
//!
//! With several collectors the salt is shared through NATS instead (`[visitor_salts]`),
//! and this keeps each collector's copy.
//!
//! `visitor_hash` is a keyed hash of the full IP address and user agent. Whoever holds the key
//! of a day can test any guessed address against that day's hashes, and the IPv4 space is
//! small enough to try whole: had the salt been written beside the hashes, a copy of the data
//! directory (a backup, a stolen disk) would undo IP truncation and anonymous mode. So the
//! salt never reaches a disk. The price: a restart begins a new salt, and a visitor seen on
//! both sides of a restart counts twice that day (see `docs/privacy.md`).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The salts of today (and, when they are shared, tomorrow), by day; a day is dropped once a
/// later one is asked for.
#[derive(Default)]
pub struct VisitorSalts {
    days: Mutex<BTreeMap<i64, [u8; 16]>>,
}

impl VisitorSalts {
    /// The salt of `day` (days since 1970, UTC), made at random if the day is new.
    ///
    /// ```
    /// let salts = assent_server::visitor_salts::VisitorSalts::default();
    /// let monday = salts.for_day(20_000);
    /// assert_eq!(salts.for_day(20_000), monday);
    /// assert_ne!(salts.for_day(20_001), monday);
    /// ```
    pub fn for_day(&self, day: i64) -> [u8; 16] {
        let mut days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        // The old salt's only copy was here: once dropped, its hashes point at no one.
        days.retain(|d, _| *d >= day);
        *days.entry(day).or_insert_with(|| {
            let mut fresh = [0u8; 16];
            getrandom::fill(&mut fresh).expect("the OS provides randomness");
            fresh
        })
    }

    /// Sets the salt of `day`, as the other collectors use it (shared salts, see
    /// `assent_nats::salts`).
    ///
    /// ```
    /// let salts = assent_server::visitor_salts::VisitorSalts::default();
    /// salts.put(20_000, [7; 16]);
    /// assert_eq!(salts.for_day(20_000), [7; 16]);
    /// ```
    pub fn put(&self, day: i64, salt: [u8; 16]) {
        let mut days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        if days
            .keys()
            .next_back()
            .is_none_or(|newest| day + 1 >= *newest)
        {
            days.insert(day, salt);
        }
    }
}

//! The daily salt behind cookieless visitor hashes: random, in this process's memory only,
//! replaced when the day changes.
//!
//! `visitor_hash` is a keyed hash of the full IP address and user agent. Whoever holds the key
//! of a day can test any guessed address against that day's hashes, and the IPv4 space is
//! small enough to try whole: had the salt been written beside the hashes, a copy of the data
//! directory (a backup, a stolen disk) would undo IP truncation and anonymous mode. So the
//! salt never reaches a disk. The price: a restart begins a new salt, and a visitor seen on
//! both sides of a restart counts twice that day (see `docs/privacy.md`).

use std::sync::Mutex;

/// Today's salt, made on first use of each day; the previous day's is dropped with it.
#[derive(Default)]
pub struct VisitorSalts {
    current: Mutex<Option<(i64, [u8; 16])>>,
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
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match *current {
            Some((d, salt)) if d == day => salt,
            _ => {
                let mut fresh = [0u8; 16];
                getrandom::fill(&mut fresh).expect("the OS provides randomness");
                // The old salt's only copy was here: once replaced, its hashes point at no one.
                *current = Some((day, fresh));
                fresh
            }
        }
    }
}

//! Cookieless unique visitors: a pseudonym that lives one day and can then never be linked.
//!
//! `visitorHash = SipHash-2-4-128(salt of the day; project, IP, user agent)`. The salt is
//! random, made each day and destroyed after 48 hours (the second day covers visits that
//! cross midnight). While it exists, the same browser on the same network counts once per day;
//! once it is gone, nobody — not even whoever runs the collector — can recompute a hash from
//! an address, so yesterday's hashes point at no one. Nothing is stored on the device.

use std::hash::Hasher;
use std::net::IpAddr;

use siphasher::sip128::{Hasher128, SipHasher24};

/// Milliseconds in a day, the salt's life before rotation.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The day (since 1970, UTC) a time falls on: the salt it is hashed with.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// The 128-bit visitor hash.
///
/// ```
/// use assent_core::visitor::hash;
/// let salt = [7u8; 16];
/// let ip = "203.0.113.7".parse().unwrap();
/// let a = hash(&salt, "shop", ip, "Mozilla/5.0");
/// assert_eq!(a, hash(&salt, "shop", ip, "Mozilla/5.0"));
/// assert_ne!(a, hash(&[8u8; 16], "shop", ip, "Mozilla/5.0"), "a new salt, a new pseudonym");
/// assert_ne!(a, hash(&salt, "blog", ip, "Mozilla/5.0"), "projects cannot join their visitors");
/// ```
pub fn hash(salt: &[u8; 16], project: &str, ip: IpAddr, user_agent: &str) -> u128 {
    let (k0, k1) = salt.split_at(8);
    let mut h = SipHasher24::new_with_keys(
        u64::from_le_bytes(k0.try_into().expect("8 bytes")),
        u64::from_le_bytes(k1.try_into().expect("8 bytes")),
    );
    // Lengths first, so that no two different inputs write the same bytes.
    for part in [project.as_bytes(), &ip_bytes(ip), user_agent.as_bytes()] {
        h.write_usize(part.len());
        h.write(part);
    }
    h.finish128().as_u128()
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

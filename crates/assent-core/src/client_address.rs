//! Which address a request really came from, when proxies stand in between.

use std::net::IpAddr;

pub use ipnet::IpNet;

/// The client's address: the socket's peer, unless that peer is a trusted proxy, in which case
/// `X-Forwarded-For` is read from the right, skipping trusted proxies, to the first address no
/// trusted party vouches for. A header from anyone else is ignored, so a client cannot choose
/// the address that is stored (or hashed) for it.
///
/// ```
/// use assent_core::client_address::{client_ip, IpNet};
/// let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
/// let proxy = "10.0.0.2".parse().unwrap();
/// let stranger = "198.51.100.9".parse().unwrap();
/// let xff = Some("1.2.3.4, 203.0.113.7, 10.0.0.5");
/// assert_eq!(client_ip(proxy, xff, &trusted).to_string(), "203.0.113.7");
/// assert_eq!(client_ip(stranger, xff, &trusted).to_string(), "198.51.100.9", "spoofed header ignored");
/// ```
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| is_trusted(*ip, trusted);
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A malformed hop ends what can be believed; the last good address stands.
            Err(_) => break,
        }
    }
    client
}

/// Whether `ip` is one of the trusted proxies, whose forwarded headers may be believed.
pub fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip.to_canonical()))
}

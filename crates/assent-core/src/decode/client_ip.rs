//! Which address an event of a compatibility format says it came from.

use std::net::IpAddr;

/// The client address one event asks for, before the project's [`IpPolicy`](crate::IpPolicy).
///
/// Native events always use the request's address. Amplitude and Snowplow events can say
/// otherwise: Amplitude's browser SDK sends `ip: "$remote"` only while IP tracking is on, and
/// server-side trackers of both formats forward their own visitor's address. Each choice is
/// still subject to the project's IP policy, and an anonymous request stores none at all.
///
/// ```
/// use assent_core::decode::ClientIp;
/// let peer = "203.0.113.7".parse().unwrap();
/// assert_eq!(ClientIp::Request.resolve(Some(peer)), Some(peer));
/// assert_eq!(ClientIp::Unknown.resolve(Some(peer)), None);
/// let given = "198.51.100.1".parse().unwrap();
/// assert_eq!(ClientIp::Given(given).resolve(Some(peer)), Some(given));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIp {
    /// The address the request came from.
    Request,
    /// An address written in the event by a server-side tracker.
    Given(IpAddr),
    /// No address: the tracker was told not to track it.
    Unknown,
}

impl ClientIp {
    /// The address to keep, given the request's own (`None` for an anonymous request, which
    /// then stores no address whatever the event says).
    pub fn resolve(self, request: Option<IpAddr>) -> Option<IpAddr> {
        match self {
            ClientIp::Request => request,
            ClientIp::Given(ip) => request.map(|_| ip),
            ClientIp::Unknown => None,
        }
    }
}

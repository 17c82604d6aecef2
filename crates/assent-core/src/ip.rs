use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// What a project keeps of a client's IP address.
///
/// `Truncate` is the default because it keeps coarse geography useful for analytics while no
/// longer pointing at one household: the last octet of IPv4 (/24) and all but the routing
/// prefix of IPv6 (/48), as Google Analytics and Matomo do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpPolicy {
    #[default]
    Truncate,
    Drop,
    Keep,
}

impl IpPolicy {
    /// The address as it may be stored, or `None` when nothing may be.
    ///
    /// ```
    /// use assent_core::IpPolicy;
    /// let ip = "2001:db8:85a3:8d3:1319:8a2e:370:7348".parse().unwrap();
    /// assert_eq!(IpPolicy::Truncate.apply(ip).unwrap().to_string(), "2001:db8:85a3::");
    /// assert_eq!(IpPolicy::Drop.apply(ip), None);
    /// ```
    pub fn apply(self, ip: IpAddr) -> Option<IpAddr> {
        match self {
            IpPolicy::Keep => Some(ip),
            IpPolicy::Drop => None,
            IpPolicy::Truncate => Some(truncate(ip)),
        }
    }
}

fn truncate(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(truncate_v4(v4)),
        // A v4 client behind a dual-stack socket shows up as ::ffff:a.b.c.d; truncating it as
        // IPv6 /48 would keep all of the v4 address.
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(truncate_v4(v4)),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
            }
        },
    }
}

fn truncate_v4(v4: Ipv4Addr) -> Ipv4Addr {
    let [a, b, c, _] = v4.octets();
    Ipv4Addr::new(a, b, c, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(policy: IpPolicy, ip: &str) -> Option<String> {
        policy.apply(ip.parse().unwrap()).map(|ip| ip.to_string())
    }

    #[test]
    fn truncation_keeps_the_network_and_forgets_the_host() {
        let cases = [
            ("203.0.113.77", "203.0.113.0"),
            ("10.1.2.255", "10.1.2.0"),
            ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
            ("::1", "::"),
            ("::ffff:198.51.100.9", "198.51.100.0"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                apply(IpPolicy::Truncate, input).as_deref(),
                Some(expected),
                "{input}"
            );
        }
    }

    #[test]
    fn drop_keeps_nothing_and_keep_keeps_everything() {
        assert_eq!(apply(IpPolicy::Drop, "203.0.113.77"), None);
        assert_eq!(
            apply(IpPolicy::Keep, "203.0.113.77").as_deref(),
            Some("203.0.113.77")
        );
    }
}

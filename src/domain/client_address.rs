//! Who the client is, behind reverse proxies: `X-Forwarded-For` is believed only from the
//! proxies named in `STAFFROOM_TRUSTED_PROXIES`, and the client is the right-most hop that is
//! not one of them (hops further left could have been written by the client itself).

use std::net::IpAddr;

use super::DomainError;

/// An address or a CIDR range: `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        let refuse = || DomainError::new(format!("{text:?} is not an address or CIDR range"));
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| refuse())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(refuse)?,
            None => max,
        };
        Ok(Self { network, prefix })
    }

    /// A comma-separated list, as the setting holds it.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, DomainError> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Self::parse)
            .collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, normalise(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_matches(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_matches(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.7`) is that IPv4 address.
fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_matches(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = ((prefix / 8) as usize, prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case the
/// right-most address in `X-Forwarded-For` that is not a trusted proxy (or the left-most, if
/// every hop is trusted). A malformed header is ignored.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpRange]) -> IpAddr {
    let peer = normalise(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let hops: Option<Vec<IpAddr>> = header
        .split(',')
        .map(|hop| hop.trim().parse::<IpAddr>().ok().map(normalise))
        .collect();
    let Some(hops) = hops.filter(|h| !h.is_empty()) else {
        return peer;
    };
    hops.iter()
        .rev()
        .copied()
        .find(|hop| !is_trusted(*hop))
        .unwrap_or(hops[0])
}

/// The key an address is throttled under: IPv4 as it is, IPv6 by its /64 (one household or
/// device gets a whole /64, so single addresses would be free to rotate).
pub fn throttle_key(ip: IpAddr) -> String {
    match normalise(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_contain() {
        let private = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.1.2.3")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(private.contains(ip("::ffff:10.9.9.9")));
        let one = IpRange::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6 = IpRange::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        let odd = IpRange::parse("172.16.0.0/12").unwrap();
        assert!(odd.contains(ip("172.31.255.255")) && !odd.contains(ip("172.32.0.0")));
        assert!(IpRange::parse("10.0.0.0/33").is_err());
        assert!(IpRange::parse("proxy.local").is_err());
        assert_eq!(IpRange::parse_list(" 10.0.0.1 , ::1 ,").unwrap().len(), 2);
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = IpRange::parse_list("127.0.0.1,10.0.0.0/8").unwrap();
        // From an untrusted peer the header is the client's own words.
        assert_eq!(
            client_address(ip("203.0.113.9"), Some("198.51.100.1"), &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the right-most hop that is not a proxy.
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                Some("6.6.6.6, 198.51.100.1, 10.0.0.2"),
                &trusted
            ),
            ip("198.51.100.1")
        );
        // Nothing set, or nonsense: the peer.
        assert_eq!(
            client_address(ip("127.0.0.1"), None, &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), Some("not-an-ip"), &trusted),
            ip("127.0.0.1")
        );
        // No proxies configured: always the peer.
        assert_eq!(
            client_address(ip("127.0.0.1"), Some("198.51.100.1"), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_addresses_are_throttled_by_their_64() {
        assert_eq!(
            throttle_key(ip("2001:db8:aa:bb:1:2:3:4")),
            throttle_key(ip("2001:db8:aa:bb:ffff::9"))
        );
        assert_ne!(
            throttle_key(ip("2001:db8:aa:bb::1")),
            throttle_key(ip("2001:db8:aa:bc::1"))
        );
        assert_eq!(throttle_key(ip("192.0.2.1")), "192.0.2.1");
    }
}

//! The client address recorded in the audit log.
//!
//! Behind a Kubernetes Service and an Ingress, the socket peer is the proxy. Only when the peer is
//! one of the configured trusted proxies is `X-Forwarded-For` believed, and then only up to the
//! first address (from the right) that is not a trusted proxy: a client can put anything at the
//! left of that header.

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses `KEYWAY_TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges.
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("KEYWAY_TRUSTED_PROXIES: \"{s}\" is not an address or CIDR range")
                })
        })
        .collect()
}

/// The address to record for a request from `peer` carrying `forwarded_for`.
pub fn client_addr(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpNet]) -> String {
    let Some(peer) = peer else {
        return String::new();
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    let mut addr = peer;
    if let Some(header) = forwarded_for {
        for hop in header.rsplit(',').map(str::trim) {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    addr = ip;
                    if !is_trusted(&ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    addr.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = parse_trusted("10.0.0.0/8, 192.168.1.5").unwrap();
        assert_eq!(
            client_addr(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            "203.0.113.9"
        );
        assert_eq!(
            client_addr(ip("10.1.2.3"), Some("198.51.100.7"), &trusted),
            "198.51.100.7"
        );
        // A spoofed left-most entry is ignored: the first untrusted hop from the right wins.
        assert_eq!(
            client_addr(
                ip("10.1.2.3"),
                Some("6.6.6.6, 198.51.100.7, 192.168.1.5"),
                &trusted
            ),
            "198.51.100.7"
        );
        assert_eq!(client_addr(ip("10.1.2.3"), None, &trusted), "10.1.2.3");
        assert_eq!(
            client_addr(ip("10.1.2.3"), Some("garbage"), &trusted),
            "10.1.2.3"
        );
        assert_eq!(client_addr(None, Some("1.2.3.4"), &trusted), "");
    }

    #[test]
    fn a_bad_trusted_proxy_entry_is_refused_with_its_text() {
        assert!(parse_trusted("10.0.0.0/8,nope")
            .unwrap_err()
            .contains("\"nope\""));
        assert!(parse_trusted("").unwrap().is_empty());
    }
}

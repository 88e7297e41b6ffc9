//! Address ranges of the `IpAddress` / `NotIpAddress` condition operators.
//!
//! The IAM JSON policy reference ("Condition operators", IP address
//! condition operators) takes IPv4 or IPv6 addresses or ranges in CIDR
//! notation (RFC 4632, RFC 4291 §2.3). A value without `/prefix` is one
//! address (`/32`, `/128`). Host bits past the prefix are ignored
//! (`10.1.2.3/8` is `10.0.0.0/8`), as IAM does. The addresses themselves are
//! parsed by `core::net`.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) are the
//! IPv4 address they carry, on both sides: a dual-stack listener reports an
//! IPv4 peer that way, and `10.0.0.0/8` must still cover it;
//! `::ffff:10.0.0.0/104` is the range `10.0.0.0/8`.

use core::net::{IpAddr, Ipv6Addr};

/// An address range: the address bits as a 128-bit number (an IPv4 address
/// in the low 32 bits) and how many leading bits must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    v4: bool,
    bits: u128,
    prefix: u8,
}

impl Cidr {
    /// Parses `address` or `address/prefix`; `None` when it is neither (a
    /// prefix longer than the address, with a sign, leading zeros or more
    /// than three digits, or an address `core::net` refuses).
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let (v4, bits, width) = match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => (true, u128::from(u32::from(a)), 32u8),
            IpAddr::V6(a) => (false, u128::from(a), 128u8),
        };
        let prefix = match prefix {
            None => width,
            Some(p) => {
                let canonical = !p.is_empty()
                    && p.len() <= 3
                    && p.bytes().all(|c| c.is_ascii_digit())
                    && (p == "0" || !p.starts_with('0'));
                let n: u8 = if canonical {
                    p.parse().ok()?
                } else {
                    return None;
                };
                if n > width {
                    return None;
                }
                n
            }
        };
        let cidr = Cidr { v4, bits, prefix };
        Some(match IpAddr::V6(Ipv6Addr::from(bits)) {
            // A mapped range whose prefix covers the ::ffff:0:0/96 part.
            IpAddr::V6(a) if !v4 && prefix >= 96 && a.to_ipv4_mapped().is_some() => Cidr {
                v4: true,
                bits: bits & u128::from(u32::MAX),
                prefix: prefix - 96,
            },
            _ => cidr,
        })
    }

    /// Whether `addr` lies in the range (an IPv4 range never holds an IPv6
    /// address and the other way round, but for mapped addresses).
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        let (v4, bits, width) = match canonical(addr) {
            IpAddr::V4(a) => (true, u128::from(u32::from(a)), 32u32),
            IpAddr::V6(a) => (false, u128::from(a), 128u32),
        };
        if v4 != self.v4 {
            return false;
        }
        let host_bits = width - u32::from(self.prefix);
        // `checked_shr` is `None` for a shift by 128 (prefix 0 of IPv6).
        let keep = |x: u128| x.checked_shr(host_bits).unwrap_or(0);
        keep(bits) == keep(self.bits)
    }
}

/// Parses a request's address (`aws:SourceIp`): one address, no prefix.
pub(crate) fn parse_address(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok()
}

/// `addr`, or the IPv4 address an IPv4-mapped IPv6 address carries.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(range: &str, addr: &str) -> bool {
        Cidr::parse(range)
            .unwrap()
            .contains(parse_address(addr).unwrap())
    }

    #[test]
    fn ranges_hold_what_their_prefix_says() {
        assert!(holds("10.0.0.0/8", "10.255.1.2"));
        assert!(!holds("10.0.0.0/8", "11.0.0.0"));
        assert!(holds("10.1.2.3/8", "10.9.9.9"));
        assert!(holds("0.0.0.0/0", "203.0.113.9"));
        assert!(!holds("0.0.0.0/0", "2001:db8::1"));
        assert!(holds("203.0.113.9/32", "203.0.113.9"));
        assert!(!holds("203.0.113.9/32", "203.0.113.8"));
        assert!(holds("203.0.113.9", "203.0.113.9"));
        assert!(!holds("203.0.113.9", "203.0.113.10"));
        assert!(holds("2001:db8::/32", "2001:db8:ffff::1"));
        assert!(!holds("2001:db8::/32", "2001:db9::1"));
        assert!(holds("::/0", "2001:db8::1"));
        assert!(!holds("::/0", "10.0.0.1"));
        assert!(holds("2001:db8::1/128", "2001:db8::1"));
        assert!(!holds("2001:db8::1/128", "2001:db8::2"));
        assert!(holds("2001:db8::1", "2001:db8::1"));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        assert!(holds("10.0.0.0/8", "::ffff:10.1.2.3"));
        assert!(!holds("10.0.0.0/8", "::ffff:11.1.2.3"));
        assert!(holds("::ffff:10.0.0.0/104", "10.200.0.1"));
        assert!(holds("::ffff:10.0.0.0/104", "::ffff:10.200.0.1"));
        assert!(!holds("::ffff:10.0.0.0/104", "11.0.0.1"));
        assert!(holds("::ffff:0:0/96", "192.0.2.1"));
        // A mapped address is not the IPv6 range it sits in otherwise.
        assert!(!holds("::/1", "::ffff:10.1.2.3"));
        // IPv4-compatible (deprecated) addresses are plain IPv6.
        assert!(!holds("10.0.0.0/8", "::10.1.2.3"));
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for bad in [
            "",
            "/8",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/08",
            "10.0.0.0/8/8",
            "10.0.0.0 /8",
            "10.0.0/8",
            "10.0.0.256",
            "010.0.0.1",
            "2001:db8::/129",
            "2001:db8::/1280",
            "2001:db8:::1",
            "[2001:db8::1]",
            "2001:db8::1%eth0",
            "example.com",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad:?} accepted");
        }
    }
}

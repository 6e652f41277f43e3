//! Where a webhook may be sent: public addresses only, unless the deployment allows private
//! ones (`VANTAGE_WEBHOOKS_ALLOW_PRIVATE`, for receivers on the same machine or network).
//!
//! A subscription's URL is a third party's input: without these checks the edge would POST
//! to whatever it names, including the loopback services beside it and a cloud's metadata
//! address (169.254.169.254). Two layers, because either alone has holes:
//! - [`url_problem`] reads the URL as `fetch` and reqwest read it (WHATWG), so spellings of an
//!   address such as `127.1`, `2130706433` or `0x7f.0.0.1` are caught as the address they are;
//! - an adapter that resolves names itself checks each address a name resolves to with
//!   [`is_public_address`] before it connects (the native server's resolver), so a name that
//!   points at a private address, or is re-pointed there later, is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why `url` may not be called, if it may not: only http(s) without credentials, and, unless
/// `allow_private`, neither `localhost` nor an address that [`is_public_address`] refuses.
pub fn url_problem(url: &str, allow_private: bool) -> Option<String> {
    let Ok(url) = Url::parse(url) else {
        return Some("is not a URL".into());
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some("is not http(s)".into());
    }
    // The client would send them as Basic credentials to whoever answers.
    if !url.username().is_empty() || url.password().is_some() {
        return Some("holds a user name or password".into());
    }
    let Some(host) = url.host() else {
        return Some("has no host".into());
    };
    if allow_private {
        return None;
    }
    let refused = match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Host::Ipv4(v4) => !is_public_address(IpAddr::V4(v4)),
        Host::Ipv6(v6) => !is_public_address(IpAddr::V6(v6)),
    };
    refused.then(|| format!("points at {host}, a loopback or private address"))
}

/// Whether `ip` is an address on the public internet: for IPv4 not loopback, private, shared
/// (carrier-grade NAT), link-local, unspecified, broadcast, multicast, reserved, or set aside
/// for documentation and benchmarks; for IPv6 global unicast outside its special blocks, or
/// an IPv4 address carried inside IPv6 (mapped, NAT64, 6to4) that is public itself.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b));
    !special
}

/// IPv6 by allowlist: global unicast (`2000::/3`) without its special blocks, and the IPv4
/// wrappers (mapped, NAT64, 6to4) whose IPv4 address is public.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded_v4 =
        |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // NAT64's well-known prefix 64:ff9b::/96 reaches the IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    // 6to4: 2002:a.b.c.d::/48 routes to the IPv4 address a.b.c.d.
    if s[0] == 0x2002 {
        return is_public_v4(embedded_v4(s[1], s[2]));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    // 2001::/23 is IANA's special-purpose block (Teredo 2001::/32, benchmarking 2001:2::/48,
    // ORCHIDs …); 2001:db8::/32 and 3fff::/20 are for documentation.
    let special = s[0] == 0x2001 && s[1] < 0x0200;
    let documentation = (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] & 0xfff0) == 0x3ff0;
    global_unicast && !special && !documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_urls_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://LOCALHOST./x",
            "http://api.localhost/x",
            "http://10.0.0.1/x",
            "http://[::1]/x",
            "http://169.254.169.254/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://user:secret@hooks.example.com/",
            "ftp://example.com/",
            "not a url",
        ] {
            assert!(url_problem(url, false).is_some(), "{url} should be refused");
        }
        assert!(url_problem("http://127.0.0.1:9/x", true).is_none());
        assert!(url_problem("https://hooks.slack.com/services/x", false).is_none());
        assert!(url_problem("https://93.184.216.34/x", false).is_none());
    }

    #[test]
    fn other_spellings_of_an_address_are_read_as_that_address() {
        // What fetch and reqwest would connect to: all loopback or the metadata service.
        for url in [
            "http://127.1/x",
            "http://2130706433/x",
            "http://0x7f.0.0.1/x",
            "http://0177.0.0.1/x",
            "http://0/x",
            "http://169.254.43518/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::]/",
        ] {
            assert!(url_problem(url, false).is_some(), "{url} should be refused");
        }
    }

    #[test]
    fn public_addresses_are_public_and_the_rest_is_not() {
        let public = [
            "8.8.8.8",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ];
        for ip in public {
            let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
            assert!(is_public_address(ip), "{ip} is public");
        }
        let special = [
            "127.0.0.53",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.170",
            "203.0.113.7",
            "::",
            "::1",
            "fe80::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:a00:1::1",
            "::8.8.8.8",
            "::ffff:0:7f00:1",
            "64:ff9b:1::7f00:1",
            "fec0::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "3fff::1",
            "5f00::1",
        ];
        for ip in special {
            let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
            assert!(!is_public_address(ip), "{ip} is not public");
        }
    }
}

//! The client's address, as Spin tells a component in `spin-client-addr`
//! (`ip:port`, or `[ip]:port` for IPv6): open mode caps sessions per
//! address (`max_sessions_per_client`), since all open-mode clients share
//! one tenant.

/// The header Spin sets on every incoming request.
pub const CLIENT_ADDR_HEADER: &str = "spin-client-addr";

/// The address without its port, when the header holds an IP address
/// (anything else, or nothing, gives `None`: no per-client cap applies).
/// Only hex digits, `.` and `:` survive, so it is safe in a store key.
pub fn client_address(header: Option<&str>) -> Option<String> {
    let value = header?.trim();
    let host = match value.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.0,
        None => match value.rsplit_once(':') {
            // One colon: IPv4 with its port. More: a bare IPv6 address.
            Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => value,
        },
    };
    host.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_without_their_ports() {
        assert_eq!(client_address(Some("127.0.0.1:54321")).as_deref(), Some("127.0.0.1"));
        assert_eq!(client_address(Some("10.0.0.7")).as_deref(), Some("10.0.0.7"));
        assert_eq!(client_address(Some("[::1]:8080")).as_deref(), Some("::1"));
        assert_eq!(client_address(Some("2001:db8::1")).as_deref(), Some("2001:db8::1"));
        assert_eq!(client_address(Some("[2001:DB8::1]:1")).as_deref(), Some("2001:db8::1"), "one spelling per address");
    }

    #[test]
    fn anything_else_is_no_address() {
        for bad in ["", "localhost:80", "spin:key", "1.2.3.4:80; rm", "[::1", "999.1.1.1:2"] {
            assert_eq!(client_address(Some(bad)), None, "{bad}");
        }
        assert_eq!(client_address(None), None);
    }
}

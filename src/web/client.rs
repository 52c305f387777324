//! Who the client is: the socket peer, or, behind proxies the configuration names
//! (`server.trusted_proxies`), the right-most address of the forwarding header that is
//! not one of them. A client cannot choose its own address by sending the header itself:
//! only what a trusted proxy appended, or saw, is believed.

use std::net::IpAddr;

use actix_web::{HttpRequest, web};
use ipnet::IpNet;

use crate::state::AppState;

/// Which forwarding header the trusted proxies set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// `X-Forwarded-For: client, proxy1, …` (nginx's `$proxy_add_x_forwarded_for`, or `$remote_addr`).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The proxies whose forwarding header is believed.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    nets: Vec<IpNet>,
    header: Option<Header>,
}

impl Proxies {
    /// Parses `server.trusted_proxies` (addresses or CIDR ranges) and `server.forwarded_header`;
    /// `Err` names the entry that is neither.
    pub fn parse(entries: &[String], header: &str) -> Result<Proxies, String> {
        let header = match header {
            "x-forwarded-for" => Header::XForwardedFor,
            "forwarded" => Header::Forwarded,
            other => return Err(format!("unknown header \"{other}\" (expected \"x-forwarded-for\" or \"forwarded\")")),
        };
        let mut nets = Vec::new();
        for e in entries {
            let e = e.trim();
            let net = e
                .parse::<IpNet>()
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("\"{e}\" is neither an address nor a CIDR range"))?;
            nets.push(net);
        }
        Ok(Proxies { header: (!nets.is_empty()).then_some(header), nets })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a connection from `peer` carrying the forwarding `values` (in the order
    /// the header lines came): the right-most hop that is not a trusted proxy. An entry that
    /// is not an address ends the walk at the last trusted hop, which is then the client.
    pub fn client(&self, peer: Option<IpAddr>, values: &[&str]) -> Option<IpAddr> {
        let peer = peer.map(canonical)?;
        let Some(header) = self.header else { return Some(peer) };
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = values.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop, header) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// One hop of the header: `1.2.3.4`, `[2001:db8::1]:443`, or for `Forwarded` the `for=`
/// parameter of an element (`for="[2001:db8::1]";proto=https`).
fn parse_hop(hop: &str, header: Header) -> Option<IpAddr> {
    let value = match header {
        Header::XForwardedFor => hop,
        Header::Forwarded => hop
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
            .map(|(_, v)| v.trim().trim_matches('"'))?,
    };
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next()?.parse::<IpAddr>().ok().map(canonical);
    }
    // IPv4 with a port.
    value.rsplit_once(':').and_then(|(ip, _)| ip.parse::<IpAddr>().ok()).map(canonical)
}

/// The client's address as every part of the service records it: the sign-in throttle,
/// the audit log and the access log.
pub fn client_addr(req: &HttpRequest) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return peer.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into());
    };
    let name = match state.proxies.header {
        Some(Header::Forwarded) => "forwarded",
        _ => "x-forwarded-for",
    };
    let values: Vec<&str> = req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect();
    state.proxies.client(peer, &values).map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_what_a_trusted_proxy_saw_is_believed() {
        let p = Proxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()], "x-forwarded-for").unwrap();
        // No proxy in between: the header is the client's own word, and ignored.
        assert_eq!(p.client(Some(ip("203.0.113.9")), &["1.1.1.1"]), Some(ip("203.0.113.9")));
        // Through the proxy: the right-most address it did not add itself.
        assert_eq!(p.client(Some(ip("127.0.0.1")), &["1.1.1.1, 203.0.113.9"]), Some(ip("203.0.113.9")));
        assert_eq!(p.client(Some(ip("127.0.0.1")), &["1.1.1.1", "203.0.113.9, 10.1.2.3"]), Some(ip("203.0.113.9")));
        // Garbage the client sent ends the walk at the last hop a proxy vouched for.
        assert_eq!(p.client(Some(ip("127.0.0.1")), &["evil, 10.1.2.3"]), Some(ip("10.1.2.3")));
        assert_eq!(p.client(Some(ip("127.0.0.1")), &[]), Some(ip("127.0.0.1")));
        assert_eq!(p.client(Some(ip("::ffff:127.0.0.1")), &["[2001:db8::7]:443"]), Some(ip("2001:db8::7")));
        assert_eq!(p.client(Some(ip("127.0.0.1")), &["198.51.100.4:5000"]), Some(ip("198.51.100.4")));
    }

    #[test]
    fn forwarded_is_read_only_when_it_is_the_configured_header() {
        let p = Proxies::parse(&["127.0.0.1".into()], "forwarded").unwrap();
        let v = ["for=1.1.1.1, for=\"[2001:db8::1]\";proto=https"];
        assert_eq!(p.client(Some(ip("127.0.0.1")), &v), Some(ip("2001:db8::1")));
        let none = Proxies::parse(&[], "forwarded").unwrap();
        assert_eq!(none.client(Some(ip("127.0.0.1")), &v), Some(ip("127.0.0.1")));
        assert!(Proxies::parse(&["nope".into()], "forwarded").is_err());
        assert!(Proxies::parse(&[], "x-real-ip").is_err());
    }
}

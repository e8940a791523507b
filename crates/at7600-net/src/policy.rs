//! Where modems may go: the destination policy, applied to every TCP open (after the
//! name is resolved), every UDP datagram (and a UDP socket's fixed remote at open), and
//! every name lookup.
//!
//! Without it a modem reachable by others (`serve --tcp`) is an open TCP/UDP proxy and
//! DNS resolver into the daemon's network, the daemon itself included: a modem could
//! open a link to the control API and drive it through `AT+CIPSEND`.
//!
//! The policy is plain data and a pure check ([`Policy::check_with`]):
//! 1. the daemon's own listeners ([`OwnListeners`]: the control API, the `--tcp` front
//!    end, the modems' `AT+SERVERSTART` servers) are always refused;
//! 2. a destination matching a `deny` rule is refused;
//! 3. if there are `allow` rules, a destination matching none of them is refused;
//! 4. anything else is allowed.
//!
//! Names: with `dns` off, no name is looked up at all (IP literals still work); a name
//! whose address could not be reached on any port (rules 2-3 for the whole address) is
//! answered as not found, so that lookups do not map a network the modem may not use.

use ipnet::Ipv4Net;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// A network and a range of ports: `CIDR[:PORT[-PORT]]`, `IP[:PORTS]`, or `*[:PORTS]`
/// (any address). Without ports, every port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The addresses.
    pub net: Ipv4Net,
    /// The ports, inclusive.
    pub ports: RangeInclusive<u16>,
}

impl Rule {
    /// Whether `dest` is in the rule.
    pub fn matches(&self, dest: SocketAddrV4) -> bool {
        self.net.contains(dest.ip()) && self.ports.contains(&dest.port())
    }

    /// Whether the rule covers every port of `ip`.
    fn covers_host(&self, ip: Ipv4Addr) -> bool {
        self.net.contains(&ip) && self.ports == (0..=u16::MAX)
    }
}

impl FromStr for Rule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (net, ports) = match s.split_once(':') {
            Some((net, ports)) => (net, Some(ports)),
            None => (s, None),
        };
        let net = if net == "*" {
            Ipv4Net::default()
        } else if net.contains('/') {
            net.parse::<Ipv4Net>()
                .map_err(|e| format!("{s:?}: bad network {net:?}: {e}"))?
                .trunc()
        } else {
            let ip: Ipv4Addr = net
                .parse()
                .map_err(|e| format!("{s:?}: bad address {net:?}: {e}"))?;
            Ipv4Net::from(ip)
        };
        let port = |p: &str| {
            p.parse::<u16>()
                .map_err(|e| format!("{s:?}: bad port {p:?}: {e}"))
        };
        let ports = match ports {
            None => 0..=u16::MAX,
            Some(p) => match p.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi) = (port(lo)?, port(hi)?);
                    if lo > hi {
                        return Err(format!("{s:?}: port range {lo}-{hi} is empty"));
                    }
                    lo..=hi
                }
                None => {
                    let p = port(p)?;
                    p..=p
                }
            },
        };
        Ok(Rule { net, ports })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.net)?;
        match (*self.ports.start(), *self.ports.end()) {
            (0, u16::MAX) => Ok(()),
            (lo, hi) if lo == hi => write!(f, ":{lo}"),
            (lo, hi) => write!(f, ":{lo}-{hi}"),
        }
    }
}

/// Why a destination is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It is one of the daemon's own listeners.
    OwnListener(SocketAddr),
    /// A `deny` rule matches.
    Denied(Rule),
    /// There are `allow` rules and none matches.
    NotAllowed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::OwnListener(l) => write!(f, "the daemon's own listener {l}"),
            Refusal::Denied(r) => write!(f, "denied by {r}"),
            Refusal::NotAllowed => write!(f, "not in the allow list"),
        }
    }
}

/// The destination policy of a process's modems. See the module docs.
#[derive(Clone, Debug)]
pub struct Policy {
    /// If not empty, only destinations matching one of these.
    pub allow: Vec<Rule>,
    /// Never these.
    pub deny: Vec<Rule>,
    /// Whether names are looked up at all (IP literals need no lookup). Default true.
    pub dns: bool,
    /// The daemon's own listeners, shared by everything that opens one.
    pub own: OwnListeners,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow: Vec::new(),
            deny: Vec::new(),
            dns: true,
            own: OwnListeners::default(),
        }
    }
}

/// Equal rules and the same set of own listeners.
impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.allow == other.allow
            && self.deny == other.deny
            && self.dns == other.dns
            && Arc::ptr_eq(&self.own.0, &other.own.0)
    }
}

impl Eq for Policy {}

impl Policy {
    /// May a modem send to `dest`? Addresses of this host are recognised by binding to
    /// them (see [`is_local`]).
    pub fn check(&self, dest: SocketAddrV4) -> Result<(), Refusal> {
        self.check_with(dest, is_local)
    }

    /// [`Policy::check`] with the test for "an address of this host" given: the pure
    /// check. `is_local` is asked only for a listener bound to every address.
    pub fn check_with(
        &self,
        dest: SocketAddrV4,
        is_local: impl Fn(Ipv4Addr) -> bool,
    ) -> Result<(), Refusal> {
        // Connecting to 0.0.0.0 reaches this host (Linux treats it as loopback).
        let dest = if dest.ip().is_unspecified() {
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, dest.port())
        } else {
            dest
        };
        if let Some(l) = self.own.find(dest, is_local) {
            return Err(Refusal::OwnListener(l));
        }
        self.check_rules(dest)
    }

    /// The allow and deny rules alone.
    fn check_rules(&self, dest: SocketAddrV4) -> Result<(), Refusal> {
        if let Some(rule) = self.deny.iter().find(|r| r.matches(dest)) {
            return Err(Refusal::Denied(rule.clone()));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|r| r.matches(dest)) {
            return Err(Refusal::NotAllowed);
        }
        Ok(())
    }

    /// Whether `ip` may be reached on some port at all.
    pub fn reachable(&self, ip: Ipv4Addr) -> bool {
        let ip = if ip.is_unspecified() {
            Ipv4Addr::LOCALHOST
        } else {
            ip
        };
        !self.deny.iter().any(|r| r.covers_host(ip))
            && (self.allow.is_empty() || self.allow.iter().any(|r| r.net.contains(&ip)))
    }

    /// Whether `name` may be looked up: IP literals always (nothing is asked of a
    /// server), names only with `dns` on.
    pub fn may_look_up(&self, name: &str) -> bool {
        self.dns || name.trim().parse::<Ipv4Addr>().is_ok()
    }

    /// The answer a modem gets for `name` that resolved to `found`: `None` when names
    /// may not be looked up, or when the address may not be reached on any port.
    /// IP literals are passed through: the open or send they are for is checked, and
    /// fails as refused rather than as a lookup failure.
    pub fn answer(&self, name: &str, found: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        if name.trim().parse::<Ipv4Addr>().is_ok() {
            return found;
        }
        if !self.may_look_up(name) {
            tracing::info!(name, "name lookup refused by policy (dns = false)");
            return None;
        }
        let ip = found?;
        if self.reachable(ip) {
            Some(ip)
        } else {
            tracing::info!(name, %ip, "name resolves to a refused network; answered as not found");
            None
        }
    }
}

/// Whether `ip` is an address of this host: loopback, or one a socket can bind to.
pub fn is_local(ip: Ipv4Addr) -> bool {
    ip.is_loopback()
        || ip.is_unspecified()
        || std::net::UdpSocket::bind(SocketAddrV4::new(ip, 0)).is_ok()
}

/// The listening sockets of this process that modems must not reach. Cheap to clone;
/// clones share one set.
#[derive(Clone, Debug, Default)]
pub struct OwnListeners(Arc<Mutex<Vec<SocketAddr>>>);

impl OwnListeners {
    /// Adds a listener for as long as the returned guard lives.
    pub fn add(&self, addr: SocketAddr) -> ListenerGuard {
        self.lock().push(addr);
        ListenerGuard {
            set: self.clone(),
            addr,
        }
    }

    /// The listeners now in the set.
    pub fn list(&self) -> Vec<SocketAddr> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SocketAddr>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The listener that `dest` would reach, if any.
    fn find(&self, dest: SocketAddrV4, is_local: impl Fn(Ipv4Addr) -> bool) -> Option<SocketAddr> {
        let candidates: Vec<SocketAddr> = self
            .lock()
            .iter()
            .filter(|l| l.port() == dest.port())
            .copied()
            .collect();
        candidates.into_iter().find(|l| match l.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => is_local(*dest.ip()),
            IpAddr::V4(ip) => ip == *dest.ip(),
            // A dual-stack wildcard also takes IPv4 connections.
            IpAddr::V6(ip) if ip.is_unspecified() => is_local(*dest.ip()),
            IpAddr::V6(ip) => ip.to_ipv4_mapped() == Some(*dest.ip()),
        })
    }
}

/// Keeps a listener in its [`OwnListeners`]; removes it when dropped.
#[derive(Debug)]
pub struct ListenerGuard {
    set: OwnListeners,
    addr: SocketAddr,
}

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        let mut list = self.set.lock();
        if let Some(i) = list.iter().position(|a| *a == self.addr) {
            list.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    #[test]
    fn rules_parse_and_print_back() {
        for (text, shown) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.1.2.3/8:22", "10.0.0.0/8:22"),
            ("192.0.2.7:7000-7999", "192.0.2.7/32:7000-7999"),
            ("*:53", "0.0.0.0/0:53"),
        ] {
            assert_eq!(text.parse::<Rule>().unwrap().to_string(), shown, "{text}");
        }
        for bad in [
            "10.0.0.0/33",
            "10.0.0.1:99999",
            "x",
            "1.2.3.4:9-1",
            "::1",
            "1.2.3.4:",
        ] {
            assert!(bad.parse::<Rule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn deny_then_allow_then_everything() {
        let mut p = Policy::default();
        assert_eq!(p.check_with(dest("192.0.2.1:80"), |_| false), Ok(()));
        p.deny.push("192.0.2.0/24:80".parse().unwrap());
        p.allow.push("192.0.2.0/24".parse().unwrap());
        assert!(matches!(
            p.check_with(dest("192.0.2.1:80"), |_| false),
            Err(Refusal::Denied(_))
        ));
        assert_eq!(p.check_with(dest("192.0.2.1:81"), |_| false), Ok(()));
        assert_eq!(
            p.check_with(dest("198.51.100.1:81"), |_| false),
            Err(Refusal::NotAllowed)
        );
        assert!(p.reachable("192.0.2.1".parse().unwrap()));
        assert!(!p.reachable("198.51.100.1".parse().unwrap()));
    }

    #[test]
    fn own_listeners_are_refused_while_they_listen() {
        let p = Policy::default();
        let guard = p.own.add("127.0.0.1:7600".parse().unwrap());
        let wild = p.own.add("0.0.0.0:7700".parse().unwrap());
        let local = |ip: Ipv4Addr| ip.is_loopback() || ip == Ipv4Addr::new(192, 0, 2, 10);
        for d in [
            "127.0.0.1:7600",
            "0.0.0.0:7600",
            "127.0.0.1:7700",
            "192.0.2.10:7700",
        ] {
            assert!(
                matches!(p.check_with(dest(d), local), Err(Refusal::OwnListener(_))),
                "{d}"
            );
        }
        assert_eq!(p.check_with(dest("127.0.0.2:7600"), local), Ok(()));
        assert_eq!(p.check_with(dest("192.0.2.11:7700"), local), Ok(()));
        drop((guard, wild));
        assert_eq!(p.check_with(dest("127.0.0.1:7600"), local), Ok(()));
    }

    #[test]
    fn names_follow_the_networks() {
        let mut p = Policy::default();
        p.deny.push("10.0.0.0/8".parse().unwrap());
        let ten = Some(Ipv4Addr::new(10, 1, 1, 1));
        assert_eq!(p.answer("intranet.example", ten), None);
        assert_eq!(
            p.answer("x.example", Some(Ipv4Addr::LOCALHOST)),
            Some(Ipv4Addr::LOCALHOST)
        );
        p.dns = false;
        assert_eq!(p.answer("x.example", Some(Ipv4Addr::LOCALHOST)), None);
        assert_eq!(
            p.answer("127.0.0.1", Some(Ipv4Addr::LOCALHOST)),
            Some(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            p.answer("10.1.1.1", ten),
            ten,
            "literals are checked where used"
        );
    }
}

//! The simulated world: which hosts exist, by name and address, and what they do.

use serde::Deserialize;
use std::net::Ipv4Addr;

/// What a simulated TCP service does with a connection.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Behaviour {
    /// Sends back every byte it receives.
    Echo,
    /// Reads and drops everything.
    Discard,
    /// Sends `greeting` on connect, and `reply` after every received line (`\n`).
    Fixed {
        /// Bytes sent as soon as the connection is up (may be empty).
        #[serde(default)]
        greeting: String,
        /// Bytes sent after each received line; none if absent.
        #[serde(default)]
        reply: Option<String>,
    },
}

/// A TCP port of a host.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TcpService {
    /// The port.
    pub port: u16,
    /// What it does.
    #[serde(flatten)]
    pub behaviour: Behaviour,
    /// TLS on this port (`tls = { cert = "expired" }`, say): a TLS session
    /// (`AT+CCHOPEN` client type 2) handshakes first and the behaviour then works on
    /// plaintext. Plain TCP opens get the behaviour directly. `None`: TLS sessions fail
    /// their handshake, as against a plain server.
    #[serde(default)]
    pub tls: Option<TlsService>,
}

/// The TLS server of a simulated port. Its certificate chain is generated at start
/// (`crate::sim::SimPki`), issued by the simulated CA that a test downloads into the
/// modem ([`crate::sim::ca_pem`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsService {
    /// Which certificate the server presents.
    #[serde(default)]
    pub cert: SimCert,
    /// Which TLS versions it speaks.
    #[serde(default)]
    pub versions: SimTlsVersions,
    /// Whether it asks for a client certificate.
    #[serde(default)]
    pub client_auth: SimClientAuth,
    /// Fails the handshake when the client sends no SNI, as servers behind CDNs do.
    #[serde(default)]
    pub require_sni: bool,
}

/// The certificate a simulated TLS server presents. All are Ed25519, generated from
/// fixed seeds: the same bytes in every run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimCert {
    /// Issued by the simulated CA for the host's name and address, valid 2020-2099.
    #[default]
    Valid,
    /// As `valid`, but valid only 2010-2019.
    Expired,
    /// As `valid`, but valid only from 2090.
    NotYetValid,
    /// Issued by the simulated CA for `wrong-name.invalid` only.
    WrongName,
    /// Self-signed for the host's name and address: an unknown CA.
    SelfSigned,
}

/// The TLS versions a simulated server speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimTlsVersions {
    /// TLS 1.2 and 1.3.
    #[default]
    All,
    /// TLS 1.2 only.
    Tls12,
    /// TLS 1.3 only (the modem fails against it unless `[tls] tls13` is on).
    Tls13,
}

/// Whether a simulated TLS server asks for a client certificate. It accepts any that
/// comes (its key must sign the handshake): the simulation tests the modem's side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimClientAuth {
    /// It does not ask.
    #[default]
    None,
    /// It asks, and goes on without one.
    Request,
    /// It asks, and fails the handshake without one.
    Require,
}

/// A host of the simulated internet.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Its DNS name (answered by `AT+CDNSGIP` and by `AT+CIPOPEN` with a name).
    pub name: String,
    /// Its IPv4 address.
    pub addr: Ipv4Addr,
    /// Its TCP services; a connect to any other port is refused.
    #[serde(default)]
    pub tcp: Vec<TcpService>,
    /// Its UDP echo ports; datagrams to any other port are dropped.
    #[serde(default)]
    pub udp_echo: Vec<u16>,
}

/// A host that connects to the modem's own TCP server (`AT+SERVERSTART`), so servers
/// and accepted sockets can be exercised on the simulated network too.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ClientSpec {
    /// Its IPv4 address (what `+CLIENT:` reports).
    pub addr: Ipv4Addr,
    /// The modem's server port it dials, once each time a server starts listening there.
    pub port: u16,
    /// How long after the server starts listening it dials.
    #[serde(default)]
    pub after_ms: u64,
    /// What it does once connected (a fixed responder's greeting is sent at once).
    #[serde(flatten)]
    pub behaviour: Behaviour,
}

/// Everything a [`crate::sim::SimNetwork`] is told at start (`[sim]` in the config file).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// The modem's own address on the mobile network.
    pub modem_ip: Ipv4Addr,
    /// Bytes a TCP connection may have sent but not yet acknowledged by the peer before
    /// a send answers `Full` (the send buffer plus the peer's window).
    pub send_queue_cap: usize,
    /// The hosts (`[[sim.host]]`).
    #[serde(rename = "host")]
    pub hosts: Vec<HostSpec>,
    /// Hosts that dial in to the modem's servers (`[[sim.client]]`).
    #[serde(rename = "client")]
    pub clients: Vec<ClientSpec>,
    /// The destination policy, as on the real network (`[policy]` in the config file,
    /// not `[sim]`).
    #[serde(skip)]
    pub policy: crate::Policy,
}

impl Default for SimConfig {
    /// A small world on TEST-NET-1 (RFC 5737) addresses:
    /// `echo.sim` 192.0.2.7 (TCP and UDP echo on port 7, TLS echo on 443 with a valid
    /// certificate from the simulated CA), `discard.sim` 192.0.2.9 (TCP
    /// discard on 9), `www.sim` 192.0.2.80 (port 80 greets with nothing and answers
    /// every line with `HTTP/1.0 200 OK\r\n\r\nhello\r\n`).
    fn default() -> Self {
        let host = |name: &str, last: u8, tcp: Vec<TcpService>, udp_echo: Vec<u16>| HostSpec {
            name: name.into(),
            addr: Ipv4Addr::new(192, 0, 2, last),
            tcp,
            udp_echo,
        };
        SimConfig {
            modem_ip: Ipv4Addr::new(10, 148, 0, 17),
            send_queue_cap: 64 * 1024,
            hosts: vec![
                host(
                    "echo.sim",
                    7,
                    vec![
                        TcpService {
                            port: 7,
                            behaviour: Behaviour::Echo,
                            tls: None,
                        },
                        TcpService {
                            port: 443,
                            behaviour: Behaviour::Echo,
                            tls: Some(TlsService::default()),
                        },
                    ],
                    vec![7],
                ),
                host(
                    "discard.sim",
                    9,
                    vec![TcpService {
                        port: 9,
                        behaviour: Behaviour::Discard,
                        tls: None,
                    }],
                    vec![],
                ),
                host(
                    "www.sim",
                    80,
                    vec![TcpService {
                        port: 80,
                        behaviour: Behaviour::Fixed {
                            greeting: String::new(),
                            reply: Some("HTTP/1.0 200 OK\r\n\r\nhello\r\n".into()),
                        },
                        tls: None,
                    }],
                    vec![],
                ),
            ],
            clients: Vec::new(),
            policy: crate::Policy::default(),
        }
    }
}

impl SimConfig {
    /// The address of a name or an IPv4 literal as the destination policy answers it
    /// (see [`crate::Policy::answer`]).
    pub fn resolve_allowed(&self, name: &str) -> Option<Ipv4Addr> {
        self.policy.answer(name, self.resolve(name))
    }

    /// The address of a name or an IPv4 literal; `None` if it does not resolve.
    pub fn resolve(&self, name: &str) -> Option<Ipv4Addr> {
        name.parse().ok().or_else(|| {
            self.hosts
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.addr)
        })
    }

    /// The TCP service at `addr:port`.
    pub fn tcp_service(&self, addr: Ipv4Addr, port: u16) -> Option<&Behaviour> {
        self.service(addr, port).map(|s| &s.behaviour)
    }

    /// The whole service at `addr:port`, TLS settings included.
    pub fn service(&self, addr: Ipv4Addr, port: u16) -> Option<&TcpService> {
        self.host(addr)?.tcp.iter().find(|s| s.port == port)
    }

    /// The name of the host at `addr` (what its certificates are issued for).
    pub fn host_name(&self, addr: Ipv4Addr) -> Option<&str> {
        self.host(addr).map(|h| h.name.as_str())
    }

    /// Whether `addr:port` echoes UDP.
    pub fn udp_echo(&self, addr: Ipv4Addr, port: u16) -> bool {
        self.host(addr).is_some_and(|h| h.udp_echo.contains(&port))
    }

    fn host(&self, addr: Ipv4Addr) -> Option<&HostSpec> {
        self.hosts.iter().find(|h| h.addr == addr)
    }
}

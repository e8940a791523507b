//! A simulated network, sans-IO like the core: no sockets, no clock, one seed.
//!
//! [`SimNetwork`] answers a modem's [`NetCommand`]s from a table of hosts
//! ([`SimConfig`]) and delivers the answers as [`NetEvent`]s at the virtual time the
//! radio link ([`LinkProfile`]) says they arrive. The caller owns the clock: it calls
//! [`SimNetwork::handle`] with each command, [`SimNetwork::handle_timeout`] when
//! [`SimNetwork::poll_timeout`] is due, and drains [`SimNetwork::poll_event`]. The same
//! seed, config and inputs give the same events at the same instants, every run.
//!
//! The model, kept small on purpose:
//! - each direction of the radio link is one FIFO pipe: a packet waits for the pipe
//!   (bandwidth), then travels half the round trip plus a jitter draw;
//! - a TCP segment that is lost is sent again one RTO later (so loss shows as delay,
//!   never as missing bytes) and a stream never overtakes itself;
//! - a lost UDP datagram is gone;
//! - the peer acknowledges what its application took; the ACK takes half a round trip
//!   back. A connection holds at most [`SimConfig::send_queue_cap`] unacknowledged
//!   bytes; beyond that a send answers `Full` and `Writable` follows when ACKs make room.
//! - the modem has a receive window of [`WINDOW`] bytes per TCP connection: bytes on
//!   their way to it plus bytes held while it paused reading (`PauseRead`, a host that
//!   does not read). A peer sends only into the window; the rest waits in its own
//!   buffer, and a peer whose buffer is full ([`PEER_BUFFER`]: an echo whose answers
//!   cannot leave) stops taking what the modem sends, so the modem's sends fill up and
//!   answer `Full`. Back-pressure thus reaches the host both ways, and every queue is
//!   bounded. Datagrams have no window: past [`WINDOW`] held bytes they are dropped, as a
//!   full socket buffer drops them.
//! - connecting costs the profile's setup delay plus one round trip; a name lookup one
//!   round trip. Unknown names fail with `Dns`, closed ports with `Refused`.
//! - a `[[sim.client]]` host dials the modem's server port once each time a server
//!   starts listening there, `after_ms` later plus one round trip.
//! - a TLS session (`Open` with `tls`) to a port with `tls` settings: `Connected` when
//!   TCP is up, then a real rustls handshake run in memory whose flights are charged
//!   on the link; afterwards plaintext flows as on a TCP connection (see [`tls`]'s
//!   module docs for why). Files that do not parse fail at once, before any traffic.

mod config;
mod tls;

pub use config::{
    Behaviour, ClientSpec, HostSpec, SimCert, SimClientAuth, SimConfig, SimTlsVersions, TcpService,
    TlsService,
};
pub use tls::{ca_pem, WRONG_NAME};

use crate::profile::LinkProfile;
use crate::rng::Rng;
use at7600_core::{
    ConnId, Instant, NetCommand, NetEvent, OpenError, Protocol, SendOutcome, SocketOptions,
    TlsAuth, TlsParams,
};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// A TCP segment's payload at most (a typical mobile MSS).
const MSS: usize = 1400;
/// A lost segment is tried at most this often; the last try always gets through.
const MAX_TRIES: u32 = 6;
/// SYN retransmission timeout (RFC 6298's initial RTO).
const SYN_RTO: Duration = Duration::from_secs(1);
/// Local ports the simulated stack hands out.
const EPHEMERAL: u16 = 40000;
/// The modem's receive window per TCP connection (bytes travelling to it or held
/// while it does not read), as a real stack's socket buffer bounds it.
pub const WINDOW: usize = 64 * 1024;
/// What a peer's application may have written and not yet sent before it stops
/// taking the modem's bytes (an echo stops reading when its answers cannot leave).
pub const PEER_BUFFER: usize = 64 * 1024;
/// Steps of one [`SimNetwork::peer_pump`] at most (a guard: each step moves bytes).
const MAX_PUMP: usize = 100_000;

/// Something that happens later.
#[derive(Debug)]
enum Action {
    /// A TCP handshake completes (or is refused) at the modem.
    Connect {
        conn: ConnId,
        result: Result<SocketAddrV4, OpenError>,
    },
    /// An event reaches the modem (dropped if its connection is gone).
    Deliver(NetEvent),
    /// Stream bytes from the modem reach the peer.
    AtPeer { conn: ConnId, data: Vec<u8> },
    /// The peer's ACK for `len` bytes reaches the modem.
    Acked { conn: ConnId, len: usize },
    /// A datagram from the modem reaches `to`.
    DatagramAtPeer {
        conn: ConnId,
        to: SocketAddrV4,
        data: Vec<u8>,
    },
    /// A `[[sim.client]]` host connects to a server of the modem.
    Dial { server: u8, client: usize },
    /// The modem's window opened; the news reaches the peer.
    WindowUpdate { conn: ConnId },
    /// A closed connection's last bytes have reached the peer: it is gone.
    Finish { conn: ConnId },
    /// A TLS handshake's last flight has arrived at the modem.
    TlsDone {
        conn: ConnId,
        remote: SocketAddrV4,
        result: Result<(), String>,
    },
}

/// A TLS session waiting for its TCP connection.
#[derive(Debug)]
struct PendingTls {
    plan: crate::tls::Plan,
    /// The client certificate bytes it may send.
    client_chain: usize,
}

#[derive(Debug)]
struct Conn {
    protocol: Protocol,
    /// TCP: the peer once connected; UDP: the fixed remote, if any.
    remote: Option<SocketAddrV4>,
    local_port: u16,
    behaviour: Option<Behaviour>,
    connected: bool,
    min_rto: Duration,
    /// Received bytes held while the modem paused reading.
    paused: bool,
    held: VecDeque<NetEvent>,
    /// Payload bytes in `held`.
    held_bytes: usize,
    /// TCP bytes on their way to the modem (scheduled, not delivered yet).
    down_flight: usize,
    /// What the peer wrote and has not sent: it waits for the modem's window.
    peer_out: VecDeque<u8>,
    /// What reached the peer and its application has not taken yet (not acknowledged
    /// until taken).
    peer_in: VecDeque<Vec<u8>>,
    /// A window update is on its way to the peer.
    update_due: bool,
    /// The modem closed it; what it sent before is still on its way to the peer (as a
    /// real close flushes), nothing more reaches the modem.
    closing: bool,
    unacked: usize,
    acked: u64,
    /// The acknowledged count the modem was last told (`AckStatus`).
    acked_told: u64,
    full: bool,
    /// Arrival times, so a stream never overtakes itself.
    up_last: Instant,
    down_last: Instant,
    /// A TLS session: what to do once TCP is up (taken then).
    tls: Option<PendingTls>,
}

impl Conn {
    /// A connection with nothing in flight yet.
    fn new(
        protocol: Protocol,
        remote: Option<SocketAddrV4>,
        local_port: u16,
        behaviour: Option<Behaviour>,
        min_rto: Duration,
    ) -> Self {
        Conn {
            protocol,
            remote,
            local_port,
            behaviour,
            connected: false,
            min_rto,
            paused: false,
            held: VecDeque::new(),
            held_bytes: 0,
            down_flight: 0,
            peer_out: VecDeque::new(),
            peer_in: VecDeque::new(),
            update_due: false,
            closing: false,
            unacked: 0,
            acked: 0,
            acked_told: 0,
            full: false,
            up_last: Duration::ZERO,
            down_last: Duration::ZERO,
            tls: None,
        }
    }
}

/// Counters of what the simulated link did, for tests and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Payload bytes the modem sent.
    pub bytes_up: u64,
    /// Payload bytes delivered to the modem.
    pub bytes_down: u64,
    /// TCP segments that had to be sent again.
    pub retransmissions: u64,
    /// UDP datagrams lost.
    pub datagrams_lost: u64,
}

/// What the peers of one connection saw, kept only after [`SimNetwork::record_peers`]:
/// the truth that a test checks the modem's claims against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerLog {
    /// Stream bytes (or datagram payloads, concatenated) that reached the peer, in order.
    pub received: Vec<u8>,
    /// Bytes the peer sent towards the modem, in order (whether or not they arrived).
    pub sent: Vec<u8>,
}

/// The simulated network of one modem. See the module docs.
#[derive(Debug)]
pub struct SimNetwork {
    config: SimConfig,
    profile: LinkProfile,
    rng: Rng,
    now: Instant,
    ready: VecDeque<NetEvent>,
    agenda: BTreeMap<(Instant, u64), Action>,
    seq: u64,
    conns: HashMap<ConnId, Conn>,
    servers: HashMap<u8, u16>,
    up_free: Instant,
    down_free: Instant,
    next_port: u16,
    /// Accepted connections so far (for their [`ConnId::accepted`] numbers and ports).
    accepted: u64,
    stats: SimStats,
    /// Every connection's [`PeerLog`], once recording is on (off by default: it grows
    /// with the traffic).
    peers: Option<BTreeMap<ConnId, PeerLog>>,
}

impl SimNetwork {
    /// A network with these hosts, this radio link and this seed.
    pub fn new(config: SimConfig, profile: LinkProfile, seed: u64) -> Self {
        SimNetwork {
            config,
            profile,
            rng: Rng::new(seed),
            now: Duration::ZERO,
            ready: VecDeque::new(),
            agenda: BTreeMap::new(),
            seq: 0,
            conns: HashMap::new(),
            servers: HashMap::new(),
            up_free: Duration::ZERO,
            down_free: Duration::ZERO,
            next_port: EPHEMERAL,
            accepted: 0,
            stats: SimStats::default(),
            peers: None,
        }
    }

    /// From now on, keeps what every peer received and sent ([`SimNetwork::peers`]).
    pub fn record_peers(&mut self) {
        self.peers.get_or_insert_with(BTreeMap::new);
    }

    /// What the peers saw, per connection (also after it closed), if recording is on.
    pub fn peers(&self) -> Option<&BTreeMap<ConnId, PeerLog>> {
        self.peers.as_ref()
    }

    /// Notes bytes that reached (`received`) or left (`!received`) `conn`'s peer.
    fn log_peer(&mut self, conn: ConnId, received: bool, data: &[u8]) {
        if let Some(peers) = self.peers.as_mut() {
            let log = peers.entry(conn).or_default();
            let side = if received {
                &mut log.received
            } else {
                &mut log.sent
            };
            side.extend_from_slice(data);
        }
    }

    /// The hosts.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The radio link in force.
    pub fn profile(&self) -> &LinkProfile {
        &self.profile
    }

    /// Changes the radio link from now on (packets already on their way keep their time).
    pub fn set_profile(&mut self, profile: LinkProfile) {
        self.profile = profile;
    }

    /// What the link did so far.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// Carries out one command at `now`; answers come from [`SimNetwork::poll_event`].
    pub fn handle(&mut self, now: Instant, cmd: NetCommand) {
        self.now = self.now.max(now);
        match cmd {
            NetCommand::Attach => {
                let at = self.now + self.profile.setup();
                let ip = self.config.modem_ip;
                self.schedule(at, Action::Deliver(NetEvent::Attached { ip }));
            }
            NetCommand::Detach => {
                // Connections stay until the core closes them, as on the real network:
                // the SSL sessions ride on the same context and outlive AT+NETCLOSE
                // (ssl.md §1), and the core closes every link it drops.
                self.servers.clear();
                self.ready.push_back(NetEvent::Detached);
            }
            NetCommand::Open {
                conn,
                protocol,
                remote,
                local_port,
                options,
                tls,
            } => match tls.map(|params| pending_tls(conn, &params)) {
                // Unusable files: refused before any traffic.
                Some(Err(())) => self.ready.push_back(NetEvent::OpenFailed {
                    conn,
                    error: OpenError::Certificates,
                }),
                Some(Ok(tls)) => self.open(conn, protocol, remote, local_port, options, Some(tls)),
                None => self.open(conn, protocol, remote, local_port, options, None),
            },
            NetCommand::Send { conn, data } => {
                let outcome = self.send(conn, None, data);
                self.ready.push_back(NetEvent::SendDone { conn, outcome });
            }
            NetCommand::SendTo { conn, to, data } => {
                let outcome = self.send(conn, Some(to), data);
                self.ready.push_back(NetEvent::SendDone { conn, outcome });
            }
            NetCommand::Close { conn } => {
                // Bytes the modem confirmed are still delivered, as a real close flushes
                // them; the connection ends when the last of them has arrived.
                match self.conns.get_mut(&conn) {
                    Some(c) if c.protocol == Protocol::Tcp && c.up_last > self.now => {
                        c.closing = true;
                        let at = c.up_last;
                        self.schedule(at, Action::Finish { conn });
                    }
                    _ => {
                        self.conns.remove(&conn);
                        self.ready.push_back(NetEvent::Closed { conn });
                    }
                }
            }
            NetCommand::QueryAck { conn } => {
                let acked = self.conns.get_mut(&conn).map_or(0, |c| {
                    c.acked_told = c.acked;
                    c.acked
                });
                self.ready.push_back(NetEvent::AckStatus { conn, acked });
            }
            NetCommand::PauseRead { conn } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.paused = true;
                }
            }
            NetCommand::ResumeRead { conn } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.paused = false;
                    c.held_bytes = 0;
                    self.ready.extend(c.held.drain(..));
                    self.window_opened(conn);
                }
            }
            NetCommand::Listen { server, port, .. } => {
                let taken = self.servers.iter().any(|(s, p)| *s != server && *p == port);
                if taken {
                    self.ready.push_back(NetEvent::ListenFailed { server });
                } else {
                    self.servers.insert(server, port);
                    self.ready.push_back(NetEvent::Listening { server });
                    self.schedule_dials(server, port);
                }
            }
            NetCommand::Unlisten { server } => {
                self.servers.remove(&server);
            }
            NetCommand::Ping { id, addr, size, .. } => {
                // A simulated host answers after the link's round trip; an unknown
                // address never does (the core's wait runs out).
                let known = self.config.hosts.iter().any(|h| h.addr == addr);
                let len = usize::from(size) + 28;
                let air = self.profile.up_time(len) + self.profile.down_time(len);
                if known && !self.rng.chance(self.profile.loss) {
                    let at = self.now + air + self.round_trip();
                    let ttl = Some(64);
                    self.schedule(at, Action::Deliver(NetEvent::PingReply { id, ttl }));
                }
            }
            // The simulated world's host table is its only name server.
            NetCommand::Resolve { query, name, .. } => {
                let addr = self.config.resolve_allowed(&name);
                let at = self.now + self.round_trip();
                self.schedule(at, Action::Deliver(NetEvent::Resolved { query, addr }));
            }
        }
    }

    /// The next event due for the modem.
    pub fn poll_event(&mut self) -> Option<NetEvent> {
        self.ready.pop_front()
    }

    /// When [`SimNetwork::handle_timeout`] should run next; `None` when nothing is in
    /// flight.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.agenda.keys().next().map(|(at, _)| *at)
    }

    /// Moves virtual time to `now` and carries out everything due by then.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        // Actions schedule actions, but always at a later or equal time and finitely
        // many per input; the bound guards against a bug looping here forever.
        for _ in 0..1_000_000 {
            let Some(entry) = self.agenda.first_entry() else {
                return;
            };
            if entry.key().0 > self.now {
                return;
            }
            let action = entry.remove();
            self.run(action);
        }
    }

    fn schedule(&mut self, at: Instant, action: Action) {
        self.seq += 1;
        self.agenda.insert((at.max(self.now), self.seq), action);
    }

    fn round_trip(&mut self) -> Duration {
        self.profile.one_way() * 2 + self.rng.upto(self.profile.jitter())
    }

    fn open(
        &mut self,
        conn: ConnId,
        protocol: Protocol,
        remote: Option<(String, u16)>,
        local_port: Option<u16>,
        options: SocketOptions,
        tls: Option<PendingTls>,
    ) {
        let fail = |net: &mut Self, at, error| {
            net.schedule(at, Action::Deliver(NetEvent::OpenFailed { conn, error }));
        };
        let port = match local_port {
            Some(p) if self.port_taken(protocol, p) => {
                return fail(self, self.now, OpenError::Bind)
            }
            Some(p) => p,
            None => self.ephemeral(protocol),
        };
        let resolved = match &remote {
            Some((name, rport)) => match self.config.resolve_allowed(name) {
                Some(ip) => Some(SocketAddrV4::new(ip, *rport)),
                None => {
                    // A name costs a lookup round trip before it is known to be bad.
                    let at = self.now + self.profile.setup() + self.round_trip();
                    return fail(self, at, OpenError::Dns);
                }
            },
            None => None,
        };
        // The simulated world has none of the daemon's listeners: rules only.
        if let Some(Err(why)) = resolved.map(|to| self.config.policy.check_with(to, |_| false)) {
            tracing::info!(%conn, ?resolved, %why, "open refused by the destination policy");
            let at = self.now + self.profile.setup();
            return fail(self, at, OpenError::Refused);
        }
        let needs_lookup = remote
            .as_ref()
            .is_some_and(|(name, _)| name.parse::<Ipv4Addr>().is_err());
        let behaviour = match (protocol, resolved) {
            (Protocol::Tcp, Some(addr)) => {
                self.config.tcp_service(*addr.ip(), addr.port()).cloned()
            }
            _ => None,
        };
        let c = Conn {
            tls,
            ..Conn::new(protocol, resolved, port, behaviour, options.min_rto)
        };
        match (protocol, resolved) {
            (Protocol::Udp, remote) => {
                self.conns.insert(
                    conn,
                    Conn {
                        connected: true,
                        ..c
                    },
                );
                let remote = remote.unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
                self.ready.push_back(NetEvent::Opened {
                    conn,
                    remote,
                    local_port: port,
                });
            }
            (Protocol::Tcp, None) => fail(self, self.now, OpenError::Socket),
            (Protocol::Tcp, Some(addr)) => {
                let mut at = self.now + self.profile.setup();
                if needs_lookup {
                    at += self.round_trip();
                }
                // A lost SYN or SYN-ACK costs a retransmission timeout.
                for _ in 1..MAX_TRIES {
                    if !self.rng.chance(self.profile.loss) {
                        break;
                    }
                    self.stats.retransmissions += 1;
                    at += self.profile.rto(SYN_RTO);
                }
                at += self.round_trip();
                let result = if c.behaviour.is_some() {
                    Ok(addr)
                } else {
                    Err(OpenError::Refused)
                };
                self.conns.insert(conn, c);
                self.schedule(at, Action::Connect { conn, result });
            }
        }
    }

    /// The `[[sim.client]]` hosts that dial `port` once a server listens there.
    fn schedule_dials(&mut self, server: u8, port: u16) {
        let dialers: Vec<(usize, u64)> = (self.config.clients.iter().enumerate())
            .filter(|(_, c)| c.port == port)
            .map(|(i, c)| (i, c.after_ms))
            .collect();
        for (client, after_ms) in dialers {
            let at = self.now + Duration::from_millis(after_ms) + self.round_trip();
            self.schedule(at, Action::Dial { server, client });
        }
    }

    /// A dialing host arrives: the server (if still listening on that port) accepts it.
    fn dial(&mut self, server: u8, client: usize) {
        let Some(spec) = self.config.clients.get(client).cloned() else {
            return;
        };
        if self.servers.get(&server) != Some(&spec.port) {
            return;
        }
        self.accepted += 1;
        let conn = ConnId::accepted(self.accepted);
        // Deterministic client ports, as a stack would hand out ephemeral ones.
        let peer_port = 50_000u16.wrapping_add(self.accepted as u16);
        let peer = SocketAddrV4::new(spec.addr, peer_port);
        let greeting = match &spec.behaviour {
            Behaviour::Fixed { greeting, .. } => greeting.clone(),
            _ => String::new(),
        };
        let accepted = Conn::new(
            Protocol::Tcp,
            Some(peer),
            spec.port,
            Some(spec.behaviour),
            SYN_RTO,
        );
        self.conns.insert(
            conn,
            Conn {
                connected: true,
                ..accepted
            },
        );
        self.ready
            .push_back(NetEvent::Accepted { server, conn, peer });
        self.peer_writes(conn, greeting.as_bytes());
    }

    fn port_taken(&self, protocol: Protocol, port: u16) -> bool {
        self.conns
            .values()
            .any(|c| c.protocol == protocol && c.local_port == port)
    }

    fn ephemeral(&mut self, protocol: Protocol) -> u16 {
        for _ in 0..u16::MAX {
            let p = self.next_port;
            self.next_port = if p == u16::MAX { EPHEMERAL } else { p + 1 };
            if !self.port_taken(protocol, p) {
                return p;
            }
        }
        EPHEMERAL
    }

    fn send(&mut self, conn: ConnId, to: Option<SocketAddrV4>, data: Vec<u8>) -> SendOutcome {
        let cap = self.config.send_queue_cap;
        let Some(c) = self.conns.get_mut(&conn).filter(|c| c.connected) else {
            return SendOutcome::Disconnected;
        };
        self.stats.bytes_up += data.len() as u64;
        if c.protocol == Protocol::Udp {
            let Some(to) = to.or(c.remote) else {
                return SendOutcome::Disconnected;
            };
            if let Err(why) = self.config.policy.check_with(to, |_| false) {
                tracing::info!(%conn, %to, %why, "datagram refused by the destination policy");
                return SendOutcome::Disconnected;
            }
            if let Some(at) = self.uplink(conn, data.len(), false) {
                self.schedule(at, Action::DatagramAtPeer { conn, to, data });
            } else {
                self.stats.datagrams_lost += 1;
            }
            return SendOutcome::Accepted;
        }
        if c.unacked + data.len() > cap {
            c.full = true;
            return SendOutcome::Full;
        }
        c.unacked += data.len();
        for chunk in data.chunks(MSS) {
            if let Some(at) = self.uplink(conn, chunk.len(), true) {
                self.schedule(
                    at,
                    Action::AtPeer {
                        conn,
                        data: chunk.to_vec(),
                    },
                );
            }
        }
        SendOutcome::Accepted
    }

    /// When `len` bytes sent now reach the peer; `None` if a datagram is lost.
    fn uplink(&mut self, conn: ConnId, len: usize, reliable: bool) -> Option<Instant> {
        let start = self.now.max(self.up_free);
        self.up_free = start + self.profile.up_time(len);
        let at = self.travel(self.up_free, conn, reliable)?;
        let c = self.conns.get_mut(&conn)?;
        let at = if reliable { at.max(c.up_last) } else { at };
        c.up_last = at;
        Some(at)
    }

    /// Bytes the peer sends at `from` towards the modem, cut into segments.
    fn downlink(
        &mut self,
        conn: ConnId,
        from: Instant,
        data: &[u8],
        datagram: Option<SocketAddrV4>,
    ) {
        if self.conns.contains_key(&conn) {
            self.log_peer(conn, false, data);
        }
        let chunks: Vec<&[u8]> = match datagram {
            Some(_) => vec![data],
            None => data.chunks(MSS).collect(),
        };
        for chunk in chunks {
            let start = from.max(self.down_free);
            self.down_free = start + self.profile.down_time(chunk.len());
            let Some(at) = self.travel(self.down_free, conn, datagram.is_none()) else {
                self.stats.datagrams_lost += 1;
                continue;
            };
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            let at = at.max(c.down_last);
            c.down_last = at;
            if datagram.is_none() {
                c.down_flight += chunk.len();
            }
            let event = match datagram {
                Some(from) => NetEvent::Datagram {
                    conn,
                    from,
                    data: chunk.to_vec(),
                },
                None => NetEvent::Data {
                    conn,
                    data: chunk.to_vec(),
                },
            };
            self.schedule(at, Action::Deliver(event));
        }
    }

    /// One trip across the radio link leaving at `left`: latency, jitter, and for a
    /// reliable stream the retransmissions of a lost segment.
    fn travel(&mut self, left: Instant, conn: ConnId, reliable: bool) -> Option<Instant> {
        let mut at = left + self.profile.one_way() + self.rng.upto(self.profile.jitter());
        let min_rto = self.conns.get(&conn).map_or(SYN_RTO, |c| c.min_rto);
        for _ in 1..MAX_TRIES {
            if !self.rng.chance(self.profile.loss) {
                return Some(at);
            }
            if !reliable {
                return None;
            }
            self.stats.retransmissions += 1;
            at += self.profile.rto(min_rto);
        }
        Some(at)
    }

    /// The peer's application writes `data` towards the modem.
    fn peer_writes(&mut self, conn: ConnId, data: &[u8]) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.peer_out.extend(data);
            self.peer_pump(conn);
        }
    }

    /// The peer does what it can now: its application takes what reached it while its
    /// own output has room (acknowledging it), and it sends what the modem's window
    /// lets through.
    fn peer_pump(&mut self, conn: ConnId) {
        for _ in 0..MAX_PUMP {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.peer_out.len() < PEER_BUFFER {
                if let Some(data) = c.peer_in.pop_front() {
                    let reply = answer(c, &data);
                    c.peer_out.extend(reply);
                    // The ACK leaves with (or before) the answer, so it is scheduled
                    // first: at the same instant it runs first.
                    let back = self.now + self.profile.one_way();
                    let len = data.len();
                    self.schedule(back, Action::Acked { conn, len });
                    continue;
                }
            }
            let room = WINDOW.saturating_sub(c.down_flight + c.held_bytes);
            let n = room.min(c.peer_out.len());
            if n == 0 {
                return;
            }
            let bytes: Vec<u8> = c.peer_out.drain(..n).collect();
            if c.peer_out.is_empty() && c.peer_out.capacity() > PEER_BUFFER {
                c.peer_out.shrink_to_fit();
            }
            self.downlink(conn, self.now, &bytes, None);
        }
    }

    /// The modem took bytes: if the peer waits for room, it hears of it half a round
    /// trip later.
    fn window_opened(&mut self, conn: ConnId) {
        let one_way = self.profile.one_way();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let waiting = !c.peer_out.is_empty() || !c.peer_in.is_empty();
        if waiting && !c.update_due {
            c.update_due = true;
            let at = self.now + one_way;
            self.schedule(at, Action::WindowUpdate { conn });
        }
    }

    /// Bytes the simulated network holds for all connections: sent by the modem and not
    /// acknowledged (travelling, or waiting for a peer's application), travelling to
    /// the modem or held for it while it does not read, and written by the peers but
    /// not sent. Bounded
    /// by the windows, whatever the host and the peers do.
    pub fn queued_bytes(&self) -> usize {
        self.conns
            .values()
            .map(|c| c.unacked + c.held_bytes + c.down_flight + c.peer_out.len())
            .sum()
    }

    fn run(&mut self, action: Action) {
        match action {
            Action::Connect { conn, result } => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                match result {
                    Ok(remote) if c.tls.is_some() => {
                        let tls = c.tls.take();
                        self.ready.push_back(NetEvent::Connected { conn });
                        if let Some(tls) = tls {
                            self.start_tls(conn, remote, tls);
                        }
                    }
                    Ok(remote) => self.opened(conn, remote),
                    Err(error) => {
                        self.conns.remove(&conn);
                        self.ready.push_back(NetEvent::OpenFailed { conn, error });
                    }
                }
            }
            Action::Deliver(event) => self.deliver(event),
            Action::TlsDone {
                conn,
                remote,
                result,
            } => self.tls_done(conn, remote, result),
            Action::AtPeer { conn, data } => {
                if !self.conns.contains_key(&conn) {
                    return;
                }
                self.log_peer(conn, true, &data);
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                c.peer_in.push_back(data);
                self.peer_pump(conn);
            }
            Action::WindowUpdate { conn } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.update_due = false;
                    self.peer_pump(conn);
                }
            }
            Action::Acked { conn, len } => {
                let cap = self.config.send_queue_cap;
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                c.unacked = c.unacked.saturating_sub(len);
                c.acked += len as u64;
                if c.full && c.unacked < cap {
                    c.full = false;
                    self.ready.push_back(NetEvent::Writable { conn });
                }
            }
            Action::Dial { server, client } => self.dial(server, client),
            Action::Finish { conn } => {
                if self.conns.remove(&conn).is_some() {
                    self.ready.push_back(NetEvent::Closed { conn });
                }
            }
            Action::DatagramAtPeer { conn, to, data } => {
                self.log_peer(conn, true, &data);
                if self.config.udp_echo(*to.ip(), to.port()) {
                    self.downlink(conn, self.now, &data, Some(to));
                }
            }
        }
    }

    /// TCP is up for a TLS session: runs the handshake in memory and schedules its end
    /// when its flights have crossed the link.
    fn start_tls(&mut self, conn: ConnId, remote: SocketAddrV4, tls: PendingTls) {
        let (config, name) = match tls.plan {
            crate::tls::Plan::Handshake { config, name } => (config, name),
            // No ClientHello: the session fails as soon as TCP is up.
            crate::tls::Plan::Refuse(why) => return self.tls_done(conn, remote, Err(why)),
        };
        let (addr, port) = (*remote.ip(), remote.port());
        let server = match (self.config.service(addr, port), self.config.host_name(addr)) {
            (Some(service), Some(host)) => match &service.tls {
                Some(settings) => tls::server_config(settings, host, addr),
                None => Err(format!("{remote} does not speak TLS")),
            },
            _ => Err(format!("{remote} has no service")),
        };
        let outcome = match server {
            Ok((server, server_chain)) => {
                tls::handshake(config, name, server, server_chain, tls.client_chain)
            }
            // A plain server answers the ClientHello with something that is not TLS
            // (or nothing): one round trip, then the session fails.
            Err(why) => tls::Outcome {
                flights: vec![
                    tls::Flight {
                        up: true,
                        bytes: 512,
                    },
                    tls::Flight {
                        up: false,
                        bytes: 512,
                    },
                ],
                result: Err(why),
            },
        };
        let mut at = self.now;
        for flight in &outcome.flights {
            at = self.crossing(at, conn, flight.bytes, flight.up);
        }
        let result = outcome.result;
        self.schedule(
            at,
            Action::TlsDone {
                conn,
                remote,
                result,
            },
        );
    }

    /// When `len` bytes leaving at `from` arrive across the link (up: to the peer).
    fn crossing(&mut self, from: Instant, conn: ConnId, len: usize, up: bool) -> Instant {
        let free = if up {
            &mut self.up_free
        } else {
            &mut self.down_free
        };
        let start = from.max(*free);
        let air = if up {
            self.profile.up_time(len)
        } else {
            self.profile.down_time(len)
        };
        *free = start + air;
        let left = start + air;
        self.travel(left, conn, true).unwrap_or(left)
    }

    /// A TCP connection (or TLS session) is open: the modem hears of it and the peer
    /// sends its greeting.
    fn opened(&mut self, conn: ConnId, remote: SocketAddrV4) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.connected = true;
        let local_port = c.local_port;
        let greeting = match &c.behaviour {
            Some(Behaviour::Fixed { greeting, .. }) => greeting.clone(),
            _ => String::new(),
        };
        self.ready.push_back(NetEvent::Opened {
            conn,
            remote,
            local_port,
        });
        self.peer_writes(conn, greeting.as_bytes());
    }

    /// A TLS session's handshake ended: open, or failed with the library's reason.
    fn tls_done(&mut self, conn: ConnId, remote: SocketAddrV4, result: Result<(), String>) {
        if !self.conns.contains_key(&conn) {
            // Closed meanwhile (the core's handshake timer, or CCHCLOSE).
            return;
        }
        match result {
            Ok(()) => self.opened(conn, remote),
            Err(why) => {
                tracing::info!(%conn, %remote, reason = %why, "TLS handshake failed");
                self.conns.remove(&conn);
                self.ready.push_back(NetEvent::OpenFailed {
                    conn,
                    error: OpenError::Handshake,
                });
            }
        }
    }

    fn deliver(&mut self, event: NetEvent) {
        let conn = match &event {
            NetEvent::Data { conn, .. } | NetEvent::Datagram { conn, .. } => Some(*conn),
            NetEvent::OpenFailed { conn, .. } => {
                // A failed open forgets the connection, as a failed connect would.
                self.conns.remove(conn);
                None
            }
            _ => None,
        };
        match conn {
            None => self.ready.push_back(event),
            Some(conn) => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if c.closing {
                    return;
                }
                let (len, stream) = match &event {
                    NetEvent::Data { data, .. } => (data.len(), true),
                    NetEvent::Datagram { data, .. } => (data.len(), false),
                    _ => (0, false),
                };
                if stream {
                    c.down_flight = c.down_flight.saturating_sub(len);
                } else if c.paused && c.held_bytes + len > WINDOW {
                    // A full socket buffer drops datagrams.
                    self.stats.datagrams_lost += 1;
                    return;
                }
                self.stats.bytes_down += len as u64;
                // A segment carries the peer's ACK of everything it got before sending
                // it: the modem learns of the ACK no later than of the data (so a
                // `AT+CIPSENDMODE=1` report never comes after the echo it caused).
                if c.acked > c.acked_told {
                    c.acked_told = c.acked;
                    self.ready.push_back(NetEvent::AckStatus {
                        conn,
                        acked: c.acked,
                    });
                }
                if c.paused {
                    c.held_bytes += len;
                    c.held.push_back(event);
                } else {
                    self.ready.push_back(event);
                    if stream {
                        self.window_opened(conn);
                    }
                }
            }
        }
    }
}

/// Prepares a TLS session before any traffic; `Err` when its files are unusable
/// (logged with the reason).
fn pending_tls(conn: ConnId, params: &TlsParams) -> Result<PendingTls, ()> {
    let client_chain = match params.auth {
        TlsAuth::Mutual | TlsAuth::ClientOnly => params.client_cert.len(),
        TlsAuth::None | TlsAuth::Server => 0,
    };
    match crate::tls::prepare(params) {
        Ok(plan) => Ok(PendingTls { plan, client_chain }),
        Err(why) => {
            tracing::info!(%conn, reason = %why, "TLS open refused: certificates");
            Err(())
        }
    }
}

/// What the peer's application answers to `data` (empty if nothing).
fn answer(c: &Conn, data: &[u8]) -> Vec<u8> {
    match &c.behaviour {
        Some(Behaviour::Echo) => data.to_vec(),
        // Only the line ends count, so nothing of a line is kept.
        Some(Behaviour::Fixed { reply: Some(r), .. }) => r
            .as_bytes()
            .repeat(data.iter().filter(|&&b| b == b'\n').count()),
        _ => Vec::new(),
    }
}

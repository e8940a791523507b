//! A whole modem session driven by the fuzzer: host bytes (raw or from a table of the
//! manual's commands with fuzzed numbers), DTR, time steps, output drains, and network
//! events chosen by the fuzzer but only ones a backend can produce at that point (an
//! `Opened` only for an open that was asked for, `Data` only on a connection that is up
//! and not paused, one `SendDone` per send, in order...). The model below is that
//! backend; it keeps the same books as `at7600_net`'s backends.

use arbitrary::{Arbitrary, Unstructured};
use at7600_core::{
    ConnId, Modem, ModemConfig, NetCommand, NetEvent, OpenError, Protocol, SendOutcome,
};
use at7600_net::sim::SimConfig;
use at7600_net::{LinkProfile, Sim};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// Commands of the manual with `{l}` (a link or index) and `{n}` (a number) filled in
/// by the fuzzer; raw host bytes reach everything else.
const COMMANDS: &[&str] = &[
    "AT+NETOPEN\r",
    "AT+NETCLOSE\r",
    "AT+NETOPEN?\r",
    "AT+CIPOPEN={l},\"TCP\",\"192.0.2.7\",{n}\r",
    "AT+CIPOPEN={l},\"TCP\",\"echo.sim\",7\r",
    "AT+CIPOPEN={l},\"UDP\",,,{n}\r",
    "AT+CIPOPEN={l},\"UDP\",\"192.0.2.7\",7,{n},1\r",
    "AT+CIPSEND={l},{n}\r",
    "AT+CIPSEND={l},\r",
    "AT+CIPSEND={l},{n},\"192.0.2.7\",7\r",
    "AT+CIPCLOSE={l}\r",
    "AT+CIPCLOSE?\r",
    "AT+CIPOPEN?\r",
    "AT+CIPRXGET={n}\r",
    "AT+CIPRXGET=2,{l},{n}\r",
    "AT+CIPRXGET=3,{l},{n}\r",
    "AT+CIPRXGET=4,{l}\r",
    "AT+CIPMODE={n}\r",
    "AT+CIPSENDMODE={n}\r",
    "AT+CIPTIMEOUT={n},{n},{n}\r",
    "AT+CIPCCFG={n},{n},0,1,1,0,{n}\r",
    "AT+CIPHEAD={n}\r",
    "AT+CIPSRIP={n}\r",
    "AT+CIPACK={l}\r",
    "AT+SERVERSTART={n},{l}\r",
    "AT+SERVERSTART={n},{l},{n}\r",
    "AT+SERVERSTOP={l}\r",
    "AT+CDNSGIP=\"echo.sim\"\r",
    "AT+IPADDR\r",
    "ATO\r",
    "+++",
    "ATE{n}\r",
    "AT&D{n}\r",
    "AT+CMEE={n}\r",
    "AT+CREG={n}\r",
    "ATI\r",
];

/// One step of a session.
#[derive(Arbitrary, Debug)]
enum Op {
    /// Raw bytes from the host.
    Host(Vec<u8>),
    /// A command from [`COMMANDS`] with these numbers.
    Command { which: u8, link: u8, n: u16 },
    /// Payload bytes (for a prompt or data mode): `len` bytes of a counter.
    Payload(u16),
    /// The DTR line.
    Dtr(bool),
    /// Virtual time passes.
    Wait(u16),
    /// Jump to the modem's deadline.
    Deadline,
    /// The runtime delivers up to this many bytes of output to the host.
    Drain(u16),
    /// The backend reports something: which kind, and which of the candidates.
    Net { kind: u8, pick: u8, arg: u16 },
}

/// What a backend knows about the modem's requests so far.
#[derive(Default)]
struct Backend {
    attaching: bool,
    attached: bool,
    detaching: bool,
    opening: Vec<(ConnId, Protocol)>,
    /// Connections up: protocol, paused, cut (the peer closed or the network went).
    open: BTreeMap<ConnId, (Protocol, bool, bool)>,
    /// Sends not yet answered, in order, with their lengths.
    sends: VecDeque<(ConnId, usize)>,
    /// Connections owed a `Writable` after a `Full`.
    full: BTreeSet<ConnId>,
    /// Bytes accepted per connection (what a peer may acknowledge).
    accepted: BTreeMap<ConnId, u64>,
    acks: VecDeque<ConnId>,
    closing: Vec<ConnId>,
    listening: BTreeSet<u8>,
    listen_asked: Vec<u8>,
    resolving: Vec<u64>,
    pinging: Vec<u64>,
    accepted_count: u64,
}

impl Backend {
    /// Takes one command from the modem.
    fn command(&mut self, cmd: NetCommand) {
        match cmd {
            NetCommand::Attach => self.attaching = true,
            NetCommand::Detach => {
                self.detaching = true;
                self.open.clear();
                self.opening.clear();
                self.listening.clear();
            }
            NetCommand::Open { conn, protocol, .. } => self.opening.push((conn, protocol)),
            NetCommand::Send { conn, data } | NetCommand::SendTo { conn, data, .. } => {
                self.sends.push_back((conn, data.len()))
            }
            NetCommand::Close { conn } => {
                self.open.remove(&conn);
                self.opening.retain(|(c, _)| *c != conn);
                self.closing.push(conn);
            }
            NetCommand::QueryAck { conn } => self.acks.push_back(conn),
            NetCommand::PauseRead { conn } => {
                if let Some(c) = self.open.get_mut(&conn) {
                    c.1 = true;
                }
            }
            NetCommand::ResumeRead { conn } => {
                if let Some(c) = self.open.get_mut(&conn) {
                    c.1 = false;
                }
            }
            NetCommand::Listen { server, .. } => self.listen_asked.push(server),
            NetCommand::Unlisten { server } => {
                self.listening.remove(&server);
            }
            NetCommand::Resolve { query, .. } => self.resolving.push(query),
            NetCommand::Ping { id, .. } => self.pinging.push(id),
        }
    }

    /// An event of kind `kind` that this backend could send now, if there is one.
    fn event(&mut self, kind: u8, pick: u8, arg: u16) -> Option<NetEvent> {
        let p = pick as usize;
        let peer = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 7), 7);
        match kind % 13 {
            0 if self.attaching => {
                self.attaching = false;
                if pick.is_multiple_of(4) {
                    Some(NetEvent::AttachFailed)
                } else {
                    self.attached = true;
                    Some(NetEvent::Attached {
                        ip: Ipv4Addr::new(10, 0, 0, 1),
                    })
                }
            }
            1 if self.detaching => {
                self.detaching = false;
                self.attached = false;
                Some(NetEvent::Detached)
            }
            2 if !self.opening.is_empty() => {
                let (conn, protocol) = self.opening.remove(p % self.opening.len());
                let error = match arg % 6 {
                    0 => OpenError::Refused,
                    1 => OpenError::Dns,
                    2 => OpenError::Bind,
                    3 => OpenError::Socket,
                    _ => {
                        self.open.insert(conn, (protocol, false, false));
                        return Some(NetEvent::Opened {
                            conn,
                            remote: peer,
                            local_port: 40000,
                        });
                    }
                };
                Some(NetEvent::OpenFailed { conn, error })
            }
            3 => {
                let live: Vec<_> = (self.open.iter())
                    .filter(|(_, (_, paused, cut))| !paused && !cut)
                    .map(|(c, (p, _, _))| (*c, *p))
                    .collect();
                let (conn, protocol) = *live.get(p % live.len().max(1))?;
                let data: Vec<u8> = (0..(arg % 3000) as usize + 1).map(|i| i as u8).collect();
                Some(match protocol {
                    Protocol::Tcp => NetEvent::Data { conn, data },
                    Protocol::Udp => NetEvent::Datagram {
                        conn,
                        from: peer,
                        data,
                    },
                })
            }
            4 => {
                let (conn, len) = self.sends.pop_front()?;
                let up = self.open.get(&conn).is_some_and(|c| !c.2);
                let outcome = match (up, arg % 4) {
                    (false, _) => SendOutcome::Disconnected,
                    (true, 0) => {
                        self.full.insert(conn);
                        SendOutcome::Full
                    }
                    (true, _) => {
                        *self.accepted.entry(conn).or_default() += len as u64;
                        SendOutcome::Accepted
                    }
                };
                Some(NetEvent::SendDone { conn, outcome })
            }
            5 => {
                let conn = *self.full.iter().nth(p % self.full.len().max(1))?;
                self.full.remove(&conn);
                Some(NetEvent::Writable { conn })
            }
            6 => {
                let conn = self.acks.pop_front()?;
                let sent = self.accepted.get(&conn).copied().unwrap_or(0);
                let acked = sent.min(arg as u64 * 64);
                Some(NetEvent::AckStatus { conn, acked })
            }
            7 => {
                let up: Vec<_> = (self.open.iter())
                    .filter(|(_, (_, _, cut))| !cut)
                    .map(|(c, _)| *c)
                    .collect();
                let conn = *up.get(p % up.len().max(1))?;
                if let Some(c) = self.open.get_mut(&conn) {
                    c.2 = true;
                }
                Some(NetEvent::PeerClosed { conn })
            }
            8 if !self.closing.is_empty() => {
                let conn = self.closing.remove(p % self.closing.len());
                Some(NetEvent::Closed { conn })
            }
            9 if !self.listen_asked.is_empty() => {
                let server = self.listen_asked.remove(p % self.listen_asked.len());
                if arg.is_multiple_of(4) {
                    Some(NetEvent::ListenFailed { server })
                } else {
                    self.listening.insert(server);
                    Some(NetEvent::Listening { server })
                }
            }
            10 => {
                let server = *self.listening.iter().nth(p % self.listening.len().max(1))?;
                self.accepted_count += 1;
                let conn = ConnId::accepted(self.accepted_count);
                self.open.insert(conn, (Protocol::Tcp, false, false));
                Some(NetEvent::Accepted {
                    server,
                    conn,
                    peer: SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 99), 50000 + arg % 1000),
                })
            }
            11 if !self.resolving.is_empty() => {
                let query = self.resolving.remove(p % self.resolving.len());
                let addr = (!arg.is_multiple_of(3)).then_some(Ipv4Addr::new(192, 0, 2, 7));
                Some(NetEvent::Resolved { query, addr })
            }
            12 if self.attached => {
                self.attached = false;
                for c in self.open.values_mut() {
                    c.2 = true;
                }
                Some(NetEvent::NetworkLost)
            }
            // A ping the host answered (one it did not is never answered: the core times
            // it out).
            _ if !self.pinging.is_empty() && pick.is_multiple_of(2) => {
                let id = self.pinging.remove(p % self.pinging.len());
                Some(NetEvent::PingReply { id, ttl: Some(64) })
            }
            _ => None,
        }
    }
}

/// Fills `{l}` and `{n}` of a command template.
fn fill(template: &str, link: u8, n: u16) -> Vec<u8> {
    // Mostly valid numbers, sometimes out of range.
    let link = if link < 200 { link % 10 } else { link };
    let n = if n < 60_000 { n % 1500 } else { n };
    template
        .replace("{l}", &link.to_string())
        .replace("{n}", &n.to_string())
        .into_bytes()
}

/// The session target: see the module docs.
pub fn session(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut modem = Modem::new(ModemConfig::default());
    let limits = modem.config().limits;
    let mut backend = Backend::default();
    let mut now = Duration::ZERO;
    let mut since_drain = 0usize;
    let mut counter = 0u8;
    for _ in 0..256 {
        let Ok(op) = Op::arbitrary(&mut u) else { break };
        match op {
            Op::Host(bytes) => {
                since_drain += bytes.len();
                modem.handle_host(now, &bytes);
            }
            Op::Command { which, link, n } => {
                let bytes = fill(COMMANDS[which as usize % COMMANDS.len()], link, n);
                since_drain += bytes.len();
                modem.handle_host(now, &bytes);
            }
            Op::Payload(len) => {
                let bytes: Vec<u8> = (0..len % 2048)
                    .map(|_| {
                        counter = counter.wrapping_add(1);
                        counter
                    })
                    .collect();
                since_drain += bytes.len();
                modem.handle_host(now, &bytes);
            }
            Op::Dtr(on) => modem.handle_dtr(now, on),
            Op::Wait(ms) => {
                now += Duration::from_millis(ms as u64);
                if modem.poll_timeout().is_some_and(|t| t <= now) {
                    modem.handle_timeout(now);
                }
            }
            Op::Deadline => {
                if let Some(t) = modem.poll_timeout() {
                    now = now.max(t);
                    modem.handle_timeout(now);
                }
            }
            Op::Drain(n) => {
                let n = (n as usize).min(modem.host_output().len());
                modem.consume_host_output(n);
                if modem.host_output().is_empty() {
                    since_drain = 0;
                }
            }
            Op::Net { kind, pick, arg } => {
                if let Some(ev) = backend.event(kind, pick, arg) {
                    modem.handle_net(now, ev);
                }
            }
        }
        while let Some(cmd) = modem.poll_net() {
            backend.command(cmd);
        }
        check_bounds(&modem, limits, since_drain);
    }
}

/// Memory stays within the documented limits: each link's buffer within its limit plus
/// one received chunk; output not taken by the host within the backlog limit plus what
/// the host's own commands asked for.
fn check_bounds(modem: &Modem, limits: at7600_core::config::Limits, host_bytes: usize) {
    const CHUNK: usize = 3000;
    let status = modem.status();
    for l in &status.links {
        assert!(
            l.buffered <= limits.rx_buffer + CHUNK,
            "link {} buffers {} bytes",
            l.link,
            l.buffered
        );
    }
    let out = modem.host_output().len();
    let bound = limits.host_backlog + 10 * (limits.rx_buffer + CHUNK) + 64 * host_bytes + 4096;
    assert!(out <= bound, "{out} bytes of output wait for the host");
}

/// A modem on the default simulated network with the network open and two links up
/// (0 TCP to the echo host, 1 UDP), for targets that act on a live session.
pub fn sim_with_links() -> Sim {
    let mut sim = Sim::new(
        ModemConfig::default(),
        SimConfig::default(),
        LinkProfile::named("none").expect("the none profile exists"),
        1,
    );
    sim.host(b"AT+NETOPEN\r");
    sim.run_for(Duration::from_secs(1));
    sim.host(b"AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7\r");
    sim.host(b"AT+CIPOPEN=1,\"UDP\",,,5000\r");
    sim.run_for(Duration::from_secs(1));
    sim.take_output();
    sim
}

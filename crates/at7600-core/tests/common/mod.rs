//! A test bench for the modem core: no runtime, no sockets. A scripted network answers
//! the modem's commands at once (unless told not to), and every exchange is recorded as
//! a transcript of exact bytes for snapshots.
#![allow(dead_code)]

use at7600_core::{ConnId, Modem, ModemConfig, NetCommand, NetEvent, Protocol, SendOutcome};
use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

pub use at7600_core::escape::c_string as show;

/// The address the scripted network gives the modem.
pub const MODEM_IP: Ipv4Addr = Ipv4Addr::new(10, 148, 0, 17);

pub struct Bench {
    pub modem: Modem,
    pub now: Duration,
    /// Answer network commands at once.
    pub auto: bool,
    /// Commands not answered (when `auto` is off), oldest first.
    pub pending: VecDeque<NetCommand>,
    /// Every command the modem issued.
    pub log: Vec<NetCommand>,
    transcript: String,
    sent: HashMap<ConnId, u64>,
    /// Names the scripted DNS knows.
    pub dns: HashMap<String, Ipv4Addr>,
    /// How the scripted network ends a TLS open after `Connected`.
    pub tls: TlsScript,
    /// Events the scripted network reports after its answer to one command.
    follow: VecDeque<NetEvent>,
}

/// What the scripted network does with a TLS open ([`NetCommand::Open`] with `tls`):
/// TCP is always up first (`Connected`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum TlsScript {
    /// The handshake succeeds (`Opened`).
    #[default]
    Succeed,
    /// The handshake (or the certificate files) fails with this error.
    Fail(at7600_core::OpenError),
    /// The handshake never finishes.
    Stall,
}

impl Default for Bench {
    fn default() -> Self {
        Self::new(ModemConfig::default())
    }
}

impl Bench {
    pub fn new(config: ModemConfig) -> Self {
        let mut dns = HashMap::new();
        dns.insert(
            "www.baidu.com".to_string(),
            Ipv4Addr::new(61, 135, 169, 121),
        );
        dns.insert("peer.test".to_string(), Ipv4Addr::new(117, 131, 85, 139));
        // The servers of `ssl.md` §15.
        for name in [
            "example.com",
            "mqtt.example.com",
            "expired.example.com",
            "wrong.host.example.com",
        ] {
            dns.insert(name.to_string(), Ipv4Addr::new(93, 184, 216, 34));
        }
        Bench {
            modem: Modem::new(config),
            now: Duration::ZERO,
            auto: true,
            pending: VecDeque::new(),
            log: Vec::new(),
            transcript: String::new(),
            sent: HashMap::new(),
            dns,
            tls: TlsScript::default(),
            follow: VecDeque::new(),
        }
    }

    /// The host writes `bytes`; returns what the modem printed.
    pub fn host(&mut self, bytes: impl AsRef<[u8]>) -> String {
        let bytes = bytes.as_ref();
        self.modem.handle_host(self.now, bytes);
        let out = self.settle();
        self.record(&format!("> {}", show(bytes)), &out);
        out
    }

    /// The network reports `event`; returns what the modem printed.
    pub fn event(&mut self, event: NetEvent) -> String {
        let label = match &event {
            NetEvent::Data { conn, data } => format!("! Data {conn} \"{}\"", show(data)),
            NetEvent::Datagram { conn, from, data } => {
                format!("! Datagram {conn} from {from} \"{}\"", show(data))
            }
            other => format!("! {other:?}"),
        };
        self.modem.handle_net(self.now, event);
        let out = self.settle();
        self.record(&label, &out);
        out
    }

    /// Lets `d` of virtual time pass, firing every deadline on the way in order.
    pub fn advance(&mut self, d: Duration) -> String {
        let end = self.now + d;
        let mut all = String::new();
        for _ in 0..10_000 {
            match self.modem.poll_timeout() {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.modem.handle_timeout(self.now);
                    all.push_str(&self.settle());
                }
                _ => break,
            }
        }
        self.now = end;
        self.record(&format!("~ {}ms", d.as_millis()), &all);
        all
    }

    /// DTR changes.
    pub fn dtr(&mut self, on: bool) -> String {
        self.modem.handle_dtr(self.now, on);
        let out = self.settle();
        self.record(&format!("! DTR {}", if on { "ON" } else { "OFF" }), &out);
        out
    }

    fn record(&mut self, what: &str, out: &str) {
        self.transcript.push_str(what);
        self.transcript.push('\n');
        if !out.is_empty() {
            self.transcript.push_str("< ");
            self.transcript.push_str(out);
            self.transcript.push('\n');
        }
    }

    /// Everything so far, one exchange a line: `>` host, `!` event, `~` time, `<` modem.
    pub fn transcript(&self) -> &str {
        &self.transcript
    }

    /// Answers (or queues) the modem's commands until it is quiet; returns its output.
    fn settle(&mut self) -> String {
        let mut bytes = Vec::new();
        for _ in 0..1000 {
            let out = self.modem.host_output().to_vec();
            self.modem.consume_host_output(out.len());
            bytes.extend(out);
            let Some(cmd) = self.modem.poll_net() else {
                if self.modem.host_output().is_empty() {
                    break;
                }
                continue;
            };
            self.log.push(cmd.clone());
            if self.auto {
                if let Some(ev) = self.answer(&cmd) {
                    self.modem.handle_net(self.now, ev);
                }
                while let Some(ev) = self.follow.pop_front() {
                    self.modem.handle_net(self.now, ev);
                }
            } else {
                self.pending.push_back(cmd);
            }
        }
        show(&bytes)
    }

    /// What the scripted network says to a command.
    pub fn answer(&mut self, cmd: &NetCommand) -> Option<NetEvent> {
        Some(match cmd {
            NetCommand::Attach => NetEvent::Attached { ip: MODEM_IP },
            NetCommand::Detach => NetEvent::Detached,
            NetCommand::Open {
                conn,
                protocol,
                remote,
                local_port,
                tls,
                ..
            } => {
                let remote = match remote {
                    Some((host, port)) => {
                        let ip = host.parse().ok().or_else(|| self.dns.get(host).copied());
                        match ip {
                            Some(ip) => SocketAddrV4::new(ip, *port),
                            None => {
                                return Some(NetEvent::OpenFailed {
                                    conn: *conn,
                                    error: at7600_core::OpenError::Dns,
                                })
                            }
                        }
                    }
                    None => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
                };
                let _ = protocol == &Protocol::Tcp;
                let opened = NetEvent::Opened {
                    conn: *conn,
                    remote,
                    local_port: local_port.unwrap_or(40000),
                };
                if tls.is_none() {
                    return Some(opened);
                }
                match self.tls {
                    TlsScript::Succeed => self.follow.push_back(opened),
                    TlsScript::Fail(error) => self
                        .follow
                        .push_back(NetEvent::OpenFailed { conn: *conn, error }),
                    TlsScript::Stall => {}
                }
                NetEvent::Connected { conn: *conn }
            }
            NetCommand::Send { conn, data } | NetCommand::SendTo { conn, data, .. } => {
                *self.sent.entry(*conn).or_default() += data.len() as u64;
                NetEvent::SendDone {
                    conn: *conn,
                    outcome: SendOutcome::Accepted,
                }
            }
            NetCommand::Close { conn } => NetEvent::Closed { conn: *conn },
            NetCommand::QueryAck { conn } => NetEvent::AckStatus {
                conn: *conn,
                acked: self.sent.get(conn).copied().unwrap_or(0),
            },
            NetCommand::Listen { server, .. } => NetEvent::Listening { server: *server },
            NetCommand::Resolve { query, name, .. } => NetEvent::Resolved {
                query: *query,
                addr: self.dns.get(name).copied(),
            },
            NetCommand::Ping { id, .. } => NetEvent::PingReply {
                id: *id,
                ttl: Some(64),
            },
            NetCommand::Unlisten { .. }
            | NetCommand::PauseRead { .. }
            | NetCommand::ResumeRead { .. } => return None,
        })
    }

    /// The connection behind the most recent `Open`.
    pub fn last_conn(&self) -> ConnId {
        self.log
            .iter()
            .rev()
            .find_map(|c| match c {
                NetCommand::Open { conn, .. } => Some(*conn),
                _ => None,
            })
            .expect("an Open was issued")
    }

    /// The data of every `Send`/`SendTo` so far, in order.
    pub fn sent_data(&self) -> Vec<Vec<u8>> {
        self.log
            .iter()
            .filter_map(|c| match c {
                NetCommand::Send { data, .. } | NetCommand::SendTo { data, .. } => {
                    Some(data.clone())
                }
                _ => None,
            })
            .collect()
    }
}

/// The peer of the manual's examples.
pub const PEER: &str = "117.131.85.139";

impl Bench {
    /// `AT+NETOPEN` on the scripted network, checked.
    pub fn netopen(&mut self) {
        let out = self.host("AT+NETOPEN\r");
        assert!(out.ends_with(r"\r\nOK\r\n\r\n+NETOPEN: 0\r\n"), "{out}");
    }

    /// Opens TCP link `link` to the manual's peer 117.131.85.139:5253; returns its connection.
    pub fn open_tcp(&mut self, link: usize) -> ConnId {
        let out = self.host(format!("AT+CIPOPEN={link},\"TCP\",\"{PEER}\",5253\r"));
        assert!(
            out.ends_with(&format!("OK\\r\\n\\r\\n+CIPOPEN: {link},0\\r\\n")),
            "{out}"
        );
        self.last_conn()
    }

    /// Opens UDP link `link` without a remote, local port 5000; returns its connection.
    pub fn open_udp(&mut self, link: usize) -> ConnId {
        let out = self.host(format!("AT+CIPOPEN={link},\"UDP\",,,5000\r"));
        assert!(
            out.ends_with(&format!("\\r\\n+CIPOPEN: {link},0\\r\\n\\r\\nOK\\r\\n")),
            "{out}"
        );
        self.last_conn()
    }

    /// An A76xx-personality bench with echo off (`ATE0`).
    pub fn a76xx() -> Self {
        let mut config = ModemConfig::default();
        config.identity.personality = at7600_core::config::Personality::A76xx;
        let mut b = Bench::new(config);
        b.host("ATE0\r");
        b
    }

    /// A bench with echo off (`ATE0`), so outputs are only the module's answers.
    pub fn quiet() -> Self {
        let mut b = Bench::default();
        b.host("ATE0\r");
        b
    }

    /// Data from the peer on `conn`.
    pub fn data(&mut self, conn: ConnId, data: &[u8]) -> String {
        self.event(NetEvent::Data {
            conn,
            data: data.to_vec(),
        })
    }

    /// A datagram from the manual's peer 117.131.85.139:5254 on `conn`.
    pub fn datagram(&mut self, conn: ConnId, data: &[u8]) -> String {
        self.event(NetEvent::Datagram {
            conn,
            from: SocketAddrV4::new(PEER.parse().expect("ip"), 5254),
            data: data.to_vec(),
        })
    }
}

impl Bench {
    /// Sends each command (with `\r`) in turn and checks the exact answer to each.
    pub fn expect_answers(&mut self, pairs: &[(&str, &str)]) {
        for (cmd, answer) in pairs {
            assert_eq!(self.host(format!("{cmd}\r")), *answer, "{cmd}");
        }
    }

    /// Sends each command (with `\r`) in turn and checks it is refused with a plain
    /// `ERROR` and nothing else.
    pub fn expect_errors(&mut self, cmds: &[&str]) {
        for cmd in cmds {
            assert_eq!(self.host(format!("{cmd}\r")), r"\r\nERROR\r\n", "{cmd}");
        }
    }

    /// Changes the radio values as a fault would; returns the URCs that gives.
    pub fn radio(&mut self, change: impl FnOnce(&mut at7600_core::config::Radio)) -> String {
        let mut radio = self.modem.status().radio;
        change(&mut radio);
        self.modem.set_radio(self.now, radio);
        let out = show(self.modem.host_output());
        self.modem.consume_host_output(usize::MAX);
        out
    }
}

/// The SSL socket set (`ssl.md`).
impl Bench {
    /// `AT+CCHSTART` with PDP cid 1 active, checked.
    pub fn cch_start(&mut self) {
        assert_eq!(
            self.host("AT+CCHSTART\r"),
            r"\r\nOK\r\n\r\n+CCHSTART: 0\r\n"
        );
    }

    /// Downloads `data` as `name` into the certificate store, checked.
    pub fn cert(&mut self, name: &str, data: &[u8]) {
        let cmd = format!("AT+CCERTDOWN=\"{name}\",{}\r", data.len());
        assert_eq!(self.host(cmd), r"\r\n>");
        assert_eq!(self.host(data), r"\r\nOK\r\n");
    }

    /// Opens session `s` to `host:port` with `client_type`, checked for
    /// `+CCHOPEN: <s>,<code>`; returns the connection of the open attempt, if one.
    pub fn cch_open(&mut self, s: u8, host: &str, port: u16, client_type: u8, code: u8) {
        let out = self.host(format!("AT+CCHOPEN={s},\"{host}\",{port},{client_type}\r"));
        assert_eq!(out, format!(r"\r\nOK\r\n\r\n+CCHOPEN: {s},{code}\r\n"));
    }

    /// Takes everything the modem has for the host, raw, without answering the
    /// network (a host that only now reads).
    pub fn drain_output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..1000 {
            let chunk = self.modem.host_output().to_vec();
            if chunk.is_empty() {
                break;
            }
            self.modem.consume_host_output(chunk.len());
            out.extend(chunk);
        }
        out
    }

    /// The TLS parameters of the most recent `Open`.
    pub fn last_tls(&self) -> Option<at7600_core::TlsParams> {
        self.log.iter().rev().find_map(|c| match c {
            NetCommand::Open { tls, .. } => Some(tls.as_deref().cloned()),
            _ => None,
        })?
    }
}

/// The raw bytes of the `+CCHRECV: DATA,<s>,<len>` frames in `out`, in order; what
/// lies between frames is skipped.
pub fn cch_frames(out: &[u8], s: u8) -> Vec<u8> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let header = format!("+CCHRECV: DATA,{s},");
    let mut data = Vec::new();
    let mut rest = out;
    for _ in 0..10_000 {
        let Some(i) = find(rest, header.as_bytes()) else {
            break;
        };
        let after = &rest[i + header.len()..];
        let Some(eol) = find(after, b"\r\n") else {
            break;
        };
        let len: usize = std::str::from_utf8(&after[..eol])
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let body = &after[eol + 2..];
        let len = len.min(body.len());
        data.extend(&body[..len]);
        rest = &body[len..];
    }
    data
}

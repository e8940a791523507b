//! The SSL/TLS socket set (`ssl.md`): SSL contexts (`AT+CSSLCFG`), the certificate
//! store (`AT+CCERT*`) and the two sessions of the `AT+CCH*` commands.
//!
//! The sessions ride on PDP context cid 1 beside the ten TCP/IP links but are not among
//! them (§1): they have their own connections ([`ConnId`]s from the same counter), their
//! own receive caches and send queues, and their own URCs. TLS itself runs in the
//! network backend; the core hands it the context's settings and file contents
//! ([`crate::TlsParams`]) and sees sessions, plaintext and results, as for TCP links.

mod certs;
mod config;
mod events;
mod names;
mod sessions;
mod transfer;
mod transparent;

use crate::io::{ConnId, Instant};
use crate::modem::{Failure, HostState, Modem, Step, Timer};
use crate::parser::Form;
use certs::CertStore;
use config::{SslContext, CONTEXTS};
use std::collections::VecDeque;
use std::time::Duration;

/// Number of sessions (`<session_id>` 0-1).
pub const SESSIONS: usize = 2;

/// Every `ERROR` of this set is plain, whatever `AT+CMEE` says (`ssl.md` preamble).
fn plain() -> Step {
    Step::Fail(Failure::Plain)
}

/// The timers of the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslTimer {
    /// A session's open gives up: the 120 s connect wait, or `negotiatetime` once the
    /// handshake began.
    Open(usize, ConnId),
    /// A session's oldest send waiting for room in its queue gives up.
    SendWait(usize),
}

/// Where a fixed-length payload goes.
#[derive(Debug)]
pub enum PayloadTarget {
    /// `AT+CCERTDOWN`: a file of the store.
    Cert(String),
    /// `AT+CCHSEND`: a session's send queue (the connection it had at the prompt).
    Send(usize, ConnId),
}

/// A payload being typed after the `>` prompt of `AT+CCERTDOWN` or `AT+CCHSEND`:
/// exactly `len` bytes, none special.
#[derive(Debug)]
pub struct Payload {
    target: PayloadTarget,
    len: usize,
    data: Vec<u8>,
}

/// Where a session is in its life (`ssl.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Free,
    /// Name lookup and TCP connect (120 s).
    Connecting,
    /// TCP is up, the TLS handshake runs (`negotiatetime`).
    Handshaking,
    Open,
    /// The server (or the network) ended it; its cache stays readable. Its connection
    /// is already closed.
    PeerClosed,
}

/// Factory send timeout of a session (`AT+CCHCFG="sendtimeout"`), in seconds.
const SEND_TIMEOUT_S: u16 = 150;

/// One session and its binding.
#[derive(Debug)]
struct Session {
    phase: Phase,
    /// SSL context bound with `AT+CCHSSLCFG`; none: the one numbered like the session.
    ctx: Option<u8>,
    send_timeout_s: u16,
    conn: ConnId,
    host: String,
    port: u16,
    client_type: u8,
    bind_port: Option<u16>,
    /// Receive mode and report option in force at its `AT+CCHOPEN`.
    manual: bool,
    report: bool,
    /// The transparent session (`AT+CCHMODE=1`).
    transparent: bool,
    /// `negotiatetime` of its context at `AT+CCHOPEN`.
    negotiate: Duration,
    /// Manual mode: what `AT+CCHRECV` serves (at most [`transfer::CACHE`] bytes).
    cache: VecDeque<u8>,
    /// Manual mode: bytes beyond the cache, received after reading was paused. They
    /// count as still in the network; reads move them into the cache.
    held: VecDeque<u8>,
    /// `+CCHEVENT: <s>,RECV EVENT` was sent and no read has emptied the cache since.
    notified: bool,
    /// Reading paused because the cache is full.
    paused_cache: bool,
    /// Reading paused because the host is not taking output.
    paused_host: bool,
    /// Bytes accepted by `AT+CCHSEND`, not yet handed to the backend.
    queue: VecDeque<u8>,
    /// The one send the backend has not answered yet.
    in_flight: Option<Vec<u8>>,
    /// The backend refused a send (`Full`): wait for `Writable`.
    blocked: bool,
    /// Payloads waiting for room in the queue, with their deadline.
    waiting: VecDeque<(Vec<u8>, Instant)>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            phase: Phase::Free,
            ctx: None,
            send_timeout_s: SEND_TIMEOUT_S,
            conn: ConnId(0),
            host: String::new(),
            port: 0,
            client_type: 2,
            bind_port: None,
            manual: false,
            report: false,
            transparent: false,
            negotiate: Duration::from_secs(300),
            cache: VecDeque::new(),
            held: VecDeque::new(),
            notified: false,
            paused_cache: false,
            paused_host: false,
            queue: VecDeque::new(),
            in_flight: None,
            blocked: false,
            waiting: VecDeque::new(),
        }
    }
}

impl Session {
    fn paused(&self) -> bool {
        self.paused_cache || self.paused_host
    }

    /// Whether the backend still has a connection for it.
    fn connected(&self) -> bool {
        matches!(
            self.phase,
            Phase::Connecting | Phase::Handshaking | Phase::Open
        )
    }

    /// Bytes accepted but not yet written to the network (`AT+CCHSEND?`).
    fn unsent(&self) -> usize {
        self.queue.len()
            + self.in_flight.as_ref().map_or(0, Vec::len)
            + self.waiting.iter().map(|(d, _)| d.len()).sum::<usize>()
    }
}

/// Everything of the set a modem keeps.
#[derive(Debug, Default)]
pub struct SslState {
    contexts: [SslContext; CONTEXTS],
    /// The certificate store: survives restarts.
    store: CertStore,
    started: bool,
    /// `AT+CCHSET` `<report_send_result>`.
    report: bool,
    /// `AT+CCHSET` `<recv_mode>` 1.
    manual: bool,
    /// `AT+CCHMODE=1`.
    transparent: bool,
    sessions: [Session; SESSIONS],
    /// The network was lost (a fault) and has not been attached again: PDP cid 1
    /// counts as inactive for the set (§11.3).
    lost: bool,
}

impl Modem {
    /// The commands of the set; `None` for any other command.
    pub(super) fn cmd_ssl(&mut self, name: &str, form: &Form) -> Option<Step> {
        Some(match name {
            "+CSSLCFG" => self.cmd_csslcfg(form),
            "+CCERTDOWN" | "+CCERTLIST" | "+CCERTDELE" | "+CCERTMOVE" => self.cmd_certs(name, form),
            "+CCHSEND" => self.cmd_cchsend(form),
            "+CCHRECV" => self.cmd_cchrecv(form),
            "+CCHSET" | "+CCHMODE" | "+CCHSTART" | "+CCHSTOP" | "+CCHADDR" | "+CCHSSLCFG"
            | "+CCHCFG" | "+CCHOPEN" | "+CCHCLOSE" => self.cmd_cch(name, form),
            _ => return None,
        })
    }

    /// One byte of an `AT+CCERTDOWN` / `AT+CCHSEND` payload.
    pub(super) fn ssl_payload_byte(&mut self, b: u8) {
        let HostState::SslPayload(p) = &mut self.host else {
            return;
        };
        p.data.push(b);
        if p.data.len() < p.len {
            return;
        }
        let HostState::SslPayload(p) = std::mem::replace(&mut self.host, HostState::Idle) else {
            return;
        };
        self.cancel_timer(Timer::Payload);
        let step = match p.target {
            PayloadTarget::Cert(name) => self.download_complete(name, p.data),
            PayloadTarget::Send(s, conn) => self.send_complete(s, conn, p.data),
        };
        self.finish(step);
    }

    /// The payload was not complete in time (or DTR went OFF): nothing is kept.
    pub(super) fn ssl_payload_abandoned(&mut self) {
        if matches!(self.host, HostState::SslPayload(_)) {
            self.cancel_timer(Timer::Payload);
            self.host = HostState::Idle;
            self.finish(plain());
        }
    }

    pub(super) fn ssl_timer(&mut self, timer: SslTimer) {
        match timer {
            SslTimer::Open(s, conn) => self.session_open_timed_out(s, conn),
            SslTimer::SendWait(s) => self.send_wait_timed_out(s),
        }
    }

    /// A restart or power-off: sessions, service, options and contexts go; the
    /// certificate store stays (§1).
    pub(super) fn ssl_power_down(&mut self) {
        for s in 0..SESSIONS {
            if self.ssl.sessions[s].connected() {
                let conn = self.ssl.sessions[s].conn;
                self.net_out
                    .push_back(crate::io::NetCommand::Close { conn });
            }
        }
        let store = std::mem::take(&mut self.ssl.store);
        self.ssl = SslState {
            store,
            ..SslState::default()
        };
    }
}

impl Modem {
    /// PDP cid 1 is down for the radio's or the host's sake (not a fault): its next
    /// activation is a real one.
    pub(super) fn ssl_bearer_down(&mut self) {
        self.ssl.lost = false;
    }
}

//! Sending: `AT+CIPSEND` with its payload entry, the `+CIPSEND: <n>,<req>,<cnf>`
//! reports, and the wait for the peer's ACK under `AT+CIPSENDMODE=1`.

use super::sockets::link_arg;
use super::{Failure, HostState, Modem, Step, Timer};
use crate::io::{ConnId, NetCommand, Protocol, SendOutcome};
use crate::link::{LinkState, PendingSend};
use crate::parser::Form;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// Largest payload of one `AT+CIPSEND`.
pub const MAX_SEND: usize = 1500;
/// How often the backend is asked for the acknowledged count while a send waits for it.
const ACK_POLL: Duration = Duration::from_millis(20);

const ETX: u8 = 0x03;
const CTRL_Z: u8 = 0x1a;
const ESC: u8 = 0x1b;

/// A payload being typed after the `>` prompt.
#[derive(Debug)]
pub(super) struct Payload {
    link: usize,
    conn: ConnId,
    /// Fixed length, or `None` for Ctrl-Z-terminated input.
    len: Option<usize>,
    /// UDP destination.
    dest: Option<SocketAddrV4>,
    data: Vec<u8>,
    /// The previous byte was an unescaped ETX.
    escaped: bool,
    /// More than [`MAX_SEND`] bytes came before Ctrl-Z.
    overflow: bool,
}

fn cip_error(code: u8) -> Step {
    Step::Fail(Failure::Info(format!("+CIPERROR: {code}")))
}

impl Modem {
    pub(super) fn cmd_cipsend(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => return self.info_step("+CIPSEND: (0-9),(1-1500)"),
            Form::Write(args) => args,
            _ => return Step::Fail(Failure::Param),
        };
        let i = match link_arg(args.first()) {
            Ok(i) => i,
            Err(step) => return step,
        };
        if args.len() > 4 || args.len() == 3 {
            return cip_error(3);
        }
        let len = match args.get(1) {
            None => None,
            Some(a) if a.is_empty() => None,
            Some(a) => match a.in_range(1..=MAX_SEND as u64) {
                Some(n) => Some(n as usize),
                None => return cip_error(3),
            },
        };
        let dest = match (args.get(2), args.get(3)) {
            (Some(ip), Some(port)) => {
                let ip = ip.str().parse::<Ipv4Addr>().ok();
                let port = port.in_range(0..=65535);
                match (ip, port) {
                    (Some(ip), Some(port)) => Some(SocketAddrV4::new(ip, port as u16)),
                    _ => return cip_error(3),
                }
            }
            _ => None,
        };
        let Some(link) = self.links[i].as_ref().filter(|l| l.is_open()) else {
            return cip_error(3);
        };
        let dest = match link.protocol {
            // A TCP link has its peer; a destination given anyway is ignored.
            Protocol::Tcp => None,
            Protocol::Udp => match dest {
                Some(d) => Some(d),
                None if link.has_remote => Some(link.remote),
                None => return cip_error(3),
            },
        };
        // The transparent link sends in data mode only.
        if link.transparent {
            return cip_error(4);
        }
        // The manual: an accepted socket only supports fixed-length sends.
        if link.server.is_some() && len.is_none() {
            return cip_error(4);
        }
        let conn = link.conn;
        self.out.extend(b"\r\n>");
        self.host = HostState::Payload(Payload {
            link: i,
            conn,
            len,
            dest,
            data: Vec::with_capacity(len.unwrap_or(64)),
            escaped: false,
            overflow: false,
        });
        let at = self.now + self.s.cipsend_timeout();
        self.set_timer(Timer::Payload, at);
        Step::Prompt
    }

    pub(super) fn payload_byte(&mut self, b: u8) {
        let HostState::Payload(p) = &mut self.host else {
            return;
        };
        let done = match p.len {
            Some(len) => {
                p.data.push(b);
                p.data.len() >= len
            }
            None if p.escaped => {
                p.escaped = false;
                // ETX escapes only the three special bytes; before anything else it is
                // kept as it came rather than silently dropped.
                if !matches!(b, ETX | CTRL_Z | ESC) {
                    push_limited(p, ETX);
                }
                push_limited(p, b);
                false
            }
            None => match b {
                ETX => {
                    p.escaped = true;
                    false
                }
                CTRL_Z => true,
                ESC => {
                    self.cancel_timer(Timer::Payload);
                    self.host = HostState::Idle;
                    return self.finish(Step::Next);
                }
                _ => {
                    push_limited(p, b);
                    false
                }
            },
        };
        if done {
            self.payload_complete();
        }
    }

    fn payload_complete(&mut self) {
        let HostState::Payload(p) = std::mem::replace(&mut self.host, HostState::Idle) else {
            return;
        };
        self.cancel_timer(Timer::Payload);
        if p.overflow || p.data.is_empty() {
            return self.finish(cip_error(3));
        }
        let req = p.data.len();
        let usable = self.links[p.link]
            .as_ref()
            .is_some_and(|l| l.conn == p.conn && l.state == LinkState::Open);
        if usable {
            if let Some(link) = self.links[p.link].as_mut() {
                link.pending_sends.push_back(PendingSend {
                    req,
                    sent_after: 0,
                    outcome: None,
                    deadline: self.now,
                });
            }
            self.net_out.push_back(match p.dest {
                Some(to) => NetCommand::SendTo {
                    conn: p.conn,
                    to,
                    data: p.data,
                },
                None => NetCommand::Send {
                    conn: p.conn,
                    data: p.data,
                },
            });
        } else {
            // The link went away while the payload was typed.
            self.urc(&format!("+CIPSEND: {},{req},-1", p.link));
        }
        self.finish(Step::Next);
    }

    pub(super) fn payload_timed_out(&mut self) {
        self.ssl_payload_abandoned();
        if matches!(self.host, HostState::Payload(_)) {
            self.host = HostState::Idle;
            self.finish(Step::Fail(Failure::Param));
        }
    }

    pub(super) fn on_send_done(&mut self, conn: ConnId, outcome: SendOutcome) {
        if let Some(i) = self.link_of(conn) {
            if self.is_data_link(i) {
                return self.data_send_done(outcome);
            }
            let timeout = self.s.cipsend_timeout();
            let now = self.now;
            let Some(link) = self.links[i].as_mut() else {
                return;
            };
            let Some(p) = link.pending_sends.iter_mut().find(|p| p.outcome.is_none()) else {
                return;
            };
            p.outcome = Some(outcome);
            if outcome == SendOutcome::Accepted {
                link.sent += p.req as u64;
                p.sent_after = link.sent;
                p.deadline = now + timeout;
            }
            self.report_sends(i);
        } else if let Some(pos) = self.orphans.iter().position(|(c, ..)| *c == conn) {
            let (_, i, pending) = &mut self.orphans[pos];
            let i = *i;
            if let Some(p) = pending.pop_front() {
                let cnf = match outcome {
                    SendOutcome::Accepted => p.req as i64,
                    SendOutcome::Full => 0,
                    SendOutcome::Disconnected => -1,
                };
                if pending.is_empty() {
                    self.orphans.remove(pos);
                }
                self.urc(&format!("+CIPSEND: {i},{},{cnf}", p.req));
            }
        }
    }

    /// Prints the reports of the link's oldest sends that are settled, in order.
    pub(super) fn report_sends(&mut self, i: usize) {
        let wait_ack = self.s.sendmode == 1;
        loop {
            let Some(link) = self.links[i].as_mut() else {
                return;
            };
            let Some(p) = link.pending_sends.front().copied() else {
                return;
            };
            let cnf = match p.outcome {
                None => return,
                Some(SendOutcome::Full) => 0,
                Some(SendOutcome::Disconnected) => -1,
                Some(SendOutcome::Accepted) => {
                    if wait_ack && link.protocol == Protocol::Tcp && link.acked < p.sent_after {
                        if !self.has_timer(Timer::AckPoll(i)) {
                            let at = self.now.min(p.deadline);
                            self.set_timer(Timer::AckPoll(i), at);
                        }
                        return;
                    }
                    p.req as i64
                }
            };
            link.pending_sends.pop_front();
            self.urc(&format!("+CIPSEND: {i},{},{cnf}", p.req));
        }
    }

    /// `AT+CIPSENDMODE=1`: asks for the peer's ACK until it comes or the CIPSEND timeout
    /// passes; then the link is closed for a sending timeout (`+IPCLOSE: <n>,2`).
    pub(super) fn ack_poll(&mut self, i: usize) {
        let Some(link) = self.links[i].as_ref() else {
            return;
        };
        let Some(front) = link.pending_sends.front().copied() else {
            return;
        };
        if front.outcome != Some(SendOutcome::Accepted) || link.acked >= front.sent_after {
            return self.report_sends(i);
        }
        if self.now >= front.deadline {
            let settled: Vec<usize> = link
                .pending_sends
                .iter()
                .filter(|p| p.outcome.is_some())
                .map(|p| p.req)
                .collect();
            if let Some(link) = self.links[i].as_mut() {
                link.pending_sends.retain(|p| p.outcome.is_none());
            }
            for req in settled {
                self.urc(&format!("+CIPSEND: {i},{req},-1"));
            }
            self.urc(&format!("+IPCLOSE: {i},2"));
            return self.drop_link(i);
        }
        let conn = link.conn;
        self.net_out.push_back(NetCommand::QueryAck { conn });
        let at = (self.now + ACK_POLL).min(front.deadline);
        self.set_timer(Timer::AckPoll(i), at);
    }
}

fn push_limited(p: &mut Payload, b: u8) {
    if p.data.len() < MAX_SEND {
        p.data.push(b);
    } else {
        p.overflow = true;
    }
}

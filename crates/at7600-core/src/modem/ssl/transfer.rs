//! Moving bytes: `AT+CCHSEND` with its send queue and reports, and receiving in
//! automatic (`+CCHRECV: DATA` pushes) and manual (`AT+CCHRECV`) mode (`ssl.md` §9-§10).

use super::{plain, PayloadTarget, Phase, SslTimer};
use crate::config::Personality;
use crate::io::{ConnId, NetCommand, SendOutcome};
use crate::modem::{Failure, Modem, Step, Timer};
use crate::parser::Form;
use std::time::Duration;

/// Largest payload of one `AT+CCHSEND`.
pub const MAX_SEND: usize = 2048;
/// A session's send queue.
pub const QUEUE: usize = 8192;
/// A session's receive cache in manual mode.
pub const CACHE: usize = 5496;
/// Largest `+CCHRECV: DATA` frame.
pub const FRAME: usize = 1024;
/// Largest `<max_recv_len>`.
const MAX_RECV: usize = 2048;

/// `<err>` of a send that waited for room for sendtimeout.
const SEND_TIMEOUT: u8 = 18;
/// `<err>` of a read with nothing to read, or in automatic mode.
const STATE_ERROR: u8 = 11;

/// One `+CCHRECV: DATA,<s>,<len>` frame: header and raw bytes, nothing after them.
fn frame(s: usize, data: &[u8]) -> Vec<u8> {
    let mut bytes = format!("\r\n+CCHRECV: DATA,{s},{}\r\n", data.len()).into_bytes();
    bytes.extend(data);
    bytes
}

impl Modem {
    pub(super) fn cmd_cchsend(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let u = |s: usize| self.ssl.sessions[s].unsent();
                let line = format!("+CCHSEND: 0,{},1,{}", u(0), u(1));
                self.info_step(&line)
            }
            Form::Test => self.info_step("+CCHSEND: (0,1),(1-2048)"),
            Form::Write(args) if args.len() == 2 => {
                let s = args[0].in_range(0..=1).map(|s| s as usize);
                let len = args[1].in_range(1..=MAX_SEND as u64);
                let (Some(s), Some(len)) = (s, len) else {
                    return plain();
                };
                let session = &self.ssl.sessions[s];
                if session.phase != Phase::Open || session.transparent {
                    return plain();
                }
                // Payloads already waiting for room are a queue's worth: refused,
                // so a host that keeps sending into a stalled session holds no more.
                let waiting: usize = session.waiting.iter().map(|(d, _)| d.len()).sum();
                if waiting + len as usize > QUEUE {
                    return plain();
                }
                let target = PayloadTarget::Send(s, session.conn);
                let timeout = Duration::from_secs(session.send_timeout_s.into());
                self.prompt_payload(target, len as usize, timeout)
            }
            _ => plain(),
        }
    }

    /// The payload of `AT+CCHSEND` is complete: `OK`, and the bytes join the queue (or
    /// wait for room in it).
    pub(super) fn send_complete(&mut self, s: usize, conn: ConnId, data: Vec<u8>) -> Step {
        let session = &mut self.ssl.sessions[s];
        if session.phase != Phase::Open || session.conn != conn {
            // The session ended while the payload was typed.
            self.urc(&format!("+CCHSEND: {s},4"));
            return Step::Next;
        }
        let deadline = self.now + Duration::from_secs(session.send_timeout_s.into());
        session.waiting.push_back((data, deadline));
        self.admit_waiting(s);
        self.flush_session(s);
        Step::Next
    }

    /// Moves payloads that waited for room into the queue, in order, reporting each.
    fn admit_waiting(&mut self, s: usize) {
        loop {
            let session = &mut self.ssl.sessions[s];
            let queued = session.queue.len() + session.in_flight.as_ref().map_or(0, Vec::len);
            let fits = session
                .waiting
                .front()
                .is_some_and(|(d, _)| queued + d.len() <= QUEUE);
            if !fits {
                break;
            }
            let Some((data, _)) = session.waiting.pop_front() else {
                break;
            };
            session.queue.extend(data);
            if session.report {
                self.urc(&format!("+CCHSEND: {s},0"));
            }
        }
        self.cancel_timer(Timer::Ssl(SslTimer::SendWait(s)));
        if let Some((_, at)) = self.ssl.sessions[s].waiting.front() {
            let at = *at;
            self.set_timer(Timer::Ssl(SslTimer::SendWait(s)), at);
        }
    }

    /// Payloads that found no room within sendtimeout are dropped (18).
    pub(super) fn send_wait_timed_out(&mut self, s: usize) {
        let now = self.now;
        let session = &mut self.ssl.sessions[s];
        let mut dropped = 0;
        while session.waiting.front().is_some_and(|(_, at)| *at <= now) {
            session.waiting.pop_front();
            dropped += 1;
        }
        for _ in 0..dropped {
            self.urc(&format!("+CCHSEND: {s},{SEND_TIMEOUT}"));
        }
        self.admit_waiting(s);
    }

    /// Hands the queue to the backend, one send outstanding at a time.
    fn flush_session(&mut self, s: usize) {
        let session = &mut self.ssl.sessions[s];
        if session.phase != Phase::Open
            || session.in_flight.is_some()
            || session.blocked
            || session.queue.is_empty()
        {
            return;
        }
        let data: Vec<u8> = session.queue.drain(..).collect();
        session.in_flight = Some(data.clone());
        let conn = session.conn;
        self.net_out.push_back(NetCommand::Send { conn, data });
    }

    pub(super) fn session_send_done(&mut self, s: usize, outcome: SendOutcome) {
        let session = &mut self.ssl.sessions[s];
        let Some(data) = session.in_flight.take() else {
            return;
        };
        if outcome != SendOutcome::Accepted {
            // Refused: back in front, in order; `Writable` (or the close) follows.
            for b in data.into_iter().rev() {
                session.queue.push_front(b);
            }
            session.blocked = true;
            return;
        }
        self.admit_waiting(s);
        self.flush_session(s);
    }

    pub(super) fn session_writable(&mut self, s: usize) {
        self.ssl.sessions[s].blocked = false;
        self.flush_session(s);
    }

    /// Plaintext arrived for session `s`.
    pub(super) fn session_data(&mut self, s: usize, data: &[u8]) {
        let session = &mut self.ssl.sessions[s];
        if session.phase != Phase::Open || data.is_empty() {
            return;
        }
        if session.transparent {
            return self.transparent_session_data(data);
        }
        if !session.manual {
            for chunk in data.chunks(FRAME) {
                self.urc_bytes_at(self.now, frame(s, chunk));
            }
            return;
        }
        session.held.extend(data);
        self.refill_cache(s);
    }

    /// Manual mode: moves held bytes into the cache up to its limit, pauses reading
    /// while it is full, and announces a cache that became non-empty.
    fn refill_cache(&mut self, s: usize) {
        let session = &mut self.ssl.sessions[s];
        let room = CACHE.saturating_sub(session.cache.len());
        let n = room.min(session.held.len());
        session.cache.extend(session.held.drain(..n));
        let full = session.cache.len() >= CACHE;
        let announce = !session.notified && !session.cache.is_empty();
        if announce {
            session.notified = true;
            self.urc(&format!("+CCHEVENT: {s},RECV EVENT"));
        }
        if self.ssl.sessions[s].phase == Phase::Open {
            self.set_session_pause(s, |x| &mut x.paused_cache, full);
        }
    }

    pub(super) fn cmd_cchrecv(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Read => {
                let c = |s: usize| self.ssl.sessions[s].cache.len();
                let line = format!("+CCHRECV: LEN,{},{}", c(0), c(1));
                return self.info_step(&line);
            }
            Form::Test => return self.info_step("+CCHRECV: (0,1),(0-2048)"),
            Form::Write(args) if (1..=2).contains(&args.len()) => args,
            _ => return plain(),
        };
        let Some(s) = args[0].in_range(0..=1).map(|s| s as usize) else {
            return plain();
        };
        let all = match self.config.identity.personality {
            Personality::A76xx => usize::MAX,
            Personality::Sim7600 => MAX_RECV,
        };
        let max = match args.get(1) {
            None => usize::MAX,
            Some(a) if a.is_empty() => usize::MAX,
            Some(a) => match a.in_range(0..=MAX_RECV as u64) {
                Some(0) => all,
                Some(n) => n as usize,
                None => return plain(),
            },
        };
        let session = &mut self.ssl.sessions[s];
        // The transparent session's bytes come out raw in data mode (§12).
        if session.transparent {
            return plain();
        }
        if session.cache.is_empty() {
            let code = if session.phase == Phase::PeerClosed {
                4
            } else {
                STATE_ERROR
            };
            return Step::Fail(Failure::Info(format!("+CCHRECV: {s},{code}")));
        }
        let n = max.min(session.cache.len());
        let data: Vec<u8> = session.cache.drain(..n).collect();
        if session.cache.is_empty() {
            session.notified = false;
        }
        // `OK`, the frames and the trailer are one block: nothing comes between them,
        // and URCs (a new `RECV EVENT` too) wait until after it (§10.2).
        self.final_result_held("OK", 0);
        for chunk in data.chunks(FRAME) {
            self.out.extend(frame(s, chunk));
        }
        let trailer = format!("\r\n+CCHRECV: {s},0\r\n");
        self.out.extend(trailer.as_bytes());
        self.refill_cache(s);
        self.update_host_backpressure();
        // The line's result is out: later commands of it are dropped.
        self.chain.clear();
        Step::Wait
    }
}

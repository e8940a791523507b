//! Transparent (data) mode on link 0: raw bytes both ways, the `+++` escape with its
//! guard times, `ATO`, and the ways back to command mode (remote close, DTR).
//!
//! The escape is a timer-driven state machine: a `+` only starts an escape after a full
//! guard time of silence; up to three are held back (not sent) while each follows the
//! previous within the gap limit; the escape happens only if a guard time of silence
//! follows the third. Anything else releases the held `+` as ordinary data.

use super::{Busy, Failure, HostState, Modem, Step, Timer};
use crate::io::{ConnId, Instant, NetCommand, Protocol, SendOutcome};
use crate::link::LinkState;
use std::collections::VecDeque;
use std::time::Duration;

/// The transparent link is always link 0 (manual §1.2).
pub(super) const DATA_LINK: usize = 0;
/// Host bytes sent to the network in one command at most.
const CHUNK: usize = 16 * 1024;
/// Host bytes waiting to be sent before the host is asked to stop writing.
const MAX_TX: usize = 64 * 1024;

const CONNECT: &str = "CONNECT 115200";

/// Host-to-network state of the transparent link.
#[derive(Debug, Default)]
pub(super) struct Stream {
    /// `+` characters held back as a possible escape.
    plus: u8,
    /// When the last host byte arrived (data mode), or data mode began.
    last_at: Instant,
    /// Host bytes not yet handed to the backend.
    tx: VecDeque<u8>,
    /// The one send the backend has not answered yet. Only one is ever outstanding, so
    /// a refused chunk can go back to the front of `tx` without reordering anything.
    in_flight: Option<Vec<u8>>,
    /// The backend refused a send (`Full`); wait for `Writable`.
    blocked: bool,
}

impl Stream {
    /// Whether the host should stop writing for now.
    pub(super) fn full(&self) -> bool {
        self.tx.len() >= MAX_TX
    }
}

impl Modem {
    /// Whether link 0 is the transparent link.
    pub(super) fn is_data_link(&self, i: usize) -> bool {
        i == DATA_LINK && self.links[i].as_ref().is_some_and(|l| l.transparent)
    }

    /// `AT+CIPOPEN=0,...` with `AT+CIPMODE=1`: answer `CONNECT 115200` once connected.
    pub(super) fn open_transparent(&mut self, i: usize, timeout: Duration) -> Step {
        if let Some(link) = self.links[i].as_mut() {
            link.transparent = true;
        }
        self.wait(Busy::TransparentOpen { link: i }, timeout)
    }

    /// The transparent connection is up (or failed): the final result of its CIPOPEN.
    pub(super) fn transparent_opened(&mut self, ok: bool) {
        self.cancel_timer(Timer::Busy);
        self.chain.clear();
        self.host = HostState::Idle;
        if ok {
            self.enter_data_mode();
        } else {
            self.final_code("CONNECT FAIL", 3);
        }
    }

    /// Prints `CONNECT 115200` and switches the host side to data mode; link 0's bytes
    /// received in command mode follow. Bytes the host typed ahead stay in `input`, and
    /// the pump hands them over as data after the one `\n` a command line may owe.
    pub(super) fn enter_data_mode(&mut self) {
        // `CONNECT` is the final result of the command that asked for it (if any did).
        self.command_done();
        if self.s.verbose {
            self.out.extend(format!("\r\n{CONNECT}\r\n").as_bytes());
        } else if !self.s.quiet {
            self.out.extend(b"1\r");
        }
        self.host = HostState::Data;
        self.stream.plus = 0;
        self.stream.last_at = self.now;
        if self.ssl_data_conn().is_some() {
            // The transparent SSL session; a link 0 beside it stays in command mode.
            self.ssl_enter_data();
            return self.update_host_backpressure();
        }
        if let Some(link) = self.links[DATA_LINK].as_mut() {
            let (held, _) = link.rx.take(usize::MAX);
            self.out.extend(held);
            if link.state == LinkState::PeerClosed {
                self.links[DATA_LINK] = None;
                return self.leave_data_mode_closed();
            }
        }
        self.set_link_pause(DATA_LINK, |l| &mut l.paused_rx, false);
        self.update_host_backpressure();
    }

    /// `ATO`: back to data mode on the transparent link.
    pub(super) fn cmd_ato(&mut self) -> Step {
        let resumable = self.links[DATA_LINK].as_ref().is_some_and(|l| {
            l.transparent
                && (l.state == LinkState::Open
                    || (l.state == LinkState::PeerClosed && !l.rx.is_empty()))
        });
        let resumable = resumable || self.ssl_data_resumable();
        if !resumable || !self.chain.is_empty() {
            return Step::Fail(Failure::Param);
        }
        self.enter_data_mode();
        Step::Wait
    }

    /// Host bytes in data mode: everything is data except a well-guarded `+++`.
    pub(super) fn data_from_host(&mut self, bytes: &[u8]) {
        let g = self.config.escape;
        let now = self.now;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let gap = now.saturating_sub(self.stream.last_at);
            if (1..3).contains(&self.stream.plus) && b == b'+' && gap <= g.max_gap {
                self.stream.plus += 1;
                self.stream.last_at = now;
                i += 1;
                let at = if self.stream.plus == 3 {
                    now + g.guard
                } else {
                    now + g.max_gap + Duration::from_nanos(1)
                };
                self.set_timer(Timer::Escape, at);
                continue;
            }
            self.release_held_plus();
            if b == b'+' && gap >= g.guard {
                self.stream.plus = 1;
                self.stream.last_at = now;
                self.set_timer(Timer::Escape, now + g.max_gap + Duration::from_nanos(1));
                i += 1;
                continue;
            }
            // Only a byte after a guard time of silence can start an escape, and every
            // byte of one read arrives at the same instant: the rest is plain data.
            self.stream.tx.extend(&bytes[i..]);
            self.stream.last_at = now;
            break;
        }
        self.flush_tx();
    }

    fn release_held_plus(&mut self) {
        if self.stream.plus > 0 {
            let n = usize::from(std::mem::take(&mut self.stream.plus));
            self.stream.tx.extend(std::iter::repeat_n(b'+', n));
            self.cancel_timer(Timer::Escape);
        }
    }

    /// The escape timer: either the silence after `+++` is complete (command mode), or
    /// the pause after one or two `+` was too long (they were data after all).
    pub(super) fn escape_timer(&mut self) {
        if !matches!(self.host, HostState::Data) {
            return;
        }
        let g = self.config.escape;
        let quiet = self.now.saturating_sub(self.stream.last_at);
        if self.stream.plus == 3 && quiet >= g.guard {
            self.stream.plus = 0;
            self.host = HostState::Idle;
            self.final_ok();
        } else if self.stream.plus == 3 {
            self.set_timer(Timer::Escape, self.stream.last_at + g.guard);
        } else if quiet > g.max_gap {
            self.release_held_plus();
            self.flush_tx();
        }
    }

    /// Hands waiting host bytes to the backend, keeping what is in flight bounded.
    pub(super) fn flush_tx(&mut self) {
        let conn = match (self.links[DATA_LINK].as_ref(), self.ssl_data_conn()) {
            // The transparent SSL session (`ssl.md` §12) excludes the transparent link.
            (_, Some(conn)) => conn,
            (Some(link), None) if link.transparent && link.state == LinkState::Open => link.conn,
            (Some(_), None) => return,
            (None, None) => {
                self.stream.tx.clear();
                return;
            }
        };
        if self.stream.tx.is_empty() || self.stream.in_flight.is_some() || self.stream.blocked {
            return;
        }
        let n = self.stream.tx.len().min(CHUNK);
        let data: Vec<u8> = self.stream.tx.drain(..n).collect();
        self.stream.in_flight = Some(data.clone());
        self.net_out.push_back(NetCommand::Send { conn, data });
        if self.stream.tx.is_empty() && self.stream.tx.capacity() > MAX_TX {
            self.stream.tx = VecDeque::new();
        }
    }

    /// The backend answered the transparent link's send. A refused chunk goes back in
    /// front and waits for `Writable`: back-pressure reaches the host, nothing is lost.
    pub(super) fn data_send_done(&mut self, outcome: SendOutcome) {
        let Some(chunk) = self.stream.in_flight.take() else {
            return;
        };
        match outcome {
            SendOutcome::Accepted => {
                // Only the transparent link counts: a command-mode link 0 may live
                // beside the transparent SSL session.
                if let Some(link) = self.links[DATA_LINK].as_mut().filter(|l| l.transparent) {
                    link.sent += chunk.len() as u64;
                }
            }
            SendOutcome::Full => {
                for b in chunk.into_iter().rev() {
                    self.stream.tx.push_front(b);
                }
                self.stream.blocked = true;
            }
            // The peer is gone; `PeerClosed` brings the host back to command mode.
            SendOutcome::Disconnected => self.stream.tx.clear(),
        }
        self.flush_tx();
    }

    /// The backend has room again after refusing a send.
    pub(super) fn on_writable(&mut self, conn: ConnId) {
        if self.link_of(conn) == Some(DATA_LINK) && self.is_data_link(DATA_LINK) {
            self.data_writable();
        }
    }

    /// The data-mode connection has room again.
    pub(super) fn data_writable(&mut self) {
        self.stream.blocked = false;
        self.flush_tx();
    }

    /// Forgets the host-to-network stream (its connection is gone).
    pub(super) fn reset_stream(&mut self) {
        self.stream = Stream::default();
        self.cancel_timer(Timer::Escape);
    }

    /// Network bytes for the transparent link: raw to the host in data mode; held in
    /// the link's buffer (reading paused when full) while the host is in command mode.
    pub(super) fn data_to_host(&mut self, data: &[u8]) {
        if matches!(self.host, HostState::Data) {
            self.out.extend(data);
            self.update_host_backpressure();
            return;
        }
        let limit = self.config.limits.rx_buffer;
        let Some(link) = self.links[DATA_LINK].as_mut() else {
            return;
        };
        link.rx.push_stream(data);
        if link.rx.len() >= limit {
            self.set_link_pause(DATA_LINK, |l| &mut l.paused_rx, true);
        }
    }

    /// The peer closed the transparent link. In data mode: `CLOSED` and command mode.
    /// In command mode with unread bytes, they wait for `ATO`.
    pub(super) fn data_peer_closed(&mut self) {
        let in_data = matches!(self.host, HostState::Data);
        let has_rx = self.links[DATA_LINK]
            .as_ref()
            .is_some_and(|l| !l.rx.is_empty());
        if !in_data && has_rx {
            return self.link_broken(DATA_LINK);
        }
        self.drop_link(DATA_LINK);
        if in_data {
            self.leave_data_mode_closed();
        } else {
            self.urc("CLOSED");
        }
    }

    pub(super) fn leave_data_mode_closed(&mut self) {
        self.stream = Stream::default();
        self.cancel_timer(Timer::Escape);
        self.host = HostState::Idle;
        self.final_code("CLOSED", 3);
    }

    /// DTR ON->OFF in data mode: `AT&D1` goes to command mode keeping the connection,
    /// `AT&D2` closes it (`+IPCLOSE: 0,2`), `AT&D0` ignores it.
    pub(super) fn data_dtr_off(&mut self) {
        match self.s.dtr_mode {
            1 => {
                self.release_held_plus();
                self.flush_tx();
                self.cancel_timer(Timer::Escape);
                self.host = HostState::Idle;
                self.final_ok();
            }
            2 => {
                self.stream = Stream::default();
                self.cancel_timer(Timer::Escape);
                self.host = HostState::Idle;
                if self.ssl_dtr_close() {
                    return self.flush_urcs();
                }
                self.drop_link(DATA_LINK);
                self.urc(&format!("+IPCLOSE: {DATA_LINK},2"));
                self.flush_urcs();
            }
            _ => {}
        }
    }

    /// `AT&D2` and DTR OFF in command mode: the transparent connection kept after `+++`
    /// is closed as well (`+IPCLOSE: 0,2`).
    pub(super) fn dtr_close_data_link(&mut self) {
        if self.ssl_dtr_close() {
            return;
        }
        let open = self.links[DATA_LINK]
            .as_ref()
            .is_some_and(|l| l.transparent && l.state == LinkState::Open);
        if open {
            self.drop_link(DATA_LINK);
            self.urc(&format!("+IPCLOSE: {DATA_LINK},2"));
        }
    }

    /// `AT+CIPCLOSE=0` on the transparent link: UDP answers at once (`CLOSED`,
    /// `+CIPCLOSE: 0,0`, `OK`), TCP after the close (`OK`, `CLOSED`, `+CIPCLOSE: 0,0`).
    pub(super) fn close_data_link(&mut self) -> Step {
        self.stream = Stream::default();
        let Some(link) = self.links[DATA_LINK].as_mut() else {
            return Step::Fail(Failure::Info(format!("+CIPCLOSE: {DATA_LINK},4")));
        };
        if link.protocol == Protocol::Udp || link.state != LinkState::Open {
            self.drop_link(DATA_LINK);
            self.info("CLOSED");
            return self.info_step(&format!("+CIPCLOSE: {DATA_LINK},0"));
        }
        link.state = LinkState::Closing;
        link.rx.clear();
        let conn = link.conn;
        self.net_out.push_back(NetCommand::Close { conn });
        Step::Next
    }
}

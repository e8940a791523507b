//! A modem as slow as a module (`docs/timing.md`): the serial line's pace at the
//! `AT+IPR` baud rate both ways, a processing time per command line, and the time
//! `AT+NETOPEN` and `AT+CIPOPEN` take before the network is asked. All of it under the
//! `now` the runtime gives, so tests run it in virtual time. Off by default
//! ([`crate::config::Timing`]).

use super::device::DevTimer;
use super::{Busy, HostState, Instant, Modem, Timer};
use crate::io::NetCommand;
use std::collections::VecDeque;
use std::time::Duration;

/// Wake the runtime at most once per this many bytes on the line (each wake releases
/// every byte due by then, so this only sets the granularity of the output's pieces).
const CHUNK: usize = 32;

/// The serial line's and the command processor's state.
#[derive(Debug, Default)]
pub(super) struct Pace {
    /// Bytes at the front of the host output the line has carried so far.
    sent: usize,
    /// Where the transmit side of the line is in time.
    tx_clock: Instant,
    /// Host bytes still on the line towards the modem.
    rx: VecDeque<u8>,
    /// When the last byte of `rx` has arrived.
    rx_clock: Instant,
    /// A command line waiting out its processing time.
    line: Option<Vec<u8>>,
    /// Its processing time is over: run it now.
    line_due: bool,
    /// The network command at the front waits until then.
    net_gate: Option<Instant>,
}

impl Modem {
    fn paced(&self) -> bool {
        self.config.timing.uart
    }

    /// One byte on an 8N1 line (start, 8 data, stop: 10 bits) at the `AT+IPR` rate;
    /// `AT+IPR=0` (auto-baud) counts as 115200.
    pub(super) fn byte_time(&self) -> Duration {
        let baud = if self.s.ipr == 0 { 115_200 } else { self.s.ipr };
        Duration::from_nanos(10_000_000_000 / u64::from(baud))
    }

    /// The line moves on to `now`: output bytes reach the host, host bytes the modem.
    pub(super) fn pace_advance(&mut self) {
        if !self.paced() {
            return;
        }
        let bt = self.byte_time().as_nanos().max(1);
        let now = self.now;
        let p = &mut self.pace;
        let unsent = self.out.len().saturating_sub(p.sent);
        if unsent == 0 {
            p.tx_clock = now;
        } else {
            let n = (now.saturating_sub(p.tx_clock).as_nanos() / bt).min(unsent as u128) as usize;
            p.sent += n;
            p.tx_clock += Duration::from_nanos((bt * n as u128) as u64);
        }
        let on_line = p.rx_clock.saturating_sub(now).as_nanos().div_ceil(bt) as usize;
        let arrived = p.rx.len().saturating_sub(on_line);
        self.input.extend(p.rx.drain(..arrived));
    }

    /// Host bytes enter the line (or the modem at once, unpaced).
    pub(super) fn pace_host_bytes(&mut self, bytes: &[u8]) {
        if !self.paced() {
            self.input.extend(bytes);
            return;
        }
        let start = self.pace.rx_clock.max(self.now);
        self.pace.rx.extend(bytes);
        self.pace.rx_clock = start + self.byte_time() * bytes.len() as u32;
        self.pace_advance();
    }

    /// Host bytes not yet taken (on the line or held).
    pub(super) fn pace_input_len(&self) -> usize {
        self.input.len() + self.pace.rx.len()
    }

    /// Drops the host bytes still on the line (DTR OFF, restart).
    pub(super) fn pace_drop_input(&mut self) {
        self.pace.rx.clear();
    }

    /// A restart forgets the line being processed and the network command's wait.
    pub(super) fn pace_restart(&mut self) {
        self.pace.rx.clear();
        self.pace.line = None;
        self.pace.line_due = false;
        self.pace.net_gate = None;
    }

    /// How much of the output the line has carried to the host.
    pub(super) fn line_released(&self) -> usize {
        if self.paced() {
            self.pace.sent.min(self.out.len())
        } else {
            self.out.len()
        }
    }

    /// How much of the output the host can have now (the line's pace, then torture).
    pub(super) fn released_len(&self) -> usize {
        self.torture_released(self.line_released())
    }

    /// The host took `n` released bytes.
    pub(super) fn pace_consumed(&mut self, n: usize) {
        self.pace.sent = self.pace.sent.saturating_sub(n);
        self.torture_consumed(n);
    }

    /// When the line next has bytes for either side.
    pub(super) fn pace_deadline(&self) -> Option<Instant> {
        if !self.paced() {
            return None;
        }
        let bt = self.byte_time();
        let unsent = self.out.len().saturating_sub(self.pace.sent);
        let tx = (unsent > 0).then(|| self.pace.tx_clock + bt * unsent.min(CHUNK) as u32);
        let rx_len = self.pace.rx.len();
        let later = rx_len - rx_len.min(CHUNK);
        let rx = (rx_len > 0).then(|| self.pace.rx_clock.saturating_sub(bt * later as u32));
        tx.into_iter().chain(rx).min()
    }

    /// A command line waits out its processing time first; true if it was held.
    pub(super) fn hold_line(&mut self, line: &[u8]) -> bool {
        let ms = self.config.timing.command_ms;
        if ms == 0 || std::mem::take(&mut self.pace.line_due) {
            return false;
        }
        self.pace.line = Some(line.to_vec());
        self.host = HostState::Busy(Busy::Processing);
        let at = self.now + Duration::from_millis(ms);
        self.set_timer(Timer::Device(DevTimer::Command), at);
        true
    }

    /// The held line's processing time is over.
    pub(super) fn run_held_line(&mut self) {
        let Some(line) = self.pace.line.take() else {
            return;
        };
        if matches!(self.host, HostState::Busy(Busy::Processing)) {
            self.host = HostState::Idle;
        }
        self.pace.line_due = true;
        self.run_line(&line);
    }

    /// Whether the network command at the front must still wait: `AT+NETOPEN`'s and
    /// `AT+CIPOPEN`'s own time before the network is asked.
    pub(super) fn net_gate_closed(&mut self) -> bool {
        let t = self.config.timing;
        let delay = match self.net_out.front() {
            Some(NetCommand::Attach) => t.netopen_ms,
            Some(NetCommand::Open { .. }) => t.cipopen_ms,
            _ => 0,
        };
        if delay == 0 {
            return false;
        }
        match self.pace.net_gate {
            None => {
                let at = self.now + Duration::from_millis(delay);
                self.pace.net_gate = Some(at);
                self.set_timer(Timer::Device(DevTimer::NetGate), at);
                true
            }
            Some(at) if at > self.now => true,
            Some(_) => {
                self.pace.net_gate = None;
                false
            }
        }
    }
}

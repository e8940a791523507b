//! The transparent session (`AT+CCHMODE=1`, `ssl.md` §12): session 0 as a byte pipe,
//! through the same data mode, `+++` escape, `ATO` and DTR handling as the TCP/IP
//! transparent link. The two never exist together.

use super::Phase;
use crate::io::ConnId;
use crate::modem::{Busy, HostState, Modem, Step};

impl Modem {
    /// `AT+CCHOPEN=0,...` in transparent mode: no `OK`; `CONNECT 115200` once open,
    /// `CONNECT FAIL` on any failure.
    pub(super) fn open_transparent_session(&mut self) -> Step {
        self.host = HostState::Busy(Busy::CchOpen);
        self.start_open(0);
        Step::Wait
    }

    pub(super) fn transparent_session_opened(&mut self) {
        if matches!(self.host, HostState::Busy(Busy::CchOpen)) {
            self.transparent_opened(true);
        }
    }

    pub(super) fn transparent_session_failed(&mut self) {
        if matches!(self.host, HostState::Busy(Busy::CchOpen)) {
            self.transparent_opened(false);
        }
    }

    /// The transparent session ended from the far side (or the network): `CLOSED`,
    /// and command mode if in data mode.
    pub(super) fn transparent_session_closed(&mut self) {
        if matches!(self.host, HostState::Data) {
            self.leave_data_mode_closed();
        } else {
            self.urc("CLOSED");
        }
    }

    /// The connection of the transparent session while it is open: data mode's target.
    pub(in crate::modem) fn ssl_data_conn(&self) -> Option<ConnId> {
        let session = &self.ssl.sessions[0];
        (session.transparent && session.phase == Phase::Open).then_some(session.conn)
    }

    /// `ATO` can go back to the transparent session.
    pub(in crate::modem) fn ssl_data_resumable(&self) -> bool {
        self.ssl_data_conn().is_some()
    }

    /// Data mode begins: bytes received in command mode go out first.
    pub(in crate::modem) fn ssl_enter_data(&mut self) {
        let session = &mut self.ssl.sessions[0];
        if !session.transparent {
            return;
        }
        let held: Vec<u8> = session.held.drain(..).collect();
        self.out.extend(held);
        self.set_session_pause(0, |x| &mut x.paused_cache, false);
    }

    /// Plaintext for the transparent session: raw in data mode; held (reading paused
    /// when the link buffer's worth waits) in command mode.
    pub(super) fn transparent_session_data(&mut self, data: &[u8]) {
        if matches!(self.host, HostState::Data) {
            self.out.extend(data);
            self.update_host_backpressure();
            return;
        }
        let limit = self.config.limits.rx_buffer;
        let session = &mut self.ssl.sessions[0];
        session.held.extend(data);
        if session.held.len() >= limit {
            self.set_session_pause(0, |x| &mut x.paused_cache, true);
        }
    }

    /// DTR OFF with `AT&D2` closes the transparent session: `CLOSED`. Returns whether
    /// there was one.
    pub(in crate::modem) fn ssl_dtr_close(&mut self) -> bool {
        if self.ssl_data_conn().is_none() {
            return false;
        }
        self.free_session(0);
        self.urc("CLOSED");
        true
    }
}

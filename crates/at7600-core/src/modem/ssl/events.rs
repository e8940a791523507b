//! The sessions' network events: a TLS open's phases, data, send results, the server
//! closing and the network going (`ssl.md` §8.3, §11), and their share of back-pressure.

use super::sessions::err;
use super::{Phase, Session, SslTimer, SESSIONS};
use crate::io::{ConnId, NetCommand, NetEvent, OpenError};
use crate::modem::{Modem, Timer};

impl Modem {
    fn session_of(&self, conn: ConnId) -> Option<usize> {
        (0..SESSIONS).find(|s| {
            let x = &self.ssl.sessions[*s];
            x.connected() && x.conn == conn
        })
    }

    /// The sessions' share of the network events: those of a session's connection are
    /// taken; the rest are returned for the TCP/IP links.
    pub(in crate::modem) fn ssl_event(&mut self, event: NetEvent) -> Option<NetEvent> {
        match &event {
            NetEvent::NetworkLost => {
                self.ssl_network_gone();
                self.ssl.lost = true;
                return Some(event);
            }
            NetEvent::Attached { .. } => {
                self.ssl.lost = false;
                return Some(event);
            }
            _ => {}
        }
        let conn = match &event {
            NetEvent::Connected { conn }
            | NetEvent::Opened { conn, .. }
            | NetEvent::OpenFailed { conn, .. }
            | NetEvent::Data { conn, .. }
            | NetEvent::SendDone { conn, .. }
            | NetEvent::Writable { conn }
            | NetEvent::PeerClosed { conn } => *conn,
            _ => return Some(event),
        };
        let Some(s) = self.session_of(conn) else {
            return Some(event);
        };
        match event {
            NetEvent::Connected { .. } => self.session_connected(s),
            NetEvent::Opened { .. } => self.session_opened(s),
            NetEvent::OpenFailed { error, .. } => {
                let code = match error {
                    OpenError::Dns => err::DNS,
                    OpenError::Bind | OpenError::Socket => err::BIND,
                    OpenError::Refused => err::CONNECT,
                    OpenError::Certificates => err::CERTIFICATES,
                    OpenError::Handshake => err::HANDSHAKE,
                };
                self.open_failed(s, code);
            }
            NetEvent::Data { data, .. } => self.session_data(s, &data),
            NetEvent::SendDone { outcome, .. } if self.ssl.sessions[s].transparent => {
                self.data_send_done(outcome)
            }
            NetEvent::SendDone { outcome, .. } => self.session_send_done(s, outcome),
            NetEvent::Writable { .. } if self.ssl.sessions[s].transparent => self.data_writable(),
            NetEvent::Writable { .. } => self.session_writable(s),
            NetEvent::PeerClosed { .. } => self.session_peer_closed(s, err::PEER_CLOSED),
            _ => {}
        }
        None
    }

    /// TCP is up: the handshake has `negotiatetime` from now.
    fn session_connected(&mut self, s: usize) {
        let session = &mut self.ssl.sessions[s];
        if session.phase != Phase::Connecting || session.client_type != 2 {
            return;
        }
        session.phase = Phase::Handshaking;
        let (conn, at) = (session.conn, self.now + session.negotiate);
        self.set_timer(Timer::Ssl(SslTimer::Open(s, conn)), at);
    }

    fn session_opened(&mut self, s: usize) {
        let (host_paused, out_paused) = (self.host_paused, self.out_paused);
        let session = &mut self.ssl.sessions[s];
        if !matches!(session.phase, Phase::Connecting | Phase::Handshaking) {
            return;
        }
        session.phase = Phase::Open;
        // As `ssl_host_backpressure` decides: raw output only for the data-mode session.
        session.paused_host = if session.transparent {
            out_paused
        } else {
            host_paused
        };
        let conn = session.conn;
        if session.paused() {
            self.net_out.push_back(NetCommand::PauseRead { conn });
        }
        self.cancel_timer(Timer::Ssl(SslTimer::Open(s, conn)));
        if self.ssl.sessions[s].transparent {
            return self.transparent_session_opened();
        }
        self.urc(&format!("+CCHOPEN: {s},0"));
    }

    /// The connect (14) or handshake (15) wait is over.
    pub(super) fn session_open_timed_out(&mut self, s: usize, conn: ConnId) {
        let session = &self.ssl.sessions[s];
        if session.conn != conn {
            return;
        }
        let code = match session.phase {
            Phase::Connecting => err::CONNECT,
            Phase::Handshaking => err::HANDSHAKE,
            _ => return,
        };
        self.open_failed(s, code);
    }

    /// The server ended session `s` (or the network went): the session is peer-closed,
    /// its cache readable (§11.2). Unsent bytes are reported with `code`.
    fn session_peer_closed(&mut self, s: usize, code: u8) {
        let session = &mut self.ssl.sessions[s];
        match session.phase {
            Phase::Connecting => return self.open_failed(s, err::CONNECT),
            Phase::Handshaking => return self.open_failed(s, err::HANDSHAKE),
            Phase::Open => {}
            Phase::Free | Phase::PeerClosed => return,
        }
        let conn = session.conn;
        if session.transparent {
            self.free_session(s);
            return self.transparent_session_closed();
        }
        session.phase = Phase::PeerClosed;
        let unsent = session.unsent() > 0;
        session.queue.clear();
        session.in_flight = None;
        session.waiting.clear();
        session.paused_cache = false;
        session.paused_host = false;
        self.cancel_timer(Timer::Ssl(SslTimer::SendWait(s)));
        self.net_out.push_back(NetCommand::Close { conn });
        if unsent {
            self.urc(&format!("+CCHSEND: {s},{code}"));
        }
        self.urc(&format!("+CCH_PEER_CLOSED: {s}"));
    }

    /// PDP context cid 1 stopped being active (§11.3).
    pub(in crate::modem) fn ssl_network_gone(&mut self) {
        for s in 0..SESSIONS {
            match self.ssl.sessions[s].phase {
                Phase::Connecting | Phase::Handshaking => self.open_failed(s, err::NO_NET),
                Phase::Open => self.session_peer_closed(s, err::NETWORK),
                Phase::Free | Phase::PeerClosed => {}
            }
        }
        if self.a76xx() && self.ssl.started {
            self.urc("+CCH: CCH STOP");
            for s in 0..SESSIONS {
                self.free_session(s);
            }
            self.ssl.started = false;
        }
    }

    /// Sessions' share of host back-pressure: stop reading while the host lags.
    pub(in crate::modem) fn ssl_host_backpressure(&mut self) {
        let (host, out) = (self.host_paused, self.out_paused);
        for s in 0..SESSIONS {
            let session = &self.ssl.sessions[s];
            let on = if session.transparent { out } else { host };
            self.set_session_pause(s, |x| &mut x.paused_host, on);
        }
    }

    /// Sets one pause reason of a session and tells the backend when the sum changes.
    pub(super) fn set_session_pause(
        &mut self,
        s: usize,
        reason: fn(&mut Session) -> &mut bool,
        on: bool,
    ) {
        let session = &mut self.ssl.sessions[s];
        let before = session.paused();
        *reason(session) = on;
        if before != session.paused() && session.phase == Phase::Open {
            let conn = session.conn;
            self.net_out.push_back(if session.paused() {
                NetCommand::PauseRead { conn }
            } else {
                NetCommand::ResumeRead { conn }
            });
        }
    }
}

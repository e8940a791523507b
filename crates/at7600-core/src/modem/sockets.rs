//! Opening and closing links: `AT+CIPOPEN`, `AT+CIPCLOSE`, `AT+CIPACK`, and the
//! backend's open/close events.

use super::network::valid_domain;
use super::{Busy, Failure, HostState, Modem, NetState, Step, Timer, LINKS};
use crate::errors::{ErrCode, ErrInfo};
use crate::io::{ConnId, NetCommand, OpenError, Protocol, SendOutcome};
use crate::link::{Link, LinkState};
use crate::parser::{Arg, Form};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

/// `AT+CIPACK` answers with the last known count if the backend stays silent this long.
const CIPACK_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads a `<link_num>` argument; anything but 0-9 is `+IP ERROR: Invalid parameter`.
pub(super) fn link_arg(arg: Option<&Arg>) -> Result<usize, Step> {
    arg.and_then(|a| a.in_range(0..=LINKS as u64 - 1))
        .map(|v| v as usize)
        .ok_or(Step::Fail(Failure::Ip(ErrInfo::InvalidParameter)))
}

fn port_arg(arg: Option<&Arg>, min: u64) -> Option<u16> {
    arg.and_then(|a| a.in_range(min..=65535)).map(|v| v as u16)
}

fn open_error_code(e: OpenError) -> ErrCode {
    match e {
        OpenError::Refused => ErrCode::NetworkFailure,
        OpenError::Dns => ErrCode::DnsParseFailed,
        OpenError::Bind => ErrCode::FailedToBindSocket,
        OpenError::Socket => ErrCode::FailedToCreateSocket,
        // Only TLS opens fail so; a TCP/IP link never asks for TLS.
        OpenError::Certificates | OpenError::Handshake => ErrCode::NetworkFailure,
    }
}

impl Modem {
    pub(super) fn cmd_cipopen(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => return self.info_step("+CIPOPEN: (0-9),(\"TCP\",\"UDP\")"),
            Form::Read => {
                let lines: Vec<String> = (0..LINKS).map(|i| self.cipopen_line(i)).collect();
                self.info_lines(&lines);
                return Step::Next;
            }
            Form::Execute => return Step::Fail(Failure::Param),
            Form::Write(args) => args,
        };
        let i = match link_arg(args.first()) {
            Ok(i) => i,
            Err(step) => return step,
        };
        // A transparent open (clarifications §2) is refused with `CONNECT FAIL` alone.
        let transparent = self.s.cipmode == 1 && i == super::data::DATA_LINK;
        let fail = |e: ErrCode| {
            if transparent {
                Step::Fail(Failure::ConnectFail)
            } else {
                Step::Fail(Failure::Info(format!("+CIPOPEN: {i},{}", e.code())))
            }
        };
        match self.net {
            NetState::Open => {}
            NetState::Lost => return fail(ErrCode::NetworkFailure),
            _ => return fail(ErrCode::NetworkNotOpened),
        }
        if self.links[i].is_some() {
            return fail(ErrCode::OperationNotSupported);
        }
        let protocol = match args.get(1).map(|a| a.str().to_ascii_uppercase()).as_deref() {
            Some("TCP") => Protocol::Tcp,
            Some("UDP") => Protocol::Udp,
            _ => return fail(ErrCode::WrongParameter),
        };
        let host = args.get(2).map(|a| a.str().to_string()).unwrap_or_default();
        let host_ok = host.parse::<Ipv4Addr>().is_ok() || valid_domain(&host);
        let remote = match protocol {
            Protocol::Tcp => {
                let local_ok = args
                    .get(4)
                    .is_none_or(|a| a.is_empty() || port_arg(Some(a), 0).is_some());
                match port_arg(args.get(3), 1) {
                    Some(port) if host_ok && local_ok && args.len() <= 5 => Some((host, port)),
                    _ => return fail(ErrCode::WrongParameter),
                }
            }
            Protocol::Udp => {
                let no_remote = host.is_empty() && args.get(3).is_none_or(Arg::is_empty);
                if args.len() != 5 || port_arg(args.get(4), 0).is_none() {
                    return fail(ErrCode::WrongParameter);
                }
                if no_remote {
                    None
                } else {
                    match port_arg(args.get(3), 0) {
                        Some(port) if host_ok => Some((host, port)),
                        _ => return fail(ErrCode::WrongParameter),
                    }
                }
            }
        };
        if transparent && remote.is_none() {
            return fail(ErrCode::WrongParameter);
        }
        let local_port = port_arg(args.get(4), 0).filter(|p| *p != 0);
        let conn = self.new_conn();
        let mut link = Link::new(conn, protocol);
        link.since = self.now;
        if let Some((host, port)) = &remote {
            if let Ok(ip) = host.parse::<Ipv4Addr>() {
                link.remote = SocketAddrV4::new(ip, *port);
            }
            link.has_remote = true;
        }
        self.links[i] = Some(link);
        self.net_out.push_back(NetCommand::Open {
            conn,
            protocol,
            remote,
            local_port,
            options: self.s.socket_options(),
            tls: None,
        });
        if transparent {
            let timeout = self.s.cipopen_timeout();
            return self.open_transparent(i, timeout);
        }
        match protocol {
            Protocol::Tcp => {
                let at = self.now + self.s.cipopen_timeout();
                self.set_timer(Timer::LinkOpen(i, conn), at);
                Step::Next
            }
            Protocol::Udp => {
                let timeout = self.s.cipopen_timeout();
                self.wait(Busy::UdpOpen { link: i }, timeout)
            }
        }
    }

    /// One line of `AT+CIPOPEN?`: bare for a link that is not established.
    fn cipopen_line(&self, i: usize) -> String {
        match &self.links[i] {
            Some(l) if l.is_open() => {
                let ty = if l.protocol == Protocol::Tcp {
                    "TCP"
                } else {
                    "UDP"
                };
                let index = l.server.map_or(-1, i32::from);
                format!(
                    "+CIPOPEN: {i},\"{ty}\",\"{}\",{},{index}",
                    l.remote.ip(),
                    l.remote.port()
                )
            }
            _ => format!("+CIPOPEN: {i}"),
        }
    }

    pub(super) fn on_opened(&mut self, conn: ConnId, remote: SocketAddrV4) {
        let Some(i) = self.link_of(conn) else {
            return;
        };
        let host_paused = self.host_pause_for(i);
        let Some(link) = self.links[i].as_mut() else {
            return;
        };
        if link.state != LinkState::Opening {
            return;
        }
        link.state = LinkState::Open;
        self.metrics
            .link_open_latency
            .observe(self.now.saturating_sub(link.since));
        if link.protocol == Protocol::Tcp || link.has_remote {
            link.remote = remote;
        }
        let protocol = link.protocol;
        // Pause flags set while connecting reached no backend connection yet.
        link.paused_host = host_paused;
        if link.paused() {
            self.net_out.push_back(NetCommand::PauseRead { conn });
        }
        if self.host_is_busy_with(&Busy::TransparentOpen { link: i }) {
            return self.transparent_opened(true);
        }
        match protocol {
            Protocol::Tcp => {
                self.cancel_timer(Timer::LinkOpen(i, conn));
                self.urc(&format!("+CIPOPEN: {i},0"));
            }
            Protocol::Udp => {
                if self.host_is_busy_with(&Busy::UdpOpen { link: i }) {
                    let step = self.info_step(&format!("+CIPOPEN: {i},0"));
                    self.finish(step);
                }
            }
        }
    }

    pub(super) fn on_open_failed(&mut self, conn: ConnId, error: OpenError) {
        let Some(i) = self.link_of(conn) else {
            return;
        };
        let Some(link) = &self.links[i] else {
            return;
        };
        if link.state != LinkState::Opening {
            return;
        }
        let protocol = link.protocol;
        self.links[i] = None;
        self.cancel_timer(Timer::LinkOpen(i, conn));
        if self.host_is_busy_with(&Busy::TransparentOpen { link: i }) {
            return self.transparent_opened(false);
        }
        let line = format!("+CIPOPEN: {i},{}", open_error_code(error).code());
        match protocol {
            Protocol::Tcp => self.urc(&line),
            Protocol::Udp => {
                if self.host_is_busy_with(&Busy::UdpOpen { link: i }) {
                    self.finish(Step::Fail(Failure::Info(line)));
                }
            }
        }
    }

    pub(super) fn link_open_timed_out(&mut self, i: usize, conn: ConnId) {
        let opening = self.links[i]
            .as_ref()
            .is_some_and(|l| l.conn == conn && l.state == LinkState::Opening);
        if opening {
            self.drop_link(i);
            self.urc(&format!("+CIPOPEN: {i},{}", ErrCode::Timeout.code()));
        }
    }

    pub(super) fn host_is_busy_with(&self, busy: &Busy) -> bool {
        matches!(&self.host, HostState::Busy(b) if b == busy)
    }

    /// Forgets a link and tells the backend to close it. Sends still waiting for their
    /// report keep it: the report is printed when the backend answers.
    pub(super) fn drop_link(&mut self, i: usize) {
        let Some(link) = self.forget_link(i) else {
            return;
        };
        // A broken link's connection was closed when it broke (`link_broken`), a closing
        // one when `AT+CIPCLOSE` was accepted.
        if !matches!(link.state, LinkState::PeerClosed | LinkState::Closing) {
            self.net_out
                .push_back(NetCommand::Close { conn: link.conn });
        }
    }

    /// Removes link `i` with everything tied to it: its timers, its data-mode stream,
    /// and its sends still waiting for a report. Those the stack already answered but
    /// whose report waited for the peer's ACK end unconfirmed (`-1`); those the network
    /// has not answered yet are reported when it does (`orphans`).
    fn forget_link(&mut self, i: usize) -> Option<Link> {
        let mut link = self.links[i].take()?;
        if link.transparent {
            self.stream = super::data::Stream::default();
            self.cancel_timer(Timer::Escape);
        }
        self.timers
            .retain(|(_, t)| !matches!(t, Timer::LinkOpen(l, _) | Timer::AckPoll(l) if *l == i));
        let mut pending = std::mem::take(&mut link.pending_sends);
        while let Some(p) = pending.front().copied().filter(|p| p.outcome.is_some()) {
            pending.pop_front();
            let cnf = if p.outcome == Some(SendOutcome::Full) {
                0
            } else {
                -1
            };
            self.urc(&format!("+CIPSEND: {i},{},{cnf}", p.req));
        }
        if !pending.is_empty() {
            self.orphans.push((link.conn, i, pending));
        }
        Some(link)
    }

    /// The link's connection is gone (peer closed, network lost): it keeps its buffered
    /// data but can no longer send.
    pub(super) fn link_broken(&mut self, i: usize) {
        let Some(link) = self.links[i].as_mut() else {
            return;
        };
        if matches!(link.state, LinkState::PeerClosed | LinkState::Closing) {
            return;
        }
        let conn = link.conn;
        let was_opening = link.state == LinkState::Opening;
        link.state = LinkState::PeerClosed;
        self.net_out.push_back(NetCommand::Close { conn });
        if was_opening {
            self.cancel_timer(Timer::LinkOpen(i, conn));
        }
    }

    pub(super) fn on_peer_closed(&mut self, conn: ConnId) {
        let Some(i) = self.link_of(conn) else {
            return;
        };
        let Some(link) = &self.links[i] else {
            return;
        };
        match link.state {
            LinkState::Opening => return self.on_open_failed(conn, OpenError::Refused),
            LinkState::Closing | LinkState::PeerClosed => return,
            LinkState::Open => {}
        }
        if link.transparent {
            return self.data_peer_closed();
        }
        let keep = self.s.rxget == 1 && !link.rx.is_empty();
        self.urc(&format!("+IPCLOSE: {i},1"));
        if keep {
            self.link_broken(i);
        } else {
            self.drop_link(i);
        }
    }

    pub(super) fn on_closed(&mut self, conn: ConnId) {
        let Some(i) = self.link_of(conn) else {
            return;
        };
        let closing = self.links[i]
            .as_ref()
            .is_some_and(|l| l.state == LinkState::Closing);
        if closing {
            if let Some(link) = self.forget_link(i) {
                if link.transparent {
                    self.urc("CLOSED");
                }
                self.urc(&format!("+CIPCLOSE: {i},0"));
            }
        }
    }

    pub(super) fn cmd_cipclose(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => return self.info_step("+CIPCLOSE: (0-9)"),
            Form::Read => {
                let states: Vec<&str> = self
                    .links
                    .iter()
                    .map(|l| {
                        if l.as_ref().is_some_and(Link::is_open) {
                            "1"
                        } else {
                            "0"
                        }
                    })
                    .collect();
                return self.info_step(&format!("+CIPCLOSE: {}", states.join(",")));
            }
            Form::Execute => return Step::Fail(Failure::Param),
            Form::Write(args) => args,
        };
        let i = match link_arg(args.first()) {
            Ok(i) if args.len() == 1 => i,
            Ok(_) => return Step::Fail(Failure::Param),
            Err(step) => return step,
        };
        if self.is_data_link(i)
            && self.links[i]
                .as_ref()
                .is_some_and(|l| l.state != LinkState::Closing)
        {
            return self.close_data_link();
        }
        let Some(link) = self.links[i].as_mut() else {
            return Step::Fail(Failure::Info(format!("+CIPCLOSE: {i},4")));
        };
        let done = format!("+CIPCLOSE: {i},0");
        match (link.state, link.protocol) {
            (LinkState::Closing, _) => Step::Fail(Failure::Info(format!("+CIPCLOSE: {i},4"))),
            (LinkState::Open, Protocol::Tcp) => {
                link.state = LinkState::Closing;
                link.rx.clear();
                let conn = link.conn;
                self.cancel_timer(Timer::LinkOpen(i, conn));
                self.net_out.push_back(NetCommand::Close { conn });
                Step::Next
            }
            (_, Protocol::Udp) => {
                self.drop_link(i);
                self.info_step(&done)
            }
            // Still connecting, or broken with data left: nothing to wait for.
            (LinkState::Opening | LinkState::PeerClosed, Protocol::Tcp) => {
                self.drop_link(i);
                self.urc(&done);
                Step::Next
            }
        }
    }

    pub(super) fn cmd_cipack(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => return self.info_step("+CIPACK: (0-9)"),
            Form::Write(args) => args,
            _ => return Step::Fail(Failure::Param),
        };
        let i = match link_arg(args.first()) {
            Ok(i) if args.len() == 1 => i,
            Ok(_) => return Step::Fail(Failure::Param),
            Err(step) => return step,
        };
        if self.net != NetState::Open {
            return Step::Fail(Failure::Ip(ErrInfo::NetworkNotOpened));
        }
        let Some(link) = self.links[i].as_ref().filter(|l| l.is_open()) else {
            return Step::Fail(Failure::Ip(ErrInfo::ConnectionNotCreated));
        };
        if link.protocol != Protocol::Tcp {
            return Step::Fail(Failure::Ip(ErrInfo::OperationNotSupported));
        }
        let conn = link.conn;
        self.net_out.push_back(NetCommand::QueryAck { conn });
        self.wait(Busy::CipAck { link: i }, CIPACK_TIMEOUT)
    }

    pub(super) fn cipack_answer(&mut self, i: usize) -> Step {
        match &self.links[i] {
            Some(l) => {
                let line = format!("+CIPACK: {},{},{}", l.sent, l.acked, l.received);
                self.info_step(&line)
            }
            None => Step::Fail(Failure::Ip(ErrInfo::ConnectionNotCreated)),
        }
    }

    pub(super) fn on_ack_status(&mut self, conn: ConnId, acked: u64) {
        let Some(i) = self.link_of(conn) else {
            return;
        };
        if let Some(link) = self.links[i].as_mut() {
            link.acked = link.acked.max(acked.min(link.sent));
        }
        if self.host_is_busy_with(&Busy::CipAck { link: i }) {
            let step = self.cipack_answer(i);
            self.finish(step);
        }
        self.report_sends(i);
    }
}

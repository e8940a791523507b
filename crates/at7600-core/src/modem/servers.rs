//! TCP servers: `AT+SERVERSTART`, `AT+SERVERSTOP`, and accepted clients (`+CLIENT`).

use super::{Busy, Failure, Modem, NetState, Server, Step, LINKS, SERVERS};
use crate::io::{ConnId, NetCommand, Protocol};
use crate::link::{Link, LinkState};
use crate::parser::Form;
use std::net::SocketAddrV4;
use std::time::Duration;

/// A listen the backend never answers gives up after this long.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);

fn cip_error(code: u8) -> Step {
    Step::Fail(Failure::Info(format!("+CIPERROR: {code}")))
}

impl Modem {
    pub(super) fn cmd_serverstart(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => return self.info_step("+SERVERSTART: (0-65535),(0-3)"),
            Form::Read => {
                if self.net != NetState::Open {
                    return cip_error(2);
                }
                let lines: Vec<String> = self
                    .servers
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.filter(|s| s.listening).map(|s| (i, s.port)))
                    .map(|(i, port)| format!("+SERVERSTART: {i},{port}"))
                    .collect();
                self.info_lines(&lines);
                return Step::Next;
            }
            Form::Execute => return Step::Fail(Failure::Param),
            Form::Write(args) => args,
        };
        if self.net != NetState::Open {
            return cip_error(2);
        }
        let port = args.first().and_then(|a| a.in_range(0..=65535));
        let index = args.get(1).and_then(|a| a.in_range(0..=SERVERS as u64 - 1));
        let backlog = match args.get(2) {
            None => Some(3),
            Some(a) if a.is_empty() => Some(3),
            Some(a) => a.in_range(1..=3),
        };
        let (Some(port), Some(index), Some(backlog)) = (port, index, backlog) else {
            return cip_error(3);
        };
        if args.len() > 3 {
            return cip_error(3);
        }
        let server = index as u8;
        if self.servers[index as usize].is_some() {
            return cip_error(7);
        }
        self.servers[index as usize] = Some(Server {
            port: port as u16,
            listening: false,
        });
        self.net_out.push_back(NetCommand::Listen {
            server,
            port: port as u16,
            backlog: backlog as u8,
            keepalive: self.s.socket_options().keepalive,
        });
        self.wait(Busy::Listen { server }, LISTEN_TIMEOUT)
    }

    pub(super) fn on_listening(&mut self, server: u8) {
        if let Some(s) = self
            .servers
            .get_mut(usize::from(server))
            .and_then(Option::as_mut)
        {
            s.listening = true;
        }
        if self.host_is_busy_with(&Busy::Listen { server }) {
            self.finish(Step::Next);
        }
    }

    pub(super) fn on_listen_failed(&mut self, server: u8) {
        if self.host_is_busy_with(&Busy::Listen { server }) {
            self.servers[usize::from(server)] = None;
            self.finish(cip_error(6));
        }
    }

    pub(super) fn cmd_serverstop(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => return self.info_step("+SERVERSTOP: (0-3)"),
            Form::Write(args) => args,
            _ => return Step::Fail(Failure::Param),
        };
        let Some(index) = args
            .first()
            .and_then(|a| a.in_range(0..=SERVERS as u64 - 1))
        else {
            return Step::Fail(Failure::Param);
        };
        let server = index as u8;
        let fail = |code: u8| Step::Fail(Failure::Info(format!("+SERVERSTOP: {server},{code}")));
        if args.len() != 1 {
            return fail(3);
        }
        if self.servers[index as usize].is_none() {
            return fail(4);
        }
        // Its accepted sockets must be closed first (manual §2.15).
        if self
            .links
            .iter()
            .flatten()
            .any(|l| l.server == Some(server))
        {
            return fail(9);
        }
        self.servers[index as usize] = None;
        self.net_out.push_back(NetCommand::Unlisten { server });
        self.info_step(&format!("+SERVERSTOP: {server},0"))
    }

    /// A client connected: it gets the lowest free link, or is turned away if none is.
    pub(super) fn on_accepted(&mut self, server: u8, conn: ConnId, peer: SocketAddrV4) {
        let listening = self
            .servers
            .get(usize::from(server))
            .copied()
            .flatten()
            .is_some_and(|s| s.listening);
        let transparent = self.s.cipmode == 1 && server == 0;
        let free = if transparent {
            Some(0).filter(|_| self.links[0].is_none())
        } else {
            (0..LINKS).find(|i| self.links[*i].is_none())
        };
        let (true, Some(i)) = (listening, free) else {
            self.net_out.push_back(NetCommand::Close { conn });
            return;
        };
        let mut link = Link::new(conn, Protocol::Tcp);
        link.state = LinkState::Open;
        link.remote = peer;
        link.server = Some(server);
        link.transparent = transparent;
        self.links[i] = Some(link);
        if self.host_pause_for(i) {
            self.set_link_pause(i, |l| &mut l.paused_host, true);
        }
        self.urc(&format!(
            "+CLIENT: {i},{server},{}:{}",
            peer.ip(),
            peer.port()
        ));
        if transparent {
            self.urc_enter_data();
        }
    }
}

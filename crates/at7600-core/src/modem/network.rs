//! The PDP context and name resolution: `AT+NETOPEN`, `AT+NETCLOSE`, `AT+IPADDR`,
//! `AT+CDNSGIP`, and the backend's attach/detach/loss events.

use super::{Busy, Failure, HostState, Modem, NetState, Step, Timer, LINKS, SERVERS};
use crate::errors::ErrInfo;
use crate::io::{NetCommand, OpenError};
use crate::link::LinkState;
use crate::parser::Form;
use std::net::Ipv4Addr;

/// `AT+CDNSGIP` names: 1-254 characters of letters, digits, `-` and `.`, labels of at
/// most 63 characters that start with a letter or digit (manual §2.17).
pub(super) fn valid_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 254
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.as_bytes()[0].is_ascii_alphanumeric()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl Modem {
    pub(super) fn cmd_netopen(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => Step::Next,
            Form::Read => {
                // One truth with AT+IPADDR: a lost network is not open.
                let open = u8::from(self.net == NetState::Open);
                self.info_step(&format!("+NETOPEN: {open}"))
            }
            Form::Write(_) => Step::Fail(Failure::Param),
            Form::Execute => match self.net {
                // Manual §2.1: a network that closed abnormally is opened again; its
                // broken links stay until the host closes them.
                // PDP context 1 needs the radio (more-commands.md §5.1).
                NetState::Closed | NetState::Lost if !self.pdp_active() => {
                    self.urc("+NETOPEN: 1");
                    Step::Next
                }
                NetState::Closed | NetState::Lost => {
                    self.net = NetState::Opening;
                    self.net_out.push_back(NetCommand::Attach);
                    let at = self.now + self.s.netopen_timeout();
                    self.set_timer(Timer::NetOpen, at);
                    Step::Next
                }
                NetState::Closing => Step::Fail(Failure::Param),
                _ => Step::Fail(Failure::Ip(ErrInfo::NetworkAlreadyOpened)),
            },
        }
    }

    pub(super) fn on_attached(&mut self, ip: Ipv4Addr) {
        if self.net == NetState::Opening {
            self.cancel_timer(Timer::NetOpen);
            self.net = NetState::Open;
            self.ip = Some(ip);
            self.urc("+NETOPEN: 0");
        }
    }

    pub(super) fn on_attach_failed(&mut self) {
        if self.net == NetState::Opening {
            self.cancel_timer(Timer::NetOpen);
            self.net = NetState::Closed;
            self.urc("+NETOPEN: 1");
        }
    }

    pub(super) fn netopen_timed_out(&mut self) {
        if self.net == NetState::Opening {
            self.net = NetState::Closed;
            self.net_out.push_back(NetCommand::Detach);
            self.urc("+NETOPEN: 10");
        }
    }

    pub(super) fn cmd_netclose(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => Step::Next,
            Form::Read | Form::Write(_) => Step::Fail(Failure::Param),
            Form::Execute => match self.net {
                NetState::Closed | NetState::Closing => {
                    Step::Fail(Failure::Info("+NETCLOSE: 2".into()))
                }
                NetState::Opening | NetState::Open | NetState::Lost => {
                    self.cancel_timer(Timer::NetOpen);
                    self.release_everything();
                    self.net = NetState::Closing;
                    self.net_out.push_back(NetCommand::Detach);
                    Step::Next
                }
            },
        }
    }

    /// Closes every link and server, as `AT+NETCLOSE` does.
    fn release_everything(&mut self) {
        for i in 0..LINKS {
            let Some((transparent, state)) =
                self.links[i].as_ref().map(|l| (l.transparent, l.state))
            else {
                continue;
            };
            if transparent && state == LinkState::Open {
                self.urc("CLOSED");
                self.urc(&format!("+CIPCLOSE: {i},0"));
            }
            // The `+CIPCLOSE` its `OK` promised comes before `+NETCLOSE`.
            if state == LinkState::Closing {
                self.urc(&format!("+CIPCLOSE: {i},0"));
            }
            self.drop_link(i);
        }
        for server in 0..SERVERS as u8 {
            if self.servers[usize::from(server)].take().is_some() {
                self.net_out.push_back(NetCommand::Unlisten { server });
            }
        }
    }

    pub(super) fn on_detached(&mut self) {
        if self.net == NetState::Closing {
            self.net = NetState::Closed;
            self.ip = None;
            self.urc("+NETCLOSE: 0");
        }
    }

    /// The network went away: the host is told once, its links stop working (their
    /// buffered data stays readable) and it must close them and `AT+NETCLOSE`.
    pub(super) fn on_network_lost(&mut self) {
        if !matches!(self.net, NetState::Open | NetState::Opening) {
            return;
        }
        let broken_links = self.links.iter().any(Option::is_some);
        if self.net == NetState::Opening {
            self.cancel_timer(Timer::NetOpen);
            self.net = if broken_links {
                NetState::Lost
            } else {
                NetState::Closed
            };
            self.urc("+NETOPEN: 1");
            return;
        }
        self.net = NetState::Lost;
        if matches!(self.host, HostState::Data) {
            self.drop_link(super::data::DATA_LINK);
            self.host = HostState::Idle;
            self.final_code("CLOSED", 3);
        }
        self.urc("+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY");
        for i in 0..LINKS {
            // A connect (or UDP bind) still in progress fails now: the host waiting for
            // its `+CIPOPEN: <n>,<err>` gets `<err>` 1 (Network failure).
            let opening = self.links[i]
                .as_ref()
                .filter(|l| l.state == LinkState::Opening)
                .map(|l| l.conn);
            if let Some(conn) = opening {
                self.net_out.push_back(NetCommand::Close { conn });
                self.on_open_failed(conn, OpenError::Refused);
            } else {
                self.link_broken(i);
            }
        }
        for server in 0..SERVERS as u8 {
            if let Some(s) = self.servers[usize::from(server)].as_mut() {
                s.listening = false;
                self.net_out.push_back(NetCommand::Unlisten { server });
            }
        }
    }

    pub(super) fn cmd_ipaddr(&mut self, form: &Form) -> Step {
        match (form, self.ip) {
            (Form::Test, _) => Step::Next,
            (Form::Execute, Some(ip)) if self.net == NetState::Open => {
                self.info_step(&format!("+IPADDR: {ip}"))
            }
            (Form::Execute, _) => Step::Fail(Failure::Ip(ErrInfo::NetworkNotOpened)),
            _ => Step::Fail(Failure::Param),
        }
    }

    pub(super) fn cmd_cdnsgip(&mut self, form: &Form) -> Step {
        let name = match form {
            Form::Test => return Step::Next,
            Form::Write(args) if args.len() == 1 => args[0].str().to_string(),
            _ => return Step::Fail(Failure::Param),
        };
        if let Ok(ip) = name.parse::<Ipv4Addr>() {
            return self.info_step(&format!("+CDNSGIP: 1,\"{name}\",\"{ip}\""));
        }
        if !valid_domain(&name) {
            return Step::Fail(Failure::Param);
        }
        if self.net != NetState::Open {
            return Step::Fail(Failure::Info("+CDNSGIP: 0,10".into()));
        }
        let query = self.next_query;
        self.next_query += 1;
        self.net_out.push_back(NetCommand::Resolve {
            query,
            name: name.clone(),
            servers: self.s.socket_options().dns,
        });
        let timeout = self.s.cipopen_timeout();
        self.wait(Busy::Dns { query, name }, timeout)
    }

    pub(super) fn on_resolved(&mut self, query: u64, addr: Option<Ipv4Addr>) {
        if self.ping_resolved(query, addr) {
            return;
        }
        let HostState::Busy(Busy::Dns { query: q, name }) = &self.host else {
            return;
        };
        if *q != query {
            return;
        }
        let step = match addr {
            Some(ip) => {
                let line = format!("+CDNSGIP: 1,\"{name}\",\"{ip}\"");
                self.info_step(&line)
            }
            None => Step::Fail(Failure::Info("+CDNSGIP: 0,10".into())),
        };
        self.finish(step);
    }
}

#[cfg(test)]
mod tests {
    use super::valid_domain;

    #[test]
    fn domain_names_follow_the_manual() {
        assert!(valid_domain("www.baidu.com"));
        assert!(valid_domain("a-b.c"));
        assert!(!valid_domain(""));
        assert!(!valid_domain("-a.com"));
        assert!(!valid_domain("a..b"));
        assert!(!valid_domain("a_b.com"));
        assert!(!valid_domain(&"a".repeat(64)));
        assert!(!valid_domain(&["a"; 128].join(".")));
    }
}

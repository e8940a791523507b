//! The service and the sessions: `AT+CCHSET`, `AT+CCHMODE`, `AT+CCHSTART`,
//! `AT+CCHSTOP`, `AT+CCHADDR`, `AT+CCHSSLCFG`, `AT+CCHCFG`, `AT+CCHOPEN`,
//! `AT+CCHCLOSE` (`ssl.md` §5-§8, §11).

use super::{plain, Phase, SslTimer, SESSIONS};
use crate::config::Personality;
use crate::io::{NetCommand, Protocol, TlsParams};
use crate::modem::{Failure, Modem, Step, Timer};
use crate::parser::{Arg, Form};
use std::net::Ipv4Addr;
use std::time::Duration;

/// How long name lookup and TCP connect may take (§8.3).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(120);

/// `<err>` codes of `ssl.md` §13 the sessions use.
pub(super) mod err {
    pub const PEER_CLOSED: u8 = 4;
    pub const NETWORK: u8 = 9;
    pub const BIND: u8 = 12;
    pub const DNS: u8 = 13;
    pub const CONNECT: u8 = 14;
    pub const HANDSHAKE: u8 = 15;
    pub const NO_NET: u8 = 17;
    pub const CERTIFICATES: u8 = 19;
}

/// A session number 0-1.
fn session_arg(arg: Option<&Arg>) -> Option<usize> {
    arg?.in_range(0..=1).map(|s| s as usize)
}

/// An optional numeric field: omitted or empty gives `default`.
fn optional(arg: Option<&Arg>, range: std::ops::RangeInclusive<u64>, default: u64) -> Option<u64> {
    match arg {
        None => Some(default),
        Some(a) if a.is_empty() => Some(default),
        Some(a) => a.in_range(range),
    }
}

/// A host of `AT+CCHOPEN`: 1-256 bytes of a DNS name or a dotted IPv4 address.
fn host_arg(arg: &Arg) -> Option<String> {
    let host = arg.str();
    let name_chars = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    (arg.non_ascii_hex().is_none() && (1..=256).contains(&host.len()) && name_chars)
        .then(|| host.to_string())
}

impl Modem {
    /// PDP context cid 1 is active for the set: up, and not lost since (§11.3).
    pub(super) fn ssl_pdp(&self) -> bool {
        self.pdp_active() && !self.ssl.lost
    }

    pub(super) fn a76xx(&self) -> bool {
        self.config.identity.personality == Personality::A76xx
    }

    pub(in crate::modem) fn cmd_cch(&mut self, name: &str, form: &Form) -> Step {
        match name {
            "+CCHSET" => self.cmd_cchset(form),
            "+CCHMODE" => self.cmd_cchmode(form),
            "+CCHSTART" => self.cmd_cchstart(form),
            "+CCHSTOP" => self.cmd_cchstop(form),
            "+CCHADDR" => self.cmd_cchaddr(form),
            "+CCHSSLCFG" => self.cmd_cchsslcfg(form),
            "+CCHCFG" => self.cmd_cchcfg(form),
            "+CCHOPEN" => self.cmd_cchopen(form),
            _ => self.cmd_cchclose(form),
        }
    }

    fn cmd_cchset(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let (r, m) = (u8::from(self.ssl.report), u8::from(self.ssl.manual));
                self.info_step(&format!("+CCHSET: {r},{m}"))
            }
            Form::Test => self.info_step("+CCHSET: (0,1),(0,1)"),
            Form::Write(args) if (1..=2).contains(&args.len()) => {
                let report = args[0].in_range(0..=1);
                let manual = optional(args.get(1), 0..=1, 0);
                let (Some(report), Some(manual)) = (report, manual) else {
                    return plain();
                };
                // Accepted while started too, for sessions opened afterwards (§5).
                self.ssl.report = report == 1;
                self.ssl.manual = manual == 1;
                Step::Next
            }
            _ => plain(),
        }
    }

    fn cmd_cchmode(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let m = u8::from(self.ssl.transparent);
                self.info_step(&format!("+CCHMODE: {m}"))
            }
            Form::Test => self.info_step("+CCHMODE: (0,1)"),
            Form::Write(args) if args.len() == 1 && !self.ssl.started => {
                match args[0].in_range(0..=1) {
                    Some(m) => {
                        self.ssl.transparent = m == 1;
                        Step::Next
                    }
                    None => plain(),
                }
            }
            _ => plain(),
        }
    }

    fn cmd_cchstart(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => Step::Next,
            Form::Execute if self.ssl.started => plain(),
            Form::Execute if self.ssl_pdp() => {
                self.ssl.started = true;
                self.urc("+CCHSTART: 0");
                Step::Next
            }
            Form::Execute => {
                self.urc(&format!("+CCHSTART: {}", err::NO_NET));
                // Each manual's failure form (§6).
                if self.a76xx() {
                    plain()
                } else {
                    Step::Next
                }
            }
            _ => plain(),
        }
    }

    fn cmd_cchstop(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => Step::Next,
            Form::Execute if self.ssl.started => {
                for s in 0..SESSIONS {
                    self.close_session_reported(s);
                }
                self.ssl.started = false;
                self.urc("+CCHSTOP: 0");
                Step::Next
            }
            _ => plain(),
        }
    }

    fn cmd_cchaddr(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => Step::Next,
            Form::Execute if self.ssl_pdp() => {
                let ip = self.ip.unwrap_or(self.config.network.ip_address);
                self.info_step(&format!("+CCHADDR: {ip}"))
            }
            _ => plain(),
        }
    }

    /// A session that may be bound: the service runs and the session is free (§7).
    fn bindable(&self, arg: Option<&Arg>) -> Option<usize> {
        let s = session_arg(arg)?;
        (self.ssl.started && self.ssl.sessions[s].phase == Phase::Free).then_some(s)
    }

    fn cmd_cchsslcfg(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let lines: Vec<String> = (self.ssl.sessions.iter().enumerate())
                    .map(|(s, x)| {
                        let ctx = x.ctx.map(|c| c.to_string()).unwrap_or_default();
                        format!("+CCHSSLCFG: {s},{ctx}")
                    })
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            Form::Test => self.info_step("+CCHSSLCFG: (0,1),(0-9)"),
            Form::Write(args) if args.len() == 2 => {
                let s = self.bindable(args.first());
                match (s, args[1].in_range(0..=9)) {
                    (Some(s), Some(ctx)) => {
                        self.ssl.sessions[s].ctx = Some(ctx as u8);
                        Step::Next
                    }
                    _ => plain(),
                }
            }
            _ => plain(),
        }
    }

    fn cmd_cchcfg(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let lines: Vec<String> = (self.ssl.sessions.iter().enumerate())
                    .map(|(s, x)| {
                        let ctx = x.ctx.map(|c| c.to_string()).unwrap_or_default();
                        format!("+CCHCFG: {s},{},{ctx}", x.send_timeout_s)
                    })
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            Form::Test => self.info_lines_step(&[
                "+CCHCFG: \"sendtimeout\",(0-1),(60-150)",
                "+CCHCFG: \"sslctx\",(0-1),(0-9)",
            ]),
            Form::Write(args) if args.len() == 3 => {
                let s = self.bindable(args.get(1));
                let name = args[0].str().to_ascii_lowercase();
                match (s, name.as_str()) {
                    (Some(s), "sendtimeout") => match args[2].in_range(60..=150) {
                        Some(t) => {
                            self.ssl.sessions[s].send_timeout_s = t as u16;
                            Step::Next
                        }
                        None => plain(),
                    },
                    (Some(s), "sslctx") => match args[2].in_range(0..=9) {
                        Some(c) => {
                            self.ssl.sessions[s].ctx = Some(c as u8);
                            Step::Next
                        }
                        None => plain(),
                    },
                    _ => plain(),
                }
            }
            _ => plain(),
        }
    }

    fn info_lines_step(&mut self, lines: &[&str]) -> Step {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        self.info_lines(&lines);
        Step::Next
    }

    fn cmd_cchopen(&mut self, form: &Form) -> Step {
        let args = match form {
            Form::Test => {
                return self.info_step("+CCHOPEN: (0,1),\"ADDRESS\",(1-65535)[,(1-2)[,(1-65535)]]")
            }
            Form::Read => {
                let lines: Vec<String> = (self.ssl.sessions.iter().enumerate())
                    .map(|(s, x)| match x.phase {
                        Phase::Open | Phase::PeerClosed => {
                            let bind = x.bind_port.map(|p| p.to_string()).unwrap_or_default();
                            let host = super::names::show_name(&x.host);
                            format!(
                                "+CCHOPEN: {s},\"{host}\",{},{},{bind}",
                                x.port, x.client_type
                            )
                        }
                        _ => format!("+CCHOPEN: {s},\"\",,,"),
                    })
                    .collect();
                self.info_lines(&lines);
                return Step::Next;
            }
            Form::Write(args) if (3..=5).contains(&args.len()) => args,
            _ => return plain(),
        };
        let s = session_arg(args.first());
        let host = host_arg(&args[1]);
        let port = args[2].in_range(1..=65535);
        let client_type = optional(args.get(3), 1..=2, 2);
        let bind_port = optional(args.get(4), 1..=65535, 0);
        let (Some(s), Some(host), Some(port), Some(client_type), Some(bind_port)) =
            (s, host, port, client_type, bind_port)
        else {
            return plain();
        };
        if !self.ssl.started
            || self.ssl.sessions[s].phase != Phase::Free
            || (self.ssl.transparent && s != 0)
        {
            return plain();
        }
        // The transparent session and a TCP/IP transparent link exclude each other;
        // the session stays free with its binding (§12).
        if self.ssl.transparent && self.links[0].as_ref().is_some_and(|l| l.transparent) {
            return Step::Fail(Failure::ConnectFail);
        }
        let session = &mut self.ssl.sessions[s];
        session.host = host;
        session.port = port as u16;
        session.client_type = client_type as u8;
        session.bind_port = (bind_port != 0).then_some(bind_port as u16);
        session.manual = self.ssl.manual;
        session.report = self.ssl.report;
        session.transparent = self.ssl.transparent;
        if session.transparent {
            return self.open_transparent_session();
        }
        self.start_open(s);
        Step::Next
    }

    /// Starts a session's open after its `OK`: every failure found before any traffic
    /// is reported at once, otherwise the backend connects (§8.3).
    pub(super) fn start_open(&mut self, s: usize) {
        if !self.ssl_pdp() {
            return self.open_failed(s, err::NO_NET);
        }
        let tls = if self.ssl.sessions[s].client_type == 2 {
            match self.tls_params(s) {
                Some(tls) => Some(Box::new(tls)),
                None => return self.open_failed(s, err::CERTIFICATES),
            }
        } else {
            None
        };
        let conn = self.new_conn();
        let session = &mut self.ssl.sessions[s];
        session.conn = conn;
        session.phase = Phase::Connecting;
        let ctx = usize::from(session.ctx.unwrap_or(s as u8));
        session.negotiate = Duration::from_secs(self.ssl.contexts[ctx].negotiate_s.into());
        self.net_out.push_back(NetCommand::Open {
            conn,
            protocol: Protocol::Tcp,
            remote: Some((session.host.clone(), session.port)),
            local_port: session.bind_port,
            options: self.s.socket_options(),
            tls,
        });
        self.set_timer(
            Timer::Ssl(SslTimer::Open(s, conn)),
            self.now + CONNECT_TIMEOUT,
        );
    }

    /// What the backend needs for the TLS of session `s`, from its bound context; `None`
    /// when a file the authmode needs is unset or not in the store (19).
    fn tls_params(&self, s: usize) -> Option<TlsParams> {
        let session = &self.ssl.sessions[s];
        let ctx = &self.ssl.contexts[usize::from(session.ctx.unwrap_or(s as u8))];
        let store = &self.ssl.store;
        let file = |name: &str| store.get(name).map(<[u8]>::to_vec);
        for name in ctx.needed_files() {
            if name.is_empty() || store.get(name).is_none() {
                return None;
            }
        }
        let (verify_server, client) = match ctx.auth {
            1 => (true, false),
            2 => (true, true),
            3 => (false, true),
            _ => (false, false),
        };
        let key_password = if !ctx.keypwd.is_empty() {
            Some(ctx.keypwd.clone())
        } else if !ctx.password.is_empty() && client {
            // The first line of the password file (A76xx).
            let content = file(&ctx.password)?;
            let text = String::from_utf8_lossy(&content);
            Some(
                text.lines()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('\r')
                    .to_string(),
            )
        } else {
            None
        };
        let verify_time = (!ctx.ignore_time)
            .then(|| u64::try_from(self.clock_utc().unix_timestamp()).unwrap_or(0));
        Some(TlsParams {
            version: ctx.version,
            allow_tls13: self.config.tls.tls13,
            auth: ctx.tls_auth(),
            server_name: session.host.clone(),
            sni: ctx.sni && session.host.parse::<Ipv4Addr>().is_err(),
            verify_time,
            cipher_suite: (ctx.suites != super::config::ALL_SUITES).then_some(ctx.suites),
            ca: if verify_server {
                file(&ctx.ca)?
            } else {
                Vec::new()
            },
            client_cert: if client { file(&ctx.cert)? } else { Vec::new() },
            client_key: if client { file(&ctx.key)? } else { Vec::new() },
            key_password,
        })
    }

    /// The open of session `s` failed with `code`: the session is free again.
    pub(super) fn open_failed(&mut self, s: usize, code: u8) {
        let transparent = self.ssl.sessions[s].transparent;
        self.free_session(s);
        if transparent {
            return self.transparent_session_failed();
        }
        self.urc(&format!("+CCHOPEN: {s},{code}"));
    }

    fn cmd_cchclose(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => self.info_step("+CCHCLOSE: (0,1)"),
            Form::Write(args) if args.len() == 1 => match session_arg(args.first()) {
                Some(s) if self.ssl.sessions[s].phase != Phase::Free => {
                    self.close_session_reported(s);
                    Step::Next
                }
                _ => plain(),
            },
            _ => plain(),
        }
    }

    /// Closes a session that is not free with its report: `+CCHCLOSE: <s>,0`, or
    /// `CLOSED` for the transparent session (`AT+CCHCLOSE`, `AT+CCHSTOP`).
    fn close_session_reported(&mut self, s: usize) {
        let session = &self.ssl.sessions[s];
        if session.phase == Phase::Free {
            return;
        }
        let transparent = session.transparent;
        self.free_session(s);
        if transparent {
            self.urc("CLOSED");
        } else {
            self.urc(&format!("+CCHCLOSE: {s},0"));
        }
    }

    /// Forgets session `s` with its cache, queue and binding; its connection, if the
    /// backend still has one, is closed (close_notify first for TLS) without waiting.
    pub(super) fn free_session(&mut self, s: usize) {
        let old = std::mem::take(&mut self.ssl.sessions[s]);
        if old.connected() {
            self.net_out.push_back(NetCommand::Close { conn: old.conn });
        }
        self.timers.retain(|(_, t)| {
            !matches!(t, Timer::Ssl(SslTimer::Open(x, _) | SslTimer::SendWait(x)) if *x == s)
        });
        if old.transparent {
            // Host bytes typed for it have nowhere to go.
            self.reset_stream();
        }
    }
}

//! Settings and the commands that only set them: `AT+CIPHEAD`, `AT+CIPSRIP`,
//! `AT+CIPMODE`, `AT+CIPSENDMODE`, `AT+CIPTIMEOUT`, `AT+CIPCCFG`.

use super::{Failure, Modem, NetState, Step};
use crate::config::Personality;
use crate::io::{Keepalive, SocketOptions};
use crate::parser::{Arg, Form};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// `AT+CIPCCFG` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ccfg {
    pub retries: u8,
    pub delay_ms: u16,
    pub ack: u8,
    pub err_mode: u8,
    pub header_type: u8,
    pub async_mode: u8,
    pub timeout_ms: u32,
}

impl Default for Ccfg {
    fn default() -> Self {
        Ccfg {
            retries: 10,
            delay_ms: 0,
            ack: 0,
            err_mode: 1,
            header_type: 0,
            async_mode: 0,
            timeout_ms: 500,
        }
    }
}

/// Every setting a host can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settings {
    pub echo: bool,
    pub verbose: bool,
    pub quiet: bool,
    pub x_level: u8,
    pub dtr_mode: u8,
    pub dcd_mode: u8,
    pub cmee: u8,
    pub creg: u8,
    pub cgreg: u8,
    pub cereg: u8,
    pub ctzr: u8,
    pub ctzu: u8,
    pub cfun: u8,
    pub attached: bool,
    pub ipr: u32,
    pub ifc: (u8, u8),
    pub s0: u8,
    pub ciphead: bool,
    pub cipsrip: bool,
    pub cipmode: u8,
    pub sendmode: u8,
    pub rxget: u8,
    /// `AT+CIPTIMEOUT`: NETOPEN, CIPOPEN and CIPSEND timeouts in ms.
    pub timeouts: [u32; 3],
    pub ccfg: Ccfg,
    /// `AT+CGDCONT` / `AT+CGSOCKCONT` contexts: cid, type, APN.
    pub contexts: Vec<(u8, String, String)>,
    pub sockcont_pn: u8,
    pub auth: Vec<(u8, u8, String, String)>,
    // ---- general commands of `more-commands.md` ----
    /// `AT+CNSMOD` reporting.
    pub cnsmod: u8,
    /// `AT+AUTOCSQ=<auto>,<mode>`.
    pub autocsq: (u8, u8),
    pub csclk: u8,
    /// `AT+ICF=<format>,<parity>` (stored; the port keeps 8N1).
    pub icf: (u8, u8),
    /// `AT+COPS` mode and format last written.
    pub cops: (u8, u8),
    /// `AT+CNMP` preferred mode (stored; the radio stays LTE).
    pub cnmp: u8,
    /// `AT+CGACT` state of contexts other than cid 1 (cid 1 follows the radio).
    pub cgact: Vec<(u8, bool)>,
    /// `AT+CTCPKA`: applied to TCP links opened afterwards.
    pub ctcpka: Keepalive,
    /// `AT+CDNSCFG` IPv4 pair once written (`None`: the configured display values).
    pub dns4: Option<(Ipv4Addr, Ipv4Addr)>,
    /// `AT+CDNSCFG` IPv6 pair (`::` until written).
    pub dns6: (Ipv6Addr, Ipv6Addr),
    /// `AT+CNTP` server and zone.
    pub cntp: (String, i8),
}

/// The settings `AT&W` saves and `ATZ` and every boot load (`more-commands.md` §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Profile {
    pub echo: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub x_level: u8,
    pub dcd_mode: u8,
    pub dtr_mode: u8,
    pub s0: u8,
    pub ifc: (u8, u8),
    pub icf: (u8, u8),
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            echo: true,
            verbose: true,
            quiet: false,
            x_level: 4,
            dtr_mode: 1,
            dcd_mode: 1,
            cmee: 0,
            creg: 0,
            cgreg: 0,
            cereg: 0,
            ctzr: 0,
            ctzu: 0,
            cfun: 1,
            attached: true,
            ipr: 115200,
            ifc: (0, 0),
            s0: 0,
            ciphead: true,
            cipsrip: true,
            cipmode: 0,
            sendmode: 0,
            rxget: 0,
            timeouts: [120_000; 3],
            ccfg: Ccfg::default(),
            contexts: vec![(1, "IP".into(), String::new())],
            sockcont_pn: 1,
            auth: Vec::new(),
            cnsmod: 0,
            autocsq: (0, 0),
            csclk: 0,
            icf: (3, 3),
            cops: (0, 0),
            cnmp: 2,
            cgact: Vec::new(),
            ctcpka: Keepalive::default(),
            dns4: None,
            dns6: (Ipv6Addr::UNSPECIFIED, Ipv6Addr::UNSPECIFIED),
            cntp: (String::new(), 0),
        }
    }
}

impl Settings {
    /// A freshly made module of this family (`more-commands.md` §0.2: `&D`, `AT+CTZU`
    /// and the `AT+CNTP` zone differ).
    pub fn factory(personality: Personality) -> Self {
        let mut s = Settings::default();
        match personality {
            Personality::Sim7600 => {
                s.dtr_mode = 1;
                s.ctzu = 1;
            }
            Personality::A76xx => {
                s.dtr_mode = 0;
                s.ctzu = 0;
                s.cntp.1 = 32;
            }
        }
        s
    }

    /// The settings `AT&W` saves.
    pub fn profile(&self) -> Profile {
        Profile {
            echo: self.echo,
            quiet: self.quiet,
            verbose: self.verbose,
            x_level: self.x_level,
            dcd_mode: self.dcd_mode,
            dtr_mode: self.dtr_mode,
            s0: self.s0,
            ifc: self.ifc,
            icf: self.icf,
        }
    }

    /// `ATZ`, `AT&F` and every boot: the profile's settings come back.
    pub fn load_profile(&mut self, p: &Profile) {
        self.echo = p.echo;
        self.quiet = p.quiet;
        self.verbose = p.verbose;
        self.x_level = p.x_level;
        self.dcd_mode = p.dcd_mode;
        self.dtr_mode = p.dtr_mode;
        self.s0 = p.s0;
        self.ifc = p.ifc;
        self.icf = p.icf;
    }

    /// After a restart (`more-commands.md` §1.3): factory values, the saved profile
    /// loaded, and the non-volatile settings kept.
    pub fn after_restart(&mut self, personality: Personality, saved: &Profile) {
        let old = std::mem::replace(self, Settings::factory(personality));
        self.ctzu = old.ctzu;
        self.cnmp = old.cnmp;
        self.ipr = old.ipr;
        self.contexts = old.contexts;
        self.auth = old.auth;
        self.load_profile(saved);
    }

    pub fn netopen_timeout(&self) -> Duration {
        Duration::from_millis(self.timeouts[0].into())
    }

    pub fn cipopen_timeout(&self) -> Duration {
        Duration::from_millis(self.timeouts[1].into())
    }

    pub fn cipsend_timeout(&self) -> Duration {
        Duration::from_millis(self.timeouts[2].into())
    }

    pub fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            retries: self.ccfg.retries,
            min_rto: Duration::from_millis(self.ccfg.timeout_ms.into()),
            keepalive: self.ctcpka.enabled.then_some(self.ctcpka),
            // Only servers the host wrote: the configured ones are what AT+CDNSCFG?
            // shows before that, and the network's resolver stays in charge.
            dns: self.dns4.map(|(p, s)| [p, s]),
        }
    }
}

/// Reads optional numeric fields (`AT+CIPTIMEOUT=,,5000`): each given field must be in
/// its range; an empty one keeps the old value. `None` if any field is bad.
fn optional_fields(
    args: &[Arg],
    ranges: &[std::ops::RangeInclusive<u64>],
) -> Option<Vec<Option<u64>>> {
    if args.len() > ranges.len() {
        return None;
    }
    args.iter()
        .zip(ranges)
        .map(|(a, r)| {
            if a.is_empty() {
                Some(None)
            } else {
                a.in_range(r.clone()).map(Some)
            }
        })
        .collect()
}

/// A single 0/1 write argument.
fn flag(args: &[Arg]) -> Option<u8> {
    match args {
        [a] => a.in_range(0..=1).map(|v| v as u8),
        _ => None,
    }
}

impl Modem {
    pub(super) fn cmd_setting(&mut self, name: &str, form: &Form) -> Step {
        match name {
            "+CIPHEAD" => self.cmd_flag(form, name, |s| &mut s.ciphead, Some(true)),
            "+CIPSRIP" => self.cmd_flag(form, name, |s| &mut s.cipsrip, Some(true)),
            "+CIPMODE" => self.cmd_cipmode(form),
            "+CIPSENDMODE" => match form {
                Form::Test => self.info_step("+CIPSENDMODE: (0-1)"),
                Form::Read => self.info_step(&format!("+CIPSENDMODE: {}", self.s.sendmode)),
                Form::Write(args) => match flag(args) {
                    Some(v) => {
                        self.s.sendmode = v;
                        Step::Next
                    }
                    None => Step::Fail(Failure::Param),
                },
                Form::Execute => Step::Fail(Failure::Param),
            },
            "+CIPTIMEOUT" => self.cmd_ciptimeout(form),
            _ => self.cmd_cipccfg(form),
        }
    }

    /// Writes an information line and goes on.
    pub(super) fn info_step(&mut self, text: &str) -> Step {
        self.info(text);
        Step::Next
    }

    /// A 0/1 setting with Test, Read, Write and (if `default` is given) Execute forms.
    fn cmd_flag(
        &mut self,
        form: &Form,
        name: &str,
        field: fn(&mut Settings) -> &mut bool,
        default: Option<bool>,
    ) -> Step {
        match form {
            Form::Test => self.info_step(&format!("{name}: (0-1)")),
            Form::Read => {
                let v = *field(&mut self.s);
                self.info_step(&format!("{name}: {}", u8::from(v)))
            }
            Form::Write(args) => match flag(args) {
                Some(v) => {
                    *field(&mut self.s) = v == 1;
                    Step::Next
                }
                None => Step::Fail(Failure::Param),
            },
            Form::Execute => match default {
                Some(d) => {
                    *field(&mut self.s) = d;
                    Step::Next
                }
                None => Step::Fail(Failure::Param),
            },
        }
    }

    /// `AT+CIPMODE`: must be chosen before `AT+NETOPEN` (clarifications §6).
    fn cmd_cipmode(&mut self, form: &Form) -> Step {
        let value = match form {
            Form::Test => return self.info_step("+CIPMODE: (0-1)"),
            Form::Read => return self.info_step(&format!("+CIPMODE: {}", self.s.cipmode)),
            Form::Write(args) => match flag(args) {
                Some(v) => v,
                None => return Step::Fail(Failure::Param),
            },
            Form::Execute => 0,
        };
        if self.net != NetState::Closed && value != self.s.cipmode {
            return Step::Fail(Failure::Param);
        }
        self.s.cipmode = value;
        Step::Next
    }

    fn cmd_ciptimeout(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => self.info_step("+CIPTIMEOUT: (3000-120000),(3000-120000),(3000-120000)"),
            Form::Read => {
                let [a, b, c] = self.s.timeouts;
                self.info_step(&format!("+CIPTIMEOUT: {a},{b},{c}"))
            }
            Form::Write(args) => {
                let range = 3000..=120_000;
                match optional_fields(args, &[range.clone(), range.clone(), range]) {
                    Some(values) => {
                        for (slot, v) in self.s.timeouts.iter_mut().zip(values) {
                            if let Some(v) = v {
                                *slot = v as u32;
                            }
                        }
                        Step::Next
                    }
                    None => Step::Fail(Failure::Param),
                }
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_cipccfg(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => {
                self.info_step("+CIPCCFG: (0-10),(0-1000),(0),(0-1),(0-1),(0-1),(500-120000)")
            }
            Form::Read => {
                let c = self.s.ccfg;
                self.info_step(&format!(
                    "+CIPCCFG: {},{},{},{},{},{},{}",
                    c.retries,
                    c.delay_ms,
                    c.ack,
                    c.err_mode,
                    c.header_type,
                    c.async_mode,
                    c.timeout_ms
                ))
            }
            Form::Write(args) => {
                let ranges = [0..=10, 0..=1000, 0..=0, 0..=1, 0..=1, 0..=1, 500..=120_000];
                let Some(v) = optional_fields(args, &ranges) else {
                    return Step::Fail(Failure::Param);
                };
                let c = &mut self.s.ccfg;
                let get = |i: usize| v.get(i).copied().flatten();
                if let Some(x) = get(0) {
                    c.retries = x as u8;
                }
                if let Some(x) = get(1) {
                    c.delay_ms = x as u16;
                }
                if let Some(x) = get(2) {
                    c.ack = x as u8;
                }
                if let Some(x) = get(3) {
                    c.err_mode = x as u8;
                }
                if let Some(x) = get(4) {
                    c.header_type = x as u8;
                }
                if let Some(x) = get(5) {
                    c.async_mode = x as u8;
                }
                if let Some(x) = get(6) {
                    c.timeout_ms = x as u32;
                }
                Step::Next
            }
            Form::Execute => {
                self.s.ccfg = Ccfg::default();
                Step::Next
            }
        }
    }
}

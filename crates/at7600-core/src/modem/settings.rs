//! Settings and the commands that only set them: `AT+CIPHEAD`, `AT+CIPSRIP`,
//! `AT+CIPMODE`, `AT+CIPSENDMODE`, `AT+CIPTIMEOUT`, `AT+CIPCCFG`.

use super::{Failure, Modem, NetState, Step};
use crate::io::SocketOptions;
use crate::parser::{Arg, Form};
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
        }
    }
}

impl Settings {
    /// `ATZ` / `AT&F`: the V.25ter settings back to their defaults.
    pub fn reset_basic(&mut self) {
        let d = Settings::default();
        self.echo = d.echo;
        self.verbose = d.verbose;
        self.quiet = d.quiet;
        self.x_level = d.x_level;
        self.dtr_mode = d.dtr_mode;
        self.dcd_mode = d.dcd_mode;
        self.cmee = d.cmee;
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

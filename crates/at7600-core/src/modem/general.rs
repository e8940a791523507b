//! The general commands drivers send around the TCP/IP set (`clarifications.md` §8):
//! V.25ter basics, identity, SIM, signal, registration and PDP context configuration.

use super::{Failure, Modem, Step};
use crate::parser::{Arg, Command, Form};

/// Baud rates `AT+IPR` accepts.
const BAUDS: [u32; 13] = [
    0, 300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800,
];
const BAUDS_HIGH: [u32; 4] = [921600, 3000000, 3200000, 3686400];

/// Strings the module stores and prints back must keep status lines 7-bit ASCII.
pub(super) fn printable(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

pub(super) fn one_in(args: &[Arg], range: std::ops::RangeInclusive<u64>) -> Option<u8> {
    match args {
        [a] => a.in_range(range).map(|v| v as u8),
        _ => None,
    }
}

impl Modem {
    pub(super) fn cmd_general(&mut self, cmd: &Command) -> Step {
        let n = cmd.number;
        let form = &cmd.form;
        match cmd.name.as_str() {
            "E" => self.basic_flag(n, |m, v| m.s.echo = v),
            "V" => self.basic_flag(n, |m, v| m.s.verbose = v),
            "Q" => self.basic_flag(n, |m, v| m.s.quiet = v),
            "X" => match n.unwrap_or(0) {
                v @ 0..=4 => {
                    self.s.x_level = v as u8;
                    Step::Next
                }
                _ => Step::Fail(Failure::Param),
            },
            "&D" => match n.unwrap_or(0) {
                v @ 0..=2 => {
                    self.s.dtr_mode = v as u8;
                    Step::Next
                }
                _ => Step::Fail(Failure::Param),
            },
            "&C" => match n.unwrap_or(0) {
                v @ 0..=2 => {
                    self.s.dcd_mode = v as u8;
                    Step::Next
                }
                _ => Step::Fail(Failure::Param),
            },
            "&E" => self.basic_flag(n, |_, _| {}),
            "&W" if n.unwrap_or(0) == 0 => {
                self.dev.saved = self.s.profile();
                Step::Next
            }
            "Z" if n.unwrap_or(0) == 0 => {
                let saved = self.dev.saved;
                self.s.load_profile(&saved);
                self.s.cmee = 0;
                Step::Next
            }
            "&F" if n.unwrap_or(0) == 0 => {
                let factory = super::settings::Settings::factory(self.config.identity.personality);
                self.s.load_profile(&factory.profile());
                self.s.cmee = 0;
                Step::Next
            }
            "&V" if n.unwrap_or(0) == 0 => self.cmd_at_v(),
            // Profile numbers other than 0 (more-commands.md §8.2).
            "&W" | "Z" | "&F" | "&V" => Step::Fail(Failure::Param),
            "H" if n.unwrap_or(0) == 0 => Step::Next,
            "I" => match n.unwrap_or(0) {
                0 => {
                    let id = &self.config.identity;
                    let lines = vec![
                        format!("Manufacturer: {}", id.manufacturer),
                        format!("Model: {}", id.model),
                        format!("Revision: {}", id.revision),
                        format!("IMEI: {}", id.imei),
                        "+GCAP: +CGSM".to_string(),
                    ];
                    self.info_lines(&lines);
                    Step::Next
                }
                _ => Step::Fail(Failure::Param),
            },
            "O" if n.unwrap_or(0) == 0 => self.cmd_ato(),
            "S0" => self.s_register(form, |m| &mut m.s.s0),
            "S3" | "S4" | "S5" => self.fixed_s_register(form, n.unwrap_or(0)),
            "+CGMI" | "+GMI" => {
                self.identity_text(form, |m| m.config.identity.manufacturer.clone())
            }
            "+CGMM" | "+GMM" => self.identity_text(form, |m| m.config.identity.model.clone()),
            "+GMR" => self.identity_text(form, |m| m.config.identity.revision.clone()),
            "+CGMR" => {
                self.identity_text(form, |m| format!("+CGMR: {}", m.config.identity.revision))
            }
            "+CGSN" | "+GSN" => self.identity_text(form, |m| m.config.identity.imei.clone()),
            "+CICCID" => match self.sim_check() {
                Some(f) => Step::Fail(f),
                None => {
                    self.identity_text(form, |m| format!("+ICCID: {}", m.config.identity.iccid))
                }
            },
            "+GCAP" => self.identity_text(form, |_| "+GCAP: +CGSM".to_string()),
            "+CPIN" => match form {
                Form::Read => match self.sim_check() {
                    Some(f) => Step::Fail(f),
                    None => self.info_step("+CPIN: READY"),
                },
                Form::Test => Step::Next,
                _ => Step::Fail(Failure::Param),
            },
            "+CSQ" => match form {
                Form::Execute => {
                    let (rssi, ber) = if self.radio_on() && self.dev.sim_ready() {
                        (self.config.radio.rssi, self.config.radio.ber)
                    } else {
                        (99, 99)
                    };
                    self.info_step(&format!("+CSQ: {rssi},{ber}"))
                }
                Form::Test => self.info_step("+CSQ: (0-31,99),(0-7,99)"),
                _ => Step::Fail(Failure::Param),
            },
            "+CREG" => self.registration(form, "+CREG", |m| &mut m.s.creg),
            "+CGREG" => self.registration(form, "+CGREG", |m| &mut m.s.cgreg),
            "+CEREG" => self.registration(form, "+CEREG", |m| &mut m.s.cereg),
            "+CPSI" => match form {
                Form::Read => {
                    let line = if self.registered() {
                        format!("+CPSI: {}", self.config.radio.cpsi)
                    } else {
                        "+CPSI: NO SERVICE,Online".to_string()
                    };
                    self.info_step(&line)
                }
                Form::Test => Step::Next,
                _ => Step::Fail(Failure::Param),
            },
            "+CGDCONT" | "+CGSOCKCONT" => self.pdp_context(&cmd.name, form),
            "+CMEE" => self.numeric_setting(form, "+CMEE", 0..=2, 0, |m| &mut m.s.cmee),
            "+IPR" => match form {
                Form::Read => self.info_step(&format!("+IPR: {}", self.s.ipr)),
                Form::Test => {
                    let list =
                        |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                    let line = format!("+IPR: ({}),({})", list(&BAUDS), list(&BAUDS_HIGH));
                    self.info_step(&line)
                }
                Form::Write(args) => {
                    let rate = args.first().and_then(|a| a.uint());
                    match rate {
                        Some(r)
                            if args.len() == 1
                                && BAUDS.iter().chain(&BAUDS_HIGH).any(|b| u64::from(*b) == r) =>
                        {
                            self.s.ipr = r as u32;
                            Step::Next
                        }
                        _ => Step::Fail(Failure::Param),
                    }
                }
                Form::Execute => Step::Fail(Failure::Param),
            },
            "+IFC" => match form {
                Form::Read => {
                    let (a, b) = self.s.ifc;
                    self.info_step(&format!("+IFC: {a},{b}"))
                }
                Form::Test => self.info_step("+IFC: (0,2),(0,2)"),
                Form::Write(args) => {
                    let pick =
                        |a: Option<&Arg>| a.and_then(|a| a.uint()).filter(|v| *v == 0 || *v == 2);
                    match (args.len(), pick(args.first()), pick(args.get(1))) {
                        (1, Some(a), _) => {
                            self.s.ifc = (a as u8, self.s.ifc.1);
                            Step::Next
                        }
                        (2, Some(a), Some(b)) => {
                            self.s.ifc = (a as u8, b as u8);
                            Step::Next
                        }
                        _ => Step::Fail(Failure::Param),
                    }
                }
                Form::Execute => {
                    self.s.ifc = (0, 0);
                    Step::Next
                }
            },
            _ => self.cmd_device(cmd),
        }
    }

    /// `ATE0`/`ATE1`-style basic command; no number means 0.
    fn basic_flag(&mut self, n: Option<u64>, set: fn(&mut Modem, bool)) -> Step {
        match n.unwrap_or(0) {
            v @ 0..=1 => {
                set(self, v == 1);
                Step::Next
            }
            _ => Step::Fail(Failure::Param),
        }
    }

    /// Commands that print one identity line (Execute), with an empty Test form.
    pub(super) fn identity_text(&mut self, form: &Form, text: fn(&Modem) -> String) -> Step {
        match form {
            Form::Execute => {
                let line = text(self);
                self.info_step(&line)
            }
            Form::Test => Step::Next,
            _ => Step::Fail(Failure::Param),
        }
    }

    fn s_register(&mut self, form: &Form, field: fn(&mut Modem) -> &mut u8) -> Step {
        match form {
            Form::Read => {
                let v = *field(self);
                self.info_step(&format!("{v:03}"))
            }
            Form::Test => self.info_step("S0: (0-255)"),
            Form::Write(args) => match one_in(args, 0..=255) {
                Some(v) => {
                    *field(self) = v;
                    Step::Next
                }
                None => Step::Fail(Failure::Param),
            },
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    /// S3 (CR), S4 (LF), S5 (backspace): readable; the line discipline uses fixed values,
    /// so only writing the same value is accepted.
    fn fixed_s_register(&mut self, form: &Form, n: u64) -> Step {
        let value = match n {
            3 => 13,
            4 => 10,
            _ => 8,
        };
        match form {
            Form::Read => self.info_step(&format!("{value:03}")),
            Form::Write(args) if one_in(args, 0..=127) == Some(value) => Step::Next,
            _ => Step::Fail(Failure::Param),
        }
    }

    /// `+CREG`-style registration report: `<n>` 0-2, `<stat>` from the radio config.
    pub(super) fn registration(
        &mut self,
        form: &Form,
        name: &str,
        field: fn(&mut Modem) -> &mut u8,
    ) -> Step {
        match form {
            Form::Read => {
                let n = *field(self);
                let stat = self.reg_stat();
                let r = &self.config.radio;
                let act = name == "+CEREG"
                    && self.config.identity.personality == crate::config::Personality::Sim7600;
                let line = if n == 2 && matches!(stat, 1 | 5) {
                    let act = if act { ",7" } else { "" };
                    format!(
                        "{name}: {n},{stat},\"{:04X}\",\"{:08X}\"{act}",
                        r.lac, r.cell_id
                    )
                } else {
                    format!("{name}: {n},{stat}")
                };
                self.info_step(&line)
            }
            Form::Test => self.info_step(&format!("{name}: (0-2)")),
            Form::Write(args) => match one_in(args, 0..=2) {
                Some(v) => {
                    *field(self) = v;
                    Step::Next
                }
                None => Step::Fail(Failure::Param),
            },
            Form::Execute => {
                *field(self) = 0;
                Step::Next
            }
        }
    }

    pub(super) fn numeric_setting(
        &mut self,
        form: &Form,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
        default: u8,
        field: fn(&mut Modem) -> &mut u8,
    ) -> Step {
        match form {
            Form::Read => {
                let v = *field(self);
                self.info_step(&format!("{name}: {v}"))
            }
            Form::Test => {
                let line = format!("{name}: ({}-{})", range.start(), range.end());
                self.info_step(&line)
            }
            Form::Write(args) => match one_in(args, range) {
                Some(v) => {
                    *field(self) = v;
                    Step::Next
                }
                None => Step::Fail(Failure::Param),
            },
            Form::Execute => {
                *field(self) = default;
                Step::Next
            }
        }
    }

    /// `AT+CGDCONT` / `AT+CGSOCKCONT`: `<cid>,"<PDP_type>","<APN>"` and the optional
    /// PDP address and compression fields; `<cid>` alone deletes the context.
    fn pdp_context(&mut self, name: &str, form: &Form) -> Step {
        match form {
            Form::Read => {
                let lines: Vec<String> = self
                    .s
                    .contexts
                    .iter()
                    .map(|(cid, ty, apn)| {
                        format!("{name}: {cid},\"{ty}\",\"{apn}\",\"0.0.0.0\",0,0")
                    })
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            Form::Test => {
                let lines: Vec<String> = ["IP", "PPP", "IPV6", "IPV4V6"]
                    .iter()
                    .map(|t| format!("{name}: (1-24),\"{t}\",,,(0-2),(0-4)"))
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            Form::Write(args) => {
                let Some(cid) = args.first().and_then(|a| a.in_range(1..=24)) else {
                    return Step::Fail(Failure::Param);
                };
                let cid = cid as u8;
                self.s.contexts.retain(|(c, _, _)| *c != cid);
                if args.len() == 1 {
                    return Step::Next;
                }
                let ty = args[1].str().to_ascii_uppercase();
                let valid_type = ["IP", "PPP", "IPV6", "IPV4V6"].contains(&ty.as_str());
                let apn = args.get(2).map(|a| a.str().to_string()).unwrap_or_default();
                let numbers_ok = args
                    .iter()
                    .skip(4)
                    .all(|a| a.is_empty() || a.uint().is_some());
                if !valid_type
                    || apn.len() > 99
                    || !printable(&apn)
                    || args.len() > 10
                    || !numbers_ok
                {
                    return Step::Fail(Failure::Param);
                }
                self.s.contexts.push((cid, ty, apn));
                self.s.contexts.sort();
                Step::Next
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }
}

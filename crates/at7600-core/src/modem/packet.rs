//! The packet domain's general commands (`more-commands.md` §5): `AT+CGATT`,
//! `AT+CGACT`, `AT+CGPADDR`, `AT+CGAUTH`, `AT+CSOCKSETPN`, `AT+CTCPKA`, `AT+CDNSCFG`.
//! PDP context 1 follows the radio ([`Modem::pdp_active`]); the others only record
//! what the host set.

use super::device::Cme;
use super::general::{one_in, printable};
use super::{Failure, Modem, NetState, Step};
use crate::config::Personality;
use crate::io::Keepalive;
use crate::parser::{Arg, Form};
use std::net::{IpAddr, Ipv4Addr};

impl Modem {
    pub(super) fn cmd_packet(&mut self, name: &str, form: &Form) -> Step {
        match name {
            "+CGATT" => self.cmd_cgatt(form),
            "+CGACT" => self.cmd_cgact(form),
            "+CGPADDR" => self.cmd_cgpaddr(form),
            "+CGAUTH" | "+CSOCKAUTH" => self.cmd_cgauth(name, form),
            "+CSOCKSETPN" => self.cmd_csocksetpn(form),
            "+CTCPKA" => self.cmd_ctcpka(form),
            _ => self.cmd_cdnscfg(form),
        }
    }

    /// The highest cid of this family (`more-commands.md` §0.2).
    fn max_cid(&self) -> u64 {
        match self.config.identity.personality {
            Personality::Sim7600 => 24,
            Personality::A76xx => 15,
        }
    }

    fn defined_cids(&self) -> Vec<u8> {
        self.s.contexts.iter().map(|(cid, ..)| *cid).collect()
    }

    /// A cid argument that is in range and defined.
    fn defined_cid(&self, arg: &Arg) -> Option<u8> {
        let cid = arg.in_range(1..=self.max_cid())? as u8;
        self.defined_cids().contains(&cid).then_some(cid)
    }

    fn cid_active(&self, cid: u8) -> bool {
        if cid == 1 {
            return self.pdp_active();
        }
        self.s.cgact.iter().any(|(c, active)| *c == cid && *active)
    }

    fn cmd_cgatt(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let v = u8::from(self.pdp_active());
                self.info_step(&format!("+CGATT: {v}"))
            }
            Form::Test => self.info_step("+CGATT: (0-1)"),
            Form::Write(args) => match one_in(args, 0..=1) {
                Some(0) => {
                    self.s.attached = false;
                    self.check_bearer();
                    Step::Next
                }
                Some(_) if !self.registered() => Step::Fail(Failure::Cme(Cme::NotAllowed)),
                Some(_) => {
                    self.s.attached = true;
                    Step::Next
                }
                None => Step::Fail(Failure::Param),
            },
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_cgact(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let lines: Vec<String> = self
                    .defined_cids()
                    .into_iter()
                    .map(|cid| format!("+CGACT: {cid},{}", u8::from(self.cid_active(cid))))
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            Form::Test => self.info_step("+CGACT: (0,1)"),
            Form::Write(args) => {
                let Some(state) = args.first().and_then(|a| a.in_range(0..=1)) else {
                    return Step::Fail(Failure::Param);
                };
                let cids: Option<Vec<u8>> = if args.len() == 1 {
                    Some(self.defined_cids())
                } else {
                    args[1..].iter().map(|a| self.defined_cid(a)).collect()
                };
                let Some(cids) = cids else {
                    return Step::Fail(Failure::Param);
                };
                if cids.contains(&1) {
                    // The LTE default bearer cannot be deactivated by hand; activating
                    // it needs the radio (and attaches).
                    if state == 0 || !self.registered() {
                        return Step::Fail(Failure::Cme(Cme::NotAllowed));
                    }
                    self.s.attached = true;
                }
                for cid in cids.into_iter().filter(|c| *c != 1) {
                    self.s.cgact.retain(|(c, _)| *c != cid);
                    self.s.cgact.push((cid, state == 1));
                }
                Step::Next
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_cgpaddr(&mut self, form: &Form) -> Step {
        let cids = match form {
            Form::Test => {
                let list: Vec<String> = self.defined_cids().iter().map(u8::to_string).collect();
                return self.info_step(&format!("+CGPADDR: ({})", list.join(",")));
            }
            Form::Read => return Step::Fail(Failure::Param),
            Form::Execute => self.defined_cids(),
            Form::Write(args) => {
                let cids: Option<Vec<u8>> = args.iter().map(|a| self.defined_cid(a)).collect();
                match cids {
                    Some(cids) => cids,
                    None => return Step::Fail(Failure::Param),
                }
            }
        };
        let lines: Vec<String> = cids
            .into_iter()
            .map(|cid| {
                // Unquoted in both families: TinyGSM takes everything after the comma.
                let ip = if cid == 1 && self.pdp_active() {
                    self.ip.unwrap_or(self.config.network.ip_address)
                } else {
                    Ipv4Addr::UNSPECIFIED
                };
                format!("+CGPADDR: {cid},{ip}")
            })
            .collect();
        self.info_lines(&lines);
        Step::Next
    }

    /// `AT+CGAUTH=<cid>[,<type>[,"<passwd>"[,"<user>"]]]`: password before user.
    fn cmd_cgauth(&mut self, name: &str, form: &Form) -> Step {
        let a76xx = self.config.identity.personality == Personality::A76xx;
        match form {
            Form::Read => {
                let lines: Vec<String> = self
                    .defined_cids()
                    .into_iter()
                    .map(|cid| match self.s.auth.iter().find(|(c, ..)| *c == cid) {
                        Some((_, ty, user, pass)) if *ty != 0 => {
                            format!("{name}: {cid},{ty},\"{user}\",\"{pass}\"")
                        }
                        _ => format!("{name}: {cid},0"),
                    })
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            Form::Test if a76xx => self.info_step(&format!("{name}: (1-15),(0-3),50,50")),
            Form::Test => self.info_step(&format!("{name}: (1-24),(0-3),,")),
            Form::Execute => Step::Next,
            Form::Write(args) => {
                let Some(cid) = args.first().and_then(|a| a.in_range(1..=self.max_cid())) else {
                    return Step::Fail(Failure::Param);
                };
                let ty = match args.get(1) {
                    None => 0,
                    Some(a) => match a.in_range(0..=3) {
                        Some(t) => t as u8,
                        None => return Step::Fail(Failure::Param),
                    },
                };
                let max = if a76xx { 50 } else { 127 };
                let pass = args.get(2).map(|a| a.str().to_string()).unwrap_or_default();
                let user = args.get(3).map(|a| a.str().to_string()).unwrap_or_default();
                let too_long = pass.len() > max || user.len() > max;
                let clean = printable(&pass) && printable(&user);
                if args.len() > 4 || too_long || !clean || pass.contains('"') {
                    return Step::Fail(Failure::Param);
                }
                let cid = cid as u8;
                self.s.auth.retain(|(c, ..)| *c != cid);
                self.s.auth.push((cid, ty, user, pass));
                self.s.auth.sort();
                Step::Next
            }
        }
    }

    fn cmd_csocksetpn(&mut self, form: &Form) -> Step {
        let a76xx = self.config.identity.personality == Personality::A76xx;
        match form {
            Form::Read if a76xx => {
                self.info_step(&format!("+CSOCKSETPN: {},1", self.s.sockcont_pn))
            }
            Form::Read => self.info_step(&format!("+CSOCKSETPN: {}", self.s.sockcont_pn)),
            Form::Test if a76xx => self.info_step("+CSOCKSETPN: 1,(1,6)"),
            Form::Test => self.info_step("+CSOCKSETPN: (1-24)"),
            Form::Write(args) => {
                let max = if a76xx { 1 } else { 24 };
                let profile = args.first().and_then(|a| a.in_range(1..=max));
                let family_ok = args.get(1).is_none_or(|a| a.uint() == Some(1));
                match profile {
                    Some(p) if family_ok && args.len() <= 2 => {
                        // RT-Thread repeats the current value after NETOPEN: that is fine.
                        let open = !matches!(self.net, NetState::Closed);
                        if open && p as u8 != self.s.sockcont_pn {
                            return Step::Fail(Failure::Plain);
                        }
                        self.s.sockcont_pn = p as u8;
                        Step::Next
                    }
                    _ => Step::Fail(Failure::Plain),
                }
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_ctcpka(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let k = self.s.ctcpka;
                let line = format!(
                    "+CTCPKA: {},{},{},{}",
                    u8::from(k.enabled),
                    k.idle_min,
                    k.count,
                    k.interval_min
                );
                self.info_step(&line)
            }
            Form::Test => Step::Next,
            Form::Write(args) => {
                let field = |i: usize, r: std::ops::RangeInclusive<u64>| {
                    args.get(i).and_then(|a| a.in_range(r)).map(|v| v as u8)
                };
                let interval = match args.get(3) {
                    None => Some(self.s.ctcpka.interval_min),
                    Some(_) => field(3, 1..=100),
                };
                let values = (
                    field(0, 0..=1),
                    field(1, 1..=120),
                    field(2, 1..=10),
                    interval,
                );
                let (Some(on), Some(idle), Some(count), Some(interval)) = values else {
                    return Step::Fail(Failure::Plain);
                };
                if args.len() > 4 {
                    return Step::Fail(Failure::Plain);
                }
                let quirk = self.config.quirks.ctcpka_error_before_netopen;
                if quirk && self.net != NetState::Open {
                    return Step::Fail(Failure::Plain);
                }
                self.s.ctcpka = Keepalive {
                    enabled: on == 1,
                    idle_min: idle,
                    count,
                    interval_min: interval,
                };
                Step::Next
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    /// The IPv4 DNS pair in force: written by the host, else the configured display.
    pub(super) fn dns4(&self) -> (Ipv4Addr, Ipv4Addr) {
        let n = &self.config.network;
        self.s.dns4.unwrap_or((n.dns1, n.dns2))
    }

    fn cmd_cdnscfg(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let (p4, s4) = self.dns4();
                let (p6, s6) = self.s.dns6;
                let lines = [
                    format!("Primary IPv4 DNS: {p4},Secondary IPv4 DNS: {s4}"),
                    format!("Primary IPv6 DNS: {p6},Secondary IPv6 DNS: {s6}"),
                ];
                self.info_lines(&lines);
                Step::Next
            }
            Form::Test => self.info_step("+CDNSCFG: (\"Primary DNS\"),(\"Secondary DNS\"),type"),
            Form::Write(args) => {
                // `<pri>[,<sec>][,<type>]`: a bare 0/1 in second place is the type.
                let is_type = |a: &Arg| !a.quoted && a.in_range(0..=1).is_some();
                let (pri, sec, ty) = match args.as_slice() {
                    [p] => (p, None, 0),
                    [p, t] if is_type(t) => (p, None, t.uint().unwrap_or(0)),
                    [p, s] => (p, Some(s), 0),
                    [p, s, t] if is_type(t) => (p, Some(s), t.uint().unwrap_or(0)),
                    _ => return Step::Fail(Failure::Plain),
                };
                let sec = sec.filter(|s| !s.is_empty());
                let parse = |a: &Arg| a.str().parse::<IpAddr>().ok();
                let (Some(p), s) = (parse(pri), sec.map(parse)) else {
                    return Step::Fail(Failure::Plain);
                };
                match (ty, p, s) {
                    (0, IpAddr::V4(p), None) => {
                        let old = self.dns4().1;
                        self.s.dns4 = Some((p, old));
                    }
                    (0, IpAddr::V4(p), Some(Some(IpAddr::V4(s)))) => self.s.dns4 = Some((p, s)),
                    (1, IpAddr::V6(p), None) => self.s.dns6.0 = p,
                    (1, IpAddr::V6(p), Some(Some(IpAddr::V6(s)))) => self.s.dns6 = (p, s),
                    _ => return Step::Fail(Failure::Plain),
                }
                Step::Next
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }
}

//! The module around the TCP/IP stack (`more-commands.md`): power and restart with the
//! boot sequence, the SIM, the radio and registration, supply and temperature, profiles.
//! The packet domain's commands are in `packet.rs`, the clock's in `clock.rs`.
//!
//! One truth (§5.1): whether the SIM is ready, the radio on, the module registered and
//! PDP context 1 active is computed from the boot phase, `AT+CFUN`, `[radio]` and
//! `AT+CGATT` every time it is asked, never stored twice; every change goes through
//! [`Modem::radio_changed`], which reports it and loses an open network that lost its
//! bearer.

use super::settings::{Profile, Settings};
use super::{Failure, Modem, NetState, Step, Timer, LINKS, SERVERS};
use crate::config::{ModemConfig, Personality};
use crate::io::NetCommand;
use crate::parser::{Command, Form};
use std::time::Duration;

/// Where the module is in its life (ordered: later phases compare greater).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Phase {
    /// `AT+CPOF`: nothing is printed, input is discarded.
    Off,
    /// Restarting, before the first boot line: input is discarded.
    Dead,
    /// First line printed: commands answered, the SIM busy, not registered.
    Starting,
    /// `+CPIN: READY` printed: SIM ready, registered per `[radio]`.
    SimReady,
    /// `SMS DONE` printed.
    SmsDone,
    /// `PB DONE` printed (or a modem that started silently): boot complete.
    Ready,
}

/// The general commands' timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DevTimer {
    /// The next boot line is due.
    Boot,
    /// `AT+AUTOCSQ=1,0`: the periodic `+CSQ:` report.
    AutoCsq,
    /// A command line's processing time is over (timing profile).
    Command,
    /// `AT+NETOPEN`'s / `AT+CIPOPEN`'s own time is over (timing profile).
    NetGate,
    /// `AT+CPING`: the probe's wait is over.
    PingWait,
    /// `AT+CPING`: the next probe is due.
    PingNext,
}

/// A general command's refusal that follows `AT+CMEE` (`more-commands.md` §0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cme {
    /// `+CME ERROR: 3`.
    NotAllowed,
    /// `+CME ERROR: 10`.
    NoSim,
    /// `+CME ERROR: 14`.
    SimBusy,
}

impl Cme {
    pub fn code(self) -> u16 {
        match self {
            Cme::NotAllowed => 3,
            Cme::NoSim => 10,
            Cme::SimBusy => 14,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Cme::NotAllowed => "operation not allowed",
            Cme::NoSim => "SIM not inserted",
            Cme::SimBusy => "SIM busy",
        }
    }
}

/// State of the module that is not a setting.
#[derive(Debug)]
pub(super) struct Device {
    pub phase: Phase,
    /// The profile `AT&W` saved (factory values until then); loaded at every boot.
    pub saved: Profile,
    /// The clock: shown UTC = the host's UTC at instant zero + `now` + this offset.
    pub clock_offset_ms: i64,
    /// The clock's zone in quarter hours.
    pub clock_tz: i8,
    /// When the first boot line came: the later lines' offsets count from it.
    pub first_line_at: super::Instant,
    /// The running `AT+CPING`.
    pub ping: Option<super::ping::Ping>,
}

impl Device {
    pub fn new(config: &ModemConfig) -> Self {
        Device {
            phase: Phase::Ready,
            saved: Settings::factory(config.identity.personality).profile(),
            clock_offset_ms: 0,
            clock_tz: config.radio.tz,
            first_line_at: Duration::ZERO,
            ping: None,
        }
    }

    /// Off, or restarting before its first line: host bytes are discarded unseen.
    pub fn deaf(&self) -> bool {
        matches!(self.phase, Phase::Off | Phase::Dead)
    }

    /// The SIM answers (after `+CPIN: READY`).
    pub fn sim_ready(&self) -> bool {
        self.phase >= Phase::SimReady
    }
}

/// What the radio looked like before a change, to report what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RadioView {
    stat: u8,
    lac: u16,
    cell_id: u32,
    rssi: u8,
}

impl Modem {
    /// The general commands this module adds; anything else is unknown.
    pub(super) fn cmd_device(&mut self, cmd: &Command) -> Step {
        let form = &cmd.form;
        match cmd.name.as_str() {
            "+CRESET" => match form {
                Form::Test => Step::Next,
                Form::Execute => self.restart_after_ok(),
                _ => Step::Fail(Failure::Param),
            },
            "+CPOF" => match form {
                Form::Test => Step::Next,
                Form::Execute => {
                    self.answer_ok_then_drop_the_line();
                    self.power_down();
                    self.dev.phase = Phase::Off;
                    Step::Wait
                }
                _ => Step::Fail(Failure::Param),
            },
            "+CFUN" => self.cmd_cfun(form),
            "+CIMI" => self.sim_text(form, |m| m.config.identity.imsi.clone()),
            "+CSPN" => match form {
                Form::Test => Step::Next,
                Form::Read => {
                    if let Some(f) = self.sim_check() {
                        return Step::Fail(f);
                    }
                    let id = &self.config.identity;
                    if id.spn.is_empty() {
                        return Step::Fail(Failure::Unknown);
                    }
                    let line = format!("+CSPN: \"{}\",{}", id.spn, id.spn_display);
                    self.info_step(&line)
                }
                _ => Step::Fail(Failure::Param),
            },
            "+CNUM" => match form {
                Form::Test => Step::Next,
                Form::Execute => {
                    if let Some(f) = self.sim_check() {
                        return Step::Fail(f);
                    }
                    let number = self.config.identity.msisdn.clone();
                    if number.is_empty() {
                        return Step::Next;
                    }
                    let ty = if number.starts_with('+') { 145 } else { 129 };
                    self.info_step(&format!("+CNUM: \"\",\"{number}\",{ty}"))
                }
                _ => Step::Fail(Failure::Param),
            },
            "+CBC" => self.identity_text(form, |m| {
                let mv = m.config.power.vbat_mv;
                format!("+CBC: {}.{:03}V", mv / 1000, mv % 1000)
            }),
            "+CPMUTEMP" => {
                self.identity_text(form, |m| format!("+CPMUTEMP: {}", m.config.power.temp_c))
            }
            "+CNSMOD" => match form {
                Form::Read => {
                    let stat = if self.registered() { 8 } else { 0 };
                    self.info_step(&format!("+CNSMOD: {},{stat}", self.s.cnsmod))
                }
                Form::Test => self.info_step("+CNSMOD: (0,1)"),
                Form::Write(args) => match super::general::one_in(args, 0..=1) {
                    Some(v) => {
                        self.s.cnsmod = v;
                        Step::Next
                    }
                    None => Step::Fail(Failure::Param),
                },
                Form::Execute => Step::Fail(Failure::Param),
            },
            "+CNMP" => self.cmd_cnmp(form),
            "+COPS" => self.cmd_cops(form),
            "+AUTOCSQ" => self.cmd_autocsq(form),
            "+CSCLK" => self.numeric_setting(form, "+CSCLK", 0..=2, 0, |m| &mut m.s.csclk),
            "+ICF" => self.cmd_icf(form),
            "+CGATT" | "+CGACT" | "+CGPADDR" | "+CGAUTH" | "+CSOCKAUTH" | "+CSOCKSETPN"
            | "+CTCPKA" | "+CDNSCFG" => self.cmd_packet(&cmd.name, form),
            "+CCLK" | "+CTZU" | "+CTZR" | "+CNTP" => self.cmd_clock(&cmd.name, form),
            "+CPING" => self.cmd_cping(form),
            "+CPINGSTOP" => self.cmd_cpingstop(form),
            // Anything else, `AT+CNTPCID` included (TinyGSM's NTP helper sends it first
            // and waits 10 s for any answer), `AT+CMUX` and PPP: unknown, at once.
            _ => Step::Fail(Failure::Unknown),
        }
    }

    // ---- the one truth -------------------------------------------------------------

    /// `AT+CFUN` is 1 (5 is stored as 1).
    pub(super) fn radio_on(&self) -> bool {
        self.s.cfun == 1
    }

    /// `<stat>` of `+CREG`/`+CGREG`/`+CEREG`: 2 (searching) while booting, 0 with the
    /// radio off, else `[radio] reg_status`.
    pub(super) fn reg_stat(&self) -> u8 {
        if !self.dev.sim_ready() {
            2
        } else if !self.radio_on() {
            0
        } else {
            self.config.radio.reg_status
        }
    }

    pub(super) fn registered(&self) -> bool {
        matches!(self.reg_stat(), 1 | 5)
    }

    /// PDP context 1 (the LTE default bearer) is active (`more-commands.md` §5.1).
    pub(super) fn pdp_active(&self) -> bool {
        self.registered() && self.s.attached
    }

    /// The SIM-dependent commands' refusal, if the SIM cannot answer now.
    pub(super) fn sim_check(&self) -> Option<Failure> {
        if self.s.cfun == 8 {
            Some(Failure::Cme(Cme::NoSim))
        } else if !self.dev.sim_ready() {
            Some(Failure::Cme(Cme::SimBusy))
        } else {
            None
        }
    }

    fn sim_text(&mut self, form: &Form, text: fn(&Modem) -> String) -> Step {
        if matches!(form, Form::Execute) {
            if let Some(f) = self.sim_check() {
                return Step::Fail(f);
            }
        }
        self.identity_text(form, text)
    }

    pub(super) fn radio_view(&self) -> RadioView {
        RadioView {
            stat: self.reg_stat(),
            lac: self.config.radio.lac,
            cell_id: self.config.radio.cell_id,
            rssi: self.config.radio.rssi,
        }
    }

    /// After anything that may change registration: the enabled `+CREG`/`+CGREG`/
    /// `+CEREG`/`+CNSMOD`/`+CSQ` reports, network time on registering (`AT+CTZU=1`),
    /// and an open network lost when its bearer went away.
    pub(super) fn radio_changed(&mut self, before: RadioView) {
        let now = self.radio_view();
        let stat_changed = before.stat != now.stat;
        let cell_changed = before.lac != now.lac || before.cell_id != now.cell_id;
        let r = &self.config.radio;
        let mut lines = Vec::new();
        for (name, n) in [
            ("+CREG", self.s.creg),
            ("+CGREG", self.s.cgreg),
            ("+CEREG", self.s.cereg),
        ] {
            let report = match n {
                1 => stat_changed,
                2 => stat_changed || cell_changed,
                _ => false,
            };
            if !report {
                continue;
            }
            let stat = now.stat;
            lines.push(if n == 2 && matches!(stat, 1 | 5) {
                let act = if name == "+CEREG" { ",7" } else { "" };
                format!(
                    "{name}: {stat},\"{:04X}\",\"{:08X}\"{act}",
                    r.lac, r.cell_id
                )
            } else {
                format!("{name}: {stat}")
            });
        }
        let mode = |stat: u8| if matches!(stat, 1 | 5) { 8 } else { 0 };
        if self.s.cnsmod == 1 && mode(before.stat) != mode(now.stat) {
            lines.push(format!("+CNSMOD: {}", mode(now.stat)));
        }
        let rssi_now = if self.radio_on() && self.dev.sim_ready() {
            (r.rssi, r.ber)
        } else {
            (99, 99)
        };
        if self.s.autocsq == (1, 1) && before.rssi != now.rssi {
            lines.push(format!("+CSQ: {},{}", rssi_now.0, rssi_now.1));
        }
        for line in lines {
            self.urc(&line);
        }
        let registered = |stat: u8| matches!(stat, 1 | 5);
        if registered(now.stat) && !registered(before.stat) && self.s.ctzu == 1 {
            self.network_time(self.config.radio.tz);
        }
        self.check_bearer();
    }

    /// An open (or opening) network whose bearer is gone is lost (§5.1).
    pub(super) fn check_bearer(&mut self) {
        if !self.pdp_active() {
            // The SSL sessions ride on cid 1 too (`ssl.md` §11.3). A later activation
            // is a real one, whatever a network-lost fault said before.
            self.ssl_network_gone();
            self.ssl_bearer_down();
        }
        if !self.pdp_active() && matches!(self.net, NetState::Open | NetState::Opening) {
            self.on_network_lost();
            // The backend forgets the context too; a later AT+NETOPEN attaches anew.
            self.net_out.push_back(NetCommand::Detach);
        }
    }

    // ---- power ---------------------------------------------------------------------

    /// `AT+CRESET`, `AT+CFUN=1,1`, `AT+CFUN=6`: `OK`, then the restart (§1.1).
    fn restart_after_ok(&mut self) -> Step {
        self.answer_ok_then_drop_the_line();
        self.power_down();
        self.boot();
        Step::Wait
    }

    /// The `OK` is the module's last word before it goes: later commands of the line
    /// and URCs still queued are discarded with it.
    fn answer_ok_then_drop_the_line(&mut self) {
        self.chain.clear();
        self.urcs.clear();
        self.urc_bytes = 0;
        self.final_ok();
    }

    /// Power comes back through the control interface after `AT+CPOF` (no effect on a
    /// running module): the boot sequence of `more-commands.md` §1.2.
    pub fn power_on(&mut self, now: super::Instant) {
        self.advance(now);
        if self.dev.phase == Phase::Off {
            self.boot();
        }
        self.flush_urcs();
    }

    /// Whether the module is on (not after `AT+CPOF`).
    pub fn powered(&self) -> bool {
        self.dev.phase != Phase::Off
    }

    /// Starts the boot sequence: dead until the first line.
    pub(super) fn boot(&mut self) {
        self.dev.phase = Phase::Dead;
        let personality = self.config.identity.personality;
        let saved = self.dev.saved;
        self.s.after_restart(personality, &saved);
        let at = self.now + Duration::from_millis(self.config.boot.ready_ms);
        self.set_timer(Timer::Device(DevTimer::Boot), at);
    }

    /// Everything volatile goes (§1.3): links and servers without URCs (their peers
    /// see the connection close), the network, queued output not yet released, input
    /// typed ahead, every timer.
    fn power_down(&mut self) {
        self.ssl_power_down();
        for i in 0..LINKS {
            self.drop_link(i);
        }
        for server in 0..SERVERS as u8 {
            if self.servers[usize::from(server)].take().is_some() {
                self.net_out.push_back(NetCommand::Unlisten { server });
            }
        }
        if self.net != NetState::Closed {
            self.net_out.push_back(NetCommand::Detach);
        }
        self.net = NetState::Closed;
        self.ip = None;
        self.orphans.clear();
        self.dev.ping = None;
        self.timers.clear();
        self.urcs.clear();
        self.urc_bytes = 0;
        self.input.clear();
        self.pace_restart();
        self.chain.clear();
        self.line.clear();
        self.line_overflow = false;
        self.swallow_lf = false;
        self.host = super::HostState::Idle;
        self.stream = super::data::Stream::default();
        self.update_host_backpressure();
    }

    pub(super) fn device_timer(&mut self, timer: DevTimer) {
        match timer {
            DevTimer::Boot => self.boot_step(),
            DevTimer::Command => self.run_held_line(),
            // Nothing to do but wake: `poll_net` lets the command through now.
            DevTimer::NetGate => {}
            DevTimer::PingWait | DevTimer::PingNext => self.ping_timer(timer),
            DevTimer::AutoCsq => {
                if self.s.autocsq == (1, 0) {
                    let (rssi, ber) = if self.radio_on() && self.dev.sim_ready() {
                        (self.config.radio.rssi, self.config.radio.ber)
                    } else {
                        (99, 99)
                    };
                    self.urc(&format!("+CSQ: {rssi},{ber}"));
                    let at = self.now + AUTOCSQ_PERIOD;
                    self.set_timer(Timer::Device(DevTimer::AutoCsq), at);
                }
            }
        }
    }

    /// The next line of the boot sequence (§1.2).
    fn boot_step(&mut self) {
        let b = self.config.boot;
        let (line, next, after) = match self.dev.phase {
            Phase::Dead => {
                let first = match self.config.identity.personality {
                    Personality::Sim7600 => "RDY",
                    Personality::A76xx => "*ATREADY: 1",
                };
                (first, Phase::Starting, Some(b.sim_ms))
            }
            Phase::Starting => ("+CPIN: READY", Phase::SimReady, Some(b.sms_ms)),
            Phase::SimReady => ("SMS DONE", Phase::SmsDone, Some(b.pb_ms)),
            Phase::SmsDone => ("PB DONE", Phase::Ready, None),
            Phase::Off | Phase::Ready => return,
        };
        if self.dev.phase == Phase::Dead {
            self.dev.first_line_at = self.now;
        }
        let before = self.radio_view();
        self.dev.phase = next;
        self.urc(line);
        if let Some(ms) = after {
            let at = self.dev.first_line_at + Duration::from_millis(ms);
            self.set_timer(Timer::Device(DevTimer::Boot), at.max(self.now));
        }
        self.radio_changed(before);
    }

    // ---- radio -----------------------------------------------------------------------

    fn cmd_cfun(&mut self, form: &Form) -> Step {
        let a76xx = self.config.identity.personality == Personality::A76xx;
        match form {
            Form::Read => self.info_step(&format!("+CFUN: {}", self.s.cfun)),
            Form::Test if a76xx => self.info_step("+CFUN: (0-1,4-8),(0-1)"),
            Form::Test => self.info_step("+CFUN: (0-1,4-7),(0-1)"),
            Form::Write(args) => {
                let fun = args.first().and_then(|a| a.uint());
                let rst = match args.get(1) {
                    None => Some(0),
                    Some(a) if a.is_empty() => Some(0),
                    Some(a) => a.in_range(0..=1),
                };
                let (Some(fun), Some(rst)) = (fun, rst) else {
                    return Step::Fail(Failure::Param);
                };
                if args.len() > 2 {
                    return Step::Fail(Failure::Param);
                }
                let fun = match fun {
                    1 | 5 if rst == 1 => return self.restart_after_ok(),
                    6 => return self.restart_after_ok(),
                    1 | 5 => 1,
                    0 | 4 | 7 => fun as u8,
                    8 if a76xx => 8,
                    _ => return Step::Fail(Failure::Param),
                };
                if fun != self.s.cfun {
                    let before = self.radio_view();
                    self.s.cfun = fun;
                    self.radio_changed(before);
                }
                Step::Next
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_cnmp(&mut self, form: &Form) -> Step {
        let modes: &[u8] = match self.config.identity.personality {
            Personality::Sim7600 => &[2, 9, 10, 13, 14, 19, 22, 38, 39, 48, 51, 54, 59, 60, 63, 67],
            Personality::A76xx => &[2, 13, 14, 38],
        };
        match form {
            Form::Read => self.info_step(&format!("+CNMP: {}", self.s.cnmp)),
            Form::Test => {
                let list: Vec<String> = modes.iter().map(u8::to_string).collect();
                self.info_step(&format!("+CNMP: ({})", list.join(",")))
            }
            Form::Write(args) => {
                match super::general::one_in(args, 0..=255).filter(|m| modes.contains(m)) {
                    Some(m) => {
                        self.s.cnmp = m;
                        Step::Next
                    }
                    None => Step::Fail(Failure::Plain),
                }
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_cops(&mut self, form: &Form) -> Step {
        let max_mode: u8 = match self.config.identity.personality {
            Personality::Sim7600 => 5,
            Personality::A76xx => 4,
        };
        let r = &self.config.radio;
        let short = if r.operator_short.is_empty() {
            &r.operator
        } else {
            &r.operator_short
        };
        match form {
            Form::Read => {
                let (mode, format) = self.s.cops;
                let line = if self.registered() {
                    let name = match format {
                        0 => &r.operator,
                        1 => short,
                        _ => &r.operator_numeric,
                    };
                    format!("+COPS: {mode},{format},\"{name}\",7")
                } else {
                    format!("+COPS: {mode}")
                };
                self.info_step(&line)
            }
            Form::Test => {
                let modes: Vec<String> = (0..=max_mode).map(|m: u8| m.to_string()).collect();
                let line = format!(
                    "+COPS: (2,\"{}\",\"{short}\",\"{}\",7),,({}),(0,1,2)",
                    r.operator,
                    r.operator_numeric,
                    modes.join(",")
                );
                self.info_step(&line)
            }
            Form::Write(args) => {
                let mode = args
                    .first()
                    .and_then(|a| a.in_range(0..=u64::from(max_mode)));
                let format = match args.get(1) {
                    None => Some(None),
                    Some(a) if a.is_empty() => Some(None),
                    Some(a) => a.in_range(0..=2).map(Some),
                };
                match (mode, format) {
                    (Some(mode), Some(format)) if args.len() <= 4 => {
                        if mode != 3 {
                            self.s.cops.0 = mode as u8;
                        }
                        if let Some(f) = format {
                            self.s.cops.1 = f as u8;
                        }
                        Step::Next
                    }
                    _ => Step::Fail(Failure::Param),
                }
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_autocsq(&mut self, form: &Form) -> Step {
        match form {
            Form::Test => self.info_step("+AUTOCSQ: (0-1),(0-1)"),
            Form::Read => {
                let (a, m) = self.s.autocsq;
                self.info_step(&format!("+AUTOCSQ: {a},{m}"))
            }
            Form::Write(args) => {
                let auto = args.first().and_then(|a| a.in_range(0..=1));
                let mode = match args.get(1) {
                    None => Some(0),
                    Some(a) => a.in_range(0..=1),
                };
                let (Some(auto), Some(mode)) = (auto, mode) else {
                    return Step::Fail(Failure::Param);
                };
                if args.len() > 2 {
                    return Step::Fail(Failure::Param);
                }
                self.s.autocsq = (auto as u8, mode as u8);
                if self.s.autocsq == (1, 0) {
                    let at = self.now + AUTOCSQ_PERIOD;
                    self.set_timer(Timer::Device(DevTimer::AutoCsq), at);
                } else {
                    self.cancel_timer(Timer::Device(DevTimer::AutoCsq));
                }
                Step::Next
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    fn cmd_icf(&mut self, form: &Form) -> Step {
        match form {
            Form::Read => {
                let (f, p) = self.s.icf;
                self.info_step(&format!("+ICF: {f},{p}"))
            }
            Form::Test => self.info_step("+ICF: (1-6),(0-3)"),
            Form::Write(args) => {
                let format = args.first().and_then(|a| a.in_range(1..=6));
                let parity = match args.get(1) {
                    None => Some(u64::from(self.s.icf.1)),
                    Some(a) => a.in_range(0..=3),
                };
                match (format, parity) {
                    (Some(f), Some(p)) if args.len() <= 2 => {
                        self.s.icf = (f as u8, p as u8);
                        Step::Next
                    }
                    _ => Step::Fail(Failure::Param),
                }
            }
            Form::Execute => Step::Fail(Failure::Param),
        }
    }

    /// `AT&V`: the manual's example line with the live fields filled in (§8.1).
    pub(super) fn cmd_at_v(&mut self) -> Step {
        let s = &self.s;
        let e = u8::from(s.echo);
        let q = u8::from(s.quiet);
        let v = u8::from(s.verbose);
        let line = match self.config.identity.personality {
            Personality::Sim7600 => format!(
                "&C: {}; &D: {}; &F: 0; E: {e}; L: 0; M: 0; Q: {q}; V: {v}; X: {}; Z: 0; \
                 S0: {}; S3: 13; S4: 10; S5: 8; S6: 2; S7: 50; S8: 2; S9: 6; S10: 14; \
                 S11: 95; +FCLASS: 0; +ICF: {},{}; +IFC: {},{}; +IPR: {}; +DR: 0; \
                 +DS: 0,0,2048,6; +WS46: 12; +CBST: 0,0,1; +CMEE: {}; +CREG: {}; \
                 +CGREG: {}; +CEREG: {}; +CFUN: {}",
                s.dcd_mode,
                s.dtr_mode,
                s.x_level,
                s.s0,
                s.icf.0,
                s.icf.1,
                s.ifc.0,
                s.ifc.1,
                s.ipr,
                s.cmee,
                s.creg,
                s.cgreg,
                s.cereg,
                s.cfun
            ),
            Personality::A76xx => format!(
                "&C: {}; &D: {}; &F: 0; &W: 0; E: {e}; Q: {q}; V: {v}; X: {}; Z: 0; \
                 S0: {}; S2: 43; S3: 13; S4: 10; S5: 8; S6: 2; S7: 1; S8: 2; S9: 6; \
                 S10: 7; S11: 63; S30: 10; +FCLASS: 0; +IPR: {}; +IPREX: {}; +CSCS: IRA; \
                 +CREG: {}; +CGREG: {}; +CEREG: {}; +CMEE: {}; +CFUN: {}",
                s.dcd_mode,
                s.dtr_mode,
                s.x_level,
                s.s0,
                s.ipr,
                s.ipr,
                s.creg,
                s.cgreg,
                s.cereg,
                s.cmee,
                s.cfun
            ),
        };
        self.info_step(&line)
    }
}

/// `AT+AUTOCSQ=1,0` reports every 5 s (`more-commands.md` §6.5).
const AUTOCSQ_PERIOD: Duration = Duration::from_secs(5);

//! The modem state machine.
//!
//! Host bytes go through an explicit state ([`HostState`]): scanning for `AT`, collecting
//! a command line, waiting for a command that needs the network (`Busy`), or collecting
//! a `AT+CIPSEND` payload. A line is split into commands that run in turn; each returns a
//! [`Step`] saying whether to go on, fail, wait for an event, or prompt for a payload.
//! Unsolicited output waits in one queue, released only while no command is running.

mod clock;
mod data;
mod device;
mod general;
mod network;
mod packet;
mod ping;
mod receive;
mod send;
mod servers;
mod settings;
mod sockets;
mod ssl;
mod status;
mod timing;
mod torture;
pub use status::{Histogram, LinkStatus, Metrics, Status, LATENCY_BOUNDS_MS};
pub use torture::TortureChoice;

use crate::config::ModemConfig;
use crate::errors::ErrInfo;
use crate::io::{ConnId, Input, Instant, NetCommand, NetEvent};
use crate::link::Link;
use crate::parser::{parse_line, Command};
use data::Stream;
use send::Payload;
use settings::Settings;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Number of links (`<link_num>` 0-9).
pub const LINKS: usize = 10;
/// Number of TCP servers (`<server_index>` 0-3).
pub const SERVERS: usize = 4;

/// What the host side is doing.
#[derive(Debug)]
enum HostState {
    /// Waiting for `A`.
    Idle,
    /// Got `A`, waiting for `T` (or `/` to repeat the last line).
    SawA,
    /// Collecting a command line after `AT`.
    Line,
    /// A command waits for the network; host bytes are held.
    Busy(Busy),
    /// Collecting a `AT+CIPSEND` payload after the `>` prompt.
    Payload(Payload),
    /// Transparent data mode: host bytes go to link 0 (or the transparent SSL session).
    Data,
    /// Collecting a `AT+CCERTDOWN` or `AT+CCHSEND` payload after the `>` prompt.
    SslPayload(ssl::Payload),
}

/// What a busy command waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Busy {
    /// `AT+CIPOPEN` of a UDP link: the bind.
    UdpOpen { link: usize },
    /// `AT+CIPACK`: the acknowledged count.
    CipAck { link: usize },
    /// `AT+CDNSGIP`: the answer.
    Dns { query: u64, name: String },
    /// `AT+SERVERSTART`: the listen.
    Listen { server: u8 },
    /// `AT+CIPOPEN` of the transparent link: `CONNECT 115200` or `CONNECT FAIL`.
    TransparentOpen { link: usize },
    /// The command line's processing time (timing profile).
    Processing,
    /// `AT+CCHOPEN` of the transparent SSL session: `CONNECT 115200` or `CONNECT FAIL`
    /// (the session's own timers bound the wait).
    CchOpen,
}

/// What a command handler tells the command runner.
#[derive(Debug)]
enum Step {
    /// Done; go on with the next command of the line (or answer `OK`).
    Next,
    /// Failed; answer with this and drop the rest of the line.
    Fail(Failure),
    /// Waiting for the network ([`HostState::Busy`] was set).
    Wait,
    /// The `>` prompt was sent; payload follows.
    Prompt,
}

/// How a command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// The command is not known: `ERROR` (`+CME ERROR: 100` with `AT+CMEE`).
    Unknown,
    /// A parameter is wrong: `ERROR` (`+CME ERROR: 50` with `AT+CMEE`).
    Param,
    /// An information line, then `ERROR` (`+CIPERROR: 3`, `+CIPOPEN: 1,4`, ...).
    Info(String),
    /// `+IP ERROR: <err_info>`, then `ERROR`.
    Ip(ErrInfo),
    /// A transparent open refused: `CONNECT FAIL` is the whole answer.
    ConnectFail,
    /// A general command's refusal that follows `AT+CMEE` (not allowed, SIM busy...).
    Cme(device::Cme),
    /// `ERROR` whatever `AT+CMEE` says (the manual documents only `ERROR`).
    Plain,
}

/// The timer table: one deadline per purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// `AT+NETOPEN` gives up.
    NetOpen,
    /// A TCP connect on a link gives up.
    LinkOpen(usize, ConnId),
    /// A busy command gives up.
    Busy,
    /// A `AT+CIPSEND` payload that never completes gives up.
    Payload,
    /// Ask the backend how much a link's peer acknowledged (`AT+CIPSENDMODE=1`).
    AckPoll(usize),
    /// The `+++` escape's guard or gap time ends.
    Escape,
    /// Boot sequence, ping and periodic reports of the general commands.
    Device(device::DevTimer),
    /// The SSL sessions' waits.
    Ssl(ssl::SslTimer),
}

/// State of the PDP context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NetState {
    Closed,
    Opening,
    Open,
    /// Lost without being asked; the host must close its links and `AT+NETCLOSE`.
    Lost,
    Closing,
}

/// A listening TCP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Server {
    port: u16,
    listening: bool,
}

/// Unsolicited output waiting to be released to the host.
#[derive(Debug)]
struct Urc {
    at: Instant,
    /// When its event happened (`at` may be later: a held report, a torture delay).
    event: Instant,
    bytes: Vec<u8>,
    /// After these bytes, switch to data mode (a transparent server's client).
    enter_data: bool,
}

/// One AT7600 module.
#[derive(Debug)]
pub struct Modem {
    config: ModemConfig,
    now: Instant,
    s: Settings,
    host: HostState,
    input: VecDeque<u8>,
    line: Vec<u8>,
    line_overflow: bool,
    last_line: Vec<u8>,
    swallow_lf: bool,
    chain: VecDeque<Command>,
    stream: Stream,
    out: VecDeque<u8>,
    urcs: VecDeque<Urc>,
    urc_bytes: usize,
    /// Links stop reading: too much output (responses and held URCs) waits for the host.
    host_paused: bool,
    /// The transparent link stops reading: too much raw output waits for the host. Its
    /// data never waits among the URCs, so URCs held during data mode must not stop it.
    out_paused: bool,
    net_out: VecDeque<NetCommand>,
    timers: Vec<(Instant, Timer)>,
    net: NetState,
    ip: Option<Ipv4Addr>,
    links: [Option<Link>; LINKS],
    servers: [Option<Server>; SERVERS],
    /// Sends of links already gone, still waiting for the backend's report.
    orphans: Vec<(ConnId, usize, VecDeque<crate::link::PendingSend>)>,
    next_conn: u64,
    next_query: u64,
    dtr: bool,
    metrics: status::Metrics,
    /// When the command line now running was ended by its carriage return (for
    /// [`Metrics::command_latency`]).
    line_at: Option<Instant>,
    /// Power, boot phase, clock and ping: the module around the TCP/IP stack.
    dev: device::Device,
    /// The serial line's pace and the command processing time (timing profile).
    pace: timing::Pace,
    /// The torture mode, if on.
    torture: Option<torture::TortureState>,
    /// The SSL socket set: contexts, certificate store, service and sessions.
    ssl: ssl::SslState,
}

impl Modem {
    /// A modem as it is after power-on.
    pub fn new(config: ModemConfig) -> Self {
        let mut modem = Modem {
            now: Duration::ZERO,
            s: Settings::factory(config.identity.personality),
            dev: device::Device::new(&config),
            pace: timing::Pace::default(),
            torture: config.torture.map(torture::TortureState::new),
            ssl: ssl::SslState::default(),
            config,
            host: HostState::Idle,
            input: VecDeque::new(),
            line: Vec::new(),
            line_overflow: false,
            last_line: Vec::new(),
            swallow_lf: false,
            chain: VecDeque::new(),
            stream: Stream::default(),
            out: VecDeque::new(),
            urcs: VecDeque::new(),
            urc_bytes: 0,
            host_paused: false,
            out_paused: false,
            net_out: VecDeque::new(),
            timers: Vec::new(),
            net: NetState::Closed,
            ip: None,
            links: Default::default(),
            servers: [None; SERVERS],
            orphans: Vec::new(),
            next_conn: 1,
            next_query: 1,
            dtr: true,
            metrics: status::Metrics::default(),
            line_at: None,
        };
        if modem.config.boot.power_on_lines {
            modem.boot();
        }
        modem
    }

    /// The configuration the modem was built with.
    pub fn config(&self) -> &ModemConfig {
        &self.config
    }

    /// Feeds one input (dispatches to the `handle_*` methods).
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Host(b) => self.handle_host(now, &b),
            Input::Dtr(on) => self.handle_dtr(now, on),
            Input::Net(ev) => self.handle_net(now, ev),
            Input::Timeout => self.handle_timeout(now),
            Input::Radio(radio) => self.set_radio(now, radio),
            Input::PowerOn => self.power_on(now),
            Input::WallClock(utc_ms) => self.set_wall_clock(now, utc_ms),
            Input::CertStore(files) => self.load_cert_store(now, files),
        }
    }

    /// Bytes written by the host.
    pub fn handle_host(&mut self, now: Instant, bytes: &[u8]) {
        self.advance(now);
        self.metrics.host_bytes_in += bytes.len() as u64;
        // Off, or restarting before its first boot line: the UART is dead.
        if self.dev.deaf() {
            return;
        }
        // Data mode too goes through the pump: one place owes the `\n` of a command.
        self.pace_host_bytes(bytes);
        self.pump();
        self.flush_urcs();
    }

    /// The host's DTR line changed. A host that goes away mid-command (DTR OFF) leaves
    /// no half-typed line or half-sent payload behind to swallow the next host's bytes.
    pub fn handle_dtr(&mut self, now: Instant, on: bool) {
        self.advance(now);
        // AT&D0: the line is ignored altogether (and by a module not yet running).
        if self.dtr && !on && self.s.dtr_mode != 0 && !self.dev.deaf() {
            if self.s.dtr_mode == 2 && !matches!(self.host, HostState::Data) {
                self.dtr_close_data_link();
            }
            match &self.host {
                HostState::Data => self.data_dtr_off(),
                HostState::SawA | HostState::Line => {
                    self.line.clear();
                    self.line_overflow = false;
                    self.host = HostState::Idle;
                }
                HostState::Payload(_) => {
                    self.cancel_timer(Timer::Payload);
                    self.host = HostState::Idle;
                    self.finish(Step::Fail(Failure::Param));
                }
                HostState::SslPayload(_) => self.ssl_payload_abandoned(),
                HostState::Idle | HostState::Busy(_) => {}
            }
            // Nobody is there to read what was typed ahead.
            if !matches!(self.host, HostState::Busy(_)) {
                self.input.clear();
                self.pace_drop_input();
            }
        }
        self.dtr = on;
        self.flush_urcs();
    }

    /// An event from the network backend.
    pub fn handle_net(&mut self, now: Instant, event: NetEvent) {
        self.advance(now);
        if let NetEvent::Data { data, .. } | NetEvent::Datagram { data, .. } = &event {
            self.metrics.net_bytes_received += data.len() as u64;
        }
        self.on_net_event(event);
        self.pump();
        self.flush_urcs();
    }

    /// The deadline from [`Modem::poll_timeout`] has passed (early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        let (due, rest): (Vec<_>, Vec<_>) = self.timers.drain(..).partition(|(at, _)| *at <= now);
        self.timers = rest;
        for (_, timer) in due {
            self.on_timer(timer);
        }
        self.pump();
        self.flush_urcs();
    }

    /// Bytes waiting for the host (call again after consuming: it may return more).
    pub fn host_output(&self) -> &[u8] {
        let front = self.out.as_slices().0;
        &front[..front.len().min(self.released_len())]
    }

    /// How many bytes wait for the host in all.
    pub fn host_output_len(&self) -> usize {
        self.out.len()
    }

    /// Everything waiting for the host as one slice, so a runtime can hand it to the
    /// host in a single write (a response, its report and a URC go out together).
    pub fn host_output_contiguous(&mut self) -> &[u8] {
        let released = self.released_len();
        &self.out.make_contiguous()[..released]
    }

    /// Marks the first `n` bytes of [`Modem::host_output`] as delivered.
    pub fn consume_host_output(&mut self, n: usize) {
        let n = n.min(self.released_len());
        self.pace_consumed(n);
        self.metrics.host_bytes_out += n as u64;
        let was_full = self.output_full();
        self.out.drain(..n);
        if self.out.is_empty() && self.out.capacity() > 64 * 1024 {
            self.out = VecDeque::new();
        }
        self.update_host_backpressure();
        // Commands held back by a full output run now that the host reads again.
        if was_full && !self.output_full() && !self.input.is_empty() {
            self.pump();
            self.flush_urcs();
        }
    }

    /// The next command for the network backend.
    pub fn poll_net(&mut self) -> Option<NetCommand> {
        if self.net_gate_closed() {
            return None;
        }
        let cmd = self.net_out.pop_front()?;
        if let NetCommand::Send { data, .. } | NetCommand::SendTo { data, .. } = &cmd {
            self.metrics.net_bytes_sent += data.len() as u64;
        }
        Some(cmd)
    }

    /// When [`Modem::handle_timeout`] should be called next; `None` while idle.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timers = self.timers.iter().map(|(at, _)| *at);
        let urc = self
            .urcs
            .front()
            .filter(|_| self.may_release_urcs())
            .map(|u| u.at);
        let pace = self
            .pace_deadline()
            .into_iter()
            .chain(self.torture_deadline());
        timers.chain(urc).chain(pace).min()
    }

    /// Whether the runtime should read more host bytes now (back-pressure: a command is
    /// waiting for the network and enough input is already held).
    pub fn wants_host_input(&self) -> bool {
        // A full transparent stream holds the host back only in data mode: after `+++`
        // or DTR the host must still be able to type `AT+CIPCLOSE=0`.
        let data_full = matches!(self.host, HostState::Data) && self.stream.full();
        self.pace_input_len() < self.config.limits.host_input && !data_full
    }

    /// The host is not reading what it is answered: like a UART whose transmit side
    /// cannot drain, the modem stops taking commands (their answers would only pile
    /// up) until the backlog is below the limit. Held input then stops the runtime's
    /// reads ([`Modem::wants_host_input`]), so a host that writes and never reads costs
    /// at most `host_backlog` of output plus `host_input` of input.
    fn output_full(&self) -> bool {
        self.out.len() >= self.config.limits.host_backlog
    }

    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.pace_advance();
        self.torture_advance();
    }

    // ---- host side: line discipline -------------------------------------------------

    /// Processes held host bytes until none are left or a command has to wait.
    fn pump(&mut self) {
        while !matches!(self.host, HostState::Busy(_)) {
            // Payload and data-mode bytes go to the network, not to the host's output.
            let to_network = matches!(
                self.host,
                HostState::Payload(_) | HostState::SslPayload(_) | HostState::Data
            );
            if !to_network && self.output_full() {
                break;
            }
            let Some(b) = self.input.pop_front() else {
                break;
            };
            if std::mem::take(&mut self.swallow_lf) && b == b'\n' {
                continue;
            }
            match self.host {
                HostState::Data => {
                    let rest: Vec<u8> = std::iter::once(b).chain(self.input.drain(..)).collect();
                    self.data_from_host(&rest);
                }
                HostState::Payload(_) => self.payload_byte(b),
                HostState::SslPayload(_) => self.ssl_payload_byte(b),
                _ => self.line_byte(b),
            }
        }
    }

    fn echo(&mut self, bytes: &[u8]) {
        if self.s.echo {
            self.out.extend(bytes);
        }
    }

    fn line_byte(&mut self, b: u8) {
        match self.host {
            HostState::Idle => {
                if b.eq_ignore_ascii_case(&b'A') {
                    self.echo(&[b]);
                    self.host = HostState::SawA;
                }
            }
            HostState::SawA => {
                if b.eq_ignore_ascii_case(&b'T') {
                    self.echo(&[b]);
                    self.host = HostState::Line;
                    self.line.clear();
                    self.line_overflow = false;
                } else if b == b'/' {
                    self.echo(&[b]);
                    self.line_at = Some(self.now);
                    let line = self.last_line.clone();
                    self.run_line(&line);
                } else if b.eq_ignore_ascii_case(&b'A') {
                    self.echo(&[b]);
                } else {
                    self.host = HostState::Idle;
                }
            }
            HostState::Line => match b {
                b'\r' => {
                    self.echo(b"\r");
                    self.swallow_lf = true;
                    self.line_at = Some(self.now);
                    let line = std::mem::take(&mut self.line);
                    if std::mem::take(&mut self.line_overflow) {
                        self.host = HostState::Idle;
                        self.final_error(Failure::Param);
                    } else {
                        self.last_line.clone_from(&line);
                        self.run_line(&line);
                    }
                }
                // Backspace edits the line, as on a terminal.
                0x08 | 0x7f => {
                    if self.line.pop().is_some() {
                        self.echo(&[b]);
                    }
                }
                _ => {
                    if self.line.len() < self.config.limits.max_line {
                        self.line.push(b);
                        self.echo(&[b]);
                    } else {
                        self.line_overflow = true;
                    }
                }
            },
            HostState::Busy(_)
            | HostState::Payload(_)
            | HostState::SslPayload(_)
            | HostState::Data => {}
        }
    }

    // ---- command execution ---------------------------------------------------------

    fn run_line(&mut self, line: &[u8]) {
        self.host = HostState::Idle;
        if self.hold_line(line) {
            return;
        }
        match parse_line(line) {
            Ok(cmds) => {
                self.chain = cmds.into();
                self.run_chain();
            }
            Err(_) => self.final_error(Failure::Unknown),
        }
    }

    /// Runs the line's commands until one fails or waits; `OK` after the last one.
    fn run_chain(&mut self) {
        while let Some(cmd) = self.chain.pop_front() {
            match self.dispatch(cmd) {
                Step::Next => {}
                step => return self.settle(step),
            }
        }
        self.final_ok();
    }

    fn settle(&mut self, step: Step) {
        match step {
            Step::Next => self.run_chain(),
            Step::Fail(f) => {
                self.chain.clear();
                self.final_error(f);
            }
            Step::Wait | Step::Prompt => {}
        }
    }

    /// A waiting command is done: leave `Busy` and carry on with the line.
    fn finish(&mut self, step: Step) {
        if matches!(
            self.host,
            HostState::Busy(_) | HostState::Payload(_) | HostState::SslPayload(_)
        ) {
            self.host = HostState::Idle;
        }
        self.cancel_timer(Timer::Busy);
        self.settle(step);
    }

    fn wait(&mut self, busy: Busy, timeout: Duration) -> Step {
        self.host = HostState::Busy(busy);
        self.set_timer(Timer::Busy, self.now + timeout);
        Step::Wait
    }

    fn dispatch(&mut self, cmd: Command) -> Step {
        self.metrics.commands += 1;
        match cmd.name.as_str() {
            "+NETOPEN" => self.cmd_netopen(&cmd.form),
            "+NETCLOSE" => self.cmd_netclose(&cmd.form),
            "+IPADDR" => self.cmd_ipaddr(&cmd.form),
            "+CDNSGIP" => self.cmd_cdnsgip(&cmd.form),
            "+CIPOPEN" => self.cmd_cipopen(&cmd.form),
            "+CIPCLOSE" => self.cmd_cipclose(&cmd.form),
            "+CIPACK" => self.cmd_cipack(&cmd.form),
            "+CIPSEND" => self.cmd_cipsend(&cmd.form),
            "+CIPRXGET" => self.cmd_ciprxget(&cmd.form),
            "+SERVERSTART" => self.cmd_serverstart(&cmd.form),
            "+SERVERSTOP" => self.cmd_serverstop(&cmd.form),
            "+CIPHEAD" | "+CIPSRIP" | "+CIPMODE" | "+CIPSENDMODE" | "+CIPTIMEOUT" | "+CIPCCFG" => {
                self.cmd_setting(&cmd.name, &cmd.form)
            }
            _ => match self.cmd_ssl(&cmd.name, &cmd.form) {
                Some(step) => step,
                None => self.cmd_general(&cmd),
            },
        }
    }

    // ---- framing -------------------------------------------------------------------

    /// Frames one line of information text.
    fn frame(&self, text: &str) -> Vec<u8> {
        if self.s.verbose {
            format!("\r\n{text}\r\n").into_bytes()
        } else {
            format!("{text}\r\n").into_bytes()
        }
    }

    fn info(&mut self, text: &str) {
        let framed = self.frame(text);
        self.out.extend(framed);
    }

    /// Several information lines as one block.
    fn info_lines(&mut self, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        self.info(&lines.join("\r\n"));
    }

    fn final_code(&mut self, text: &str, code: u8) {
        self.final_result_held(text, code);
        self.flush_urcs();
    }

    /// A final result code that more of the same answer follows (`AT+CCHRECV`'s data
    /// comes after its `OK`): URCs stay held.
    fn final_result_held(&mut self, text: &str, code: u8) {
        self.command_done();
        if self.s.quiet {
        } else if self.s.verbose {
            self.out.extend(format!("\r\n{text}\r\n").as_bytes());
        } else {
            self.out.extend(format!("{code}\r").as_bytes());
        }
    }

    fn final_ok(&mut self) {
        self.final_code("OK", 0);
    }

    fn final_error(&mut self, failure: Failure) {
        self.metrics.errors += 1;
        match failure {
            Failure::Unknown | Failure::Param => {
                let (code, text) = if failure == Failure::Unknown {
                    (100, "unknown")
                } else {
                    (50, "Incorrect parameters")
                };
                match self.s.cmee {
                    1 => return self.cme_error(&code.to_string()),
                    2 => return self.cme_error(text),
                    _ => {}
                }
            }
            Failure::ConnectFail => return self.final_code("CONNECT FAIL", 3),
            Failure::Cme(e) => match self.s.cmee {
                1 => return self.cme_error(&e.code().to_string()),
                2 => return self.cme_error(e.text()),
                _ => {}
            },
            Failure::Plain => {}
            Failure::Info(text) => self.info(&text),
            Failure::Ip(e) => {
                let text = if self.s.ccfg.err_mode == 0 {
                    format!("+IP ERROR: {}", e.code())
                } else {
                    format!("+IP ERROR: {}", e.text())
                };
                self.info(&text);
            }
        }
        self.final_code("ERROR", 4);
    }

    /// The running command line got its final result: its latency is known.
    fn command_done(&mut self) {
        if let Some(at) = self.line_at.take() {
            self.metrics
                .command_latency
                .observe(self.now.saturating_sub(at));
        }
    }

    fn cme_error(&mut self, what: &str) {
        self.command_done();
        if !self.s.quiet {
            self.info(&format!("+CME ERROR: {what}"));
        }
        self.flush_urcs();
    }

    // ---- unsolicited output ----------------------------------------------------------

    /// URCs never interleave with a command's response or a payload being typed.
    fn may_release_urcs(&self) -> bool {
        matches!(
            self.host,
            HostState::Idle | HostState::SawA | HostState::Line
        ) && self.chain.is_empty()
    }

    fn urc(&mut self, text: &str) {
        let framed = self.frame(text);
        self.urc_bytes_at(self.now, framed);
    }

    fn urc_bytes_at(&mut self, at: Instant, bytes: Vec<u8>) {
        let event = at;
        let at = self.torture_urc_at(at);
        self.metrics.urcs += 1;
        self.urc_bytes += bytes.len();
        self.urcs.push_back(Urc {
            at,
            event,
            bytes,
            enter_data: false,
        });
        self.update_host_backpressure();
    }

    /// Data mode begins once the URCs before this point have gone out.
    fn urc_enter_data(&mut self) {
        self.urcs.push_back(Urc {
            at: self.now,
            event: self.now,
            bytes: Vec::new(),
            enter_data: true,
        });
    }

    fn flush_urcs(&mut self) {
        if !self.may_release_urcs() {
            return;
        }
        while self.urcs.front().is_some_and(|u| u.at <= self.now) {
            if let Some(u) = self.urcs.pop_front() {
                self.urc_bytes -= u.bytes.len();
                if !u.bytes.is_empty() {
                    self.metrics
                        .urc_delay
                        .observe(self.now.saturating_sub(u.event));
                }
                self.out.extend(u.bytes);
                if u.enter_data && self.is_data_link(data::DATA_LINK) {
                    // No command line precedes a server's client: a `\n` owed from an
                    // earlier command must not eat the first data byte.
                    self.swallow_lf = false;
                    self.enter_data_mode();
                    return;
                }
            }
        }
    }

    /// Stops reading the network while the host is not taking output, so nothing is
    /// lost however slowly the host reads; resumes below half the limit.
    fn update_host_backpressure(&mut self) {
        let limit = self.config.limits.host_backlog;
        let with_hysteresis = |paused: bool, backlog: usize| {
            if paused {
                backlog > limit / 2
            } else {
                backlog > limit
            }
        };
        let host = with_hysteresis(self.host_paused, self.out.len() + self.urc_bytes);
        let out = with_hysteresis(self.out_paused, self.out.len());
        if (host, out) == (self.host_paused, self.out_paused) {
            return;
        }
        (self.host_paused, self.out_paused) = (host, out);
        for i in 0..LINKS {
            let pause = self.host_pause_for(i);
            self.set_link_pause(i, |l| &mut l.paused_host, pause);
        }
        self.ssl_host_backpressure();
    }

    /// Whether link `i` should stop reading for the host's sake.
    fn host_pause_for(&self, i: usize) -> bool {
        if self.is_data_link(i) {
            self.out_paused
        } else {
            self.host_paused
        }
    }

    /// Sets one pause reason of a link and tells the backend when the sum changes.
    fn set_link_pause(&mut self, i: usize, reason: fn(&mut Link) -> &mut bool, on: bool) {
        let Some(link) = self.links[i].as_mut() else {
            return;
        };
        let before = link.paused();
        *reason(link) = on;
        let after = link.paused();
        if before != after && link.is_open() {
            let conn = link.conn;
            self.net_out.push_back(if after {
                NetCommand::PauseRead { conn }
            } else {
                NetCommand::ResumeRead { conn }
            });
        }
    }

    // ---- timers --------------------------------------------------------------------

    fn set_timer(&mut self, timer: Timer, at: Instant) {
        self.cancel_timer(timer);
        self.timers.push((at, timer));
    }

    fn cancel_timer(&mut self, timer: Timer) {
        self.timers.retain(|(_, t)| *t != timer);
    }

    fn has_timer(&self, timer: Timer) -> bool {
        self.timers.iter().any(|(_, t)| *t == timer)
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::NetOpen => self.netopen_timed_out(),
            Timer::LinkOpen(link, conn) => self.link_open_timed_out(link, conn),
            Timer::Busy => self.busy_timed_out(),
            Timer::Payload => self.payload_timed_out(),
            Timer::AckPoll(link) => self.ack_poll(link),
            Timer::Escape => self.escape_timer(),
            Timer::Device(t) => self.device_timer(t),
            Timer::Ssl(t) => self.ssl_timer(t),
        }
    }

    fn busy_timed_out(&mut self) {
        let HostState::Busy(busy) = &self.host else {
            return;
        };
        let step = match busy.clone() {
            Busy::UdpOpen { link } => {
                self.drop_link(link);
                Step::Fail(Failure::Info(format!("+CIPOPEN: {link},10")))
            }
            Busy::CipAck { link } => self.cipack_answer(link),
            Busy::Dns { .. } => Step::Fail(Failure::Info("+CDNSGIP: 0,10".into())),
            Busy::TransparentOpen { link } => {
                self.drop_link(link);
                return self.transparent_opened(false);
            }
            Busy::Processing | Busy::CchOpen => return,
            Busy::Listen { server } => {
                self.servers[usize::from(server)] = None;
                self.net_out.push_back(NetCommand::Unlisten { server });
                Step::Fail(Failure::Info("+CIPERROR: 10".into()))
            }
        };
        self.finish(step);
    }

    // ---- network events --------------------------------------------------------------

    fn on_net_event(&mut self, event: NetEvent) {
        // The SSL sessions take the events of their own connections.
        let Some(event) = self.ssl_event(event) else {
            return;
        };
        match event {
            NetEvent::Attached { ip } => self.on_attached(ip),
            NetEvent::AttachFailed => self.on_attach_failed(),
            NetEvent::Detached => self.on_detached(),
            NetEvent::NetworkLost => self.on_network_lost(),
            NetEvent::Opened {
                conn,
                remote,
                local_port: _,
            } => self.on_opened(conn, remote),
            NetEvent::OpenFailed { conn, error } => self.on_open_failed(conn, error),
            // Only TLS opens report the TCP phase, and no TCP/IP link is one.
            NetEvent::Connected { .. } => {}
            NetEvent::Data { conn, data } => self.on_data(conn, None, &data),
            NetEvent::Datagram { conn, from, data } => self.on_data(conn, Some(from), &data),
            NetEvent::SendDone { conn, outcome } => self.on_send_done(conn, outcome),
            NetEvent::AckStatus { conn, acked } => self.on_ack_status(conn, acked),
            NetEvent::Writable { conn } => self.on_writable(conn),
            NetEvent::PeerClosed { conn } => self.on_peer_closed(conn),
            NetEvent::Closed { conn } => self.on_closed(conn),
            NetEvent::Listening { server } => self.on_listening(server),
            NetEvent::ListenFailed { server } => self.on_listen_failed(server),
            NetEvent::Accepted { server, conn, peer } => self.on_accepted(server, conn, peer),
            NetEvent::Resolved { query, addr } => self.on_resolved(query, addr),
            NetEvent::PingReply { id, ttl } => self.on_ping_reply(id, ttl),
        }
    }

    fn link_of(&self, conn: ConnId) -> Option<usize> {
        self.links
            .iter()
            .position(|l| l.as_ref().is_some_and(|l| l.conn == conn))
    }

    fn new_conn(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        id
    }
}

//! The command line.

use clap::{Args, Parser, Subcommand};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// The AT7600 LTE module's TCP/IP AT command set, in software.
#[derive(Parser, Debug)]
#[command(version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run modems on one front end (a PTY unless --stdio, --tcp or --serial is given).
    Serve(Box<ServeArgs>),
    /// Talk to a running daemon's control API (serve --control): list modems, inject
    /// faults, toggle DTR, read metrics.
    Ctl(CtlArgs),
    /// Run the manual's chapter-6 examples against a module and print what differs.
    Probe(ProbeArgs),
    /// Replay a recording (serve --record) on a fresh modem and compare its outputs
    /// (exit 0 identical, 1 different, 2 bad file).
    Replay(ReplayArgs),
    /// Print shell completions or the man page, generated from this command line.
    Generate(GenerateArgs),
}

/// `at7600 generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// What to print on standard output.
    #[command(subcommand)]
    pub what: Generated,
}

/// What `at7600 generate` prints.
#[derive(Subcommand, Debug)]
pub enum Generated {
    /// Completions for SHELL, e.g. at7600 generate completions bash >
    /// ~/.local/share/bash-completion/completions/at7600
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff), e.g. at7600 generate man > ~/.local/share/man/man1/at7600.1
    Man,
}

/// `at7600 replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The recording (JSON lines, as written by serve --record).
    pub file: PathBuf,
}

/// `at7600 ctl`.
#[derive(Args, Debug)]
pub struct CtlArgs {
    /// The control API's address (a host name or an IP address, with the port); also
    /// accepted after the action.
    #[arg(
        long,
        global = true,
        value_name = "HOST:PORT",
        env = "AT7600_CONTROL",
        default_value = "127.0.0.1:7600"
    )]
    pub control: String,
    /// The daemon's control token, if it has one (else AT7600_CONTROL_TOKEN).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: CtlAction,
}

/// `at7600 ctl` actions.
#[derive(Subcommand, Debug)]
pub enum CtlAction {
    /// List the modems.
    List,
    /// Show one modem.
    Show {
        /// The modem's id.
        id: u64,
    },
    /// Inject a fault, given as JSON (e.g. '{"kind":"peer-close","link":0}').
    #[command(after_help = FAULT_KINDS)]
    Fault {
        /// The modem's id.
        id: u64,
        /// The fault.
        json: String,
    },
    /// Set DTR on or off.
    Dtr {
        /// The modem's id.
        id: u64,
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Print the Prometheus metrics.
    Metrics,
    /// Exit 0 if the daemon's control API answers (a container's or a probe's health
    /// check), else 2.
    Health,
}

/// Every fault kind with its fields, for `ctl fault --help` (the same fields as a
/// config file's fault table without at_ms).
pub const FAULT_KINDS: &str = "\
Fault kinds (JSON fields; link is 0-9, every open link when left out):\n\
  {\"kind\":\"network-lost\",\"for_ms\":10000}    +CIPEVENT: NETWORK CLOSED UNEXPECTEDLY;\n\
                                            AT+NETOPEN fails for for_ms\n\
  {\"kind\":\"peer-close\",\"link\":1}            the peer closes: +IPCLOSE: <n>,1\n\
  {\"kind\":\"refuse-open\"}                    the next TCP open is refused\n\
  {\"kind\":\"timeout-open\"}                   the next TCP open is never answered\n\
  {\"kind\":\"dns-failure\"}                    the next name lookup fails\n\
  {\"kind\":\"tls-handshake-failure\"}          the next TLS handshake fails: +CCHOPEN: <s>,15\n\
  {\"kind\":\"stall\",\"link\":1}                 the peer stops reading and acknowledging\n\
  {\"kind\":\"radio\",\"rssi\":5,\"reg_status\":2}  signal 0-31 or 99, registration 0-5,\n\
                                             and \"tz\" the time zone in quarter hours\n\
  {\"kind\":\"power-on\"}                      power back after AT+CPOF: the boot lines\n\
  {\"kind\":\"dtr\",\"on\":false}                 the host's DTR line ON or OFF";

/// `at7600 probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The module's serial device.
    #[arg(
        long,
        value_name = "DEVICE",
        conflicts_with = "tcp",
        required_unless_present = "tcp"
    )]
    pub port: Option<PathBuf>,
    /// Serial speed.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// A modem daemon's TCP address (at7600 serve --tcp).
    #[arg(long, value_name = "ADDR:PORT")]
    pub tcp: Option<String>,
    /// A TCP echo server the module can reach.
    #[arg(long, value_name = "HOST:PORT")]
    pub peer: String,
    /// A UDP echo server the module can reach (else the UDP examples are skipped).
    #[arg(long, value_name = "HOST:PORT")]
    pub udp_peer: Option<String>,
    /// The module's local UDP port for the UDP examples.
    #[arg(long, default_value_t = 5000)]
    pub udp_local_port: u16,
    /// Where this host reaches a server the module starts (else 6.4 is skipped); the
    /// module listens on PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub server: Option<String>,
    /// APN for AT+CGDCONT.
    #[arg(long, default_value = "CMNET")]
    pub apn: String,
    /// Silence around "+++", in milliseconds.
    #[arg(long, default_value_t = 1100)]
    pub guard_ms: u64,
    /// Longest wait for one step's answer, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub wait_ms: u64,
    /// The report: text as the steps run, or at the end a JSON document or a JUnit
    /// XML file (one test case per step) for CI systems.
    #[arg(long, value_enum, default_value_t = ProbeFormat::Text)]
    pub format: ProbeFormat,
    /// Write the report here instead of standard output (the steps are still shown).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `probe --format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeFormat {
    /// One line per step as it runs.
    Text,
    /// One JSON object: counts and every step.
    Json,
    /// JUnit XML: a test suite per manual section, a test case per step.
    Junit,
}

/// `at7600 serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Offer one modem on a new PTY, with a symlink to it at PATH [default: ./ttyAT0].
    /// The modem keeps its state while the port is closed and reopened, as a module
    /// does; ATZ resets its settings, a restart of the daemon the whole modem.
    #[arg(long, value_name = "PATH", help_heading = "Front end", num_args = 0..=1, default_missing_value = "./ttyAT0",
          conflicts_with_all = ["stdio", "tcp", "serial"])]
    pub pty: Option<PathBuf>,
    /// Offer N modems, each on its own PTY: `{n}` in the --pty path is replaced by the
    /// modem's number from 0 (else the number is appended). Each gets its own state and
    /// identity (IMEI and ICCID counted up from the configured ones, Luhn-valid).
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Front end",
          help = "Offer N modems, each on its own PTY: the three characters { n } (without \
                  the spaces) in the --pty path are \
                  replaced by the modem's number from 0 (else the number is appended). \
                  Each gets its own state and identity (IMEI and ICCID counted up from \
                  the configured ones, Luhn-valid)",
          value_parser = clap::value_parser!(u32).range(1..=100_000),
          conflicts_with_all = ["stdio", "tcp", "serial"])]
    pub count: u32,
    /// Offer one modem on standard input/output (logs go to standard error).
    #[arg(long, conflicts_with_all = ["tcp", "serial"], help_heading = "Front end")]
    pub stdio: bool,
    /// Listen on ADDR:PORT; every connection gets its own modem. Port 0 picks a free one.
    #[arg(
        long,
        value_name = "ADDR:PORT",
        conflicts_with = "serial",
        help_heading = "Front end"
    )]
    pub tcp: Option<SocketAddr>,
    /// Offer one modem on a serial port (8N1); the host's DTR is read from our DSR.
    #[arg(long, value_name = "DEVICE", help_heading = "Front end")]
    pub serial: Option<PathBuf>,
    /// Serial line speed in bit/s [default: 115200].
    #[arg(long, value_name = "N", requires = "serial", help_heading = "Front end",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub baud: Option<u32>,
    /// RTS/CTS hardware flow control on the serial port.
    #[arg(long, requires = "serial", help_heading = "Front end")]
    pub rtscts: bool,
    /// Read settings from this TOML file; flags override it. Its sections: identity,
    /// radio, network, escape, log, link, sim, fault (examples/at7600.toml in the
    /// source lists every key with its default).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which network the modems use: the host's (`real`) or a simulated one (`sim`,
    /// hosts from the config file's `[sim]` section).
    #[arg(long, value_enum, default_value_t = NetworkKind::Real, help_heading = "Network",
          help = "Which network the modems use: the host's (real) or a simulated one \
                  (sim, with hosts from the config file's [sim] section)")]
    pub network: NetworkKind,
    /// Serve the control API (HTTP/JSON: at7600 ctl, curl) on ADDR:PORT [default when
    /// given without a value: 127.0.0.1:7600]. It has no authentication: keep it on
    /// loopback unless you mean otherwise.
    #[arg(long, value_name = "ADDR:PORT", num_args = 0..=1, default_missing_value = "127.0.0.1:7600",
          help_heading = "Control")]
    pub control: Option<SocketAddr>,
    /// Record every modem's inputs and outputs as JSON lines, for at7600 replay.
    /// With --tcp, modem N goes to FILE with N before the extension (run.1.jsonl).
    #[arg(long, value_name = "FILE", help_heading = "Logging")]
    pub record: Option<PathBuf>,
    /// Print every modem's host bytes, both directions, with timestamps, as C strings
    /// on standard error (the log target at7600::trace at debug level).
    #[arg(long, help_heading = "Logging")]
    pub trace: bool,
    /// How log lines look on standard error.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, help_heading = "Logging")]
    pub log_format: LogFormat,
    /// Modems take identities from number N on: the configured IMEI, ICCID, IMSI and
    /// MSISDN counted up N times (modem n takes N + n), so that daemons side by side
    /// hand out different ones.
    #[arg(
        long,
        value_name = "N",
        env = "AT7600_IDENTITY_OFFSET",
        help_heading = "Identity"
    )]
    pub identity_offset: Option<u64>,
    /// Take SIZE identities per StatefulSet pod: the pod whose host name ends in -K
    /// (fleet-K) takes numbers K*SIZE to K*SIZE+SIZE-1 (after --identity-offset); with
    /// --tcp, connection n takes number K*SIZE + n mod SIZE.
    #[arg(long, value_name = "SIZE", env = "AT7600_IDENTITY_BLOCK", help_heading = "Identity",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub identity_block: Option<u64>,
    #[command(flatten)]
    /// Settings that can also come from the file.
    pub settings: SettingsArgs,
}

/// `--log-format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One line per event, coloured on a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

/// `--network`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkKind {
    /// The host's own network.
    Real,
    /// The simulated network (virtual time following real time).
    Sim,
}

/// Settings that the config file can also give.
#[derive(Args, Debug, Default)]
pub struct SettingsArgs {
    /// Manufacturer reported by ATI and AT+CGMI [default: SUNSEA AIOT].
    #[arg(long, help_heading = "Identity")]
    pub manufacturer: Option<String>,
    /// Model reported by ATI and AT+CGMM [default: AT7600].
    #[arg(long, help_heading = "Identity")]
    pub model: Option<String>,
    /// Firmware revision reported by ATI and AT+CGMR [default: AT7600M21_V1.0].
    #[arg(long, help_heading = "Identity")]
    pub revision: Option<String>,
    /// IMEI (15 digits) reported by ATI and AT+CGSN [default: 867584030012347].
    #[arg(long, help_heading = "Identity")]
    pub imei: Option<String>,
    /// SIM ICCID (19-20 digits) reported by AT+CICCID [default: 89860012345678901234].
    #[arg(long, help_heading = "Identity")]
    pub iccid: Option<String>,
    /// Signal strength for AT+CSQ: 0-31, or 99 for unknown [default: 25].
    #[arg(long, help_heading = "Radio")]
    pub rssi: Option<u8>,
    /// Bit error rate for AT+CSQ: 0-7, or 99 for unknown [default: 99].
    #[arg(long, help_heading = "Radio")]
    pub ber: Option<u8>,
    /// Registration status for AT+CREG?/AT+CGREG?: 0-5 (1 home, 5 roaming) [default: 1].
    #[arg(long, help_heading = "Radio")]
    pub reg_status: Option<u8>,
    /// Operator name for AT+COPS? [default: CHINA MOBILE].
    #[arg(long, help_heading = "Radio")]
    pub operator: Option<String>,
    /// The AT+CPSI? line after "+CPSI: " [default: an LTE cell of CHINA MOBILE].
    #[arg(long, help_heading = "Radio")]
    pub cpsi: Option<String>,
    /// The modem's own IPv4 address, reported by AT+IPADDR (it is never bound)
    /// [default: 10.148.0.17].
    #[arg(long, help_heading = "Network")]
    pub ip_address: Option<Ipv4Addr>,
    /// The host address that AT+SERVERSTART servers listen on [default: 127.0.0.1].
    #[arg(long, help_heading = "Network")]
    pub server_bind: Option<Ipv4Addr>,
    /// Silence required before and after a "+++" escape, in milliseconds [default: 1000].
    #[arg(long, help_heading = "Data mode")]
    pub escape_guard_ms: Option<u64>,
    /// Longest pause allowed between the three "+" of an escape, in ms [default: 900].
    #[arg(long, help_heading = "Data mode")]
    pub escape_gap_ms: Option<u64>,
    /// Radio link profile: none, gprs, 3g, lte-cat1, lte-cat4 (custom values in the
    /// config file's `[link]` section) [default: none].
    #[arg(
        long,
        value_name = "PROFILE",
        help_heading = "Network",
        help = "Radio link profile: none, gprs, 3g, lte-cat1, lte-cat4 (custom values \
                  in the config file's [link] section) [default: none]"
    )]
    pub link: Option<String>,
    /// Seed of the simulated network and of the link's jitter and loss [default: 1].
    #[arg(long, value_name = "N", help_heading = "Network")]
    pub sim_seed: Option<u64>,
    /// Log filter (e.g. "info", "at7600_net=debug"); else RUST_LOG [default: info].
    #[arg(long, help_heading = "Logging")]
    pub log_level: Option<String>,
    /// Require "Authorization: Bearer TOKEN" on the control API (required when it is
    /// bound off the loopback). Prefer the token key of the config file's control section, or AT7600_CONTROL_TOKEN: a
    /// flag shows in the process list.
    #[arg(long, value_name = "TOKEN")]
    pub control_token: Option<String>,
    /// Control API connections served at once; more wait unaccepted [default: 64].
    #[arg(long, value_name = "N")]
    pub control_max_connections: Option<usize>,
    /// Close a control API connection that has not sent a request's headers within
    /// this many milliseconds (idle or half-sent) [default: 10000].
    #[arg(long, value_name = "MS")]
    pub control_header_timeout_ms: Option<u64>,
    /// Per-modem series (labelled by IMEI) in the control API's /metrics beside the
    /// process-wide ones; off for large fleets [default: on].
    #[arg(long, value_enum, value_name = "ON|OFF", help_heading = "Control")]
    pub metrics_per_modem: Option<OnOff>,
    /// Let modems reach only destinations matching these rules, CIDR[:PORT[-PORT]]
    /// (repeatable; added to the allow list of the config file's policy section). Without any, everything not denied.
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Never let modems reach destinations matching these rules, CIDR[:PORT[-PORT]]
    /// (repeatable; added to the deny list of the config file's policy section). The daemon's own listeners always are.
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Look up no host names for modems (AT+CDNSGIP and names in AT+CIPOPEN fail; IP
    /// addresses still work).
    #[arg(long)]
    pub no_dns: bool,
    // ---- module timing and driver torture (docs/timing.md) ----
    /// How slow the modem is: "instant" (default) or "module" (a real module's UART
    /// pace, command, NETOPEN/CIPOPEN and boot times, boot lines at power-on).
    #[arg(long, value_name = "PROFILE")]
    pub timing: Option<String>,
    /// Shake out driver bugs: cut the output at random bytes with small pauses, send
    /// URCs at the earliest moment or hold them back; reproducible with the same seed
    /// (each choice is logged at debug level).
    #[arg(long, value_name = "SEED")]
    pub torture: Option<u64>,
}

/// A switch given on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOff {
    /// Switched on.
    On,
    /// Switched off.
    Off,
}

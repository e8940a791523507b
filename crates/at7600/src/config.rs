//! Settings: the TOML file, the flags over it, and what they become for the core and
//! the network backend.

use crate::cli::{OnOff, SettingsArgs};
use anyhow::{bail, Context, Result};
use at7600_core::config::{Boot, Personality, Timing, Torture};
use at7600_core::ModemConfig;
use at7600_net::sim::SimConfig;
use at7600_net::{LinkProfile, NetConfig, Rule, ScheduledFault, PROFILE_NAMES};
use serde::Deserialize;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

/// The config file. Every field is optional; see `examples/at7600.toml`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `[identity]`
    #[serde(default)]
    pub identity: IdentityFile,
    /// `[radio]`
    #[serde(default)]
    pub radio: RadioFile,
    /// `[network]`
    #[serde(default)]
    pub network: NetworkFile,
    /// `[escape]`
    #[serde(default)]
    pub escape: EscapeFile,
    /// `[log]`
    #[serde(default)]
    pub log: LogFile,
    /// `[link]`: the radio link profile.
    #[serde(default)]
    pub link: LinkFile,
    /// `[sim]`: the simulated network's hosts.
    #[serde(default)]
    pub sim: Option<SimConfig>,
    /// `[[fault]]`: faults at fixed times.
    #[serde(default)]
    pub fault: Vec<ScheduledFault>,
    /// `[control]`: the control API's limits and token.
    #[serde(default)]
    pub control: ControlFile,
    /// `[metrics]`: what the control API's `/metrics` shows.
    #[serde(default)]
    pub metrics: MetricsFile,
    /// `[policy]`: where modems may go.
    #[serde(default)]
    pub policy: PolicyFile,
    // ---- the general commands of more-commands.md ----
    /// `[power]`
    #[serde(default)]
    pub power: PowerFile,
    /// `[boot]`
    #[serde(default)]
    pub boot: BootFile,
    /// `[quirks]`
    #[serde(default)]
    pub quirks: QuirksFile,
    /// `[timing]`
    #[serde(default)]
    pub timing: TimingFile,
    /// `[tls]`
    #[serde(default)]
    pub tls: TlsFile,
    /// The file this came from and its text, to say where a bad value is.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// A config file's path and text, kept for error messages that name the line.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The path as given.
    pub path: std::path::PathBuf,
    /// The whole file.
    pub text: String,
}

impl Origin {
    /// The 1-based line of `[section]` (or `[[section]]`) itself when `key` is None,
    /// else of the first `key = value` inside it (any value when `value` is None).
    fn line(&self, section: &str, key: Option<&str>, value: Option<&str>) -> Option<usize> {
        let mut inside = false;
        for (n, line) in self.text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('[') {
                let name = line.trim_matches(|c| c == '[' || c == ']').trim();
                inside = name == section;
                if inside && key.is_none() {
                    return Some(n + 1);
                }
            } else if let (true, Some(key), Some((k, v))) = (inside, key, line.split_once('=')) {
                if k.trim() == key && value.is_none_or(|want| v.trim() == want) {
                    return Some(n + 1);
                }
            }
        }
        None
    }

    /// "FILE line N" (or just "FILE") for what [`Origin::line`] finds.
    fn at(&self, section: &str, key: Option<&str>, value: Option<&str>) -> String {
        match self.line(section, key, value) {
            Some(n) => format!("{} line {n}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }

    /// "FILE line N, [section] key".
    fn place(&self, section: &str, key: &str) -> String {
        format!("{}, [{section}] {key}", self.at(section, Some(key), None))
    }
}

/// Where a value came from, for an error message: its flag when one was given, else
/// its place in the config file.
fn source(origin: Option<&Origin>, from_flag: bool, section: &str, key: &str) -> String {
    match origin {
        Some(o) if !from_flag => o.place(section, key),
        _ if from_flag => format!("--{}", key.replace('_', "-")),
        _ => format!("[{section}] {key}"),
    }
}

/// Serde's words for Rust types, in the words of someone writing a config file.
fn user_words(message: &str) -> String {
    [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        (
            "invalid IPv4 address syntax",
            "not an IPv4 address (like 10.0.0.1)",
        ),
        ("expected a borrowed string", "expected text in quotes"),
        ("expected a string", "expected text in quotes"),
        ("invalid type: integer", "a number"),
        ("invalid type: string", "text"),
        ("invalid value: integer", "the number"),
    ]
    .iter()
    .fold(message.to_string(), |m, (rust, user)| m.replace(rust, user))
}

/// `[policy]` of the config file: rules as `CIDR[:PORT[-PORT]]` (see `docs/network.md`).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PolicyFile {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
    pub dns: Option<bool>,
}

/// `[control]` of the config file (the address itself is `--control`).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ControlFile {
    pub token: Option<String>,
    pub max_connections: Option<usize>,
    pub header_timeout_ms: Option<u64>,
    pub request_timeout_ms: Option<u64>,
}

/// `[metrics]` of the config file (`docs/metrics.md`).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MetricsFile {
    pub per_modem: Option<bool>,
}

/// `[timing]` of the config file: a named profile, with any field overridden.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct TimingFile {
    pub profile: Option<String>,
    pub uart: Option<bool>,
    pub command_ms: Option<u64>,
    pub netopen_ms: Option<u64>,
    pub cipopen_ms: Option<u64>,
}

/// `[power]` of the config file: `AT+CBC`, `AT+CPMUTEMP`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PowerFile {
    pub vbat_mv: Option<u32>,
    pub temp_c: Option<i16>,
}

/// `[boot]` of the config file: the boot sequence after a restart (and at power-on).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct BootFile {
    pub power_on_lines: Option<bool>,
    pub ready_ms: Option<u64>,
    pub sim_ms: Option<u64>,
    pub sms_ms: Option<u64>,
    pub pb_ms: Option<u64>,
}

/// `[tls]` of the config file (`ssl.md`).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// `sslversion` 4 offers TLS 1.3 too (default false).
    pub tls13: Option<bool>,
    /// Where certificate files live, one directory per modem (`<cert_dir>/<imei>/`);
    /// unset: in memory, lost when the daemon exits.
    pub cert_dir: Option<std::path::PathBuf>,
}

/// `[quirks]` of the config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct QuirksFile {
    /// `"ok"` (default) or `"error"`: `AT+CTCPKA=...` before `AT+NETOPEN`.
    pub ctcpka_before_netopen: Option<String>,
}

/// `[link]` of the config file: a named profile, with any field overridden.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LinkFile {
    pub profile: Option<String>,
    pub seed: Option<u64>,
    pub rtt_ms: Option<u64>,
    pub jitter_ms: Option<u64>,
    pub down_kbps: Option<u64>,
    pub up_kbps: Option<u64>,
    pub setup_ms: Option<u64>,
    pub loss: Option<f64>,
}

/// `[identity]` of the config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct IdentityFile {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub revision: Option<String>,
    pub imei: Option<String>,
    pub iccid: Option<String>,
    // more-commands.md §0.3
    pub personality: Option<String>,
    pub imsi: Option<String>,
    pub spn: Option<String>,
    pub spn_display: Option<u8>,
    pub msisdn: Option<String>,
}

/// `[radio]` of the config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RadioFile {
    pub rssi: Option<u8>,
    pub ber: Option<u8>,
    pub reg_status: Option<u8>,
    pub operator: Option<String>,
    pub cpsi: Option<String>,
    // more-commands.md §0.3
    pub operator_short: Option<String>,
    pub tz: Option<i8>,
}

/// `[network]` of the config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NetworkFile {
    pub ip_address: Option<Ipv4Addr>,
    pub server_bind: Option<Ipv4Addr>,
    // more-commands.md §0.3: what AT+CDNSCFG? displays until the host writes it
    pub dns1: Option<Ipv4Addr>,
    pub dns2: Option<Ipv4Addr>,
}

/// `[escape]` of the config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct EscapeFile {
    pub guard_ms: Option<u64>,
    pub gap_ms: Option<u64>,
}

/// `[log]` of the config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LogFile {
    pub level: Option<String>,
}

/// Everything the daemon runs with, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// For every modem's core.
    pub modem: ModemConfig,
    /// For the network backend.
    pub net: NetConfig,
    /// The log filter, if one was given (else RUST_LOG, else "info").
    pub log_level: Option<String>,
    /// The radio link.
    pub link: LinkProfile,
    /// Seed for the simulated network and the link's jitter and loss.
    pub seed: u64,
    /// The simulated network's hosts.
    pub sim: SimConfig,
    /// Faults at fixed times.
    pub faults: Vec<ScheduledFault>,
    /// The control API's limits and token (used if `--control` is given).
    pub control: crate::control::Options,
}

/// The environment variable that can hold the control API's token (so that it does not
/// show in the process list, as a flag would).
pub const TOKEN_ENV: &str = "AT7600_CONTROL_TOKEN";

impl FileConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut file: FileConfig = toml::from_str(&text).map_err(|e| {
            // toml's message names the line and column and shows it; only the type
            // names need translating.
            anyhow::anyhow!(
                "bad config file {}: {}",
                path.display(),
                user_words(&e.to_string())
            )
        })?;
        file.origin = Some(Origin {
            path: path.to_path_buf(),
            text,
        });
        Ok(file)
    }

    /// Refuses what only one network uses when the other is chosen: a `[sim]` section
    /// with the real network would be silently ignored.
    pub fn check_network(&self, simulated: bool) -> Result<()> {
        if self.sim.is_some() && !simulated {
            let at = match &self.origin {
                Some(o) => o.at("sim", None, None),
                None => "the config file".into(),
            };
            bail!(
                "{at}: a [sim] section describes the simulated network, but the daemon \
                 runs on the real one; add --network sim, or remove the section"
            );
        }
        Ok(())
    }
}

/// Flags over the file over the defaults, then checked.
pub fn resolve(file: FileConfig, flags: &SettingsArgs) -> Result<Settings> {
    let mut modem = ModemConfig::default();
    let mut net = NetConfig::default();
    let origin = file.origin.clone();
    let pick = |flag: &Option<String>, file: Option<String>| flag.clone().or(file);
    let at = |flag: bool, section: &str, key: &str| source(origin.as_ref(), flag, section, key);

    let id = &mut modem.identity;
    let f = &file.identity;
    if let Some(v) = pick(&flags.manufacturer, f.manufacturer.clone()) {
        id.manufacturer = text(
            &at(flags.manufacturer.is_some(), "identity", "manufacturer"),
            v,
        )?;
    }
    if let Some(v) = pick(&flags.model, f.model.clone()) {
        id.model = text(&at(flags.model.is_some(), "identity", "model"), v)?;
    }
    if let Some(v) = pick(&flags.revision, f.revision.clone()) {
        id.revision = text(&at(flags.revision.is_some(), "identity", "revision"), v)?;
    }
    if let Some(v) = pick(&flags.imei, f.imei.clone()) {
        id.imei = digits(&at(flags.imei.is_some(), "identity", "imei"), v, 15..=15)?;
    }
    if let Some(v) = pick(&flags.iccid, f.iccid.clone()) {
        id.iccid = digits(&at(flags.iccid.is_some(), "identity", "iccid"), v, 19..=20)?;
    }

    let radio = &mut modem.radio;
    let f = &file.radio;
    if let Some(v) = flags.rssi.or(f.rssi) {
        radio.rssi = rssi(v)
            .map_err(|e| anyhow::anyhow!("{}: {e}", at(flags.rssi.is_some(), "radio", "rssi")))?;
    }
    if let Some(v) = flags.ber.or(f.ber) {
        radio.ber = ber(v)
            .map_err(|e| anyhow::anyhow!("{}: {e}", at(flags.ber.is_some(), "radio", "ber")))?;
    }
    if let Some(v) = flags.reg_status.or(f.reg_status) {
        radio.reg_status = reg_status(v).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}",
                at(flags.reg_status.is_some(), "radio", "reg_status")
            )
        })?;
    }
    if let Some(v) = pick(&flags.operator, f.operator.clone()) {
        radio.operator = text(&at(flags.operator.is_some(), "radio", "operator"), v)?;
    }
    if let Some(v) = pick(&flags.cpsi, f.cpsi.clone()) {
        radio.cpsi = text(&at(flags.cpsi.is_some(), "radio", "cpsi"), v)?;
    }

    // `[sim] modem_ip` (documented since the simulated network came) says the same as
    // `[network] ip_address`: either sets the address, both must agree; a flag wins.
    let sim_ip = file
        .sim
        .as_ref()
        .map(|s| s.modem_ip)
        .filter(|ip| *ip != NetConfig::default().modem_ip);
    match (flags.ip_address, file.network.ip_address, sim_ip) {
        (Some(ip), _, _) | (None, Some(ip), None) | (None, None, Some(ip)) => net.modem_ip = ip,
        (None, Some(a), Some(b)) if a == b => net.modem_ip = a,
        (None, Some(a), Some(b)) => {
            let o = origin.as_ref();
            bail!(
                "{} is {a} but {} is {b}: both set the address AT+IPADDR reports; keep one",
                source(o, false, "network", "ip_address"),
                source(o, false, "sim", "modem_ip")
            );
        }
        (None, None, None) => {}
    }
    modem.network.ip_address = net.modem_ip;
    if let Some(ip) = flags.server_bind.or(file.network.server_bind) {
        net.server_bind = ip;
    }

    if let Some(ms) = flags.escape_guard_ms.or(file.escape.guard_ms) {
        let from_flag = flags.escape_guard_ms.is_some();
        let what = match from_flag {
            true => "--escape-guard-ms".to_string(),
            false => at(false, "escape", "guard_ms"),
        };
        modem.escape.guard = millis(&what, ms)?;
    }
    if let Some(ms) = flags.escape_gap_ms.or(file.escape.gap_ms) {
        let from_flag = flags.escape_gap_ms.is_some();
        let what = match from_flag {
            true => "--escape-gap-ms".to_string(),
            false => at(false, "escape", "gap_ms"),
        };
        modem.escape.max_gap = millis(&what, ms)?;
    }

    timing(&mut modem, &file.timing, flags.timing.as_deref())?;
    modem.torture = flags.torture.map(|seed| Torture {
        seed,
        ..Torture::default()
    });
    more_commands(&mut modem, &file)?;
    modem.tls.tls13 = file.tls.tls13.unwrap_or(false);
    modem.tls.cert_dir.clone_from(&file.tls.cert_dir);

    let log_level = pick(&flags.log_level, file.log.level);
    let l = file.link;
    let name = pick(&flags.link, l.profile).unwrap_or_else(|| "none".into());
    let Some(mut link) = LinkProfile::named(&name) else {
        bail!(
            "unknown link profile {name:?}; known: {}",
            PROFILE_NAMES.join(", ")
        );
    };
    let set = |field: &mut u64, v: Option<u64>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut link.rtt_ms, l.rtt_ms);
    set(&mut link.jitter_ms, l.jitter_ms);
    set(&mut link.down_kbps, l.down_kbps);
    set(&mut link.up_kbps, l.up_kbps);
    set(&mut link.setup_ms, l.setup_ms);
    if let Some(v) = l.loss {
        link.loss = v;
    }
    if let Err(e) = link.validate() {
        let place = match &origin {
            Some(o) => format!("{}, [link]", o.at("link", None, None)),
            None => "[link]".into(),
        };
        bail!("{place}: {e}");
    }
    let mut control = control_options(file.control, flags)?;
    control.per_modem = flags
        .metrics_per_modem
        .map(|on| on == OnOff::On)
        .or(file.metrics.per_modem)
        .unwrap_or(control.per_modem);
    net.policy = policy(file.policy, flags)?;
    control.own = net.policy.own.clone();
    let mut sim = SimConfig {
        modem_ip: net.modem_ip,
        ..file.sim.unwrap_or_default()
    };
    sim.policy = net.policy.clone();
    for f in &file.fault {
        if let Err(e) = f.fault.validate() {
            bail!("[[fault]] at_ms = {}: {e}", f.at_ms);
        }
    }
    Ok(Settings {
        control,
        modem,
        net,
        log_level,
        link,
        seed: flags.sim_seed.or(l.seed).unwrap_or(1),
        sim,
        faults: checked_faults(file.fault, origin.as_ref())?,
    })
}

/// A scheduled network loss must say how long it lasts: without `for_ms` it would end
/// at once, which no one means.
fn checked_faults(
    faults: Vec<ScheduledFault>,
    origin: Option<&Origin>,
) -> Result<Vec<ScheduledFault>> {
    for f in &faults {
        if f.fault == (at7600_net::Fault::NetworkLost { for_ms: 0 }) {
            let at = match origin {
                Some(o) => {
                    let value = f.at_ms.to_string();
                    format!("{}, [[fault]]", o.at("fault", Some("at_ms"), Some(&value)))
                }
                None => "[[fault]]".into(),
            };
            bail!(
                "{at}: a network-lost fault (at_ms = {}) needs for_ms, how long the network \
                 stays lost in milliseconds (1 or more)",
                f.at_ms
            );
        }
    }
    Ok(faults)
}

/// `--timing` over `[timing]`: the "module" profile also boots like a module (its
/// boot times, the boot lines at power-on); `[boot]` keys still override that.
fn timing(modem: &mut ModemConfig, file: &TimingFile, flag: Option<&str>) -> Result<()> {
    match flag.or(file.profile.as_deref()) {
        None | Some("instant") => {}
        Some("module") => {
            modem.timing = Timing::module();
            modem.boot = Boot::module();
        }
        Some(other) => bail!("unknown timing profile {other:?}; known: instant, module"),
    }
    let t = &mut modem.timing;
    if let Some(v) = file.uart {
        t.uart = v;
    }
    for (field, v, what) in [
        (&mut t.command_ms, file.command_ms, "command_ms"),
        (&mut t.netopen_ms, file.netopen_ms, "netopen_ms"),
        (&mut t.cipopen_ms, file.cipopen_ms, "cipopen_ms"),
    ] {
        if let Some(v) = v {
            if v > 60_000 {
                bail!("[timing] {what} must be at most 60000 ms, not {v}");
            }
            *field = v;
        }
    }
    Ok(())
}

/// The `[identity]`, `[radio]`, `[network]`, `[power]`, `[boot]` and `[quirks]` keys of
/// `more-commands.md` §0.3.
fn more_commands(modem: &mut ModemConfig, file: &FileConfig) -> Result<()> {
    let id = &mut modem.identity;
    let f = &file.identity;
    if let Some(v) = &f.personality {
        id.personality = match v.as_str() {
            "sim7600" => Personality::Sim7600,
            "a76xx" => Personality::A76xx,
            other => bail!("personality must be \"sim7600\" or \"a76xx\", not {other:?}"),
        };
    }
    if let Some(v) = &f.imsi {
        id.imsi = digits("imsi", v.clone(), 15..=15)?;
    }
    if let Some(v) = &f.spn {
        // Empty is allowed: a SIM without a service provider name.
        id.spn = if v.is_empty() {
            v.clone()
        } else {
            text("spn", v.clone())?
        };
    }
    if let Some(v) = f.spn_display {
        if v > 1 {
            bail!("spn_display must be 0 or 1, not {v}");
        }
        id.spn_display = v;
    }
    if let Some(v) = &f.msisdn {
        let bare = v.strip_prefix('+').unwrap_or(v);
        if !v.is_empty() && (bare.len() > 20 || !bare.bytes().all(|b| b.is_ascii_digit())) {
            bail!("msisdn must be digits with an optional leading +: {v:?}");
        }
        id.msisdn = v.clone();
    }
    let r = &file.radio;
    if let Some(v) = &r.operator_short {
        modem.radio.operator_short = text("operator_short", v.clone())?;
    }
    if let Some(v) = r.tz {
        if !(-96..=96).contains(&v) {
            bail!("tz must be -96..96 quarter hours, not {v}");
        }
        modem.radio.tz = v;
    }
    if let Some(v) = file.network.dns1 {
        modem.network.dns1 = v;
    }
    if let Some(v) = file.network.dns2 {
        modem.network.dns2 = v;
    }
    if let Some(v) = file.power.vbat_mv {
        if v > 9999 {
            bail!("vbat_mv must be at most 9999, not {v}");
        }
        modem.power.vbat_mv = v;
    }
    if let Some(v) = file.power.temp_c {
        modem.power.temp_c = v;
    }
    let b = &file.boot;
    let boot = &mut modem.boot;
    if let Some(v) = b.power_on_lines {
        boot.power_on_lines = v;
    }
    for (field, v, what) in [
        (&mut boot.ready_ms, b.ready_ms, "ready_ms"),
        (&mut boot.sim_ms, b.sim_ms, "sim_ms"),
        (&mut boot.sms_ms, b.sms_ms, "sms_ms"),
        (&mut boot.pb_ms, b.pb_ms, "pb_ms"),
    ] {
        if let Some(v) = v {
            if v > 120_000 {
                bail!("[boot] {what} must be at most 120000 ms, not {v}");
            }
            *field = v;
        }
    }
    match file.quirks.ctcpka_before_netopen.as_deref() {
        None | Some("ok") => {}
        Some("error") => modem.quirks.ctcpka_error_before_netopen = true,
        Some(other) => bail!("ctcpka_before_netopen must be \"ok\" or \"error\", not {other:?}"),
    }
    Ok(())
}

/// `[policy]` with the `--allow`/`--deny` rules added to its lists.
fn policy(file: PolicyFile, flags: &SettingsArgs) -> Result<at7600_net::Policy> {
    let parse = |what: &str, rules: Vec<String>, more: &[String]| -> Result<Vec<Rule>> {
        rules
            .iter()
            .chain(more)
            .map(|r| {
                r.parse::<Rule>()
                    .map_err(|e| anyhow::anyhow!("bad {what} rule {e}"))
            })
            .collect()
    };
    Ok(at7600_net::Policy {
        allow: parse("allow", file.allow, &flags.allow)?,
        deny: parse("deny", file.deny, &flags.deny)?,
        dns: !flags.no_dns && file.dns.unwrap_or(true),
        ..at7600_net::Policy::default()
    })
}

/// `[control]` and the `--control-*` flags over the defaults; the token from the flag,
/// else the file, else [`TOKEN_ENV`].
fn control_options(file: ControlFile, flags: &SettingsArgs) -> Result<crate::control::Options> {
    let mut o = crate::control::Options::default();
    let token = flags
        .control_token
        .clone()
        .or(file.token)
        .or_else(|| std::env::var(TOKEN_ENV).ok());
    if let Some(token) = token {
        if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("the control token must be at least 16 printable ASCII characters, no spaces");
        }
        o.token = Some(token);
    }
    if let Some(n) = flags.control_max_connections.or(file.max_connections) {
        if !(1..=4096).contains(&n) {
            bail!("control max_connections must be 1-4096, not {n}");
        }
        o.max_connections = n;
    }
    if let Some(ms) = flags.control_header_timeout_ms.or(file.header_timeout_ms) {
        o.header_timeout = timeout_ms("control header_timeout_ms", ms)?;
    }
    if let Some(ms) = file.request_timeout_ms {
        o.request_timeout = timeout_ms("control request_timeout_ms", ms)?;
    }
    Ok(o)
}

fn timeout_ms(what: &str, ms: u64) -> Result<Duration> {
    if !(10..=600_000).contains(&ms) {
        bail!("{what} must be 10-600000 ms, not {ms}");
    }
    Ok(Duration::from_millis(ms))
}

/// Checks a whole modem configuration as the flags and the file are checked: used for
/// configurations that come from elsewhere (a recording's header), so that no value the
/// daemon would refuse reaches a core.
pub fn validate_modem(config: &ModemConfig) -> Result<()> {
    let id = &config.identity;
    text("manufacturer", &id.manufacturer)?;
    text("model", &id.model)?;
    text("revision", &id.revision)?;
    digits("imei", &id.imei, 15..=15)?;
    digits("iccid", &id.iccid, 19..=20)?;
    validate_radio(&config.radio)?;
    duration("escape guard", config.escape.guard)?;
    duration("escape gap", config.escape.max_gap)?;
    let l = &config.limits;
    limit("max_line", l.max_line, LINE_LIMITS)?;
    limit("rx_buffer", l.rx_buffer, BUFFER_LIMITS)?;
    limit("host_backlog", l.host_backlog, BUFFER_LIMITS)?;
    limit("host_input", l.host_input, BUFFER_LIMITS)?;
    Ok(())
}

/// Checks radio values as the flags are checked (also a radio fault's, in a recording).
pub fn validate_radio(radio: &at7600_core::config::Radio) -> Result<()> {
    rssi(radio.rssi)?;
    ber(radio.ber)?;
    reg_status(radio.reg_status)?;
    text("operator", &radio.operator)?;
    text("operator_numeric", &radio.operator_numeric)?;
    text("cpsi", &radio.cpsi)?;
    Ok(())
}

/// The command line length limits a configuration may give (the default is 1024).
const LINE_LIMITS: std::ops::RangeInclusive<usize> = 16..=64 * 1024;
/// The buffer limits a configuration may give (the defaults are 16-64 KiB).
const BUFFER_LIMITS: std::ops::RangeInclusive<usize> = 1024..=16 * 1024 * 1024;

fn limit(what: &str, v: usize, range: std::ops::RangeInclusive<usize>) -> Result<()> {
    if !range.contains(&v) {
        bail!(
            "limits.{what} must be {}-{}, not {v}",
            range.start(),
            range.end()
        );
    }
    Ok(())
}

fn rssi(v: u8) -> Result<u8> {
    if v > 31 && v != 99 {
        bail!("the signal must be a number from 0 to 31, or 99 for unknown, not {v}");
    }
    Ok(v)
}

fn ber(v: u8) -> Result<u8> {
    if v > 7 && v != 99 {
        bail!("the bit error rate must be a number from 0 to 7, or 99 for unknown, not {v}");
    }
    Ok(v)
}

fn reg_status(v: u8) -> Result<u8> {
    if v > 5 {
        bail!("the registration status must be a number from 0 to 5, not {v}");
    }
    Ok(v)
}

/// Status lines are 7-bit ASCII; CR, LF and quotes would break the host's parser.
fn text<S: AsRef<str>>(what: &str, v: S) -> Result<S> {
    let t = v.as_ref();
    if t.is_empty() || t.len() > 100 {
        bail!("{what}: must be text of 1 to 100 characters");
    }
    if !t.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"') {
        bail!("{what}: must be plain ASCII text without quotes or line breaks, not {t:?}");
    }
    Ok(v)
}

fn digits<S: AsRef<str>>(what: &str, v: S, len: std::ops::RangeInclusive<usize>) -> Result<S> {
    let t = v.as_ref();
    if !len.contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_digit()) {
        let count = match (len.start(), len.end()) {
            (a, b) if a == b => format!("{a}"),
            (a, b) => format!("{a} or {b}"),
        };
        bail!("{what}: must be {count} digits, not {t:?}");
    }
    Ok(v)
}

/// The range every guard time must be in (flags give whole milliseconds).
const GUARD_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_millis(60_000);

fn millis(what: &str, ms: u64) -> Result<Duration> {
    if !(1..=60_000).contains(&ms) {
        bail!("{what}: must be a number of milliseconds from 1 to 60000, not {ms}");
    }
    Ok(Duration::from_millis(ms))
}

fn duration(what: &str, d: Duration) -> Result<Duration> {
    if !GUARD_RANGE.contains(&d) {
        bail!("{what} must be 1-60000 ms, not {d:?}");
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let file: FileConfig = toml::from_str(
            "[identity]\nimei = \"111111111111111\"\nmodel = \"M\"\n[escape]\nguard_ms = 50\n",
        )
        .unwrap();
        let flags = SettingsArgs {
            model: Some("F".into()),
            ..Default::default()
        };
        let s = resolve(file, &flags).unwrap();
        assert_eq!(s.modem.identity.imei, "111111111111111");
        assert_eq!(s.modem.identity.model, "F");
        assert_eq!(s.modem.escape.guard, Duration::from_millis(50));
    }

    #[test]
    fn simulated_tls_hosts_come_from_the_file() {
        let file: FileConfig = toml::from_str(
            "[[sim.host]]\nname = \"iot.sim\"\naddr = \"192.0.2.50\"\n\
             tcp = [{ port = 8883, kind = \"echo\", tls = { cert = \"expired\", \
             client_auth = \"require\" } }]\n",
        )
        .unwrap();
        let s = resolve(file, &SettingsArgs::default()).unwrap();
        let tls = s.sim.hosts[0].tcp[0].tls.clone().unwrap();
        assert_eq!(tls.cert, at7600_net::sim::SimCert::Expired);
        assert_eq!(tls.client_auth, at7600_net::sim::SimClientAuth::Require);
        let bad = "[[sim.host]]\nname = \"x\"\naddr = \"192.0.2.1\"\n\
                   tcp = [{ port = 1, kind = \"echo\", tls = { cert = \"stolen\" } }]\n";
        assert!(toml::from_str::<FileConfig>(bad).is_err());
    }

    #[test]
    fn policy_rules_come_from_the_file_and_the_flags() {
        let file: FileConfig =
            toml::from_str("[policy]\ndeny = [\"10.0.0.0/8\"]\ndns = false\n").unwrap();
        let flags = SettingsArgs {
            deny: vec!["*:25".into()],
            ..Default::default()
        };
        let s = resolve(file, &flags).unwrap();
        let deny: Vec<String> = s.net.policy.deny.iter().map(|r| r.to_string()).collect();
        assert_eq!(deny, ["10.0.0.0/8", "0.0.0.0/0:25"]);
        assert!(!s.net.policy.dns);
        // One policy, one set of own listeners, for the real and the simulated network
        // and the control API alike.
        assert_eq!(s.sim.policy, s.net.policy);
        let _guard = s.control.own.add("127.0.0.1:7600".parse().unwrap());
        assert_eq!(s.net.policy.own.list().len(), 1);
    }

    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/at7600.toml");
        let file = FileConfig::load(&path).unwrap();
        resolve(file, &SettingsArgs::default()).unwrap();
    }

    #[test]
    fn more_commands_keys_reach_the_core() {
        let file: FileConfig = toml::from_str(
            "[identity]\npersonality = \"a76xx\"\nimsi = \"001010000000001\"\n\
             [radio]\ntz = -20\n[network]\nip_address = \"10.1.2.3\"\ndns1 = \"8.8.8.8\"\n\
             [power]\nvbat_mv = 4100\n[boot]\npower_on_lines = true\nready_ms = 50\n\
             [quirks]\nctcpka_before_netopen = \"error\"\n",
        )
        .unwrap();
        let s = resolve(file, &SettingsArgs::default()).unwrap();
        let m = &s.modem;
        assert_eq!(m.identity.personality, Personality::A76xx);
        assert_eq!(m.identity.imsi, "001010000000001");
        assert_eq!(m.radio.tz, -20);
        assert_eq!(m.network.ip_address, Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(m.network.dns1, Ipv4Addr::new(8, 8, 8, 8));
        assert_eq!(m.power.vbat_mv, 4100);
        assert!(m.boot.power_on_lines);
        assert_eq!(m.boot.ready_ms, 50);
        assert!(m.quirks.ctcpka_error_before_netopen);
        for bad in [
            "[identity]\npersonality = \"sim800\"\n",
            "[radio]\ntz = 97\n",
            "[quirks]\nctcpka_before_netopen = \"maybe\"\n",
            "[identity]\nimsi = \"12\"\n",
        ] {
            let file: FileConfig = toml::from_str(bad).unwrap();
            assert!(resolve(file, &SettingsArgs::default()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_module_timing_profile_slows_the_modem_and_its_boot() {
        let flags = SettingsArgs {
            timing: Some("module".into()),
            ..Default::default()
        };
        let file: FileConfig = toml::from_str("[timing]\ncommand_ms = 5\n").unwrap();
        let s = resolve(file, &flags).unwrap();
        assert!(s.modem.timing.uart);
        assert_eq!(s.modem.timing.command_ms, 5);
        assert_eq!(s.modem.boot, Boot::module());
        let s = resolve(FileConfig::default(), &SettingsArgs::default()).unwrap();
        assert_eq!(s.modem.timing, Timing::default(), "instant by default");
        let flags = SettingsArgs {
            timing: Some("slow".into()),
            ..Default::default()
        };
        assert!(resolve(FileConfig::default(), &flags).is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        let bad = [
            SettingsArgs {
                imei: Some("123".into()),
                ..Default::default()
            },
            SettingsArgs {
                rssi: Some(40),
                ..Default::default()
            },
            SettingsArgs {
                operator: Some("a\r\nOK".into()),
                ..Default::default()
            },
            SettingsArgs {
                escape_gap_ms: Some(0),
                ..Default::default()
            },
            SettingsArgs {
                deny: vec!["10.0.0.0/33".into()],
                ..Default::default()
            },
            SettingsArgs {
                allow: vec!["127.0.0.1:0-99999".into()],
                ..Default::default()
            },
            SettingsArgs {
                control_token: Some("short".into()),
                ..Default::default()
            },
            SettingsArgs {
                control_max_connections: Some(0),
                ..Default::default()
            },
        ];
        for flags in bad {
            assert!(resolve(FileConfig::default(), &flags).is_err(), "{flags:?}");
        }
        assert!(toml::from_str::<FileConfig>("[identity]\nimie = \"1\"\n").is_err());
        assert!(toml::from_str::<FileConfig>("[policy]\nalow = []\n").is_err());
        let forever = "[[fault]]\nat_ms = 1\nkind = \"network-lost\"\nfor_ms = 86400001\n";
        let file = toml::from_str::<FileConfig>(forever).unwrap();
        let err = resolve(file, &SettingsArgs::default()).unwrap_err();
        assert!(err.to_string().contains("for_ms must be at most"), "{err}");
    }
}

//! Settings: the TOML file, the flags over it, and what they become for the core and
//! the network backend.

use crate::cli::SettingsArgs;
use anyhow::{bail, Context, Result};
use at7600_core::ModemConfig;
use at7600_net::sim::SimConfig;
use at7600_net::{LinkProfile, NetConfig, ScheduledFault, PROFILE_NAMES};
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
}

/// `[network]` of the config file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NetworkFile {
    pub ip_address: Option<Ipv4Addr>,
    pub server_bind: Option<Ipv4Addr>,
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
}

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
    let origin = file.origin.clone();
    let mut modem = ModemConfig::default();
    let mut net = NetConfig::default();
    let pick = |flag: &Option<String>, file: Option<String>| flag.clone().or(file);
    let at = |flag: bool, section: &str, key: &str| source(origin.as_ref(), flag, section, key);

    let id = &mut modem.identity;
    let f = file.identity;
    if let Some(v) = pick(&flags.manufacturer, f.manufacturer) {
        id.manufacturer = text(
            &at(flags.manufacturer.is_some(), "identity", "manufacturer"),
            v,
        )?;
    }
    if let Some(v) = pick(&flags.model, f.model) {
        id.model = text(&at(flags.model.is_some(), "identity", "model"), v)?;
    }
    if let Some(v) = pick(&flags.revision, f.revision) {
        id.revision = text(&at(flags.revision.is_some(), "identity", "revision"), v)?;
    }
    if let Some(v) = pick(&flags.imei, f.imei) {
        id.imei = digits(&at(flags.imei.is_some(), "identity", "imei"), v, 15..=15)?;
    }
    if let Some(v) = pick(&flags.iccid, f.iccid) {
        id.iccid = digits(&at(flags.iccid.is_some(), "identity", "iccid"), v, 19..=20)?;
    }

    let radio = &mut modem.radio;
    let f = file.radio;
    if let Some(v) = flags.rssi.or(f.rssi) {
        if v > 31 && v != 99 {
            let at = at(flags.rssi.is_some(), "radio", "rssi");
            bail!("{at}: the signal must be a number from 0 to 31, or 99 for unknown, not {v}");
        }
        radio.rssi = v;
    }
    if let Some(v) = flags.ber.or(f.ber) {
        if v > 7 && v != 99 {
            let at = at(flags.ber.is_some(), "radio", "ber");
            bail!(
                "{at}: the bit error rate must be a number from 0 to 7, or 99 for unknown, not {v}"
            );
        }
        radio.ber = v;
    }
    if let Some(v) = flags.reg_status.or(f.reg_status) {
        if v > 5 {
            let at = at(flags.reg_status.is_some(), "radio", "reg_status");
            bail!("{at}: the registration status must be a number from 0 to 5, not {v}");
        }
        radio.reg_status = v;
    }
    if let Some(v) = pick(&flags.operator, f.operator) {
        radio.operator = text(&at(flags.operator.is_some(), "radio", "operator"), v)?;
    }
    if let Some(v) = pick(&flags.cpsi, f.cpsi) {
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
    let sim = SimConfig {
        modem_ip: net.modem_ip,
        ..file.sim.unwrap_or_default()
    };
    Ok(Settings {
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

/// Status lines are 7-bit ASCII; CR, LF and quotes would break the host's parser.
fn text(what: &str, v: String) -> Result<String> {
    if v.is_empty() || v.len() > 100 {
        bail!("{what}: must be text of 1 to 100 characters");
    }
    if !v.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"') {
        bail!("{what}: must be plain ASCII text without quotes or line breaks, not {v:?}");
    }
    Ok(v)
}

fn digits(what: &str, v: String, len: std::ops::RangeInclusive<usize>) -> Result<String> {
    if !len.contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()) {
        let count = match (len.start(), len.end()) {
            (a, b) if a == b => format!("{a}"),
            (a, b) => format!("{a} or {b}"),
        };
        bail!("{what}: must be {count} digits, not {v:?}");
    }
    Ok(v)
}

fn millis(what: &str, ms: u64) -> Result<Duration> {
    if !(1..=60_000).contains(&ms) {
        bail!("{what}: must be a number of milliseconds from 1 to 60000, not {ms}");
    }
    Ok(Duration::from_millis(ms))
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
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/at7600.toml");
        let file = FileConfig::load(&path).unwrap();
        resolve(file, &SettingsArgs::default()).unwrap();
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
        ];
        for flags in bad {
            assert!(resolve(FileConfig::default(), &flags).is_err(), "{flags:?}");
        }
        assert!(toml::from_str::<FileConfig>("[identity]\nimie = \"1\"\n").is_err());
    }
}

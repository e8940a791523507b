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
        toml::from_str(&text).with_context(|| format!("bad config file {}", path.display()))
    }
}

/// Flags over the file over the defaults, then checked.
pub fn resolve(file: FileConfig, flags: &SettingsArgs) -> Result<Settings> {
    let mut modem = ModemConfig::default();
    let mut net = NetConfig::default();
    let pick = |flag: &Option<String>, file: Option<String>| flag.clone().or(file);

    let id = &mut modem.identity;
    let f = file.identity;
    if let Some(v) = pick(&flags.manufacturer, f.manufacturer) {
        id.manufacturer = text("manufacturer", v)?;
    }
    if let Some(v) = pick(&flags.model, f.model) {
        id.model = text("model", v)?;
    }
    if let Some(v) = pick(&flags.revision, f.revision) {
        id.revision = text("revision", v)?;
    }
    if let Some(v) = pick(&flags.imei, f.imei) {
        id.imei = digits("imei", v, 15..=15)?;
    }
    if let Some(v) = pick(&flags.iccid, f.iccid) {
        id.iccid = digits("iccid", v, 19..=20)?;
    }

    let radio = &mut modem.radio;
    let f = file.radio;
    if let Some(v) = flags.rssi.or(f.rssi) {
        if v > 31 && v != 99 {
            bail!("rssi must be 0-31 or 99, not {v}");
        }
        radio.rssi = v;
    }
    if let Some(v) = flags.ber.or(f.ber) {
        if v > 7 && v != 99 {
            bail!("ber must be 0-7 or 99, not {v}");
        }
        radio.ber = v;
    }
    if let Some(v) = flags.reg_status.or(f.reg_status) {
        if v > 5 {
            bail!("reg_status must be 0-5, not {v}");
        }
        radio.reg_status = v;
    }
    if let Some(v) = pick(&flags.operator, f.operator) {
        radio.operator = text("operator", v)?;
    }
    if let Some(v) = pick(&flags.cpsi, f.cpsi) {
        radio.cpsi = text("cpsi", v)?;
    }

    if let Some(ip) = flags.ip_address.or(file.network.ip_address) {
        net.modem_ip = ip;
    }
    if let Some(ip) = flags.server_bind.or(file.network.server_bind) {
        net.server_bind = ip;
    }

    if let Some(ms) = flags.escape_guard_ms.or(file.escape.guard_ms) {
        modem.escape.guard = millis("escape guard", ms)?;
    }
    if let Some(ms) = flags.escape_gap_ms.or(file.escape.gap_ms) {
        modem.escape.max_gap = millis("escape gap", ms)?;
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
        bail!("[link]: {e}");
    }
    for f in &file.fault {
        if let Err(e) = f.fault.validate() {
            bail!("[[fault]] at_ms = {}: {e}", f.at_ms);
        }
    }
    Ok(Settings {
        modem,
        net,
        log_level,
        link,
        seed: flags.sim_seed.or(l.seed).unwrap_or(1),
        sim: file.sim.unwrap_or_default(),
        faults: file.fault,
    })
}

/// Status lines are 7-bit ASCII; CR, LF and quotes would break the host's parser.
fn text(what: &str, v: String) -> Result<String> {
    if v.is_empty() || v.len() > 100 {
        bail!("{what} must be 1-100 characters");
    }
    if !v.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"') {
        bail!("{what} must be printable ASCII without quotes: {v:?}");
    }
    Ok(v)
}

fn digits(what: &str, v: String, len: std::ops::RangeInclusive<usize>) -> Result<String> {
    if !len.contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()) {
        bail!("{what} must be {}-{} digits: {v:?}", len.start(), len.end());
    }
    Ok(v)
}

fn millis(what: &str, ms: u64) -> Result<Duration> {
    if !(1..=60_000).contains(&ms) {
        bail!("{what} must be 1-60000 ms, not {ms}");
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
        let forever = "[[fault]]\nat_ms = 1\nkind = \"network-lost\"\nfor_ms = 86400001\n";
        let file = toml::from_str::<FileConfig>(forever).unwrap();
        let err = resolve(file, &SettingsArgs::default()).unwrap_err();
        assert!(err.to_string().contains("for_ms must be at most"), "{err}");
    }
}

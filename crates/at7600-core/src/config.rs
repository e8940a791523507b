//! What a modem is told at birth: identity, radio values, guard times and limits.

use std::time::Duration;

use std::net::Ipv4Addr;

/// Which module family's formats and factory values the modem follows where the SIM7600
/// and A76xx manuals differ (`more-commands.md` §0.2). Both accept every command.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Personality {
    /// SIM7500/SIM7600 series (the default: the project's `ATI` format follows it).
    #[default]
    Sim7600,
    /// A76xx series (A7670, A7672...).
    A76xx,
}

/// The module's identity, reported by `ATI`, `AT+CGMI`, `AT+CGMM`, `AT+CGMR`,
/// `AT+CGSN`, `AT+CICCID`, `AT+CIMI`, `AT+CSPN?` and `AT+CNUM`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Identity {
    /// Manufacturer (`AT+CGMI`).
    pub manufacturer: String,
    /// Model (`AT+CGMM`).
    pub model: String,
    /// Firmware revision (`AT+CGMR`).
    pub revision: String,
    /// IMEI, 15 digits (`AT+CGSN`).
    pub imei: String,
    /// SIM ICCID, 19-20 digits (`AT+CICCID`).
    pub iccid: String,
    /// Module family whose formats are followed.
    pub personality: Personality,
    /// The SIM's IMSI, 15 digits (`AT+CIMI`).
    pub imsi: String,
    /// Service provider name on the SIM (`AT+CSPN?`); empty = none.
    pub spn: String,
    /// `AT+CSPN?` display mode: 0 do not show the PLMN, 1 show it.
    pub spn_display: u8,
    /// The SIM's own number (`AT+CNUM`); empty = not stored.
    pub msisdn: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            manufacturer: "SUNSEA AIOT".into(),
            model: "AT7600".into(),
            revision: "AT7600M21_V1.0".into(),
            imei: "867584030012347".into(),
            iccid: "89860012345678901234".into(),
            personality: Personality::Sim7600,
            imsi: "460001234567890".into(),
            spn: "CMCC".into(),
            spn_display: 0,
            msisdn: String::new(),
        }
    }
}

impl Identity {
    /// The identity of modem `n` of a fleet built from this one: modem 0 is this
    /// identity unchanged; modem `n` adds `n` to the IMEI's serial number (its last six
    /// digits before the check digit, keeping the type allocation code) and to the
    /// ICCID's account number, each with a fresh Luhn check digit, so a back end can tell
    /// the devices apart and every IMEI and ICCID validates. The IMSI's subscriber
    /// number and a configured MSISDN's last six digits grow by `n` the same way.
    pub fn nth(&self, n: u64) -> Identity {
        if n == 0 {
            return self.clone();
        }
        Identity {
            imei: bump_luhn(&self.imei, 6, n),
            iccid: bump_luhn(&self.iccid, 12, n),
            imsi: bump_digits(&self.imsi, 10, n),
            msisdn: match self.msisdn.strip_prefix('+') {
                Some(rest) => format!("+{}", bump_digits(rest, 6, n)),
                None => bump_digits(&self.msisdn, 6, n),
            },
            ..self.clone()
        }
    }
}

/// `digits` with `n` added (wrapping) to the `width` digits before its last one, and the
/// last one replaced by the Luhn check digit. Non-digit input is returned unchanged.
fn bump_luhn(digits: &str, width: usize, n: u64) -> String {
    if digits.len() < width + 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.to_string();
    }
    let body = &digits[..digits.len() - 1];
    let (fixed, serial) = body.split_at(body.len() - width);
    let modulus = 10u128.pow(width as u32);
    let value = serial.parse::<u128>().unwrap_or(0);
    let bumped = (value + u128::from(n)) % modulus;
    let body = format!("{fixed}{bumped:0width$}");
    let check = luhn_check_digit(&body);
    format!("{body}{check}")
}

/// `digits` with `n` added (wrapping) to its last `width` digits (an IMSI's MSIN has
/// no check digit). Non-digit input is returned unchanged.
fn bump_digits(digits: &str, width: usize, n: u64) -> String {
    if digits.len() < width || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.to_string();
    }
    let (fixed, serial) = digits.split_at(digits.len() - width);
    let modulus = 10u128.pow(width as u32);
    let value = serial.parse::<u128>().unwrap_or(0);
    format!("{fixed}{:0width$}", (value + u128::from(n)) % modulus)
}

/// The Luhn check digit for `body` (digits only).
pub fn luhn_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Radio and registration values, reported by `AT+CSQ`, `AT+CREG?`, `AT+COPS?`, `AT+CPSI?`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Radio {
    /// `<rssi>` of `AT+CSQ`, 0-31 or 99.
    pub rssi: u8,
    /// `<ber>` of `AT+CSQ`, 0-7 or 99.
    pub ber: u8,
    /// `<stat>` of `+CREG`/`+CGREG`/`+CEREG`: 1 home, 5 roaming, 0/2/3 not registered.
    pub reg_status: u8,
    /// Location area / tracking area code reported with `AT+CREG=2`, hex.
    pub lac: u16,
    /// Cell identity reported with `AT+CREG=2`, hex.
    pub cell_id: u32,
    /// Operator name for `AT+COPS?`.
    pub operator: String,
    /// Operator numeric code (MCC+MNC), for `AT+COPS=?`.
    pub operator_numeric: String,
    /// The full `AT+CPSI?` line after `+CPSI: `.
    pub cpsi: String,
    /// Short operator name for `AT+COPS?` in format 1; empty = the long name.
    pub operator_short: String,
    /// The network's time zone in quarter hours, -96..=96 (`AT+CCLK?`, `+CTZV`).
    pub tz: i8,
}

impl Default for Radio {
    fn default() -> Self {
        Radio {
            rssi: 25,
            ber: 99,
            reg_status: 1,
            lac: 0x1816,
            cell_id: 27593483,
            operator: "CHINA MOBILE".into(),
            operator_numeric: "46000".into(),
            cpsi: "LTE,Online,460-00,0x1816,27593483,139,EUTRAN-BAND39,38400,5,5,-88,-868,-578,18"
                .into(),
            operator_short: String::new(),
            tz: 32,
        }
    }
}

/// Supply and temperature readings (`AT+CBC`, `AT+CPMUTEMP`).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Power {
    /// Supply voltage in millivolts.
    pub vbat_mv: u32,
    /// Module temperature in °C.
    pub temp_c: i16,
}

impl Default for Power {
    fn default() -> Self {
        Power {
            vbat_mv: 3900,
            temp_c: 29,
        }
    }
}

/// What the packet domain reports before and besides `AT+NETOPEN`: the default
/// bearer's address (`AT+CGPADDR`) and the DNS servers `AT+CDNSCFG?` displays.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PacketDomain {
    /// The address of PDP context 1 (the same the backend gives at `AT+NETOPEN`).
    pub ip_address: Ipv4Addr,
    /// Primary DNS server displayed until the host writes one.
    pub dns1: Ipv4Addr,
    /// Secondary DNS server displayed until the host writes one.
    pub dns2: Ipv4Addr,
}

impl Default for PacketDomain {
    fn default() -> Self {
        PacketDomain {
            ip_address: Ipv4Addr::new(10, 148, 0, 17),
            dns1: Ipv4Addr::new(183, 230, 126, 224),
            dns2: Ipv4Addr::new(183, 230, 126, 225),
        }
    }
}

/// The boot sequence (`more-commands.md` §1.2): when the lines come after a restart,
/// and whether they are printed at power-on too.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Boot {
    /// Print the boot sequence when the modem comes into existence (off: it starts
    /// ready and registered, silently, so scripts and fleets lose no first command).
    pub power_on_lines: bool,
    /// Dead time from the restart to the first line (`RDY` / `*ATREADY: 1`).
    pub ready_ms: u64,
    /// From the first line to `+CPIN: READY`.
    pub sim_ms: u64,
    /// From the first line to `SMS DONE`.
    pub sms_ms: u64,
    /// From the first line to `PB DONE`.
    pub pb_ms: u64,
}

impl Default for Boot {
    fn default() -> Self {
        Boot {
            power_on_lines: false,
            ready_ms: 2000,
            sim_ms: 100,
            sms_ms: 1000,
            pb_ms: 1500,
        }
    }
}

impl Boot {
    /// The figures of a real module (first line 10-15 s after a reset), with the
    /// power-on sequence printed.
    pub fn module() -> Self {
        Boot {
            power_on_lines: true,
            ready_ms: 11_000,
            sim_ms: 100,
            sms_ms: 2000,
            pb_ms: 3000,
        }
    }
}

/// How slow the modem is (`docs/timing.md`): instant by default; [`Timing::module`]
/// makes it as slow as a real module.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Timing {
    /// Pace the serial line at the `AT+IPR` baud rate, both ways (8N1: 10 bits a byte).
    pub uart: bool,
    /// Time between a command line's `\r` and its first answer byte.
    pub command_ms: u64,
    /// `AT+NETOPEN`'s own time before the network is asked (beyond the link's delays).
    pub netopen_ms: u64,
    /// `AT+CIPOPEN`'s own time before the connection attempt (beyond the link's delays).
    pub cipopen_ms: u64,
}

impl Timing {
    /// The "module" profile: a SIM7600 on a 115200-baud UART (`docs/timing.md` gives
    /// each figure's source).
    pub fn module() -> Self {
        Timing {
            uart: true,
            command_ms: 20,
            netopen_ms: 50,
            cipopen_ms: 300,
        }
    }
}

/// The torture mode (`docs/timing.md`): seeded, reproducible choices within what the
/// manual allows that shake out driver bugs.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Torture {
    /// The seed: the same seed and the same input give the same bytes and pauses.
    pub seed: u64,
    /// Output is cut into pieces of 1 to this many bytes.
    pub max_piece: usize,
    /// Each piece is followed by a pause of 1 to this many milliseconds.
    pub max_pause_ms: u64,
    /// A URC comes at the earliest moment (right behind the final result, back to
    /// back) or is held up to this long.
    pub max_urc_delay_ms: u64,
}

impl Default for Torture {
    fn default() -> Self {
        Torture {
            seed: 1,
            max_piece: 16,
            max_pause_ms: 20,
            max_urc_delay_ms: 500,
        }
    }
}

/// Firmware-specific answers some module builds give (`more-commands.md` §5.7).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Quirks {
    /// `AT+CTCPKA=...` before `AT+NETOPEN` answers `ERROR` (one A7670E build) instead
    /// of `OK`.
    pub ctcpka_error_before_netopen: bool,
}

/// The SSL socket set's options (`ssl.md`, the `[tls]` section of a config file).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Tls {
    /// `sslversion` 4 ("all") also offers TLS 1.3 (`ssl.md` §14.2). Off by default:
    /// neither manual names a version above TLS 1.2.
    pub tls13: bool,
    /// Where the runtime keeps each modem's certificate store (`<cert_dir>/<imei>/`,
    /// `ssl.md` §4.5); `None`: in memory only. The core never reads it: the runtime
    /// loads the store ([`crate::Input::CertStore`]) and writes its changes
    /// ([`crate::Modem::poll_store`]).
    pub cert_dir: Option<std::path::PathBuf>,
}

/// The `+++` escape's guard times (manual §1.2: at least 1000 ms of silence before and
/// after, at most 900 ms between the characters). Shrinkable for tests.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EscapeTiming {
    /// Silence required before the first `+` and after the last one.
    pub guard: Duration,
    /// Longest pause allowed between two `+`.
    pub max_gap: Duration,
}

impl Default for EscapeTiming {
    fn default() -> Self {
        EscapeTiming {
            guard: Duration::from_millis(1000),
            max_gap: Duration::from_millis(900),
        }
    }
}

/// Buffer limits. Buffers grow on demand up to these and shrink back when drained.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limits {
    /// Longest command line accepted, in bytes between `AT` and `\r`; a longer one is
    /// discarded and answered with `ERROR`.
    pub max_line: usize,
    /// Received bytes kept per link in buffer access mode before the link stops reading
    /// from the network (the peer's TCP window does the rest).
    pub rx_buffer: usize,
    /// Bytes waiting for the host before links stop reading from the network.
    pub host_backlog: usize,
    /// Host bytes held while a command runs before the runtime should stop reading.
    pub host_input: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 1024,
            rx_buffer: 64 * 1024,
            host_backlog: 64 * 1024,
            host_input: 16 * 1024,
        }
    }
}

/// The host's wall clock at the modem's instant zero, in milliseconds since the Unix
/// epoch (UTC). The core never reads a clock: the runtime gives it this once and the
/// modem's clock (`AT+CCLK?`) runs on with `now`. The default is the instant of the
/// examples in `more-commands.md` (2024-05-17 02:15:02 UTC), so tests are reproducible.
pub const DEFAULT_UTC_MS: u64 = 1_715_912_102_000;

#[cfg(feature = "serde")]
fn default_utc_ms() -> u64 {
    DEFAULT_UTC_MS
}

/// Everything a [`crate::Modem`] needs to start.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModemConfig {
    /// Identity strings.
    pub identity: Identity,
    /// Radio values.
    pub radio: Radio,
    /// `+++` guard times.
    pub escape: EscapeTiming,
    /// Buffer limits.
    pub limits: Limits,
    /// Supply and temperature.
    #[cfg_attr(feature = "serde", serde(default))]
    pub power: Power,
    /// Packet domain values.
    #[cfg_attr(feature = "serde", serde(default))]
    pub network: PacketDomain,
    /// Boot sequence.
    #[cfg_attr(feature = "serde", serde(default))]
    pub boot: Boot,
    /// Firmware quirks.
    #[cfg_attr(feature = "serde", serde(default))]
    pub quirks: Quirks,
    /// How slow the modem is.
    #[cfg_attr(feature = "serde", serde(default))]
    pub timing: Timing,
    /// The torture mode, if on.
    #[cfg_attr(feature = "serde", serde(default))]
    pub torture: Option<Torture>,
    /// Host UTC (ms since the Unix epoch) at instant zero: see [`DEFAULT_UTC_MS`].
    #[cfg_attr(feature = "serde", serde(default = "default_utc_ms"))]
    pub utc_ms: u64,
    /// The SSL socket set's options.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tls: Tls,
}

impl Default for ModemConfig {
    fn default() -> Self {
        ModemConfig {
            identity: Identity::default(),
            radio: Radio::default(),
            escape: EscapeTiming::default(),
            limits: Limits::default(),
            power: Power::default(),
            network: PacketDomain::default(),
            boot: Boot::default(),
            quirks: Quirks::default(),
            timing: Timing::default(),
            torture: None,
            utc_ms: DEFAULT_UTC_MS,
            tls: Tls::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_check_digit_of_known_imeis() {
        // The usual worked examples of the Luhn algorithm (an IMEI and a short number).
        assert_eq!(luhn_check_digit("49015420323751"), 8);
        assert_eq!(luhn_check_digit("7992739871"), 3);
    }

    #[test]
    fn fleet_identities_are_distinct_and_valid() {
        let base = Identity::default();
        assert_eq!(base.nth(0), base);
        let mut seen = std::collections::HashSet::new();
        for n in 0..5000 {
            let id = base.nth(n);
            assert_eq!(id.imei.len(), 15);
            assert_eq!(&id.imei[..8], &base.imei[..8], "type allocation code kept");
            if n > 0 {
                let check = luhn_check_digit(&id.imei[..14]);
                assert_eq!(id.imei.as_bytes()[14] - b'0', check, "{}", id.imei);
                let check = luhn_check_digit(&id.iccid[..id.iccid.len() - 1]);
                assert_eq!(id.iccid.as_bytes()[id.iccid.len() - 1] - b'0', check);
            }
            assert_eq!(id.iccid.len(), base.iccid.len());
            assert!(
                seen.insert((id.imei.clone(), id.iccid.clone())),
                "{n} repeats"
            );
        }
    }
}

//! What a modem is told at birth: identity, radio values, guard times and limits.

use std::time::Duration;

/// The module's identity, reported by `ATI`, `AT+CGMI`, `AT+CGMM`, `AT+CGMR`,
/// `AT+CGSN` and `AT+CICCID`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            manufacturer: "SUNSEA AIOT".into(),
            model: "AT7600".into(),
            revision: "AT7600M21_V1.0".into(),
            imei: "867584030012347".into(),
            iccid: "89860012345678901234".into(),
        }
    }
}

/// Radio and registration values, reported by `AT+CSQ`, `AT+CREG?`, `AT+COPS?`, `AT+CPSI?`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
        }
    }
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

/// Everything a [`crate::Modem`] needs to start.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ModemConfig {
    /// Identity strings.
    pub identity: Identity,
    /// Radio values.
    pub radio: Radio,
    /// `+++` guard times.
    pub escape: EscapeTiming,
    /// Buffer limits.
    pub limits: Limits,
}

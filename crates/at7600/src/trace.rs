//! The AT traffic trace (`serve --trace`): every modem's host bytes in both directions,
//! as readable C strings, one log event per read or write, under the log target
//! [`TARGET`] at debug level. The log's own timestamps date each event.
//!
//! When the target is off, a hook costs one check of tracing's cached interest per
//! read or write: nothing is formatted or copied, unlike a recording (`--record`).

use at7600_core::escape::c_string;
use std::sync::atomic::{AtomicU64, Ordering};

/// The log target of the trace: `--trace`, or e.g. `RUST_LOG=info,at7600::trace=debug`.
pub const TARGET: &str = "at7600::trace";

/// Numbers modems in the order they start (the control API's ids count the same way
/// when every modem registers with it).
static NEXT_MODEM: AtomicU64 = AtomicU64::new(1);

/// One modem's trace hook.
#[derive(Debug)]
pub struct Trace {
    modem: u64,
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl Trace {
    /// A hook for the next modem.
    pub fn new() -> Self {
        Trace {
            modem: NEXT_MODEM.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Bytes the host sent to the modem (shown after `>`).
    pub fn host_in(&self, bytes: &[u8]) {
        if tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            tracing::debug!(target: TARGET, modem = self.modem, "> {}", quoted(bytes));
        }
    }

    /// Bytes the modem wrote to the host (shown after `<`).
    pub fn host_out(&self, bytes: &[u8]) {
        if tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            tracing::debug!(target: TARGET, modem = self.modem, "< {}", quoted(bytes));
        }
    }
}

/// The bytes as a C string in double quotes (`"AT\r"`), so spaces at the ends show.
pub fn quoted(bytes: &[u8]) -> String {
    format!("\"{}\"", c_string(bytes).replace('"', "\\\""))
}

/// A fault as a log line reads it: its kind and fields as in the config file
/// (`network-lost for_ms=10000`), not a Rust debug dump.
pub fn describe_fault(fault: &at7600_net::Fault) -> String {
    use at7600_net::Fault;
    let link = |l: &Option<u8>| match l {
        Some(n) => format!(" link={n}"),
        None => " (every link)".into(),
    };
    let opt = |name: &str, v: &Option<u8>| v.map(|v| format!(" {name}={v}")).unwrap_or_default();
    match fault {
        Fault::NetworkLost { for_ms } => format!("network-lost for_ms={for_ms}"),
        Fault::PeerClose { link: l } => format!("peer-close{}", link(l)),
        Fault::RefuseOpen => "refuse-open".into(),
        Fault::TimeoutOpen => "timeout-open".into(),
        Fault::DnsFailure => "dns-failure".into(),
        Fault::TlsHandshakeFailure => "tls-handshake-failure".into(),
        Fault::Stall { link: l } => format!("stall{}", link(l)),
        Fault::Radio {
            rssi,
            reg_status,
            tz,
        } => {
            let tz = tz.map(|v| format!(" tz={v}")).unwrap_or_default();
            format!(
                "radio{}{}{tz}",
                opt("rssi", rssi),
                opt("reg_status", reg_status)
            )
        }
        Fault::PowerOn => "power-on".into(),
        Fault::Dtr { on } => format!("dtr {}", if *on { "on" } else { "off" }),
    }
}

#[cfg(test)]
mod tests {
    use super::{describe_fault, quoted};
    use at7600_net::Fault;

    #[test]
    fn faults_read_as_their_config_words() {
        let f = |json: &str| describe_fault(&serde_json::from_str::<Fault>(json).unwrap());
        assert_eq!(
            f(r#"{"kind":"network-lost","for_ms":5}"#),
            "network-lost for_ms=5"
        );
        assert_eq!(f(r#"{"kind":"peer-close","link":1}"#), "peer-close link=1");
        assert_eq!(f(r#"{"kind":"stall"}"#), "stall (every link)");
        assert_eq!(f(r#"{"kind":"radio","rssi":4}"#), "radio rssi=4");
    }

    #[test]
    fn bytes_read_as_c_strings() {
        assert_eq!(quoted(b"AT+CSQ\r"), "\"AT+CSQ\\r\"");
        assert_eq!(
            quoted(b"\r\n+IPD2\r\n\x00\xff"),
            "\"\\r\\n+IPD2\\r\\n\\x00\\xFF\""
        );
        assert_eq!(quoted(b"say \"hi\""), "\"say \\\"hi\\\"\"");
    }
}

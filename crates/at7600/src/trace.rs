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

#[cfg(test)]
mod tests {
    use super::quoted;

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

//! Bytes shown as a C string, the notation of the manual's clarifications: used for
//! transcripts, logs and reports of where two byte streams differ.

use std::fmt::Write as _;

/// Renders bytes as a C string: `\r`, `\n`, `\\`, printable ASCII as is, anything else
/// as `\xNN`.
///
/// ```
/// assert_eq!(at7600_core::escape::c_string(b"OK\r\n\x1a"), "OK\\r\\n\\x1A");
/// ```
pub fn c_string(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02X}");
            }
        }
    }
    s
}

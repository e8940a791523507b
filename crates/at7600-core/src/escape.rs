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

/// Why [`parse_c_string`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseCStringError {
    /// Character offset (not byte offset) in the text where the problem is.
    pub at: usize,
    /// What is wrong there.
    pub what: &'static str,
}

impl std::fmt::Display for ParseCStringError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at character {}", self.what, self.at)
    }
}

impl std::error::Error for ParseCStringError {}

/// The inverse of [`c_string`]: `\r`, `\n`, `\\`, `\xNN` (either case) and printable
/// ASCII. Anything else (another escape, a control character, non-ASCII) is an error,
/// so that a hand-edited recording cannot silently mean something else.
///
/// ```
/// use at7600_core::escape::{c_string, parse_c_string};
/// assert_eq!(parse_c_string("OK\\r\\n\\x1a").unwrap(), b"OK\r\n\x1a");
/// assert_eq!(parse_c_string(&c_string(b"\x00\xff\\")).unwrap(), b"\x00\xff\\");
/// assert!(parse_c_string("\\q").is_err());
/// ```
pub fn parse_c_string(text: &str) -> Result<Vec<u8>, ParseCStringError> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().enumerate();
    while let Some((at, c)) = chars.next() {
        let err = |what| ParseCStringError { at, what };
        match c {
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('r') => out.push(b'\r'),
                Some('n') => out.push(b'\n'),
                Some('\\') => out.push(b'\\'),
                Some('x') => {
                    let hi = chars.next().and_then(|(_, c)| c.to_digit(16));
                    let lo = chars.next().and_then(|(_, c)| c.to_digit(16));
                    match (hi, lo) {
                        // Two hex digits are below 256.
                        (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                        _ => return Err(err("\\x needs two hex digits")),
                    }
                }
                Some(_) => return Err(err("unknown escape (only \\r \\n \\\\ \\xNN)")),
                None => return Err(err("lone backslash at the end")),
            },
            ' '..='~' => out.push(c as u8),
            _ => return Err(err("character outside printable ASCII (use \\xNN)")),
        }
    }
    Ok(out)
}

/// `#[serde(with = "...")]` for byte payloads: a C string ([`c_string`]) in the
/// serialized form, so that recordings of AT sessions stay readable.
#[cfg(feature = "serde")]
pub mod serde_c_string {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as their C string.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::c_string(bytes))
    }

    /// Deserializes bytes from a C string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::parse_c_string(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_inverts_render(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(parse_c_string(&c_string(&bytes)), Ok(bytes));
        }
    }

    #[test]
    fn bad_escapes_say_where() {
        for (text, at) in [
            ("ab\\", 2),
            ("\\x4", 0),
            ("\\xZZ", 0),
            ("a\\t", 1),
            ("é", 0),
            ("\t", 0),
        ] {
            let e = parse_c_string(text).expect_err(text);
            assert_eq!(e.at, at, "{text}: {e}");
        }
        assert_eq!(parse_c_string("\\x4a\\x4B").as_deref(), Ok(&b"JK"[..]));
    }
}

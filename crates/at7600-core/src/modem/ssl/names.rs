//! Certificate file names (`ssl.md` §2, §3.1, §4): how they are given, checked and shown.

use crate::config::Personality;
use crate::parser::Arg;

/// The longest file name of each family.
pub fn max_name_len(personality: Personality) -> usize {
    match personality {
        Personality::Sim7600 => 128,
        Personality::A76xx => 108,
    }
}

/// The text of a name argument: quoted, bare, or `{non-ascii}"<hex>"` (the hex of its
/// UTF-8 bytes, an even count of digits of any case).
fn name_text(arg: &Arg) -> Option<String> {
    let Some(hex) = arg.non_ascii_hex() else {
        return Some(arg.str().to_string());
    };
    if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Length and ending: 5 to the family's maximum characters, `.pem` or `.der`.
fn well_formed(name: &str, personality: Personality) -> bool {
    let len = name.chars().count();
    let lower = name.to_ascii_lowercase();
    (5..=max_name_len(personality)).contains(&len)
        && (lower.ends_with(".pem") || lower.ends_with(".der"))
}

/// A file name setting of `AT+CSSLCFG`: `""` clears it (`Some("")`).
pub fn file_name_arg(arg: &Arg, personality: Personality) -> Option<String> {
    let name = name_text(arg)?;
    (name.is_empty() || well_formed(&name, personality)).then_some(name)
}

/// Whether a name can be stored: well formed, and a safe file name on the host (no
/// `/`, `\`, NUL; not `.` or `..`; §4.5).
pub fn storable(name: &str, personality: Personality) -> bool {
    well_formed(name, personality)
        && !name.contains(['/', '\\', '\0'])
        && name != "."
        && name != ".."
}

/// The name of `AT+CCERTDOWN` / `AT+CCERTDELE`.
pub fn stored_name_arg(arg: &Arg, personality: Personality) -> Option<String> {
    name_text(arg).filter(|n| storable(n, personality))
}

/// A name (or key password) as the read forms print it: non-ASCII and control
/// characters, and `"`, as `&#x<HEX>;`, so the quoted field stays one field.
pub fn show_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' {
                c.to_string()
            } else {
                format!("&#x{:X};", u32::from(c))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(text: &str, quoted: bool) -> Arg {
        Arg {
            text: text.into(),
            quoted,
        }
    }

    #[test]
    fn names_quoted_bare_and_hex() {
        let p = Personality::Sim7600;
        assert_eq!(
            file_name_arg(&arg("ca.pem", false), p).as_deref(),
            Some("ca.pem")
        );
        assert_eq!(
            file_name_arg(&arg("CA.DER", true), p).as_deref(),
            Some("CA.DER")
        );
        assert_eq!(file_name_arg(&arg("", true), p).as_deref(), Some(""));
        assert_eq!(file_name_arg(&arg("ca.txt", true), p), None);
        assert_eq!(file_name_arg(&arg(".pem", true), p), None);
        let hex = arg("{non-ascii}e4b8ade58d8e2e70656d", false);
        assert_eq!(file_name_arg(&hex, p).as_deref(), Some("中华.pem"));
        assert_eq!(file_name_arg(&arg("{non-ascii}e4b", false), p), None);
        assert_eq!(show_name("中华.pem"), "&#x4E2D;&#x534E;.pem");
    }

    #[test]
    fn length_limits_per_family() {
        let long = format!("{}.pem", "a".repeat(104));
        assert!(storable(&long, Personality::A76xx));
        let longer = format!("{}.pem", "a".repeat(105));
        assert!(!storable(&longer, Personality::A76xx));
        assert!(storable(&longer, Personality::Sim7600));
        assert!(!storable("a/b.pem", Personality::Sim7600));
        assert!(!storable("a\\b.pem", Personality::Sim7600));
    }
}

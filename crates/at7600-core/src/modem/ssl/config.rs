//! SSL contexts 0-9 and `AT+CSSLCFG` (`ssl.md` §3).

use super::names::{file_name_arg, show_name};
use super::{plain, SslState};
use crate::config::Personality;
use crate::io::TlsAuth;
use crate::modem::{Modem, Step};
use crate::parser::{Arg, Form};

/// Number of SSL contexts (`<ssl_ctx_index>` 0-9).
pub const CONTEXTS: usize = 10;

/// `ciphersuites` meaning "every suite the library has".
pub const ALL_SUITES: u16 = 0xFFFF;

/// One SSL context: what `AT+CSSLCFG` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslContext {
    /// `sslversion` 0-4.
    pub version: u8,
    /// `authmode` 0-3.
    pub auth: u8,
    /// `ignorelocaltime` 0/1.
    pub ignore_time: bool,
    /// `negotiatetime` 10-300 s.
    pub negotiate_s: u16,
    /// `cacert` file name, empty = unset.
    pub ca: String,
    /// `clientcert` file name.
    pub cert: String,
    /// `clientkey` file name.
    pub key: String,
    /// `password` file name (A76xx).
    pub password: String,
    /// `keypwd`, the key's password itself (SIM7600).
    pub keypwd: String,
    /// `enableSNI`.
    pub sni: bool,
    /// `ciphersuites`: one IANA code, or [`ALL_SUITES`].
    pub suites: u16,
}

impl Default for SslContext {
    fn default() -> Self {
        SslContext {
            version: 4,
            auth: 0,
            ignore_time: true,
            negotiate_s: 300,
            ca: String::new(),
            cert: String::new(),
            key: String::new(),
            password: String::new(),
            keypwd: String::new(),
            sni: false,
            suites: ALL_SUITES,
        }
    }
}

impl SslContext {
    /// `authmode` as the boundary's type.
    pub fn tls_auth(&self) -> TlsAuth {
        match self.auth {
            1 => TlsAuth::Server,
            2 => TlsAuth::Mutual,
            3 => TlsAuth::ClientOnly,
            _ => TlsAuth::None,
        }
    }

    /// The files the authmode needs, in the order they are checked (`ssl.md` §8.3).
    pub fn needed_files(&self) -> Vec<&str> {
        match self.auth {
            1 => vec![&self.ca],
            2 => vec![&self.ca, &self.cert, &self.key],
            3 => vec![&self.cert, &self.key],
            _ => vec![],
        }
    }

    /// The `AT+CSSLCFG?` line of context `i` (§3.2).
    fn line(&self, i: usize, personality: Personality) -> String {
        let head = format!(
            "+CSSLCFG: {i},{},{},{},{},\"{}\",\"{}\",\"{}\"",
            self.version,
            self.auth,
            u8::from(self.ignore_time),
            self.negotiate_s,
            show_name(&self.ca),
            show_name(&self.cert),
            show_name(&self.key),
        );
        let sni = u8::from(self.sni);
        match personality {
            Personality::Sim7600 => format!(
                "{head},{sni},\"{}\",0x{:04X}",
                show_name(&self.keypwd),
                self.suites
            ),
            Personality::A76xx => format!("{head},\"{}\",{sni}", show_name(&self.password)),
        }
    }
}

/// `0x002F`-`0xFFFF`, with `0x` or `0X`, hex digits of any case.
fn cipher_suite(arg: &Arg) -> Option<u16> {
    let text = arg.str();
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(hex, 16).ok().filter(|v| *v >= 0x002F)
}

impl Modem {
    pub(in crate::modem) fn cmd_csslcfg(&mut self, form: &Form) -> Step {
        let personality = self.config.identity.personality;
        match form {
            Form::Test => {
                let n = super::names::max_name_len(personality);
                let mut lines: Vec<String> = [
                    ("sslversion", "(0-4)".to_string()),
                    ("authmode", "(0-3)".into()),
                    ("ignorelocaltime", "(0,1)".into()),
                    ("negotiatetime", "(10-300)".into()),
                    ("cacert", format!("(5-{n})")),
                    ("clientcert", format!("(5-{n})")),
                    ("clientkey", format!("(5-{n})")),
                ]
                .iter()
                .map(|(name, range)| format!("+CSSLCFG: \"{name}\",(0-9),{range}"))
                .collect();
                lines.extend(
                    match personality {
                        Personality::Sim7600 => [
                            "+CSSLCFG: \"enableSNI\",(0-9),(0,1)",
                            "+CSSLCFG: \"keypwd\",(0-9),(0-128)",
                            "+CSSLCFG: \"ciphersuites\",(0-9),(0x002F,0Xffff)",
                        ]
                        .as_slice(),
                        Personality::A76xx => &[
                            "+CSSLCFG: \"password\",(0-9),(5-108)",
                            "+CSSLCFG: \"enableSNI\",(0-9),(0,1)",
                        ],
                    }
                    .iter()
                    .map(|l| l.to_string()),
                );
                self.info_lines(&lines);
                Step::Next
            }
            Form::Read => {
                let lines: Vec<String> = (self.ssl.contexts.iter().enumerate())
                    .map(|(i, c)| c.line(i, personality))
                    .collect();
                self.info_lines(&lines);
                Step::Next
            }
            Form::Write(args) if args.len() == 1 => match args[0].in_range(0..=9) {
                Some(i) => {
                    let line = self.ssl.contexts[i as usize].line(i as usize, personality);
                    self.info_step(&line)
                }
                None => plain(),
            },
            Form::Write(args) if args.len() == 3 => {
                match set_parameter(&mut self.ssl, personality, args) {
                    Some(()) => Step::Next,
                    None => plain(),
                }
            }
            _ => plain(),
        }
    }
}

/// `AT+CSSLCFG="<name>",<ctx>,<value>`; `None` for anything invalid.
fn set_parameter(ssl: &mut SslState, personality: Personality, args: &[Arg]) -> Option<()> {
    let name = args[0].str().to_ascii_lowercase();
    let ctx = &mut ssl.contexts[args[1].in_range(0..=9)? as usize];
    let value = &args[2];
    let number = |range| value.in_range(range);
    match name.as_str() {
        "sslversion" => ctx.version = number(0..=4)? as u8,
        "authmode" => ctx.auth = number(0..=3)? as u8,
        "ignorelocaltime" => ctx.ignore_time = number(0..=1)? == 1,
        "negotiatetime" => ctx.negotiate_s = number(10..=300)? as u16,
        "enablesni" => ctx.sni = number(0..=1)? == 1,
        "ciphersuites" => ctx.suites = cipher_suite(value)?,
        "keypwd" => {
            let pwd = value.str();
            if pwd.chars().count() > 128 || value.non_ascii_hex().is_some() {
                return None;
            }
            ctx.keypwd = pwd.to_string();
        }
        "cacert" | "clientcert" | "clientkey" | "password" => {
            let file = file_name_arg(value, personality)?;
            let slot = match name.as_str() {
                "cacert" => &mut ctx.ca,
                "clientcert" => &mut ctx.cert,
                "clientkey" => &mut ctx.key,
                _ => &mut ctx.password,
            };
            *slot = file;
        }
        _ => return None,
    }
    Some(())
}
